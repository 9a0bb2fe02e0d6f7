"""Who-to-follow: link prediction on the social graph, optionally helped by interests.

The score of a candidate v for user u blends, after scaling each to [0, 1] per user:
Adamic-Adar (shared neighbours w weighted 1/log deg w), resource allocation (1/deg w) and
interest similarity (cosine of the users' interaction rows), plus an epsilon of degree so
that users without neighbours or interactions still get well-connected accounts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopwindow.interests.recs._sparse import as_csr, load_csr, save_csr, top_k

# Chosen on a validation split of the LastFM training graph (see docs/recommendations.md).
LINK_DEFAULTS: dict[str, Any] = {
    "w_aa": 1.0,        # Adamic-Adar
    "w_ra": 0.0,        # resource allocation
    "w_interest": 0.25,  # cosine similarity of the interaction rows
}
_TIE = 1e-6


def _undirected(S: sp.csr_matrix) -> sp.csr_matrix:
    g = sp.csr_matrix(((S + S.T) > 0).astype(np.float32))
    g.setdiag(0)
    g.eliminate_zeros()
    return g


def _scale_rows(m: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """`m` (non-negative, a temporary: changed in place) with rows scaled to a maximum of
    1, times `weight`; in place because these are batch × every account."""
    top = m.max(axis=1, keepdims=True)
    np.divide(m, top, out=m, where=top > 0)  # a row with maximum 0 is all zeros already
    if weight != 1.0:
        m *= weight
    return m


class LinkPredictor:
    """Ranks accounts a user does not follow yet by graph proximity and shared interests."""

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(LINK_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown LinkPredictor parameters: {sorted(unknown)}")
        self.params: dict[str, Any] = {**LINK_DEFAULTS, **params}
        self._S: sp.csr_matrix | None = None
        self._G: sp.csr_matrix | None = None
        self._Rn: sp.csr_matrix | None = None
        self._RnT: sp.csr_matrix | None = None
        self._G_aa: sp.csr_matrix | None = None
        self._G_ra: sp.csr_matrix | None = None
        self._aa = np.empty(0, dtype=np.float32)
        self._ra = np.empty(0, dtype=np.float32)
        self._tie = np.empty(0, dtype=np.float32)
        self.fit_seconds = 0.0

    def fit(self, S: sp.csr_matrix, R: sp.csr_matrix | None = None) -> LinkPredictor:
        """Learn from the follow graph S (users×users) and optional interactions R."""
        t0 = time.perf_counter()
        n = S.shape[0]
        self._S = as_csr(S, (n, n))
        self._G = _undirected(self._S)
        deg = np.asarray(self._G.sum(axis=1)).ravel()
        self._aa = np.divide(1.0, np.log(deg), out=np.zeros_like(deg),
                             where=deg > 1).astype(np.float32)
        self._ra = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0).astype(np.float32)
        self._tie = (_TIE * deg / max(deg.max(initial=0.0), 1.0)).astype(np.float32)
        # weighted neighbour matrices, so one user's scores are a single sparse row product
        self._G_aa = sp.csr_matrix(sp.diags(self._aa) @ self._G)
        self._G_ra = sp.csr_matrix(sp.diags(self._ra) @ self._G)
        if R is not None:
            X = as_csr(R, (n, R.shape[1]))
            X.data[:] = 1.0
            norms = np.sqrt(np.asarray(X.sum(axis=1)).ravel())
            inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
            self._Rn = sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ X)
        else:
            self._Rn = None
        self._RnT = None if self._Rn is None else sp.csr_matrix(self._Rn.T)
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """Dense candidate scores (len(users)×users), before excluding existing links."""
        if self._G is None:
            raise RuntimeError("LinkPredictor is not fitted")
        users = np.asarray(users, dtype=np.int64)
        rows = self._G[users]
        p = self.params
        out = np.zeros((len(users), self._G.shape[0]), dtype=np.float32)
        if p["w_aa"]:
            out += _scale_rows(_dense(rows @ self._G_aa), p["w_aa"])
        if p["w_ra"]:
            out += _scale_rows(_dense(rows @ self._G_ra), p["w_ra"])
        if p["w_interest"] and self._Rn is not None and self._RnT is not None:
            out += _scale_rows(_dense(self._Rn[users] @ self._RnT), p["w_interest"])
        out += self._tie
        return out

    def known(self, users: np.ndarray) -> sp.csr_matrix:
        """The accounts each user already follows (excluded from suggestions)."""
        assert self._S is not None
        return sp.csr_matrix(self._S[np.asarray(users, dtype=np.int64)])

    def recommend(self, user: int, k: int = 20, *,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k accounts for `user`: never the user, nor anyone already followed."""
        scores = self.score(np.asarray([user]))[0]
        scores[user] = -np.inf
        scores[self.known(np.asarray([user])).indices] = -np.inf
        if exclude is not None and len(exclude):
            scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
        return top_k(scores, k)

    def save(self, path: Path) -> None:
        """Write the fitted predictor to an .npz file (arrays and JSON parameters)."""
        if self._S is None:
            raise RuntimeError("LinkPredictor is not fitted")
        arrays = {"kind": np.asarray("LinkPredictor"),
                  "params": np.asarray(json.dumps(self.params)), **save_csr("S", self._S)}
        if self._Rn is not None:
            arrays.update(save_csr("Rn", self._Rn))
        with open(path, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path) -> LinkPredictor:
        """Read a predictor written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            if str(z["kind"]) != "LinkPredictor":
                raise ValueError(f"{path} does not hold a LinkPredictor")
            model = cls(**json.loads(str(z["params"])))
            S = load_csr("S", z)
            Rn = load_csr("Rn", z) if "Rn_data" in z.files else None
        model.fit(S)
        model._Rn = Rn
        model._RnT = None if Rn is None else sp.csr_matrix(Rn.T)
        return model


def _dense(m: sp.spmatrix) -> np.ndarray:
    return np.asarray(m.toarray(), dtype=np.float32)


class AdamicAdar(LinkPredictor):
    """Baseline: Adamic-Adar alone."""

    name = "adamic-adar"

    def __init__(self) -> None:
        super().__init__(w_aa=1.0, w_ra=0.0, w_interest=0.0)


class CommonNeighbours:
    """Baseline: number of shared neighbours, ties broken by degree (popularity)."""

    name = "common-neighbours"

    def __init__(self) -> None:
        self._G: sp.csr_matrix | None = None
        self._deg = np.empty(0, dtype=np.float32)
        self.fit_seconds = 0.0

    def fit(self, S: sp.csr_matrix, R: sp.csr_matrix | None = None) -> CommonNeighbours:
        """Keep the undirected graph and degrees."""
        t0 = time.perf_counter()
        self._G = _undirected(as_csr(S, S.shape))
        self._deg = np.asarray(self._G.sum(axis=1), dtype=np.float32).ravel()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """Shared-neighbour counts plus a degree tie-break."""
        assert self._G is not None
        cn = _dense(self._G[np.asarray(users)] @ self._G)
        return cn + self._deg / (self._deg.max(initial=0.0) + 1.0)
