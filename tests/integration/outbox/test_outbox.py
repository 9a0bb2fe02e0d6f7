"""Outbox: events exist iff their transaction committed; handlers are idempotent; the
sweeper re-publishes events whose dispatch was never recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from shopwindow.core.clock import clock
from shopwindow.jobs import runtime
from shopwindow.notifications.models import Notification
from shopwindow.outbox import events as outbox
from shopwindow.outbox.events import OutboxEvent
from shopwindow.social import actions as social
from tests.helpers import make_account


def test_rolled_back_transaction_emits_nothing(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    seen: list[str] = []
    outbox.subscribe_live("social.followed", lambda ev: seen.append(ev.type))
    try:
        with pytest.raises(RuntimeError), uow() as s:
            social.follow(s, a, b)
            raise RuntimeError("boom")
        assert seen == []
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.type == "social.followed")) == 0
        with uow() as s:
            social.follow(s, a, b)
        assert seen == ["social.followed"]
    finally:
        outbox._live["social.followed"].clear()


def test_events_marked_dispatched_after_publish(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        social.follow(s, a, b)
    row = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "social.followed")).one()
    assert row.dispatched_at is not None


def test_sweeper_republishes_and_handlers_are_idempotent(uow, session, db):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        social.follow(s, a, b)
    # Simulate a crash between commit and dispatch: the event is committed but unmarked.
    with uow() as s:
        s.execute(update(OutboxEvent).values(dispatched_at=None))
    clock.advance(timedelta(minutes=5))
    try:
        n = runtime.sweep_outbox()
    finally:
        clock.reset()
    assert n >= 2  # account.registered ×2, social.followed, notification.created …
    # The follow notification handler ran twice in total but stored one notification.
    assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.dispatched_at.is_(None))) == 0


def test_handler_for_missing_event_is_done(uow):
    runtime._run_handler("timeline.fanout", 123456789)  # no row: treated as done


def test_events_of_one_commit_run_as_one_batch_per_handler_and_a_bad_one_is_isolated(uow):
    seen: list[int] = []
    calls: list[str] = []

    @outbox.subscribe("test.batch", name="test.batch_handler")
    def handler(s, ev):
        calls.append("call")
        if ev.payload["n"] == 2:
            raise RuntimeError("bad event")
        seen.append(ev.payload["n"])

    enqueued: list[tuple[str, object]] = []
    orig_single, orig_batch = runtime.rt.run_handler, runtime.rt.run_handler_batch
    runtime.rt.run_handler = lambda name, eid: enqueued.append(("single", eid))
    runtime.rt.run_handler_batch = lambda name, ids: enqueued.append(("batch", list(ids)))
    try:
        with uow() as s:
            evs = [outbox.emit(s, "test.batch", n=n) for n in range(4)]
        # One job for the handler with all four events, not four jobs.
        assert enqueued == [("batch", [e.id for e in evs])]
        enqueued.clear()
        runtime._run_handler_batch("test.batch_handler", [e.id for e in evs])
        # The batch failed on n=2 (its transaction rolled back), so every event ran again
        # alone; only n=2 was queued again.
        assert seen == [0, 1, 0, 1, 3]
        assert enqueued == [("single", evs[2].id)]
    finally:
        runtime.rt.run_handler, runtime.rt.run_handler_batch = orig_single, orig_batch
        outbox._durable.pop("test.batch", None)


def test_a_set_based_batch_handler_gets_the_whole_batch_in_order(uow):
    singles: list[int] = []
    batches: list[list[int]] = []

    @outbox.subscribe("test.many", name="test.many_handler",
                      batch=lambda s, evs: batches.append([e.payload["n"] for e in evs]))
    def handler(s, ev):
        singles.append(ev.payload["n"])

    orig_batch = runtime.rt.run_handler_batch
    runtime.rt.run_handler_batch = lambda name, ids: runtime._run_handler_batch(name, ids)
    try:
        with uow() as s:
            for n in range(3):
                outbox.emit(s, "test.many", n=n)
        assert batches == [[0, 1, 2]] and singles == []
    finally:
        runtime.rt.run_handler_batch = orig_batch
        outbox._durable.pop("test.many", None)
        outbox._batch.pop("test.many_handler", None)


def test_emit_many_writes_rows_now_and_publishes_in_order_after_commit(uow, session):
    seen: list[tuple[str, dict]] = []
    for etype in ("t.first", "t.second"):
        outbox.subscribe_live(etype, lambda ev: seen.append((ev.type, ev.payload)))
    try:
        with pytest.raises(RuntimeError), uow() as s:
            outbox.emit_many(s, [("t.first", {"n": 1})])
            raise RuntimeError("boom")
        assert seen == []
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.type.in_(["t.first", "t.second"]))) == 0
        with uow() as s:
            outbox.emit(s, "t.second", n=0)
            evs = outbox.emit_many(s, [("t.first", {"n": 1}), ("t.second", {"n": 2})])
            assert outbox.emitted(s)[1:] == evs
            # written with Core at once: visible to a query in the same transaction
            assert s.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.id.in_([e.id for e in evs]))) == 2
            assert seen == []
        assert seen == [("t.second", {"n": 0}), ("t.first", {"n": 1}), ("t.second", {"n": 2})]
        rows = {r.id: r for r in session.scalars(select(OutboxEvent).where(
            OutboxEvent.id.in_([e.id for e in evs])))}
        assert [(rows[e.id].type, rows[e.id].payload) for e in evs] == [
            ("t.first", {"n": 1}), ("t.second", {"n": 2})]
        assert all(r.dispatched_at is not None for r in rows.values())
    finally:
        for etype in ("t.first", "t.second"):
            outbox._live[etype].clear()


def test_an_inline_handler_runs_in_the_publisher_reads_apart_and_falls_back_to_a_job(
        uow, session):
    prepared: list[tuple[bool, list[int]]] = []
    applied: list[list[int]] = []
    fail = {"apply": False}

    def prepare(rs, evs):
        # the reads get a read-only session of their own, not the write transaction
        prepared.append((rs.get_bind() is runtime.get_db().read_engine,
                         [e.payload["n"] for e in evs]))
        return [e.payload["n"] for e in evs]

    def apply(s, ns):
        if fail["apply"]:
            raise RuntimeError("storage hiccup")
        s.execute(select(func.count()).select_from(OutboxEvent))  # uses its transaction
        applied.append(ns)

    outbox.subscribe("test.inline", name="test.inline_handler",
                     batch=lambda s, evs: apply(s, prepare(s, evs)),
                     inline=outbox.Inline(prepare=prepare, apply=apply))(lambda s, ev: None)
    enqueued: list[tuple[str, list[int]]] = []
    orig_batch = runtime.rt.run_handler_batch
    runtime.rt.run_handler_batch = lambda name, ids: enqueued.append((name, list(ids)))
    engine = runtime.get_db().engine
    commits: list[int] = []

    def count_commit(conn):
        commits.append(1)

    try:
        event.listen(engine, "commit", count_commit)
        with uow() as s:
            evs = [outbox.emit(s, "test.inline", n=n) for n in range(3)]
        event.remove(engine, "commit", count_commit)
        assert prepared == [(True, [0, 1, 2])] and applied == [[0, 1, 2]]
        assert enqueued == []  # no job: the publisher ran it
        # the emitting commit, then ONE publisher transaction: the handler's writes and
        # the dispatched mark together
        assert len(commits) == 2
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.id.in_([e.id for e in evs]), OutboxEvent.dispatched_at.is_(None))) == 0
        # A failing inline handler is not lost: its events become a job with retries.
        fail["apply"] = True
        with uow() as s:
            more = [outbox.emit(s, "test.inline", n=n) for n in (7, 8)]
        assert applied == [[0, 1, 2]]
        assert enqueued == [("test.inline_handler", [e.id for e in more])]
        # queued, so dispatched (the mark did not roll back with the failed handler)
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.id.in_([e.id for e in more]), OutboxEvent.dispatched_at.is_(None))) == 0
    finally:
        if event.contains(engine, "commit", count_commit):
            event.remove(engine, "commit", count_commit)
        runtime.rt.run_handler_batch = orig_batch
        outbox._durable.pop("test.inline", None)
        outbox._batch.pop("test.inline_handler", None)
        outbox._inline.pop("test.inline_handler", None)


def test_an_inline_handler_needs_its_batch_form():
    with pytest.raises(ValueError, match="batch"):
        outbox.subscribe("test.inline_bad", name="x",
                         inline=outbox.Inline(prepare=lambda s, e: e,
                                              apply=lambda s, p: None))


def test_inline_work_is_cut_into_short_transactions(monkeypatch):
    """After a backlog one publish round may hold thousands of clicks: inline chunks stay
    within BATCH_JOB_SIZE events and INLINE_CHUNK units of work (Inline.size), in order."""
    outbox.subscribe("test.sized", name="test.sized_handler", batch=lambda s, evs: None,
                     inline=outbox.Inline(prepare=lambda s, evs: evs, apply=lambda s, p: None,
                                          size=lambda ev: ev.payload["n"]))(lambda s, ev: None)
    monkeypatch.setattr(runtime, "INLINE_CHUNK", 10)
    monkeypatch.setattr(runtime, "BATCH_JOB_SIZE", 3)
    try:
        evs = [outbox.DomainEvent(i, "test.sized", {"n": n})
               for i, n in enumerate([4, 4, 4, 12, 1, 1, 1, 1])]
        chunks = runtime._inline_chunks("test.sized_handler", evs)
        assert [[e.payload["n"] for e in c] for c in chunks] == [
            [4, 4], [4], [12], [1, 1, 1], [1]]  # a too-big event still goes, alone
        assert [e.id for c in chunks for e in c] == list(range(8))
    finally:
        outbox._durable.pop("test.sized", None)
        outbox._batch.pop("test.sized_handler", None)
        outbox._inline.pop("test.sized_handler", None)
