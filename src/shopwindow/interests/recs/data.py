"""Reading evaluation data sets laid out like SocialLGN's splits.

DIR/sociallgn_split/{train_set,test_set}.txt hold `user,item` rows and trust.txt holds
`user,friend` rows (CSV with a header line, 0-based ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Dataset:
    """Train/test interactions and the (symmetrised) social graph of one data set."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    social: sp.csr_matrix

    @property
    def n_users(self) -> int:
        return int(self.train.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.train.shape[1])


def read_pairs(path: Path) -> np.ndarray:
    """The integer pairs of the first two columns of a CSV file (SocialLGN's layout: a
    header line, comma-separated). Also read: no header, tab- or space-separated columns,
    and further columns (ratings, timestamps), which are ignored."""
    if not path.is_file():
        raise FileNotFoundError(f"missing data file: {path}")
    with path.open(encoding="utf-8", errors="replace") as f:
        lines = [line for line in (f.readline(), f.readline()) if line.strip()]
    if not lines:
        return np.empty((0, 2), dtype=np.int64)
    header = not _numeric(lines[0])
    sample = lines[1] if header and len(lines) > 1 else lines[0]
    delimiter = "," if "," in sample else "\t" if "\t" in sample else None
    try:
        pairs = np.loadtxt(path, delimiter=delimiter, skiprows=int(header), dtype=np.int64,
                           usecols=(0, 1), ndmin=2)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: expected two non-negative integer columns ({exc})") from None
    if pairs.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if (pairs < 0).any():
        raise ValueError(f"{path}: expected two non-negative integer columns")
    return pairs


def _numeric(line: str) -> bool:
    fields = line.replace(",", " ").split()
    return len(fields) >= 2 and all(f.lstrip("-").isdigit() for f in fields[:2])


def pairs_to_csr(pairs: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A binary CSR matrix with ones at the given (row, col) pairs."""
    m = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (pairs[:, 0], pairs[:, 1])),
                      shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def symmetrise(m: sp.csr_matrix) -> sp.csr_matrix:
    """Undirected version of a graph: an edge either way becomes both ways, no self-loops."""
    g = sp.csr_matrix(((m + m.T) > 0).astype(np.float32))
    g.setdiag(0)
    g.eliminate_zeros()
    return g


def load_dataset(root: Path) -> Dataset:
    """Read DIR/sociallgn_split (train, test, trust) into sparse matrices."""
    split = root / "sociallgn_split"
    if not split.is_dir():
        raise FileNotFoundError(f"{root} has no sociallgn_split/ directory")
    train = read_pairs(split / "train_set.txt")
    test = read_pairs(split / "test_set.txt")
    trust_path = split / "trust.txt"
    trust = read_pairs(trust_path) if trust_path.is_file() else np.empty((0, 2), np.int64)
    n_users = int(max(train[:, 0].max(initial=-1), test[:, 0].max(initial=-1),
                      trust.max(initial=-1))) + 1
    n_items = int(max(train[:, 1].max(initial=-1), test[:, 1].max(initial=-1))) + 1
    return Dataset(train=pairs_to_csr(train, (n_users, n_items)),
                   test=pairs_to_csr(test, (n_users, n_items)),
                   social=symmetrise(pairs_to_csr(trust, (n_users, n_users))))


def holdout_split(R: sp.csr_matrix, fraction: float = 0.2,
                  seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per user, move a seeded `fraction` of the interactions (at least one when the user
    has two or more) from R into a validation matrix."""
    rng = np.random.default_rng(seed)
    R = sp.csr_matrix(R)
    keep_rows: list[np.ndarray] = []
    keep_cols: list[np.ndarray] = []
    val_rows: list[np.ndarray] = []
    val_cols: list[np.ndarray] = []
    for u in range(R.shape[0]):
        items = R.indices[R.indptr[u]:R.indptr[u + 1]]
        n_val = max(round(len(items) * fraction), 1) if len(items) >= 2 else 0
        perm = rng.permutation(items)
        val_rows.append(np.full(n_val, u))
        val_cols.append(perm[:n_val])
        keep_rows.append(np.full(len(items) - n_val, u))
        keep_cols.append(perm[n_val:])
    shape = R.shape

    def build(rows: list[np.ndarray], cols: list[np.ndarray]) -> sp.csr_matrix:
        r = np.concatenate(rows) if rows else np.empty(0, np.int64)
        c = np.concatenate(cols) if cols else np.empty(0, np.int64)
        return pairs_to_csr(np.stack([r, c], axis=1).astype(np.int64), shape)

    return build(keep_rows, keep_cols), build(val_rows, val_cols)
