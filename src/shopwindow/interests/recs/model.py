"""Social item recommender: EASE item-item core blended with ALS, on socially smoothed rows.

A user's row is smoothed with the rows of the accounts they are linked to
(`x + alpha * mean(friends' rows)`) before EASE scores it, so friends' interests both add
candidates and re-weight the user's own. EASE is regularised per item in the style of
EDLAE (ridge `l2` plus a dropout term proportional to the item's count) and debiased by
item popularity. The score is EASE plus `als_weight` times ALS with the user's own row
folded in (`x + als_social * mean(friends' rows)`; the smoothed row for a user without
interactions), each scaled per user to a maximum of 1, plus `gf_weight` times an "ideal
low-pass" graph filter over the EASE core (GF-CF, Shen et al. 2021: the top right singular
vectors of the degree-normalised interaction matrix), scaled the same way, plus `dae_weight`
times the softmax of a Mult-DAE (Liang et al. 2018) over the EASE core that reads the row
`x + dae_social * mean(friends' rows)`. The dense core holds at most `max_dense_items`
items, the most popular ones: on a large catalogue the item-item members work on the head,
where most interactions are, and the ALS factors alone score the tail (the Mult-DAE is
also skipped when users × core items exceed `dae_max_cells`). An epsilon of item
popularity breaks ties, which makes cold-start users (no interactions, no friends) get the
most popular items.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from threadpoolctl import ThreadpoolController

from shopwindow.interests.recs._sparse import as_csr, load_csr, row_normalise, save_csr, top_k
from shopwindow.interests.recs.dae import DAE_WEIGHTS, DaeWeights, dae_logits, fit_mult_dae

Progress = Callable[[str, float], None]

# Chosen on a validation split carved from the LastFM training data
# (`shopwindow recs evaluate --tune`); see docs/recommendations.md.
DEFAULTS: dict[str, Any] = {
    "l2": 100.0,            # EASE ridge penalty
    "dropout": 0.25,        # EDLAE-style: item i's ridge is l2 + dropout/(1-dropout)·count_i
    "alpha": 0.3,           # weight of the friends' mean row in the row EASE scores
    "beta": 0.3,            # popularity debiasing: EASE item scores times count**-beta
    "min_item_count": 3,    # items with fewer training users stay out of the EASE core
    "max_dense_items": 10000,  # dense core: at most this many items, the most popular
                               # (0: no core, ALS factors alone)
    "factors": 32,          # ALS (blended with EASE, and alone on the items outside the core)
    "als_reg": 0.05,
    "als_iters": 15,
    "als_alpha": 20.0,
    "als_weight": 0.8,      # weight of the per-user max-scaled ALS scores in the blend
    "als_social": 0.0,      # weight of the friends' mean row in the row ALS folds in
    "gf_factors": 128,      # singular vectors of the low-pass graph filter (0: no filter)
    "gf_weight": 0.5,       # weight of the per-user max-scaled filter scores in the blend
    "dae_hidden": 400,      # Mult-DAE hidden units (0: no autoencoder member)
    "dae_epochs": 30,
    "dae_social": 0.3,      # weight of the friends' mean row in the autoencoder's input
    "dae_weight": 2.0,      # weight of the per-user max-scaled autoencoder softmax
    "dae_max_cells": 8_000_000,  # users × core items above which the autoencoder is skipped
    # Serving only: every training user's EASE row (users × core items, float32) is kept
    # in memory up to this size, so one request reads its friends' rows instead of
    # hundreds of rows of the item-item matrix (the slowest part of a heavy request).
    "user_rows_max_cells": 16_000_000,
    "seed": 0,
}
# Used only when scoring: the tuner varies them on one fitted model.
SCORE_PARAMS = ("alpha", "beta", "als_weight", "als_social", "gf_weight", "dae_weight")
_TIE = 1e-6  # popularity tie-break scale: far below any real score difference
# A single request over a catalogue with at least this many items outside the core scores
# those items lazily (see `_Tail`); below it, one dense pass over every item is cheaper.
TAIL_PRUNE_MIN_ITEMS = 20_000
_TAIL_BLOCK = 8192


@dataclasses.dataclass(frozen=True)
class _Tail:
    """The items outside the core, ordered by the norm of their ALS factors (largest first).

    Outside the core an item's score is als_weight · (y·u) / max|Y·u| plus its popularity
    tie-break, and |y·u| ≤ ‖y‖·‖u‖ (Cauchy–Schwarz). Scanning the tail in this order, a
    request can stop as soon as the next norm can neither raise max|Y·u| nor lift an item
    above the k-th score found so far: on a 500,000-item catalogue the long tail's factors
    are short (rarely seen items) and a request reads a few blocks instead of every row.
    Hand-written: an approximate nearest-neighbour index would give approximate results;
    this gives exactly the dense ranking."""

    core_Y: np.ndarray  # factors of the core items, in core order
    items: np.ndarray  # tail item indices, by factor norm descending
    Y: np.ndarray  # their factors, in that order (contiguous)
    norms: np.ndarray
    tie: np.ndarray
    tie_max: float


class SocialRecommender:
    """Top-k items for a user from implicit interactions and the social graph."""

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown SocialRecommender parameters: {sorted(unknown)}")
        self.params: dict[str, Any] = {**DEFAULTS, **params}
        self._R: sp.csr_matrix | None = None
        self._S: sp.csr_matrix | None = None
        self._core = np.empty(0, dtype=np.int64)
        self._B: np.ndarray | None = None
        self._UB: np.ndarray | None = None  # training users' rows times B (serving cache)
        self._Y: np.ndarray | None = None
        self._YtY: np.ndarray | None = None
        self._V: np.ndarray | None = None
        self._gf_in: np.ndarray | None = None
        self._gf_out: np.ndarray | None = None
        self._dae: DaeWeights | None = None
        self._counts = np.empty(0, dtype=np.float32)
        self._tie = np.empty(0, dtype=np.float32)
        self._tail: _Tail | None = None
        self.fit_seconds = 0.0

    # ------------------------------------------------------------------ training
    def fit(self, R: sp.csr_matrix, S: sp.csr_matrix | None = None, *,
            progress: Progress | None = None) -> SocialRecommender:
        """Learn from interactions R (users×items, weights ≥ 0) and graph S (users×users)."""
        t0 = time.perf_counter()
        report = progress or (lambda _stage, _frac: None)
        n_users, n_items = R.shape
        X = _binary(as_csr(R, (n_users, n_items)))
        G = as_csr(S, (n_users, n_users))
        G.setdiag(0)
        G.eliminate_zeros()
        self._R, self._S = X, G
        counts = np.asarray(X.sum(axis=0), dtype=np.float32).ravel()
        self._counts = counts
        self._tie = (_TIE * counts / max(counts.max(initial=0.0), 1.0)).astype(np.float32)
        p = self.params
        self._core = _head_core(counts, int(p["min_item_count"]), int(p["max_dense_items"]))
        self._B = self._Y = self._YtY = self._V = self._gf_in = self._gf_out = None
        self._dae = None
        self._tail = None
        report("prepared", 0.05)
        dense = len(self._core) > 0
        if dense:
            self._B = _ease(X[:, self._core], float(p["l2"]), float(p["dropout"]))
            report("item-item weights", 0.6 if p["als_weight"] > 0 else 1.0)
            if int(p["gf_factors"]) > 0 and p["gf_weight"] > 0:
                self._V = _low_pass_factors(X[:, self._core], int(p["gf_factors"]),
                                            int(p["seed"]))
            if (int(p["dae_hidden"]) > 0 and p["dae_weight"] > 0
                    and n_users * len(self._core) <= int(p["dae_max_cells"])):
                report("autoencoder", 0.6)
                users = np.arange(n_users)
                X_core = X[:, self._core]
                X_in = self._smoothed(users, X, None, float(p["dae_social"]))[:, self._core]
                # mid-sized products, thousands of them: on a shared 2-core machine BLAS
                # thread hand-offs made training several times slower than one thread
                with _blas_controller().limit(limits=1, user_api="blas"):
                    self._dae = fit_mult_dae(X_in, X_core, hidden=int(p["dae_hidden"]),
                                             epochs=int(p["dae_epochs"]),
                                             seed=int(p["seed"]))
        if X.nnz and (not dense or p["als_weight"] > 0):
            self._Y = _als_item_factors(X, int(p["factors"]), float(p["als_reg"]),
                                        int(p["als_iters"]), float(p["als_alpha"]),
                                        int(p["seed"]))
            report("item factors", 1.0)
        self._prepare_serving()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def _prepare_serving(self) -> None:
        """Cache X[:, core] @ B (see `user_rows_max_cells`): the friends' part of a
        single user's EASE scores becomes a weighted sum of a few cached rows. Also order a
        long tail (`_Tail`), so that the first request does not pay for it."""
        self._UB = None
        self._tail = None
        self._tail_index()
        R = self._R
        if (self._B is None or R is None or self._S is None or not self._S.nnz
                or R.shape[0] * len(self._core) > int(self.params["user_rows_max_cells"])):
            return
        with _blas_controller().limit(limits=1, user_api="blas"):
            self._UB = np.ascontiguousarray(
                np.asarray(sp.csr_matrix(R[:, self._core]) @ self._B), dtype=np.float32)

    # ------------------------------------------------------------------ scoring
    @property
    def backend(self) -> str:
        """What scores items: "ease", "ease+als", "als" (`max_dense_items` 0, or no item
        with `min_item_count` users yet) or "popularity" (no interactions at all)."""
        if self._B is None:
            return "als" if self._Y is not None else "popularity"
        return "ease+als" if self._Y is not None else "ease"

    @property
    def has_autoencoder(self) -> bool:
        """Whether the Mult-DAE member is fitted (dense core within `dae_max_cells`)."""
        return self._dae is not None

    @property
    def core_items(self) -> int:
        """Number of items in the dense EASE core (0 when the ALS factors score alone)."""
        return len(self._core) if self._B is not None else 0

    @property
    def n_users(self) -> int:
        return self._fitted_R().shape[0]

    @property
    def n_items(self) -> int:
        return self._fitted_R().shape[1]

    def score(self, users: np.ndarray, R_rows: sp.csr_matrix | None = None,
              S_rows: sp.csr_matrix | None = None) -> np.ndarray:
        """Dense scores (len(users)×items); R_rows/S_rows replace the stored rows (fold-in)."""
        X_b = self._user_rows(users, R_rows)
        Xs = self._smoothed(users, X_b, S_rows, float(self.params["alpha"]))
        out = np.zeros((X_b.shape[0], self.n_items), dtype=np.float32)
        p = self.params
        if self._B is not None:
            Xs_core = sp.csr_matrix(Xs[:, self._core])
            ease = np.asarray(Xs_core @ self._B)
            if p["beta"]:
                ease *= np.maximum(self._counts[self._core], 1.0) ** -float(p["beta"])
            core_scores = _unit_rows(ease)
            if self._V is not None and p["gf_weight"]:
                # the user's own row (the smoothed one only when there is none): on LastFM
                # validation the smoothed row added nothing here, as for ALS
                own = _own_or_smoothed(X_b, Xs)[:, self._core]
                gf_in, gf_out = self._gf_projections()
                gf = np.asarray(own @ gf_in) @ gf_out
                core_scores += _unit_rows(gf, float(p["gf_weight"]))
            if self._dae is not None and p["dae_weight"]:
                # the EASE row again when the weights agree (the default): no second product
                dae_in = (Xs_core if p["dae_social"] == p["alpha"] else self._smoothed(
                    users, X_b, S_rows, float(p["dae_social"]))[:, self._core])
                core_scores += float(p["dae_weight"]) * self._dae_scores(dae_in)
            out[:, self._core] = core_scores
        weight = 1.0 if self._B is None else float(p["als_weight"])
        if self._Y is not None and weight:
            Xa = Xs if self._B is None else self._als_rows(users, X_b, Xs, S_rows)
            # many tiny solves: BLAS threads only add hand-off overhead here
            with _blas_controller().limit(limits=1, user_api="blas"):
                U = _fold_in(Xa, self._Y, self._gram(), float(p["als_alpha"]))
            out += _unit_rows(U @ self._Y.T, weight)
        out += self._tie
        return out

    def recommend(self, user: int, k: int = 20, *, exclude: np.ndarray | None = None,
                  R_row: sp.csr_matrix | None = None,
                  S_row: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores, without the user's own items and `exclude`."""
        own, friends, weights = self._one_user(user, R_row, S_row)
        excluded = np.asarray(exclude if exclude is not None else [], dtype=np.int64)
        # One user's products are tiny: BLAS threads only add hand-off latency (tens of ms
        # on a loaded machine), so a single request runs single-threaded.
        with _blas_controller().limit(limits=1, user_api="blas"):
            some = self._score_some(own, friends, weights, k + len(own) + len(excluded))
            if some is None:
                scores = self._score_one(own, friends, weights)
        if some is not None:
            # the core and the scanned part of the tail, by item index (ties: lower first)
            items, scores = some
            scores[np.isin(items, own) | np.isin(items, excluded)] = -np.inf
            pos, vals = top_k(scores, k)
            return items[pos], vals
        scores[own] = -np.inf
        if len(excluded):
            scores[excluded] = -np.inf
        return top_k(scores, k)

    # ------------------------------------------------------- single-user scoring
    # `score` builds about two dozen small sparse matrices per call, which for one user
    # cost more than the arithmetic. A request scores one user, so this path computes the
    # same blend on dense vectors and index arrays (the same products, in the same order
    # of terms; a test holds it equal to `score`).
    def _one_user(self, user: int, R_row: sp.csr_matrix | None,
                  S_row: sp.csr_matrix | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The user's own item indices, linked user indices and the links' row weights."""
        R = self._fitted_R()
        if user < 0:
            raise ValueError("user indices must be >= 0")
        if R_row is not None:
            own = _binary(as_csr(R_row, (1, R.shape[1]))).indices
        elif user < R.shape[0]:
            own = R.indices[R.indptr[user]:R.indptr[user + 1]]
        else:
            own = np.empty(0, dtype=np.int32)
        if S_row is not None:
            links = as_csr(S_row, (1, R.shape[0]))
            friends, weights = links.indices, links.data
        elif self._S is not None and user < self._S.shape[0]:
            lo, hi = self._S.indptr[user], self._S.indptr[user + 1]
            friends, weights = self._S.indices[lo:hi], self._S.data[lo:hi]
        else:
            friends, weights = np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        keep = weights != 0
        if not keep.all():
            friends, weights = friends[keep], weights[keep]
        return np.sort(own).astype(np.int64), friends.astype(np.int64), weights

    def _friends_mean(self, friends: np.ndarray,
                      w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense mean of the linked users' training rows with row weights `w` (summing to
        1, as `row_normalise` makes them), and the items where it is non-zero (sorted):
        a long catalogue is not scanned again to find them."""
        R = self._fitted_R()
        mean = np.zeros(R.shape[1], dtype=np.float32)
        none = np.empty(0, dtype=np.int64)
        if not len(friends):
            return mean, none
        lo, hi = R.indptr[friends], R.indptr[friends + 1]
        lengths = hi - lo
        if not lengths.sum():
            return mean, none
        # positions of every linked row's entries in R's arrays, without a Python loop
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        pos = starts + np.arange(lengths.sum())
        np.add.at(mean, R.indices[pos], np.repeat(w, lengths) * R.data[pos])
        support = np.unique(R.indices[pos]).astype(np.int64)
        return mean, support[mean[support] != 0]

    @overload
    def _score_one(self, own: np.ndarray, friends: np.ndarray, weights: np.ndarray,
                   core_only: Literal[False] = False) -> np.ndarray: ...

    @overload
    def _score_one(self, own: np.ndarray, friends: np.ndarray, weights: np.ndarray,
                   core_only: Literal[True]) -> tuple[np.ndarray, np.ndarray | None]: ...

    def _score_one(self, own: np.ndarray, friends: np.ndarray, weights: np.ndarray,
                   core_only: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
        """Scores of every item for one user (what `score` gives for that row). With
        `core_only`: (the scores before the ALS member and the tie-break, the ALS user
        vector or None), for `_score_some`."""
        p = self.params
        n_items = self.n_items
        x = np.zeros(n_items, dtype=np.float32)
        x[own] = 1.0
        w = (weights / np.float32(weights.sum(dtype=np.float32))).astype(np.float32) \
            if len(weights) else weights
        mean, support = self._friends_mean(friends, w) if self._S is not None else (None, None)
        has_friends = support is not None and len(support) > 0

        def smoothed(alpha: float) -> np.ndarray:
            if alpha <= 0 or not has_friends:
                return x
            assert mean is not None
            return x + np.float32(alpha) * mean

        xs = smoothed(float(p["alpha"]))
        out = np.zeros(n_items, dtype=np.float32)
        if self._B is not None:
            xs_core = xs[self._core]
            if self._UB is not None and xs is not x:
                # (x + α·Σ w_f r_f) B = x B + α·Σ w_f (r_f B), the latter rows cached
                ease = _vector_times(x[self._core], self._B)
                ease += np.float32(p["alpha"]) * (w @ self._UB[friends])
            else:
                ease = _vector_times(xs_core, self._B)
            if p["beta"]:
                ease *= np.maximum(self._counts[self._core], 1.0) ** -float(p["beta"])
            core_scores = _unit(ease)
            if self._V is not None and p["gf_weight"]:
                own_core = (x if len(own) else xs)[self._core]
                gf_in, gf_out = self._gf_projections()
                core_scores += float(p["gf_weight"]) * _unit(_vector_times(own_core, gf_in)
                                                             @ gf_out)
            if self._dae is not None and p["dae_weight"]:
                dae_in = (xs_core if p["dae_social"] == p["alpha"]
                          else smoothed(float(p["dae_social"]))[self._core])
                core_scores += float(p["dae_weight"]) * self._dae_one(dae_in)
            out[self._core] = core_scores
        weight = 1.0 if self._B is None else float(p["als_weight"])
        if self._Y is not None and weight:
            xa = xs if self._B is None else smoothed(float(p["als_social"]))
            if not len(own):
                xa = xs
            # xa's non-zero items without a scan of the catalogue: the user's own, plus the
            # friends' when xa is the smoothed row
            idx = own if xa is x else np.union1d(own, support) if support is not None else own
            u = self._als_user(xa, idx)
            if u is not None:
                if core_only:
                    return out, u
                out += weight * _unit(self._Y @ u)
        if core_only:
            return out, None
        out += self._tie
        return out

    def _als_user(self, xa: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
        """The ALS user vector folded in from the dense row `xa` whose non-zero entries
        are at the sorted indices `idx` (None for an empty row)."""
        assert self._Y is not None
        if not len(idx):
            return None
        conf = float(self.params["als_alpha"]) * xa[idx]
        Yi = self._Y[idx]
        A = self._gram() + (Yi.T * conf) @ Yi
        return np.linalg.solve(A, Yi.T @ (1.0 + conf)).astype(np.float32)

    def _tail_index(self) -> _Tail | None:
        """The tail ordering (built once per fitted or loaded model), if it pays off."""
        if self._B is None or self._Y is None or not self.params["als_weight"]:
            return None
        n_tail = self.n_items - len(self._core)
        if n_tail < max(TAIL_PRUNE_MIN_ITEMS, 1):
            return None
        if self._tail is None:
            tail = np.ones(self.n_items, dtype=bool)
            tail[self._core] = False
            items = np.flatnonzero(tail)
            norms = np.linalg.norm(self._Y[items], axis=1).astype(np.float32)
            order = np.argsort(-norms, kind="stable")
            items = items[order]
            tie = self._tie[items]
            self._tail = _Tail(np.ascontiguousarray(self._Y[self._core]), items,
                               np.ascontiguousarray(self._Y[items]), norms[order], tie,
                               float(tie.max(initial=0.0)))
        return self._tail

    def _score_some(self, own: np.ndarray, friends: np.ndarray, weights: np.ndarray,
                    need: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(items, scores) holding at least every item that can rank among the `need` best
        of `_score_one` (items in ascending order, scores as `_score_one` gives them), or
        None where the tail is not worth pruning (small catalogue, no ALS user vector)."""
        tail = self._tail_index()
        if tail is None:
            return None
        dense, u = self._score_one(own, friends, weights, core_only=True)
        if u is None:
            return None
        weight = np.float32(self.params["als_weight"])
        core = self._core
        als_core = tail.core_Y @ u
        top = np.abs(als_core).max(initial=0.0)
        # ‖u‖ with a margin of 10⁻⁵: float32 dot products may round a little above the
        # exact Cauchy–Schwarz bound, and a missed item must never be one that ranks
        norm_u = float(np.linalg.norm(u)) * (1.0 + 1e-5)
        blocks: list[np.ndarray] = []
        j, n_tail = 0, len(tail.items)
        # 1. max|Y·u| over every item: scan until no further norm can exceed it
        while j < n_tail and norm_u * float(tail.norms[j]) > top:
            blocks.append(tail.Y[j:j + _TAIL_BLOCK] @ u)
            top = max(top, np.abs(blocks[-1]).max())
            j = min(j + _TAIL_BLOCK, n_tail)
        if not top > 0:
            return None
        core_scores = dense[core] + weight * (als_core / top) + self._tie[core]
        parts = [core_scores] + [weight * (b / top) + tail.tie[i * _TAIL_BLOCK:
                                                                i * _TAIL_BLOCK + len(b)]
                                 for i, b in enumerate(blocks)]
        scores = np.concatenate(parts)

        def kth() -> float:
            if len(scores) < need:
                return -np.inf
            return float(np.partition(scores, len(scores) - need)[len(scores) - need])

        # 2. then until no unscanned item can reach the need-th score
        bound = kth()
        while j < n_tail and (float(weight) * norm_u * float(tail.norms[j]) / float(top)
                              + tail.tie_max >= bound):
            b = tail.Y[j:j + _TAIL_BLOCK] @ u
            scores = np.concatenate([scores, weight * (b / top) + tail.tie[j:j + len(b)]])
            j += len(b)
            bound = kth()
        items = np.concatenate([core, tail.items[:j]])
        order = np.argsort(items, kind="stable")
        return items[order], scores[order]

    def _dae_one(self, row: np.ndarray) -> np.ndarray:
        """`_dae_scores` for one dense input row over the core."""
        assert self._dae is not None
        idx = np.flatnonzero(row)
        if not len(idx):
            return np.zeros(len(row), dtype=np.float32)
        vals = row[idx]
        vals = vals / np.sqrt(np.dot(vals, vals))
        h = np.tanh(_vector_times_at(idx, vals, self._dae["W1"]) + self._dae["b1"])
        z = np.asarray(h @ self._dae["W2"] + self._dae["b2"], dtype=np.float32)
        z -= z.max()
        np.exp(z, out=z)
        return z

    def _dae_scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """Mult-DAE softmax for input rows over the core, scaled to a per-user maximum of 1
        (exp(z − max z)); zero for an empty row (no items, no friends: popularity decides)."""
        assert self._dae is not None
        rows = sp.csr_matrix(rows)
        z = dae_logits(self._dae, rows)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z[np.diff(rows.indptr) == 0] = 0.0
        return z

    def _gf_projections(self) -> tuple[np.ndarray, np.ndarray]:
        """D^-1/2 V and Vᵀ D^1/2 of the low-pass filter (D: core item counts), cached."""
        assert self._V is not None
        if self._gf_in is None or self._gf_out is None:
            d = np.maximum(self._counts[self._core], 1.0).astype(np.float32)
            self._gf_in = np.ascontiguousarray(self._V / np.sqrt(d)[:, None])
            self._gf_out = np.ascontiguousarray((self._V * np.sqrt(d)[:, None]).T)
        return self._gf_in, self._gf_out

    def _gram(self) -> np.ndarray:
        """YᵀY + λI of the item factors, computed once per fitted model."""
        assert self._Y is not None
        if self._YtY is None:
            f = self._Y.shape[1]
            self._YtY = (self._Y.T @ self._Y
                         + float(self.params["als_reg"]) * np.eye(f, dtype=np.float32))
        return self._YtY

    def _fitted_R(self) -> sp.csr_matrix:
        if self._R is None:
            raise RuntimeError("SocialRecommender is not fitted")
        return self._R

    def _user_rows(self, users: np.ndarray, R_rows: sp.csr_matrix | None) -> sp.csr_matrix:
        """Binary interaction rows of `users`: given ones, else stored (empty for new users)."""
        R = self._fitted_R()
        users = np.asarray(users, dtype=np.int64).ravel()
        if R_rows is not None:
            return _binary(as_csr(R_rows, (len(users), R.shape[1])))
        return _stored_rows(R, users)

    def _als_rows(self, users: np.ndarray, X_b: sp.csr_matrix, Xs: sp.csr_matrix,
                  S_rows: sp.csr_matrix | None) -> sp.csr_matrix:
        """Rows ALS folds in next to EASE: x + als_social * friends' mean, except that a
        user without interactions keeps the EASE row (friends are all there is to go on)."""
        # The fold-in reads every non-zero as a liked item, so a wide friends' row drowns
        # the user's own taste; on LastFM validation the own row alone scored better.
        return _own_or_smoothed(
            self._smoothed(users, X_b, S_rows, float(self.params["als_social"])), Xs, X_b)

    def _smoothed(self, users: np.ndarray, X_b: sp.csr_matrix,
                  S_rows: sp.csr_matrix | None, alpha: float) -> sp.csr_matrix:
        """x + alpha * mean of the linked users' training rows."""
        R = self._fitted_R()
        if alpha <= 0 or self._S is None:
            return X_b
        users = np.asarray(users, dtype=np.int64).ravel()
        links = (as_csr(S_rows, (len(users), R.shape[0])) if S_rows is not None
                 else _stored_rows(self._S, users))
        if not links.nnz:
            return X_b
        return sp.csr_matrix(X_b + alpha * (row_normalise(links) @ R))

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        """Write the fitted model to an .npz file (arrays and JSON parameters only)."""
        R = self._fitted_R()
        assert self._S is not None
        arrays: dict[str, np.ndarray] = {
            "kind": np.asarray("SocialRecommender"),
            "params": np.asarray(json.dumps(self.params)),
            "core": self._core, "counts": self._counts, "tie": self._tie,
            "fit_seconds": np.asarray(self.fit_seconds),
            **save_csr("R", R), **save_csr("S", self._S),
        }
        if self._B is not None:
            arrays["B"] = self._B
        if self._Y is not None:
            arrays["Y"] = self._Y
        if self._V is not None:
            arrays["V"] = self._V
        if self._dae is not None:
            arrays.update({f"dae_{k}": self._dae[k] for k in DAE_WEIGHTS})
        with open(path, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path) -> SocialRecommender:
        """Read a model written by `save` (no pickled code is executed)."""
        with np.load(path, allow_pickle=False) as z:
            if str(z["kind"]) != "SocialRecommender":
                raise ValueError(f"{path} does not hold a SocialRecommender")
            model = cls(**json.loads(str(z["params"])))
            model._R, model._S = load_csr("R", z), load_csr("S", z)
            model._core, model._counts, model._tie = z["core"], z["counts"], z["tie"]
            model.fit_seconds = float(z["fit_seconds"])
            model._B = np.ascontiguousarray(z["B"]) if "B" in z.files else None
            model._Y = np.ascontiguousarray(z["Y"]) if "Y" in z.files else None
            model._V = np.ascontiguousarray(z["V"]) if "V" in z.files else None
            model._dae = ({k: np.ascontiguousarray(z[f"dae_{k}"]) for k in DAE_WEIGHTS}
                          if "dae_W1" in z.files else None)
        model._prepare_serving()
        return model


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One controller per process: building it inspects every loaded library."""
    return ThreadpoolController()


def _head_core(counts: np.ndarray, min_count: int, cap: int) -> np.ndarray:
    """Items of the dense EASE core: those with at least `min_count` training users, and
    of those only the `cap` most popular (ties: lower index) when there are more. Large
    catalogues keep the item-item model where the interactions are (the head) and leave
    the tail to the ALS factors; `cap` 0 means no core at all (ALS alone)."""
    if cap <= 0:
        return np.empty(0, dtype=np.int64)
    eligible = np.flatnonzero(counts >= max(1, min_count)).astype(np.int64)
    if len(eligible) > cap:
        head = np.argsort(-counts[eligible], kind="stable")[:cap]
        eligible = np.sort(eligible[head])
    return eligible


def _binary(m: sp.csr_matrix) -> sp.csr_matrix:
    out = m.copy()
    out.data[:] = 1.0
    return out


def _stored_rows(m: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """Rows of m for users; users beyond m's rows (new accounts) get empty rows."""
    known = users < m.shape[0]
    if known.all():
        return sp.csr_matrix(m[users])
    if (users < 0).any():
        raise ValueError("user indices must be >= 0")
    safe = np.where(known, users, 0)
    rows = sp.csr_matrix(sp.diags(known.astype(np.float32)) @ m[safe])
    rows.eliminate_zeros()
    return rows


def _own_or_smoothed(X: sp.csr_matrix, Xs: sp.csr_matrix,
                     own: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """Rows of X, except the smoothed row Xs for users whose own row `own` (default X) is
    empty: a user without interactions has only their friends to go on."""
    empty = np.diff((X if own is None else own).indptr) == 0
    if not empty.any():
        return X
    keep = sp.diags((~empty).astype(np.float32))
    return sp.csr_matrix(keep @ X + sp.diags(empty.astype(np.float32)) @ Xs)


def _unit(v: np.ndarray) -> np.ndarray:
    """A vector divided by its largest absolute value (`_unit_rows` for one row)."""
    top = np.abs(v).max(initial=0.0)
    return v / top if top > 0 else np.zeros_like(v)


def _vector_times(v: np.ndarray, M: np.ndarray) -> np.ndarray:
    """v @ M for a mostly-zero dense vector v: only the rows of M where v is non-zero."""
    idx = np.flatnonzero(v)
    return _vector_times_at(idx, v[idx], M)


def _vector_times_at(idx: np.ndarray, vals: np.ndarray, M: np.ndarray) -> np.ndarray:
    """vals @ M[idx] without copying the rows out of M: scipy's CSR kernel walks them."""
    row = sp.csr_matrix((vals.astype(M.dtype, copy=False), idx,
                         np.asarray([0, len(idx)], dtype=idx.dtype)), shape=(1, M.shape[0]))
    return np.asarray(row @ M)[0]


def _unit_rows(m: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """`m` (a temporary, changed in place) with rows divided by their largest absolute
    value, so blended models share one scale, then times `weight`. In place and without an
    abs() copy: for a large catalogue these arrays are batch × every item, and each extra
    pass over them showed in `recs evaluate` profiles."""
    if m.shape[1] == 0:
        return m
    top = np.maximum(m.max(axis=1), -m.min(axis=1))[:, None]
    np.divide(m, top, out=m, where=top > 0)  # a row with top 0 is all zeros already
    if weight != 1.0:
        m *= weight
    return m


def _ease(X: sp.csr_matrix, l2: float, dropout: float = 0.0) -> np.ndarray:
    """EASE (Steck 2019) weights B = I - P·diag(1/diag P), P = (XᵀX + Λ)⁻¹, zero diagonal,
    with Λ = l2 + dropout/(1-dropout)·diag(XᵀX) (the dropout penalty of EDLAE, Steck 2020)."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError("dropout must be in [0, 1)")
    G = np.asarray((X.T @ X).toarray(), dtype=np.float32)
    # Popular items get a proportionally larger ridge: their weights are shrunk more,
    # which on LastFM validation beat a uniform ridge (l2 100 or 200).
    G[np.diag_indices_from(G)] += l2 + dropout / (1.0 - dropout) * np.diag(G)
    # Cholesky inverse in float32: about a third of the time of a float64 LU inverse, and
    # the ridge keeps the Gram matrix well conditioned enough for single precision.
    chol, info = lapack.spotrf(G, lower=False, overwrite_a=True)
    if info == 0:
        P, info = lapack.spotri(chol, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"EASE Gram matrix is not positive definite (LAPACK info {info})")
    P = np.triu(P) + np.triu(P, 1).T
    B = P / (-np.diag(P))
    B[np.diag_indices_from(B)] = 0.0
    # C order: scipy's sparse @ dense copies a Fortran-ordered operand on every call
    return np.ascontiguousarray(B, dtype=np.float32)


def _low_pass_factors(X: sp.csr_matrix, k: int, seed: int) -> np.ndarray:
    """Top-k right singular vectors V (items×k) of R̃ = D_u^-1/2 X D_i^-1/2: the "ideal
    low-pass" filter of GF-CF (Shen et al. 2021) scores a row x as x D_i^-1/2 V Vᵀ D_i^1/2.

    Randomized SVD (Halko et al.) rather than ARPACK: a few sparse products with k+10
    vectors, seconds even for a million interactions, and seeded."""
    from sklearn.utils.extmath import randomized_svd

    k = min(k, min(X.shape) - 1)
    if k < 1:
        return np.zeros((X.shape[1], 0), dtype=np.float32)
    du = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    di = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
    inv_sqrt = [np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0) for d in (du, di)]
    Rn = sp.csr_matrix(sp.diags(inv_sqrt[0]) @ X @ sp.diags(inv_sqrt[1]), dtype=np.float32)
    _u, _s, Vt = randomized_svd(Rn, k, n_iter=5, random_state=seed)
    return np.ascontiguousarray(Vt.T, dtype=np.float32)


def _als_item_factors(X: sp.csr_matrix, factors: int, reg: float, iters: int,
                      alpha: float, seed: int) -> np.ndarray:
    """Item factors of implicit-feedback ALS (Hu et al. 2008) from the implicit library."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit runs its own threads; a second BLAS thread pool underneath slows it down
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=alpha,
                                      iterations=iters, random_state=seed)
        als.fit(X, show_progress=False)
    return np.asarray(als.item_factors, dtype=np.float32)


def _fold_in(X: sp.csr_matrix, Y: np.ndarray, YtY: np.ndarray, alpha: float) -> np.ndarray:
    """User factors for rows X given item factors Y and YᵀY + λI: one ALS half-step."""
    f = Y.shape[1]
    U = np.zeros((X.shape[0], f), dtype=np.float32)
    for u in range(X.shape[0]):
        lo, hi = X.indptr[u], X.indptr[u + 1]
        if lo == hi:
            continue
        idx, conf = X.indices[lo:hi], alpha * X.data[lo:hi]
        Yi = Y[idx]
        A = YtY + (Yi.T * conf) @ Yi
        U[u] = np.linalg.solve(A, Yi.T @ (1.0 + conf))
    return U
