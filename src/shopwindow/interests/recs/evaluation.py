"""Offline evaluation runs behind `shopwindow recs evaluate` (items and links tasks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from shopwindow.interests.recs._sparse import top_k
from shopwindow.interests.recs.baselines import ImplicitALS, Popularity
from shopwindow.interests.recs.data import Dataset
from shopwindow.interests.recs.links import AdamicAdar, CommonNeighbours, LinkPredictor
from shopwindow.interests.recs.metrics import evaluate
from shopwindow.interests.recs.model import SocialRecommender

Progress = Callable[[str, float], None]
OURS_ITEMS = "social-ease"
OURS_LINKS = "social-links"
_LATENCY_USERS = 300


class _Model(Protocol):
    fit_seconds: float

    def score(self, users: np.ndarray) -> np.ndarray: ...


@dataclass
class Report:
    """Figures of one evaluation run, in the shape `--json` writes."""

    task: str
    ours: str
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict: {"ours": NAME, "models": {NAME: {metric: value}}, ...}."""
        return {"task": self.task, "ours": self.ours, "models": self.models,
                "params": self.params}


def _noop(_stage: str, _frac: float) -> None:
    return None


def _latency(recommend: Callable[[int], object], users: np.ndarray) -> dict[str, float]:
    """p50/p99 wall time (ms) of one top-20 request per sampled user."""
    times = []
    for u in users:
        t0 = time.perf_counter()
        recommend(int(u))
        times.append((time.perf_counter() - t0) * 1000.0)
    arr = np.asarray(times) if times else np.zeros(1)
    return {"latency_p50_ms": float(np.percentile(arr, 50)),
            "latency_p99_ms": float(np.percentile(arr, 99))}


def _sample(users: np.ndarray, n: int, seed: int) -> np.ndarray:
    if len(users) <= n:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, n, replace=False))


def _generic_top20(model: _Model, seen: sp.csr_matrix) -> Callable[[int], object]:
    """A single-user top-20 for baselines that only score (mask seen items, then rank)."""
    def run(u: int) -> object:
        scores = model.score(np.asarray([u]))[0]
        scores[seen.indices[seen.indptr[u]:seen.indptr[u + 1]]] = -np.inf
        return top_k(scores, 20)
    return run


def evaluate_items(ds: Dataset, ours_params: dict[str, Any] | None = None,
                   als_params: dict[str, Any] | None = None, *,
                   progress: Progress = _noop, seed: int = 0) -> Report:
    """Fit ours, popularity and implicit ALS on the training split; score the test split."""
    report = Report(task="items", ours=OURS_ITEMS)
    ours = SocialRecommender(**(ours_params or {}))
    als = ImplicitALS(**(als_params or {}))
    candidates: list[tuple[str, Any]] = [
        (OURS_ITEMS, ours), (Popularity.name, Popularity()), (ImplicitALS.name, als)]
    test_users = np.flatnonzero(np.diff(ds.test.indptr) > 0)
    sample = _sample(test_users, _LATENCY_USERS, seed)
    for name, model in candidates:
        progress(f"fit {name}", 0.0)
        model.fit(ds.train, ds.social)
        progress(f"evaluate {name}", 0.0)
        figures = evaluate(model, ds.train, ds.test, (10, 20),
                           progress=partial(progress, f"evaluate {name}"))
        figures["fit_seconds"] = float(model.fit_seconds)
        if model is ours:
            figures.update(_latency(lambda u: ours.recommend(u, 20), sample))
        else:
            figures.update(_latency(_generic_top20(model, ds.train), sample))
        report.models[name] = figures
        if hasattr(model, "params"):
            report.params[name] = dict(model.params)
    return report


def split_links(S: sp.csr_matrix, fraction: float = 0.2,
                seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out a seeded `fraction` of the undirected links: (train graph, held-out graph),
    both symmetric."""
    upper = sp.triu(sp.csr_matrix(((S + S.T) > 0).astype(np.float32)), k=1).tocoo()
    n_edges = upper.nnz
    perm = np.random.default_rng(seed).permutation(n_edges)
    n_test = round(n_edges * fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]

    def graph(idx: np.ndarray) -> sp.csr_matrix:
        r, c = upper.row[idx], upper.col[idx]
        g = sp.csr_matrix((np.ones(2 * len(idx), dtype=np.float32),
                           (np.concatenate([r, c]), np.concatenate([c, r]))), shape=S.shape)
        g.sum_duplicates()
        return g

    return graph(train_idx), graph(test_idx)


def link_metrics(model: _Model, train: sp.csr_matrix, test: sp.csr_matrix,
                 ks: tuple[int, ...] = (10, 20),
                 progress: Callable[[float], None] | None = None) -> dict[str, float]:
    """Mean Recall/NDCG/Precision of suggested accounts over users with held-out links
    (the user and the accounts already linked in training are never counted)."""
    return evaluate(model, train, test, ks, exclude_self=True, progress=progress)


def evaluate_links(ds: Dataset, ours_params: dict[str, Any] | None = None, *,
                   progress: Progress = _noop, seed: int = 0,
                   fraction: float = 0.2) -> Report:
    """Who-to-follow: hold out links, fit on the rest, rank all accounts per user."""
    report = Report(task="links", ours=OURS_LINKS)
    train_g, test_g = split_links(ds.social, fraction, seed)
    ours = LinkPredictor(**(ours_params or {}))
    candidates: list[tuple[str, Any]] = [
        (OURS_LINKS, ours), (AdamicAdar.name, AdamicAdar()),
        (CommonNeighbours.name, CommonNeighbours())]
    sample = _sample(np.flatnonzero(np.diff(test_g.indptr) > 0), _LATENCY_USERS, seed)
    for name, model in candidates:
        progress(f"fit {name}", 0.0)
        model.fit(train_g, ds.train)
        figures = link_metrics(model, train_g, test_g,
                               progress=partial(progress, f"evaluate {name}"))
        figures["fit_seconds"] = float(model.fit_seconds)
        if isinstance(model, LinkPredictor):
            figures.update(_latency(partial(model.recommend, k=20), sample))
        else:
            figures.update(_latency(_generic_top20(model, train_g), sample))
        report.models[name] = figures
        if hasattr(model, "params"):
            report.params[name] = dict(model.params)
        progress(f"evaluate {name}", 1.0)
    return report
