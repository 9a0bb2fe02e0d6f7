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
    """Indices and values of the k largest finite entries of a 1-d array, best first
    (equal scores: the lower index first)."""
    if min(k, scores.shape[0]) <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    idx = top_k_rows(scores[None, :], k)[0]
    idx = idx[np.isfinite(scores[idx])]
    return idx, scores[idx]


# Top-k of wide score rows (full ranking over a large catalogue). argpartition over every
# column costs about ten passes over the row, and `recs evaluate` spent 70 % of its time
# there on 500,000 items. Instead: the k-th largest of the row's block maxima is a lower
# bound of its k-th largest score (k blocks hold a score at least that high), so only the
# scores at or above it compete, usually little more than k of them. Hand-written because
# numpy has no batched top-k and no library we use offers one for dense rows.
_BLOCK = 128


def _candidates_limit(k: int) -> int:
    return max(1024, 32 * k)


def _top_k_row_exact(row: np.ndarray, k: int) -> np.ndarray:
    """One row's top k by a full partition (rows with many equal scores at the threshold)."""
    m = row.shape[0]
    kth = np.partition(row, m - k)[m - k]
    greater = np.flatnonzero(row > kth)
    equal = np.flatnonzero(row == kth)[: k - len(greater)]
    idx = np.concatenate([greater, equal])
    return idx[np.lexsort((idx, -row[idx]))][:k].astype(np.int64)


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the column indices of the k largest scores, best first; equal scores go to
    the lower column index. Scores are finite or -inf (never NaN)."""
    n, m = scores.shape
    k = min(k, m)
    if k <= 0 or n == 0:
        return np.empty((n, max(k, 0)), dtype=np.int64)
    blocks = m // _BLOCK
    if blocks >= 4 * k:
        maxima = scores[:, : blocks * _BLOCK].reshape(n, blocks, _BLOCK).max(axis=2)
        threshold = np.partition(maxima, blocks - k, axis=1)[:, blocks - k]
    else:
        threshold = np.partition(scores, m - k, axis=1)[:, m - k]
    mask = scores >= threshold[:, None]
    counts = np.count_nonzero(mask, axis=1)
    out = np.empty((n, k), dtype=np.int64)
    wide = (counts > _candidates_limit(k)) | (counts < k)
    for r in np.flatnonzero(wide):
        out[r] = _top_k_row_exact(scores[r], k)
    narrow = np.flatnonzero(~wide)
    if len(narrow):
        rows, cols = np.nonzero(mask if len(narrow) == n else mask[narrow])
        order = np.lexsort((cols, -scores[narrow[rows], cols], rows))
        rows, cols = rows[order], cols[order]
        starts = np.concatenate([[0], np.cumsum(counts[narrow])[:-1]])
        take = (starts[:, None] + np.arange(k)[None, :]).ravel()
        out[narrow] = cols[take].reshape(len(narrow), k)
    return out
