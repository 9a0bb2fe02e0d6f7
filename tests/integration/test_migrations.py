"""Alembic migrations create exactly the tables the models declare, and reverse cleanly."""

from __future__ import annotations

import json
import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from shopwindow.db.engine import Database, analytics_url, driver_url
from shopwindow.db.migrate import downgrade, upgrade
from shopwindow.schema import ANALYTICS_TABLES, metadata
from tests.conftest import _PG_PROBLEM, PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mig.db"
        return
    if _PG_PROBLEM:
        pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")
    name = f"sw_mig_{secrets.token_hex(4)}"
    admin = create_engine(driver_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _diff(url: str, tables: set[str] | None) -> list[object]:
    """Differences between a database and the models (only `tables`, if given)."""
    def only(obj, name, type_, reflected, compare_to):
        owner = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return tables is None or owner in tables

    eng = create_engine(driver_url(url))
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"include_object": only})
            return list(compare_metadata(ctx, metadata))
    finally:
        eng.dispose()


def test_upgrade_matches_models_and_downgrade_is_clean(fresh_url):
    upgrade(fresh_url)
    a_url = analytics_url(fresh_url)
    analytics = {t.name for t in ANALYTICS_TABLES}
    if a_url == fresh_url:  # PostgreSQL: one database holds every table
        assert _diff(fresh_url, None) == [], "migration out of date with models"
    else:  # SQLite: the analytics tables live in a file of their own
        main = set(metadata.tables) - analytics
        assert _diff(fresh_url, main) == [], "migration out of date with models"
        assert _diff(a_url, analytics) == [], "analytics file out of date with models"
        a_eng = create_engine(driver_url(a_url))
        assert set(inspect(a_eng).get_table_names()) == analytics
        a_eng.dispose()
    eng = create_engine(driver_url(fresh_url))
    if a_url != fresh_url:
        assert not analytics & set(inspect(eng).get_table_names())
    downgrade(fresh_url, "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_url)
    names = set(inspect(eng).get_table_names())
    assert set(metadata.tables) - (analytics if a_url != fresh_url else set()) <= names
    eng.dispose()


def test_sqlite_upgrade_moves_existing_analytics_rows_to_their_own_file(tmp_path):
    """A database at the revision before the split keeps its events and rollups: they
    are copied to the analytics file and read there through the main database."""
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "20261207f6")
    eng = create_engine(driver_url(url))
    with eng.begin() as c:
        c.execute(text(
            "INSERT INTO analytics_event (id, occurred_at, received_at, type, object_type,"
            " surface, vertical, region, device, lang, value, currency, dedup_key) VALUES"
            " (7, '2026-12-01 10:00:00.000000', '2026-12-01 10:00:01.000000', 'click',"
            " 'recommendation', 'feed', '', '', '', '', 0, '', 'k7')"))
        c.execute(text("INSERT INTO analytics_pending (event_id) VALUES (7)"))
        c.execute(text(
            "INSERT INTO analytics_rollup VALUES ('d', '2026-12-01 00:00:00.000000',"
            " 'creator', 3, 'clicks', 'all', '', '', 41)"))
        c.execute(text("INSERT INTO analytics_state VALUES ('pruned_until', 5)"))
    eng.dispose()
    upgrade(url)
    db = Database(url)
    try:
        assert db.analytics_split
        with db.read_sessions() as s:  # the main file's read side sees the moved rows
            assert s.scalar(text("SELECT dedup_key FROM analytics_event WHERE id = 7")) == "k7"
            assert s.scalar(text("SELECT value FROM analytics_rollup")) == 41
        with db.analytics.sessions() as s:
            # the pending event moved into a queue batch (revision 20261207j10)
            assert s.scalar(text("SELECT size FROM analytics_pending_batch")) == 1
            assert s.scalar(text("SELECT event_ids FROM analytics_pending_batch")) == "[7]"
            assert s.scalar(text("SELECT value FROM analytics_state")) == 5
        main_tables = set(inspect(db.engine).get_table_names())
        assert not {t.name for t in ANALYTICS_TABLES} & main_tables
    finally:
        db.dispose()
    downgrade(url, "20261207f6")  # the rows come back into the main file
    eng = create_engine(driver_url(url))
    with eng.connect() as c:
        assert c.scalar(text("SELECT value FROM analytics_rollup")) == 41
        assert c.scalar(text("SELECT count(*) FROM analytics_event")) == 1
        assert c.scalar(text("SELECT event_id FROM analytics_pending")) == 7
    eng.dispose()


def test_pending_events_move_into_queue_batches_and_back(fresh_url):
    """Revision 20261207j10: the events still pending (one queue row each) become batches
    of at most 8,000 ids, oldest first; the downgrade gives every id its row back."""
    upgrade(fresh_url, "20261207i9")
    ids = list(range(1, 8_004))
    a_url = analytics_url(fresh_url)
    eng = create_engine(driver_url(a_url))
    with eng.begin() as c:
        c.execute(text("INSERT INTO analytics_pending (event_id) VALUES (:i)"),
                  [{"i": i} for i in ids])
    upgrade(fresh_url)
    with eng.connect() as c:
        rows = c.execute(text(
            "SELECT id, size, event_ids FROM analytics_pending_batch ORDER BY id")).all()
    sqlite = a_url.startswith("sqlite")
    got = [(bid, size, json.loads(raw) if sqlite else raw) for bid, size, raw in rows]
    assert got == [(1, 8_000, ids[:8_000]), (2, 3, ids[8_000:])]
    downgrade(fresh_url, "20261207i9")
    with eng.connect() as c:
        back = c.execute(text("SELECT event_id FROM analytics_pending ORDER BY event_id"))
        assert [r[0] for r in back] == ids
        assert "analytics_pending_batch" not in inspect(c).get_table_names()
    eng.dispose()


def test_downgrade_below_day_compaction_completes_the_day_counters(fresh_url):
    """Revision 20261207k11: older code reads day rows as they are, so the downgrade adds
    the hours not compacted yet to their days and forgets the marker."""
    upgrade(fresh_url)
    a_url = analytics_url(fresh_url)
    eng = create_engine(driver_url(a_url))
    sqlite = a_url.startswith("sqlite")
    tail = ".000000" if sqlite else "+00"  # as each stores a UTC bucket
    with eng.begin() as c:
        for hour, grain, value in (("00", "d", 5), ("09", "h", 2), ("10", "h", 3),
                                   ("11", "h", 4)):
            c.execute(text(
                f"INSERT INTO analytics_rollup VALUES ('{grain}', '2026-12-07 {hour}:00:00"
                f"{tail}', 'post', 1, 'impressions', 'all', '', '', {value})"))
        # hours from 10:00 on are not in the day counter (5 = 00:00–09:59)
        ms = 1_796_637_600_000  # 2026-12-07 10:00 UTC
        c.execute(text(f"INSERT INTO analytics_state VALUES ('day_from_ms', {ms})"))
    downgrade(fresh_url, "20261207j10")
    with eng.connect() as c:
        assert c.scalar(text("SELECT value FROM analytics_rollup WHERE grain = 'd'")) == 12
        assert c.scalar(text("SELECT count(*) FROM analytics_state")) == 0
    eng.dispose()
    upgrade(fresh_url)
