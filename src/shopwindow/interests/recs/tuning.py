"""Hyper-parameter selection on a validation split carved from the training data.

The test split is never looked at: the training interactions are split again per user
(seeded, 20 %) and each candidate is scored on that validation part by Recall@20 (NDCG@20
breaks ties). Parameters that only matter when scoring are varied on one fitted model,
so a grid costs one fit per training-time combination.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import scipy.sparse as sp

from shopwindow.interests.recs.baselines import ImplicitALS
from shopwindow.interests.recs.data import holdout_split
from shopwindow.interests.recs.links import LinkPredictor
from shopwindow.interests.recs.metrics import evaluate
from shopwindow.interests.recs.model import SocialRecommender

Progress = Callable[[str, float], None]

# Earlier rounds settled dropout 0.25, 32 ALS factors, als_social 0 and 128 filter vectors
# (see docs/recommendations.md); the grid keeps them fixed to leave room for the Mult-DAE
# member (each fit trains one autoencoder: the slowest part of a fit).
ITEM_FIT_GRID: dict[str, list[Any]] = {"l2": [100.0, 200.0], "dropout": [0.25],
                                       "factors": [32], "gf_factors": [128],
                                       "dae_hidden": [400]}
ITEM_SCORE_GRID: dict[str, list[Any]] = {
    "alpha": [0.2, 0.3],
    "beta": [0.3, 0.35],
    "als_weight": [0.5, 0.8],
    "als_social": [0.0],
    "gf_weight": [0.3, 0.5],
    "dae_weight": [1.0, 2.0, 3.0],
}
ALS_GRID: dict[str, list[Any]] = {"factors": [64, 128], "regularization": [0.05, 0.5],
                                  "alpha": [10.0, 20.0]}
LINK_GRID: dict[str, list[Any]] = {"w_ra": [0.0, 0.5, 1.0], "w_interest": [0.0, 0.25, 0.5, 1.0]}


def _combos(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, values, strict=True))
            for values in itertools.product(*(grid[k] for k in keys))]


def _key(figures: dict[str, float]) -> tuple[float, float]:
    return figures["Recall@20"], figures["NDCG@20"]


def _noop(_stage: str, _frac: float) -> None:
    return None


def tune_items(R: sp.csr_matrix, S: sp.csr_matrix | None, *, seed: int = 0,
               progress: Progress = _noop) -> tuple[dict[str, Any], dict[str, Any]]:
    """Best SocialRecommender and ImplicitALS parameters on a validation split of R."""
    train, val = holdout_split(R, 0.2, seed)
    fits, scores, als_grid = _combos(ITEM_FIT_GRID), _combos(ITEM_SCORE_GRID), _combos(ALS_GRID)
    total = len(fits) * len(scores) + len(als_grid)
    done = 0
    best: tuple[tuple[float, float], dict[str, Any]] = ((-1.0, -1.0), {})
    for fit_params in fits:
        # non-zero weights at fit time, so that every member is fitted
        model = SocialRecommender(**fit_params, als_weight=1.0, gf_weight=1.0,
                                  dae_weight=1.0).fit(train, S)
        for score_params in scores:
            model.params.update(score_params)
            key = _key(evaluate(model, train, val, (20,)))
            if key > best[0]:
                best = (key, {**fit_params, **score_params})
            done += 1
            progress("tuning ours (validation)", done / total)
    best_als: tuple[tuple[float, float], dict[str, Any]] = ((-1.0, -1.0), {})
    for als_params in als_grid:
        key = _key(evaluate(ImplicitALS(**als_params, seed=seed).fit(train), train, val, (20,)))
        if key > best_als[0]:
            best_als = (key, als_params)
        done += 1
        progress("tuning ALS (validation)", done / total)
    return best[1], best_als[1]


def tune_links(S: sp.csr_matrix, R: sp.csr_matrix | None, *, seed: int = 0,
               progress: Progress = _noop) -> dict[str, Any]:
    """Best LinkPredictor blend weights on links held out of the training graph."""
    from shopwindow.interests.recs.evaluation import link_metrics, split_links

    # Carve the validation links from the same training graph the test run will use.
    train_g, _test = split_links(S, 0.2, seed)
    fit_g, val_g = split_links(train_g, 0.2, seed + 1)
    combos = _combos(LINK_GRID)
    best: tuple[tuple[float, float], dict[str, Any]] = ((-1.0, -1.0), {})
    model = LinkPredictor().fit(fit_g, R)
    for i, params in enumerate(combos):
        model.params.update(params)
        key = _key(link_metrics(model, fit_g, val_g))
        if key > best[0]:
            best = (key, dict(params))
        progress("tuning links (validation)", (i + 1) / len(combos))
    return best[1]

