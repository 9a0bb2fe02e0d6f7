"""Recommender training: platform data → matrices → fitted models → versioned artefacts.

The job reads every domain through its queries, builds the interaction matrix R
(accounts × products, weights by interaction type with time decay) and the social matrix S
(accounts × accounts, follows), fits the algorithms in `interests.recs`, and writes the
artefacts to `DATA_DIR/recs/v<N>/` through a temporary directory and a rename; the
`CURRENT` file (also replaced by rename) names the version web processes should serve.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from shopwindow.config import get_settings
from shopwindow.core.clock import as_utc, utcnow
from shopwindow.interests import actions, profiles, queries, rules
from shopwindow.interests.recs import LinkPredictor, SocialRecommender
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

Progress = Callable[[str, float], None]
NEIGHBOURS = 10
KEEP_VERSIONS = 3


def recs_dir(data_dir: Path | None = None) -> Path:
    """Where artefacts live (`DATA_DIR/recs`)."""
    return Path(data_dir if data_dir is not None else get_settings().data_dir) / "recs"


def current_version(root: Path) -> int:
    """The version named by `CURRENT` (0 when nothing was trained yet)."""
    try:
        return int((root / "CURRENT").read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


@dataclass(slots=True)
class Matrices:
    """What training produced from the platform data."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    R: sp.csr_matrix
    S: sp.csr_matrix
    item_verticals: list[str]
    stats: dict[str, Any] = field(default_factory=dict)


def build_matrices(session: Session) -> Matrices:
    """Interaction and social matrices from the platform's current data."""
    settings = get_settings()
    now = utcnow()
    hl = settings.interest_half_life_days
    slugs = set(queries.verticals_by_slug(session))
    catalogue = showcase_q.catalogue(session)
    item_ids = np.asarray(sorted(e.product_id for e in catalogue), dtype=np.int64)
    by_id = {e.product_id: e for e in catalogue}
    item_index = {int(p): i for i, p in enumerate(item_ids)}
    edges = social_q.follow_edges(session)
    known = ({a for a, _b, _t in edges} | {b for _a, b, _t in edges}
             | {a for a, _s in queries.all_picked(session)}
             | {c for e in catalogue for c in e.creator_ids})
    signals = [sig for sig in profiles.all_product_signals(session, sorted(known))
               if sig[2] in profiles.ENGAGED_TYPES]
    users = sorted(known | {a for a, _p, _k, _t in signals})
    user_ids = np.asarray(users, dtype=np.int64)
    user_index = {int(u): i for i, u in enumerate(user_ids)}
    rows, cols, vals = [], [], []
    for a, p, kind, at in signals:
        j = item_index.get(p)
        if j is None:
            continue
        age = (now - as_utc(at)).total_seconds()
        w = rules.INTERACTION_WEIGHTS.get(kind, 0.0) * rules.decay(age, hl)
        if w > 0:
            rows.append(user_index[a])
            cols.append(j)
            vals.append(w)
    R = sp.csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)),
                      shape=(len(user_ids), len(item_ids)))
    R.sum_duplicates()
    srows = [user_index[a] for a, _b, _t in edges]
    scols = [user_index[b] for _a, b, _t in edges]
    S = sp.csr_matrix((np.ones(len(srows), dtype=np.float32), (srows, scols)),
                      shape=(len(user_ids), len(user_ids)))
    S.sum_duplicates()
    S.data[:] = 1.0
    verticals = [rules.vertical_for_category(by_id[int(p)].category, slugs) or ""
                 for p in item_ids]
    stats = {"users": len(user_ids), "items": len(item_ids), "interactions": int(R.nnz),
             "follows": int(S.nnz), "signals": len(signals)}
    return Matrices(user_ids, item_ids, R, S, verticals, stats)


