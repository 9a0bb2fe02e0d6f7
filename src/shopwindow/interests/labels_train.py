"""The ability-label job: gather training data, fit, write the artefact, relabel creators.

Each step has its own short transaction: fitting happens outside any transaction so a
training run never holds the (SQLite) write lock, and one account's labels are committed
at a time so a crash loses at most the account being written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.interests import actions as interests_actions
from shopwindow.interests import labels_actions as actions
from shopwindow.interests import labels_queries as q


def train(db: Database, data_dir: Path) -> dict[str, Any]:
    """Refresh declared examples, fit on all examples (+ seed), write the artefact."""
    with unit_of_work(db) as s:
        interests_actions.ensure_default_verticals(s)  # a fresh install has none yet
        actions.refresh_declared_examples(s)
        data = actions.training_set(s)
    return actions.train(data, data_dir)


def apply(db: Database, data_dir: Path, account_ids: Iterable[int] | None = None,
          progress: Callable[[int, int], None] = lambda _i, _n: None) -> dict[int, list[str]]:
    """Label the given accounts (default: every creator worth labelling) with the current
    model; returns account id → labels stored. Does nothing before the first training."""
    model = q.load_model(data_dir)
    if model is None:
        return {}
    if account_ids is None:
        with unit_of_work(db, write=False) as s:
            account_ids = q.accounts_to_label(s)
    ids = list(account_ids)
    out: dict[int, list[str]] = {}
    for i, account_id in enumerate(ids):
        with unit_of_work(db) as s:
            out[account_id] = [v for v, _ in actions.label_account(s, account_id, model)]
        progress(i + 1, len(ids))
    return out


def train_and_apply(db: Database, data_dir: Path) -> dict[str, Any]:
    """The periodic job: train, then relabel every creator."""
    info = train(db, data_dir)
    labelled = apply(db, data_dir)
    return {**info, "accounts_labelled": len(labelled)}
