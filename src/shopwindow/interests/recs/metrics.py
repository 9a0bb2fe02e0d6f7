"""Offline top-K metrics (full ranking over all items, training items excluded).

Recall@K = hits / |test items|, Precision@K = hits / K, NDCG@K with binary gains and the
ideal DCG over min(K, |test items|); each is averaged over users with test items.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from shopwindow.interests.recs._sparse import top_k_rows


class Scorer(Protocol):
    """Anything with a batch `score(users)` over all items (users×items dense)."""

    def score(self, users: np.ndarray) -> np.ndarray: ...


def _hits(ranked: Sequence[int], relevant: Collection[int], k: int) -> np.ndarray:
    return np.asarray([1.0 if item in relevant else 0.0 for item in list(ranked)[:k]])


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the relevant items found in the first k of `ranked`."""
    if not relevant:
        raise ValueError("recall is undefined without relevant items")
    return float(_hits(ranked, relevant, k).sum() / len(relevant))


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits in the first k of `ranked`, divided by k (not by the list length)."""
    return float(_hits(ranked, relevant, k).sum() / k)


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Binary-gain NDCG: DCG of the first k over the DCG of min(k, |relevant|) hits."""
    if not relevant:
        raise ValueError("NDCG is undefined without relevant items")
    hits = _hits(ranked, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits * discounts[: len(hits)]).sum())
    idcg = float(discounts[: min(k, len(relevant))].sum())
    return dcg / idcg


def ranking_metrics(ranked: np.ndarray, relevant: list[set[int]],
                    ks: Sequence[int]) -> dict[str, list[float]]:
    """Per-user Recall/NDCG/Precision at each k for rows of `ranked` (best first)."""
    out: dict[str, list[float]] = {}
    for k in ks:
        for name, fn in (("Recall", recall_at_k), ("NDCG", ndcg_at_k),
                         ("Precision", precision_at_k)):
            out[f"{name}@{k}"] = [fn(row, rel, k) for row, rel in zip(ranked, relevant,
                                                                      strict=True)]
    return out


# Dense scores of one batch are users × columns float32 (and a few temporaries of that
# size inside a model's `score`): 2**25 cells (128 MB) per array, so a catalogue of a
# million items is scored 32 users at a time instead of 512 (2 GB per array).
BATCH_CELLS = 2**25


def batch_rows(n_columns: int, batch: int = 512) -> int:
    """Users per scoring batch: at most `batch`, at most BATCH_CELLS cells, at least 1."""
    return max(1, min(batch, BATCH_CELLS // max(n_columns, 1)))


def evaluate(model: Scorer, train: sp.csr_matrix, test: sp.csr_matrix,
             ks: Sequence[int] = (10, 20), *, batch: int = 512, exclude_self: bool = False,
             progress: Callable[[float], None] | None = None) -> dict[str, float]:
    """Mean metrics of `model` over the users with test items (scored in user batches).

    The user's training columns are never counted; with `exclude_self` (accounts to follow,
    where columns are users) neither is the user's own column.
    """
    train, test = sp.csr_matrix(train), sp.csr_matrix(test)
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    kmax = max(ks)
    rows_per_batch = batch_rows(test.shape[1], batch)
    sums: dict[str, float] = {}
    for start in range(0, len(users), rows_per_batch):
        chunk = users[start:start + rows_per_batch]
        scores = np.asarray(model.score(chunk), dtype=np.float32)
        rows = np.arange(len(chunk))
        if exclude_self:
            scores[rows, chunk] = -np.inf
        seen = train[chunk]
        scores[np.repeat(rows, np.diff(seen.indptr)), seen.indices] = -np.inf
        ranked = top_k_rows(scores, kmax)
        relevant = [set(test.indices[test.indptr[u]:test.indptr[u + 1]].tolist())
                    for u in chunk]
        for name, values in ranking_metrics(ranked, relevant, ks).items():
            sums[name] = sums.get(name, 0.0) + float(np.sum(values))
        if progress is not None:
            progress(min(1.0, (start + len(chunk)) / len(users)))
    return {name: total / max(len(users), 1) for name, total in sums.items()}
