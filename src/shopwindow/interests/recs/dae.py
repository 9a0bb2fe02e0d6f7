"""Mult-DAE (Liang et al. 2018): a denoising autoencoder with a multinomial likelihood.

One tanh hidden layer between an L2-normalised, dropout-corrupted input row and a softmax
over the output items; trained with Adam on the multinomial log-likelihood of the user's
items. Plain numpy (float32), no framework: with a few thousand items and a few hundred
hidden units the products are small dense matrices. The weights are plain arrays, so a
model is saved as .npz like the rest of `SocialRecommender`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

DaeWeights = dict[str, np.ndarray]
DAE_WEIGHTS = ("W1", "b1", "W2", "b2")  # the arrays of a fitted Mult-DAE
_BLOCK = 1 << 16  # Adam's elements per block: 4 float32 arrays × 256 KiB stay in L2


def fit_mult_dae(X_in: sp.csr_matrix, X_out: sp.csr_matrix, *, hidden: int, epochs: int,
                 batch: int = 128, lr: float = 1e-3, dropout: float = 0.5, seed: int = 0,
                 progress: Callable[[float], None] | None = None) -> DaeWeights:
    """Weights of a Mult-DAE reconstructing the binary rows X_out from the rows X_in.

    X_in may carry extra signal (for instance the friends' mean row added to the user's
    own); X_out are the items the softmax predicts. Each epoch visits every user with a
    non-empty target row once, in seeded random order."""
    if X_in.shape[0] != X_out.shape[0]:
        raise ValueError("X_in and X_out must have the same rows")
    if hidden < 1 or epochs < 0 or batch < 1 or not 0.0 <= dropout < 1.0:
        raise ValueError("invalid Mult-DAE parameters")
    rng = np.random.default_rng(seed)
    X_in = sp.csr_matrix(X_in, dtype=np.float32)
    X_out = sp.csr_matrix(X_out, dtype=np.float32)
    if not X_out.has_canonical_format:
        # the target entries are subtracted by (row, column) below: no duplicates
        X_out = X_out.copy()
        X_out.sum_duplicates()
    n_in, n_out = X_in.shape[1], X_out.shape[1]
    # Glorot-uniform weights, zero biases
    lim1, lim2 = np.sqrt(6.0 / (n_in + hidden)), np.sqrt(6.0 / (hidden + n_out))
    w: DaeWeights = {
        "W1": rng.uniform(-lim1, lim1, (n_in, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "W2": rng.uniform(-lim2, lim2, (hidden, n_out)).astype(np.float32),
        "b2": np.zeros(n_out, dtype=np.float32),
    }
    adam = _Adam(w, lr)
    users = np.flatnonzero(np.diff(X_out.indptr) > 0)
    targets = np.asarray(X_out.sum(axis=1), dtype=np.float32).ravel()
    # work arrays for the largest batch, reused by every step (views of the first rows)
    n_max = min(batch, len(users))
    logits_buf = np.empty((n_max, n_out), dtype=np.float32)
    d_h_buf = np.empty((n_max, hidden), dtype=np.float32)
    grads: DaeWeights = {"b1": np.empty(hidden, dtype=np.float32),
                         "W2": np.empty((hidden, n_out), dtype=np.float32),
                         "b2": np.empty(n_out, dtype=np.float32)}
    for epoch in range(epochs):
        order = rng.permutation(users)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            n = len(idx)
            x = X_in[idx]
            if dropout > 0:
                # drop input entries; the L2 normalisation below makes the 1/(1-p)
                # rescaling of standard dropout irrelevant
                x.data *= rng.random(x.nnz) >= dropout
                x.eliminate_zeros()
            _l2_rows_inplace(x)
            # column-major, both sparse products below read (resp. write) each weight
            # row once instead of once per user: ~1 ms less per step on LastFM
            x = x.tocsc()
            h = np.asarray(x @ w["W1"])
            h += w["b1"]
            np.tanh(h, out=h)
            # gradient of the mean over the batch of -Σ y·log softmax(logits):
            # (softmax · Σy − y) / n, with the softmax normalisation and the scaling by
            # Σy / n fused into one pass and y subtracted at its non-zeros only
            d = np.matmul(h, w["W2"], out=logits_buf[:n])
            d += w["b2"]
            d -= d.max(axis=1, keepdims=True)
            np.exp(d, out=d)
            scale = targets[idx] / (np.float32(n) * d.sum(axis=1))
            d *= scale[:, None]
            y = X_out[idx]
            d[np.repeat(np.arange(n), np.diff(y.indptr)), y.indices] -= y.data / np.float32(n)
            np.matmul(h.T, d, out=grads["W2"])
            d.sum(axis=0, out=grads["b2"])
            d_h = np.matmul(d, w["W2"].T, out=d_h_buf[:n])
            h *= h
            np.subtract(1.0, h, out=h)
            d_h *= h
            d_h.sum(axis=0, out=grads["b1"])
            grads["W1"] = np.asarray(x.T @ d_h)
            adam.step(grads)
        if progress is not None:
            progress((epoch + 1) / epochs)
    return w


def dae_logits(w: DaeWeights, X_in: sp.csr_matrix) -> np.ndarray:
    """Output logits (rows × output items) for input rows X_in (no dropout)."""
    h = np.tanh(np.asarray(_l2_rows(sp.csr_matrix(X_in, dtype=np.float32)) @ w["W1"])
                + w["b1"])
    return np.asarray(h @ w["W2"] + w["b2"], dtype=np.float32)


class _Adam:
    """Adam (Kingma & Ba 2015) updating the arrays of `w` in place.

    The moments are kept divided by (1 − β): m̃ ← β₁m̃ + g, ṽ ← β₂ṽ + g², which saves two
    passes over the weights per step; the constant factors move into the step size and ε
    (the same update as the textbook form up to float32 rounding)."""

    def __init__(self, w: DaeWeights, lr: float, b1: float = 0.9, b2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.w, self.lr, self.b1, self.b2 = w, lr, b1, b2
        self.eps = float(eps / np.sqrt(1.0 - b2))
        self.m = {k: np.zeros_like(v) for k, v in w.items()}
        self.v = {k: np.zeros_like(v) for k, v in w.items()}
        self.t = 0

    def step(self, grads: DaeWeights) -> None:
        """One update from `grads` (float32; overwritten: they serve as scratch space)."""
        self.t += 1
        b1, b2 = self.b1, self.b2
        # lr·√(1−β₂ᵗ)/(1−β₁ᵗ) times (1−β₁)/√(1−β₂) for the scaled moments
        rate = float(self.lr * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
                          * (1.0 - b1) / np.sqrt(1.0 - b2))
        for k, grad in grads.items():
            G = grad.astype(np.float32, copy=False).reshape(-1)
            M, V, W = self.m[k].reshape(-1), self.v[k].reshape(-1), self.w[k].reshape(-1)
            # in blocks that stay in the CPU cache across the ten passes below (the
            # arrays themselves are megabytes: one pass each would stream from memory)
            for lo in range(0, len(G), _BLOCK):
                hi = lo + _BLOCK
                g, m, v = G[lo:hi], M[lo:hi], V[lo:hi]
                m *= b1
                m += g
                g *= g
                v *= b2
                v += g
                # in place: g becomes the update m̃ / (√ṽ + ε')
                np.sqrt(v, out=g)
                g += self.eps
                np.divide(m, g, out=g)
                g *= rate
                W[lo:hi] -= g


def _l2_rows_inplace(x: sp.csr_matrix) -> None:
    """Rows of the float32 matrix x scaled in place to unit Euclidean norm."""
    lengths = np.diff(x.indptr)
    if not x.nnz:
        return
    nonempty = lengths > 0
    norms = np.sqrt(np.add.reduceat(x.data * x.data, x.indptr[:-1][nonempty]))
    norms[norms == 0] = 1.0
    x.data /= np.repeat(norms, lengths[nonempty])


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit Euclidean norm (empty rows stay empty), as a float32 copy."""
    out = sp.csr_matrix(x, dtype=np.float32, copy=True)
    _l2_rows_inplace(out)
    return out
