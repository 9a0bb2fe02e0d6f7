"""Recommendation algorithms for the interests domain: pure, storage-free numpy/scipy code.

`SocialRecommender` ranks items from implicit interactions plus the social graph,
`LinkPredictor` suggests accounts to follow; `metrics`, `baselines`, `data` and `tuning`
support offline evaluation (`shopwindow recs evaluate`).
"""

from shopwindow.interests.recs.links import LinkPredictor
from shopwindow.interests.recs.model import SocialRecommender

__all__ = ["LinkPredictor", "SocialRecommender"]
