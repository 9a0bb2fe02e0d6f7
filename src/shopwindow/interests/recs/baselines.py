"""Baselines for offline comparison: most-popular items and implicit-feedback ALS."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopwindow.interests.recs._sparse import as_csr


class Popularity:
    """Scores every item by its number of training users (same list for everyone)."""

    name = "popularity"

    def __init__(self) -> None:
        self._counts = np.empty(0, dtype=np.float32)
        self.fit_seconds = 0.0

    def fit(self, R: sp.csr_matrix, S: sp.csr_matrix | None = None, **_: Any) -> Popularity:
        """Count the users of each item."""
        t0 = time.perf_counter()
        X = as_csr(R, R.shape)
        self._counts = np.asarray((X > 0).sum(axis=0), dtype=np.float32).ravel()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """The popularity vector repeated for each user."""
        return np.broadcast_to(self._counts, (len(users), len(self._counts))).copy()


class ImplicitALS:
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) from the `implicit` library."""

    name = "implicit-als"

    def __init__(self, factors: int = 64, regularization: float = 0.5, alpha: float = 10.0,
                 iterations: int = 15, seed: int = 0) -> None:
        self.params = {"factors": factors, "regularization": regularization,
                       "alpha": alpha, "iterations": iterations, "seed": seed}
        self._U = np.empty((0, 0), dtype=np.float32)
        self._V = np.empty((0, 0), dtype=np.float32)
        self.fit_seconds = 0.0

    def fit(self, R: sp.csr_matrix, S: sp.csr_matrix | None = None, **_: Any) -> ImplicitALS:
        """Factorise the binarised interactions."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        t0 = time.perf_counter()
        X = as_csr(R, R.shape)
        X.data[:] = 1.0
        p = self.params
        with threadpool_limits(1, "blas"):  # implicit runs its own threads
            als = AlternatingLeastSquares(factors=int(p["factors"]),
                                          regularization=float(p["regularization"]),
                                          alpha=float(p["alpha"]),
                                          iterations=int(p["iterations"]),
                                          random_state=int(p["seed"]))
            als.fit(X, show_progress=False)
        self._U = np.asarray(als.user_factors, dtype=np.float32)
        self._V = np.asarray(als.item_factors, dtype=np.float32)
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """Dot products of the users' and all items' factors."""
        return np.asarray(self._U[np.asarray(users)] @ self._V.T)