def item_neighbours(R: sp.csr_matrix, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Top-k co-interaction neighbours per item (cosine of binary columns), -1 padded."""
    n = R.shape[1]
    idx = np.full((n, k), -1, dtype=np.int64)
    sc = np.zeros((n, k), dtype=np.float32)
    if n == 0 or R.nnz == 0:
        return idx, sc
    X = sp.csc_matrix(R, dtype=np.float32)
    X.data[:] = 1.0
    norms = np.sqrt(np.asarray(X.sum(axis=0)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    Xn = sp.csr_matrix(X @ sp.diags(inv))
    C = sp.csr_matrix(Xn.T @ Xn)
    C.setdiag(0)
    C.eliminate_zeros()
    for i in range(n):
        lo, hi = C.indptr[i], C.indptr[i + 1]
        if lo == hi:
            continue
        cols, vals = C.indices[lo:hi], C.data[lo:hi]
        order = np.argsort(-vals, kind="stable")[:k]
        idx[i, :len(order)] = cols[order]
        sc[i, :len(order)] = vals[order]
    return idx, sc


def write_artefacts(root: Path, m: Matrices, model: SocialRecommender | None,
                    links: LinkPredictor | None) -> int:
    """Write one artefact version atomically and point CURRENT at it; returns the version."""
    root.mkdir(parents=True, exist_ok=True)
    version = max(current_version(root), *(_versions(root) or [0])) + 1
    tmp = root / f".v{version}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    nb_idx, nb_sc = item_neighbours(m.R)
    np.savez(tmp / "data.npz", user_ids=m.user_ids, item_ids=m.item_ids,
             item_verticals=np.asarray(m.item_verticals, dtype=str),
             nb_idx=nb_idx, nb_sc=nb_sc, R_data=m.R.data, R_indices=m.R.indices,
             R_indptr=m.R.indptr, R_shape=np.asarray(m.R.shape))
    if model is not None:
        model.save(tmp / "model.npz")
    if links is not None:
        links.save(tmp / "links.npz")
    (tmp / "meta.json").write_text(json.dumps({
        "version": version, "trained_at": utcnow().isoformat(), **m.stats}))
    final = root / f"v{version}"
    os.replace(tmp, final)
    cur_tmp = root / f".CURRENT.tmp-{os.getpid()}"
    cur_tmp.write_text(str(version))
    os.replace(cur_tmp, root / "CURRENT")
    for old in sorted(_versions(root))[:-KEEP_VERSIONS]:
        shutil.rmtree(root / f"v{old}", ignore_errors=True)
    return version


def _versions(root: Path) -> list[int]:
    out = []
    for p in root.glob("v*"):
        if p.is_dir() and p.name[1:].isdigit():
            out.append(int(p.name[1:]))
    return out


def train(session: Session, data_dir: Path | None = None, *,
          progress: Progress | None = None) -> dict[str, Any]:
    """Build matrices, fit the recommenders, write a new artefact version; returns stats."""
    report = progress or (lambda _stage, _frac: None)
    t0 = time.perf_counter()
    report("reading platform data", 0.0)
    m = build_matrices(session)
    report("matrices built", 0.3)
    model: SocialRecommender | None = None
    links: LinkPredictor | None = None
    problems: dict[str, str] = {}
    # Each model is optional: on data too small or degenerate for one of them the others
    # (and the neighbour lists) are still written, and serving falls back per recommender.
    if m.R.nnz:
        try:
            model = SocialRecommender().fit(m.R, m.S)
        except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
            problems["item_model_error"] = repr(exc)[:200]
    report("item recommender fitted", 0.7)
    if m.S.shape[0]:
        try:
            links = LinkPredictor().fit(m.S, m.R if m.R.shape[1] else None)
        except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
            problems["link_model_error"] = repr(exc)[:200]
    report("link predictor fitted", 0.85)
    version = write_artefacts(recs_dir(data_dir), m, model, links)
    report("artefacts written", 1.0)
    stats = {**m.stats, **problems, "version": version,
             "seconds": round(time.perf_counter() - t0, 3)}
    return stats


def run_training(session: Session, data_dir: Path | None = None, *,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Train and record the run in interest_training_run (the caller's unit of work).

    Numerical and file-system failures are recorded as a failed run (returned with an
    `error`) instead of rolling the record back; the previous version keeps being served.
    """
    run = actions.start_training_run(session)
    try:
        stats = train(session, data_dir, progress=progress)
    except (OSError, ValueError, RuntimeError, MemoryError, np.linalg.LinAlgError) as exc:
        actions.finish_training_run(session, run.id, version=0, error=repr(exc))
        return {"error": repr(exc), "version": current_version(recs_dir(data_dir))}
    actions.finish_training_run(session, run.id, version=int(stats["version"]), stats=stats)
    return stats
