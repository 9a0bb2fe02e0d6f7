"""Mastodon-compatible client API (/api/v1, /api/v2).

It is a façade over several domains (accounts, social, media, notifications), so it lives
in the web layer rather than in one domain's api.py (docs/adr/0003-mastodon-facade.md).
"""

from fastapi import APIRouter, Depends

from shopwindow.web.mastodon import (
    accounts,
    apps,
    instance,
    lists,
    media,
    misc,
    notifications,
    statuses,
    suggestions,
    timelines,
)
from shopwindow.web.mastodon.common import reject_nul

router = APIRouter(dependencies=[Depends(reject_nul)])
for _m in (instance, apps, accounts, statuses, media, timelines, notifications, lists, misc,
           suggestions):
    router.include_router(_m.router)
