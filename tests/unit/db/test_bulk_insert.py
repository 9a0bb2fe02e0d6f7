"""insert_many stores rows exactly as the ORM would read them back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shopwindow.db import bulk
from shopwindow.db.bulk import insert_many, sqlite_datetime
from shopwindow.db.engine import Database
from shopwindow.outbox.events import OutboxEvent


def test_rows_round_trip_through_the_orm(db: Database) -> None:
    at = datetime(2026, 12, 6, 5, 30, 0, tzinfo=UTC)
    local = datetime(2026, 12, 6, 13, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    rows = [
        {"id": 11, "type": "t.a", "payload": {"clicks": [{"id": 1, "s": "中文"}]},
         "created_at": at, "dispatched_at": None},
        {"id": 12, "type": "t.b", "payload": {}, "created_at": local, "dispatched_at": at},
    ]
    with db.engine.begin() as conn:
        insert_many(conn, OutboxEvent.__table__, rows)  # type: ignore[arg-type]
    with db.read_sessions() as s:
        a, b = s.get(OutboxEvent, 11), s.get(OutboxEvent, 12)
        assert a is not None and b is not None
        assert a.payload == {"clicks": [{"id": 1, "s": "中文"}]} and a.dispatched_at is None
        assert a.created_at == at
        assert b.created_at == local and b.created_at.tzinfo is not None
        assert b.dispatched_at == at
        # Ordered comparisons in SQL see the same instants as the ORM's own writes.
        newer = s.query(OutboxEvent).filter(OutboxEvent.created_at > at).all()
        assert [e.id for e in newer] == [12]


def test_sqlite_text_form() -> None:
    assert sqlite_datetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == \
        "2026-01-02 03:04:05.000000"
    assert sqlite_datetime(datetime(2026, 1, 2, 11, 4, 5, 7, tzinfo=timezone(
        timedelta(hours=8)))) == "2026-01-02 03:04:05.000007"


def test_many_rows_are_split_into_statements_within_the_variable_limit(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # 5 columns, at most 12 variables per statement: 2 rows per multi-row INSERT.
    monkeypatch.setattr(bulk, "MAX_VARIABLES", 12)
    at = datetime(2026, 12, 6, 5, 30, 0, tzinfo=UTC)
    rows = [{"id": 100 + i, "type": f"t.{i}", "payload": {"n": i},
             "created_at": at + timedelta(seconds=i), "dispatched_at": None}
            for i in range(7)]
    with db.engine.begin() as conn:
        insert_many(conn, OutboxEvent.__table__, rows)  # type: ignore[arg-type]
    with db.read_sessions() as s:
        got = s.query(OutboxEvent).filter(OutboxEvent.id >= 100).order_by(OutboxEvent.id).all()
        assert [(e.id, e.type, e.payload, e.created_at) for e in got] == [
            (r["id"], r["type"], r["payload"], r["created_at"]) for r in rows]


def test_insert_ignore_returning_skips_conflicts_and_returns_what_it_stored(
        db: Database) -> None:
    """Both paths (the SQLite driver-level one for full rows, SQLAlchemy's otherwise)."""
    from sqlalchemy.exc import IntegrityError

    from shopwindow.db.upsert import insert_ignore_returning
    from shopwindow.ledger.models import LedgerAccount

    at = datetime(2026, 12, 6, 5, 30, 0, tzinfo=UTC)

    def row(i: int, owner: int) -> dict:
        return {"id": i, "kind": "creator_pending", "owner_type": "account",
                "owner_id": owner, "currency": "CNY", "created_at": at}

    s = db.sessions()
    try:
        got = insert_ignore_returning(s, LedgerAccount.__table__, [row(1, 7), row(2, 8)],
                                      LedgerAccount.id, LedgerAccount.owner_id)
        assert sorted(got) == [(1, 7), (2, 8)]
        # the same (kind, owner, currency) again: skipped, only the new one comes back
        got = insert_ignore_returning(s, LedgerAccount, [row(3, 8), row(4, 9)],
                                      LedgerAccount.id)
        assert [tuple(r) for r in got] == [(4,)]
        # rows without every column take the generic path and the columns' defaults
        partial = {k: v for k, v in row(5, 10).items() if k != "created_at"}
        partial["created_at"] = at
        del partial["currency"]
        with pytest.raises(IntegrityError):  # currency is NOT NULL and has no default
            insert_ignore_returning(s, LedgerAccount.__table__, [partial], LedgerAccount.id)
        s.rollback()
        got = insert_ignore_returning(s, LedgerAccount.__table__, [row(6, 11)],
                                      LedgerAccount.id)
        assert [tuple(r) for r in got] == [(6,)]
        s.commit()
        stored = s.query(LedgerAccount).order_by(LedgerAccount.id).all()
        assert [(a.id, a.owner_id, a.created_at) for a in stored] == [(6, 11, at)]
    finally:
        s.close()


def test_driver_level_inserts_stay_inside_the_callers_transaction(db: Database) -> None:
    """Rows inserted on a connection that had not begun yet, then rolled back, are gone
    (the driver runs in autocommit mode: the insert must begin SQLAlchemy's transaction)."""
    at = datetime(2026, 12, 6, 5, 30, 0, tzinfo=UTC)
    row = {"id": 501, "type": "t.tx", "payload": {}, "created_at": at, "dispatched_at": None}
    with db.engine.connect() as conn:
        insert_many(conn, OutboxEvent.__table__, [row])  # type: ignore[arg-type]
        assert conn.in_transaction()
        conn.rollback()
    with db.engine.begin() as conn:
        insert_many(conn, OutboxEvent.__table__, [{**row, "id": 502}])  # type: ignore[arg-type]
    with db.read_sessions() as s:
        assert [e.id for e in s.query(OutboxEvent).filter(OutboxEvent.type == "t.tx")] == [502]


def test_sqlite_statements_count_what_went_in_and_json_rows_read_it_back(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQLite helpers without RETURNING: counts across statements, one-row reads."""
    if not db.is_sqlite:
        pytest.skip("SQLite-only helpers")
    monkeypatch.setattr(bulk, "MAX_VARIABLES", 12)  # 2 rows per statement
    at = datetime(2026, 12, 6, 5, 30, 0, tzinfo=UTC)

    def row(i: int) -> dict:
        return {"id": i, "type": f"t.{i}", "payload": {"n": i, "s": "中文"},
                "created_at": at + timedelta(seconds=i), "dispatched_at": None}

    def insert_ignore(conn: Any, rows: list[dict]) -> int:
        return bulk.run_sqlite_statements(conn, bulk.sqlite_insert_statements(
            OutboxEvent.__table__, rows, " ON CONFLICT DO NOTHING"))[0]  # type: ignore[arg-type]

    with db.engine.begin() as conn:
        assert insert_ignore(conn, [row(i) for i in range(1, 6)]) == 5
        # 3 and 5 exist already: only 6 and 7 go in (across two statements)
        assert insert_ignore(conn, [row(3), row(6), row(5), row(7)]) == 2
        got = bulk.sqlite_json_rows(conn, "FROM outbox_event WHERE id > ? ORDER BY id", (1,),
                                    ("id", "type", "payload", "created_at", "dispatched_at"))
        ids = bulk.sqlite_json_rows(conn, "FROM outbox_event WHERE id IN (?, ?, ?)",
                                    (2, 7, 99), ("id",))
        none = bulk.sqlite_json_rows(conn, "FROM outbox_event WHERE id < 0", (), ("id",))
    assert [r[0] for r in got] == [2, 3, 4, 5, 6, 7]
    assert got[0] == [2, "t.2", '{"n": 2, "s": "\\u4e2d\\u6587"}', sqlite_datetime(row(2)[
        "created_at"]), None]
    assert sorted(ids) == [[2], [7]] and none == []


@pytest.mark.parametrize("n", [1, 3, bulk.PG_COPY_MIN_ROWS + 4])
def test_stores_what_sqlalchemys_insert_stores(db: Database, n: int) -> None:
    """A few rows (one multi-row INSERT on PostgreSQL) and more (COPY there): the same
    column values as SQLAlchemy's Core insert, for text that COPY must escape, JSON null
    and naive datetimes (read as UTC)."""
    from sqlalchemy import text

    table: Any = OutboxEvent.__table__
    naive = datetime(2026, 12, 6, 5, 30, 0, 250000)
    tricky = "tab\there\nnew line \\N back\\slash \"quote\" 中文"
    rows = [{"id": 0, "type": f"t.{i}.{tricky}"[:80], "payload": p, "created_at": naive,
             "dispatched_at": None if i % 2 else datetime(2026, 1, 1, tzinfo=UTC)}
            for i, p in enumerate(([None, {"k": tricky, "n": [1, None]}, "a JSON string"] * n)[:n])]
    ours = [{**r, "id": 900 + i} for i, r in enumerate(rows)]
    theirs = [{**r, "id": 950 + i} for i, r in enumerate(rows)]
    with db.engine.begin() as conn:
        insert_many(conn, table, ours)
        conn.execute(table.insert(), theirs)
    sql = ("SELECT type, CAST(payload AS TEXT), created_at, dispatched_at FROM outbox_event "
           "WHERE id BETWEEN :a AND :b ORDER BY id")
    with db.engine.connect() as conn:
        got = conn.execute(text(sql), {"a": 900, "b": 949}).all()
        want = conn.execute(text(sql), {"a": 950, "b": 999}).all()
    assert len(got) == n and got == want
    with db.read_sessions() as s:
        first = s.get(OutboxEvent, 900)
        assert first is not None and first.payload is None and first.type.startswith("t.0.tab\t")
        assert first.created_at == naive.replace(tzinfo=UTC)
