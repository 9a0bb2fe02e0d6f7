"""Unit of work: one transaction; after-commit hooks run only once it is durable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from shopwindow.db.engine import Database

AFTER_COMMIT_KEY = "after_commit"


def after_commit(session: Session, fn: Callable[[], None]) -> None:
    """Run `fn` after the session's transaction commits (dropped on rollback)."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(fn)


def run_after_commit(session: Session) -> None:
    """Run and clear the session's after-commit hooks (called by the unit of work)."""
    hooks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT_KEY, [])
    for fn in hooks:
        fn()


@contextmanager
def unit_of_work(db: Database, *, write: bool = True) -> Iterator[Session]:
    """Open a session, commit on success, roll back on error, then run after-commit hooks."""
    factory = db.sessions if write else db.read_sessions
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        session.info.pop(AFTER_COMMIT_KEY, None)
        raise
    finally:
        session.close()
    run_after_commit(session)
