"""Small sparse-matrix helpers shared by the recommenders."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def as_csr(m: sp.spmatrix | sp.sparray | None, shape: tuple[int, int]) -> sp.csr_matrix:
    """`m` as a float32 CSR matrix of `shape` (an empty one when None)."""
    if m is None:
        return sp.csr_matrix(shape, dtype=np.float32)
    out = sp.csr_matrix(m, dtype=np.float32)
    if out.shape != shape:
        raise ValueError(f"expected a matrix of shape {shape}, got {out.shape}")
    if out.nnz and out.data.min() < 0:
        raise ValueError("interaction and graph weights must be >= 0")
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def row_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to sum 1 (empty rows stay empty)."""
    sums = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums, dtype=np.float64), where=sums > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ m)


def save_csr(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Arrays that `load_csr` turns back into `m` (for npz files, no pickle)."""
    return {f"{prefix}_data": m.data, f"{prefix}_indices": m.indices,
            f"{prefix}_indptr": m.indptr, f"{prefix}_shape": np.asarray(m.shape)}


def load_csr(prefix: str, z: np.lib.npyio.NpzFile) -> sp.csr_matrix:
    """The CSR matrix stored by `save_csr` under `prefix`."""
    shape = tuple(int(x) for x in z[f"{prefix}_shape"])
    return sp.csr_matrix((z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]),
                         shape=shape)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest finite entries of a 1-d array, best first."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    keep = np.isfinite(scores[idx])
    idx = idx[keep]
    return idx.astype(np.int64), scores[idx]


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the column indices of the k largest scores, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
