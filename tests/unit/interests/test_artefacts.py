"""Artefacts are written atomically as numbered versions and web processes pick up new ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shopwindow.interests import serving, training
from shopwindow.interests.recs import LinkPredictor, SocialRecommender


def _matrices(n_users: int = 6, n_items: int = 5) -> training.Matrices:
    R = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 1, 1, 0],
                                [0, 0, 0, 1, 1], [1, 0, 0, 0, 1], [0, 1, 0, 0, 0]],
                               dtype=np.float32)[:n_users, :n_items])
    S = sp.csr_matrix(np.eye(n_users, k=1, dtype=np.float32))
    return training.Matrices(np.arange(n_users, dtype=np.int64) + 100,
                             np.arange(n_items, dtype=np.int64) + 500, R, S,
                             ["beauty"] * n_items, {"users": n_users})


def _write(root: Path) -> int:
    m = _matrices()
    return training.write_artefacts(root, m, SocialRecommender().fit(m.R, m.S),
                                    LinkPredictor().fit(m.S, m.R))


def test_versions_count_up_current_is_replaced_and_old_ones_pruned(tmp_path: Path) -> None:
    root = tmp_path / "recs"
    assert training.current_version(root) == 0
    versions = [_write(root) for _ in range(5)]
    assert versions == [1, 2, 3, 4, 5]
    assert training.current_version(root) == 5
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == \
        ["CURRENT", "v3", "v4", "v5"]
    assert not list(root.glob(".*tmp*"))  # nothing half-written is left behind


def test_store_loads_lazily_and_reloads_when_current_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "recs"
    store = serving.Store(root)
    assert store.get() is None  # nothing trained: callers fall back to cold start
    _write(root)
    store.invalidate()
    first = store.get()
    assert first is not None and first.version == 1
    assert first.item_index[500] == 0 and first.user_index[105] == 5
    assert first.model is not None and first.model._B is not None
    assert first.model._B.flags["C_CONTIGUOUS"]
    _write(root)
    assert store.get() is first  # checked at most every CHECK_SECONDS
    monkeypatch.setattr(serving, "CHECK_SECONDS", 0.0)
    second = store.get()
    assert second is not None and second.version == 2 and second is not first


def test_neighbours_are_co_interactions(tmp_path: Path) -> None:
    m = _matrices()
    idx, sc = training.item_neighbours(m.R, k=2)
    assert idx[0][0] == 1 and sc[0][0] == pytest.approx(2 / 3)  # 2 shared of 3 each
    assert all(i != row for row, ids in enumerate(idx) for i in ids)  # never itself
