"""On SQLite the analytics tables live in a file of their own, so their writers never hold
the write lock that the rest of the platform (the hand-off's click commits) needs."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from shopwindow.analytics import actions, aggregator, queries
from shopwindow.analytics.models import Event, Rollup
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import utcnow
from shopwindow.db.engine import Database, analytics_url
from shopwindow.db.uow import unit_of_work
from shopwindow.schema import ANALYTICS_TABLES, create_all
from shopwindow.tracking.models import Click


@pytest.fixture
def db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path}/shop.db", pool_size=4)
    create_all(database)
    yield database
    database.dispose()


def test_where_the_analytics_tables_live() -> None:
    assert analytics_url("sqlite:///data/shop.db") == "sqlite:///data/shop-analytics.db"
    assert analytics_url("sqlite:////abs/x.sqlite3?mode=rwc") == (
        "sqlite:////abs/x-analytics.sqlite3?mode=rwc")
    # One database holds every table where locks are per row, or nothing is on disk.
    for same in ("postgresql://u@h/db", "sqlite://", "sqlite:///:memory:"):
        assert analytics_url(same) == same


def test_files_and_tables(db: Database, tmp_path: Path) -> None:
    assert db.analytics_split and db.analytics.analytics is db.analytics
    assert (tmp_path / "shop-analytics.db").exists()
    with db.engine.connect() as c:
        main = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    with db.analytics.engine.connect() as c:
        other = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master "
                                              "WHERE type='table'"))}
    names = {t.name for t in ANALYTICS_TABLES}
    assert names == other and not names & main and "tracking_click" in main


def test_a_main_write_commits_while_an_analytics_transaction_holds_its_lock(db: Database
                                                                             ) -> None:
    done = threading.Event()
    errors: list[BaseException] = []

    def click_commit() -> None:
        try:
            with db.engine.begin() as c:
                c.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
                c.execute(text("INSERT INTO probe VALUES (1)"))
            done.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with db.analytics.engine.begin() as conn:  # the analytics file's write lock is held
        conn.execute(text("DELETE FROM analytics_pending_batch"))
        t = threading.Thread(target=click_commit)
        t.start()
        committed_meanwhile = done.wait(5)
    t.join(10)
    assert not errors
    assert committed_meanwhile, "the main write waited for the analytics transaction"


def test_events_written_anywhere_are_read_through_the_main_database(db: Database) -> None:
    ev = EventIn(type="impression", object_type="post", post_id=5, creator_id=9)
    actions.ingest(db, [ev])  # a Database: the analytics file's own transaction
    with unit_of_work(db) as s:  # a main write session: its events go to the other file
        actions.ingest(s, [ev, ev])
        # … and its reads go through a read connection, which attaches that file
        assert queries.event_count(s) == 3
    aggregator.drain(db)
    with db.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 3
        assert queries.rollup_total(s, "creator", 9, "impressions",
                                    since=utcnow() - timedelta(days=1)) == 3
        assert s.scalar(select(func.count()).select_from(Click)) == 0
    with db.analytics.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Rollup)) > 0


def test_a_failed_caller_keeps_no_unkeyed_events_twice_when_retried(db: Database) -> None:
    """Events derived from another transaction carry a key: if that transaction fails
    after the analytics file committed, its retry stores nothing twice."""
    ev = EventIn(type="click", object_type="recommendation", recommendation_id=1,
                 creator_id=2, dedup_key="ob:77:0")
    with pytest.raises(RuntimeError), unit_of_work(db) as s:
        actions.ingest(s, [ev])
        raise RuntimeError("the caller's own write failed")
    with unit_of_work(db) as s:  # the retry
        assert actions.ingest(s, [ev]).duplicates == 1
    with db.read_sessions() as s:
        assert queries.event_count(s) == 1
