"""The beacon's event writer: new rows by COPY on PostgreSQL, the careful way (ON CONFLICT)
when a dedup key was stored before; whichever way, each key is stored once and the
pending queue holds exactly the rows stored."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text

from shopwindow.analytics import actions
from shopwindow.analytics.ingest_writer import EventWriter, RecentKeys
from shopwindow.analytics.models import Event, PendingBatch, Rollup, State
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import utcnow
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work


def _reset(db: Database) -> None:
    with unit_of_work(db.analytics) as s:
        for t in (PendingBatch, Rollup, Event, State):
            s.execute(delete(t))


def _rows(keys: list[str]) -> list[dict[str, Any]]:
    """Fresh event rows (new ids) with these dedup keys, as the beacon builds them."""
    received = utcnow()
    return [actions.event_row(EventIn(type="impression", object_type="post", object_id=7,
                                      post_id=7, creator_id=3, surface="home",
                                      device="mobile", dedup_key=k), received)
            for k in keys]


def _table(db: Database) -> tuple[list[str], list[int]]:
    """(dedup keys in the event table, event ids held by the pending queue)."""
    with db.read_sessions() as s:
        keys = sorted(str(k) for k in s.scalars(select(Event.dedup_key)))
        dialect = s.get_bind().dialect.name
        queued = [int(i) for i in s.scalars(text(actions.pending_ids_sql(dialect)))]
    return keys, sorted(queued)


def _ids(batches: list[actions.StoredBatch]) -> list[int]:
    return sorted(r["id"] for b in batches for r in b.rows)


@pytest.fixture
def clean(db: Database) -> Database:
    _reset(db)
    return db


@pytest.fixture
def clean_pg(clean: Database) -> Database:
    if clean.is_sqlite:
        pytest.skip("SQLite: one writer at a time, and its insert skips stored keys itself")
    return clean


def test_each_key_is_stored_once_and_the_queue_holds_what_was_stored(clean: Database) -> None:
    db = clean
    w = EventWriter(db)
    first = w.store(_rows(["a", "b", "b", "c"]))  # a repeat inside one batch
    assert len(_ids(first)) == 3
    again = w.store(_rows(["b", "c", "d"]))  # b and c were stored by this writer
    assert [r["dedup_key"] for b in again for r in b.rows] == ["d"]
    keys, queued = _table(db)
    assert keys == ["a", "b", "c", "d"]
    assert queued == sorted(_ids(first) + _ids(again))
    assert w.spoiled == 0  # keys it stored itself never reach the database again


def test_keys_stored_by_another_process_spoil_the_copy_and_are_left_out(
        clean_pg: Database) -> None:
    db = clean_pg
    other = EventWriter(db)  # another process's writer: this one does not know its keys
    other.store(_rows(["a", "b"]))
    w = EventWriter(db)
    rows = _rows(["b", "c", "a", "e"])
    stored = w.store(rows)
    assert w.spoiled == 1
    assert sorted(r["dedup_key"] for b in stored for r in b.rows) == ["c", "e"]
    assert _ids(stored) == sorted(r["id"] for r in rows if r["dedup_key"] in ("c", "e"))
    keys, queued = _table(db)
    assert keys == ["a", "b", "c", "e"]
    with db.read_sessions() as s:
        # The spoiled transaction left nothing behind: every row is one of the five stored.
        assert s.scalar(select(func.count()).select_from(Event)) == 4
    assert len(queued) == 4
    # Now it knows them all: a repeat costs no database work.
    assert w.store(_rows(["a", "b", "c", "e"])) == []
    assert w.spoiled == 1


def test_after_a_spoiled_copy_the_next_batches_go_the_careful_way(
        clean_pg: Database) -> None:
    """Runs of careful batches double while duplicates keep coming (1, 2, 4 …) and shrink
    back once a COPY goes through, so a stream of duplicates is not paid for twice."""
    db = clean_pg
    other = EventWriter(db)
    other.store(_rows([f"x{n}" for n in range(20)]))
    w = EventWriter(db)
    spoiled = []
    for n in range(10):
        w.store(_rows([f"x{n}", f"new{n}"]))  # each batch repeats one foreign key
        spoiled.append(w.spoiled)
    # Batch 0 spoils (then 1 careful), batch 2 spoils (then 2), batch 5 (then 4).
    assert spoiled == [1, 1, 2, 2, 2, 3, 3, 3, 3, 3]
    w.store(_rows(["clean"]))  # a COPY goes through: runs start short again
    w.store(_rows(["x10", "new10"]))  # spoils: one careful batch follows
    w.store(_rows(["x11", "new11"]))  # careful
    w.store(_rows(["x12", "new12"]))  # spoils again
    assert w.spoiled == 5
    keys, queued = _table(db)
    assert len(keys) == 20 + 10 + 1 + 3
    assert len(queued) == len(keys)  # nothing folded yet: every stored row is queued
    assert len(set(keys)) == len(keys)


def test_concurrent_writers_sharing_keys_store_each_key_once(clean: Database) -> None:
    """Two processes' writers, four threads, overlapping keys in different orders: every
    key once, no batch lost (a deadlock or a unique violation ends in the careful way)."""
    db = clean
    writers = [EventWriter(db), EventWriter(db)]
    errors: list[BaseException] = []
    stored: list[list[actions.StoredBatch]] = []
    lock = threading.Lock()

    def run(w: EventWriter, seed: int) -> None:
        try:
            for n in range(15):
                keys = [f"k{(seed * 7 + n * 3 + j) % 60}" for j in range(12)]
                if seed % 2:
                    keys.reverse()
                got = w.store(_rows(keys))
                with lock:
                    stored.append(got)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(writers[i % 2], i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    keys, queued = _table(db)
    assert len(keys) == len(set(keys))
    assert set(keys) <= {f"k{n}" for n in range(60)}
    assert queued == sorted(i for got in stored for i in _ids(got))
    assert len(queued) == len(keys)
    if not db.is_sqlite:
        assert sum(w.spoiled for w in writers) > 0  # the careful way was taken


def test_recent_keys_are_exact_and_bounded() -> None:
    recent = RecentKeys(size=3)
    recent.add_many(["a", "b"])
    assert "a" in recent and "b" in recent and "c" not in recent
    recent.add_many(["c"])  # the first generation is full: it becomes the old one
    assert all(k in recent for k in "abc")
    recent.add_many(["d", "e", "f"])  # a second swap drops a, b and c
    assert not any(k in recent for k in "abc")
    assert all(k in recent for k in "def")
    assert recent.known(["a", "d", "f", None, "z"]) == {"d", "f"}
    recent.add_many(["g"])
    assert recent.known(["d", "g"]) == {"d", "g"}  # from both generations


def test_a_writer_thread_survives_losing_its_connection(clean_pg: Database) -> None:
    """Writer threads keep their connection between batches (no pool pre-ping per batch);
    when it dies (here: the server ends every other session, as on a restart), the batch
    is written again on a new one and the caller never sees the loss."""
    db = clean_pg
    w = EventWriter(db, threads=1)
    try:
        first = w.submit(_rows(["a"])).result(10)
        with db.analytics.engine.begin() as c:
            killed = c.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()").scalar()
        assert killed and killed >= 1  # the writer's own connection among them
        second = w.submit(_rows(["b", "c"])).result(10)
    finally:
        w.stop()
    assert len(first) == 1 and len(second) == 2
    keys, queued = _table(db)
    assert keys == ["a", "b", "c"]
    assert len(queued) == 3
