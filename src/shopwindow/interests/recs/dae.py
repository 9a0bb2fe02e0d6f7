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
    for epoch in range(epochs):
        order = rng.permutation(users)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            x = X_in[idx]
            if dropout > 0:
                # drop input entries; the L2 normalisation below makes the 1/(1-p)
                # rescaling of standard dropout irrelevant
                x.data *= rng.random(x.nnz) >= dropout
                x.eliminate_zeros()
            x = _l2_rows(x)
            h = np.tanh(np.asarray(x @ w["W1"]) + w["b1"])
            logits = h @ w["W2"] + w["b2"]
            y = X_out[idx].toarray()
            # gradient of the mean over the batch of -Σ y·log softmax(logits)
            d_logits = _softmax(logits)
            d_logits *= y.sum(axis=1, keepdims=True)
            d_logits -= y
            d_logits /= len(idx)
            d_h = d_logits @ w["W2"].T
            d_h *= 1.0 - h * h
            adam.step({"W1": np.asarray(x.T @ d_h), "b1": d_h.sum(axis=0),
                       "W2": h.T @ d_logits, "b2": d_logits.sum(axis=0)})
        if progress is not None:
            progress((epoch + 1) / epochs)
    return w


def dae_logits(w: DaeWeights, X_in: sp.csr_matrix) -> np.ndarray:
    """Output logits (rows × output items) for input rows X_in (no dropout)."""
    h = np.tanh(np.asarray(_l2_rows(sp.csr_matrix(X_in, dtype=np.float32)) @ w["W1"])
                + w["b1"])
    return np.asarray(h @ w["W2"] + w["b2"], dtype=np.float32)


class _Adam:
    """Adam (Kingma & Ba 2015) updating the arrays of `w` in place."""

    def __init__(self, w: DaeWeights, lr: float, b1: float = 0.9, b2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.w, self.lr, self.b1, self.b2, self.eps = w, lr, b1, b2, eps
        self.m = {k: np.zeros_like(v) for k, v in w.items()}
        self.v = {k: np.zeros_like(v) for k, v in w.items()}
        self.t = 0

    def step(self, grads: DaeWeights) -> None:
        self.t += 1
        rate = self.lr * np.sqrt(1.0 - self.b2 ** self.t) / (1.0 - self.b1 ** self.t)
        for k, g in grads.items():
            g = g.astype(np.float32, copy=False)
            m, v = self.m[k], self.v[k]
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            g *= g
            g *= 1.0 - self.b2
            v += g
            # in place: g becomes the update m / (√v + ε)
            np.sqrt(v, out=g)
            g += self.eps
            np.divide(m, g, out=g)
            g *= rate
            self.w[k] -= g


def _softmax(z: np.ndarray) -> np.ndarray:
    out = z - z.max(axis=1, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit Euclidean norm (empty rows stay empty)."""
    out = sp.csr_matrix(x, dtype=np.float32, copy=True)
    lengths = np.diff(out.indptr)
    if not out.nnz:
        return out
    norms = np.sqrt(np.add.reduceat(out.data * out.data, out.indptr[:-1][lengths > 0]))
    norms[norms == 0] = 1.0
    out.data /= np.repeat(norms, lengths[lengths > 0]).astype(np.float32)
    return out
