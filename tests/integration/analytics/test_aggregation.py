"""Rollups equal a recount of the raw log, whatever the events, batches and fold timing;
rebuild reproduces them; retention prunes raw events but never rollups."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from shopwindow.analytics import actions, aggregator, live, queries
from shopwindow.analytics.ingest_writer import EventWriter
from shopwindow.analytics.models import Event, PendingBatch, Rollup, State
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import as_utc, clock, utcnow
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TYPES = ["impression", "read", "follow", "click", "order", "refund", "commission_booked"]
MONEY = {"order": "gmv", "refund": "refunded", "commission_booked": "commission"}
COUNT = {"impression": "impressions", "read": "reads", "follow": "follows",
         "click": "clicks", "order": "orders", "refund": "refunds"}


def _reset(db: Database) -> None:
    with unit_of_work(db.analytics) as s:
        for t in (PendingBatch, Rollup, Event, State):
            s.execute(delete(t))


def recount(events: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """The specification, spelled out independently of rules.fold."""
    out: Counter[tuple[Any, ...]] = Counter()
    for e in events:
        at = e["occurred_at"]
        buckets = {"m": at.replace(second=0, microsecond=0),
                   "h": at.replace(minute=0, second=0, microsecond=0),
                   "d": at.replace(hour=0, minute=0, second=0, microsecond=0)}
        entities = [(k, e[f"{k}_id"]) for k in ("post", "recommendation", "product", "creator",
                                                  "partner", "promotion") if e[f"{k}_id"]]
        entities.append(("platform", 0))
        fol = {None: "", True: "yes", False: "no"}[e["is_follower"]]
        dims = [("all", ""), ("surface", e["surface"]), ("follower", fol),
                ("vertical", e["vertical"]), ("region", e["region"]),
                ("device", e["device"]), ("lang", e["lang"])]
        metrics = []
        if e["type"] in COUNT:
            metrics.append((COUNT[e["type"]], 1, ""))
        if e["type"] == "read" and e["value"]:
            metrics.append(("dwell_ms", e["value"], ""))
        if e["type"] in MONEY and e["value"]:
            metrics.append((MONEY[e["type"]], e["value"], e["currency"]))
        for g, b in buckets.items():
            for et, eid in entities:
                for m, v, cur in metrics:
                    for d, dv in dims:
                        if g == "m" and d != "all":
                            continue  # minute buckets only for the 'all' figures
                        out[(g, b, et, eid, m, d, dv, cur)] += v
    return out


def stored(db: Database) -> tuple[Counter[tuple[Any, ...]], list[dict[str, Any]]]:
    """The rollups as readers see them (day rows through `queries.rollups`: the day
    counters plus the hours not compacted into them yet) and the raw events."""
    with db.read_sessions() as s:
        roll = Counter({(r.grain, r.bucket, r.entity_type, r.entity_id, r.metric, r.dim,
                         r.dim_value, r.currency): r.value
                        for r in s.scalars(select(Rollup).where(Rollup.grain != "d"))
                        if r.value})
        days = queries.rollups(s, "d")
        for r in s.execute(select(days.c.grain, days.c.bucket, days.c.entity_type,
                                  days.c.entity_id, days.c.metric, days.c.dim,
                                  days.c.dim_value, days.c.currency,
                                  func.sum(days.c.value))
                           .where(days.c.grain == "d")
                           .group_by(days.c.grain, days.c.bucket, days.c.entity_type,
                                     days.c.entity_id, days.c.metric, days.c.dim,
                                     days.c.dim_value, days.c.currency)):
            if r[8]:
                roll[(r[0], as_utc(r[1]), *r[2:8])] = int(r[8])
        evs = [{c: getattr(e, c) for c in ("occurred_at", "type", "post_id",
                                           "recommendation_id", "product_id", "creator_id",
                                           "partner_id", "promotion_id", "is_follower",
                                           "surface", "vertical", "region", "device", "lang",
                                           "value", "currency")}
               for e in s.scalars(select(Event))]
    return roll, evs


small_id = st.one_of(st.none(), st.integers(1, 3))


@st.composite
def event_in(draw: st.DrawFn) -> EventIn:
    etype = draw(st.sampled_from(TYPES))
    money = etype in MONEY
    return EventIn(
        type=etype, object_type="post", object_id=draw(small_id),
        post_id=draw(small_id), recommendation_id=draw(small_id), creator_id=draw(small_id),
        partner_id=draw(small_id), promotion_id=draw(st.sampled_from([None, None, 9])),
        surface=draw(st.sampled_from(["home", "showcase", "other"])),
        is_follower=draw(st.sampled_from([None, True, False])),
        vertical=draw(st.sampled_from(["", "beauty"])),
        region=draw(st.sampled_from(["", "CN"])),
        device=draw(st.sampled_from(["mobile", "desktop"])),
        lang=draw(st.sampled_from(["", "zh-CN"])),
        value=draw(st.integers(0, 5000)) if (money or etype == "read") else 0,
        currency=draw(st.sampled_from(["CNY", "USD"])) if money else "",
        occurred_at=(datetime(2026, 12, 6, tzinfo=UTC)
                     + timedelta(seconds=draw(st.integers(-900, 900)))),
        dedup_key=draw(st.sampled_from([None, None, "k1", "k2"])),
    )


batches = st.lists(st.tuples(st.integers(0, 60 * 30),  # clock step in minutes
                             st.lists(event_in(), min_size=0, max_size=8),
                             # after this batch: no fold, a fold from the database, one
                             # from memory (the rows the beacon's writer hands over), or
                             # closed hours added to the day counters
                             st.sampled_from(["none", "db", "memory", "compact"])),
                   min_size=1, max_size=5)


def _write_like_the_writer(db: Database, evs: list[EventIn],
                           writer: EventWriter | None = None) -> list[actions.StoredBatch]:
    """Store events as `EventWriter` does (on PostgreSQL: new rows by COPY, and the
    careful way when a key was stored before); the committed batches it hands over."""
    received = utcnow()
    rows = [actions.event_row(ev, received) for ev in evs]
    return (writer or EventWriter(db)).store(rows)


def _rows(batches: list[actions.StoredBatch]) -> list[dict[str, Any]]:
    return [r for b in batches for r in b.rows]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(plan=batches, via_writer=st.lists(st.booleans(), min_size=5, max_size=5),
       memory_last=st.booleans())
def test_rollups_equal_recount_and_rebuild(db: Database, plan: list[Any],
                                           via_writer: list[bool], memory_last: bool) -> None:
    """Whatever mix of folds from memory and from the database, and in whichever order
    (the same rows may be offered to both), every event is counted exactly once."""
    _reset(db)
    changed: list[set[tuple[str, int]]] = []
    live.add_listener(changed.append)
    keys_seen: set[str] = set()
    stored_count = 0
    held: list[actions.StoredBatch] = []  # committed "in memory", not folded from there yet
    writer = EventWriter(db)  # one process's writer: it remembers the keys it stored
    try:
        for n, (step, evs, fold) in enumerate(plan):
            clock.advance(timedelta(minutes=step))
            fresh = {e.dedup_key for e in evs if e.dedup_key} - keys_seen
            keys_seen |= fresh
            if via_writer[n]:
                written = _write_like_the_writer(db, evs, writer)
                held.extend(written)
                assert len(_rows(written)) == len(fresh) + sum(1 for e in evs if e.dedup_key is None)
            else:
                res = actions.ingest(db, evs)
                assert res.accepted == len(res.ids)
            stored_count += len(fresh) + sum(1 for e in evs if e.dedup_key is None)
            if fold == "db":
                aggregator.drain(db)  # may count rows still held in memory
            elif fold == "memory":
                aggregator.fold_batches(db, held)
                held = []
            elif fold == "compact":
                assert aggregator.compact(db) is not None
        if memory_last:
            aggregator.fold_batches(db, held)
            aggregator.drain(db)
        else:
            aggregator.drain(db)
            assert aggregator.fold_batches(db, held) == 0  # all counted from the database
    finally:
        clock.reset()
        live.remove_listener(changed.append)
    roll, evs = stored(db)
    assert len(evs) == stored_count  # duplicates by dedup_key were dropped
    assert roll == +recount(evs)
    if roll:  # something was counted (a money event of amount 0 counts nothing)
        assert any(("platform", 0) in c for c in changed)
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 0
    aggregator.rebuild(db)
    roll2, _ = stored(db)
    assert roll2 == roll


def test_clamps_client_time_and_counts_money_by_currency(db: Database) -> None:
    _reset(db)
    far = datetime(2001, 1, 1, tzinfo=UTC)
    res = actions.ingest(db, [
        EventIn(type="order", object_type="order", object_id=5, creator_id=7, value=12900,
                currency="CNY", occurred_at=far),
        EventIn(type="order", object_type="order", object_id=6, creator_id=7, value=500,
                currency="USD"),
    ])
    assert res.accepted == 2
    aggregator.drain(db)
    with db.read_sessions() as s:
        occurred = s.scalars(select(Event.occurred_at).where(Event.object_id == 5)).one()
        received = s.scalars(select(Event.received_at).where(Event.object_id == 5)).one()
        assert received - occurred == timedelta(minutes=5)  # clamped, not 2001
        assert queries.rollup_total(s, "creator", 7, "gmv", currency="CNY") == 12900
        assert queries.rollup_total(s, "creator", 7, "gmv", currency="USD") == 500
        assert queries.rollup_total(s, "creator", 7, "orders") == 2
        assert queries.rollup_total(s, "platform", 0, "orders", grain="m") == 2


def test_retention_prunes_raw_events_keeps_rollups_and_limits_rebuild(db: Database) -> None:
    _reset(db)
    clock.advance(timedelta(days=-40))
    try:
        actions.ingest(db, [EventIn(type="impression", object_type="post", post_id=1,
                                    creator_id=2)] * 3)
    finally:
        clock.reset()
    actions.ingest(db, [EventIn(type="impression", object_type="post", post_id=1,
                                creator_id=2)] * 2)
    # An old event not folded yet must survive pruning (it is still owed to the rollups).
    with unit_of_work(db.analytics) as s:
        assert actions.prune_raw_events(s, timedelta(days=30)) == 0
    aggregator.drain(db)
    with unit_of_work(db.analytics) as s:
        assert actions.prune_raw_events(s, timedelta(days=30)) == 3
    with db.read_sessions() as s:
        assert queries.event_count(s) == 2
        assert queries.rollup_total(s, "post", 1, "impressions") == 5
    res = aggregator.rebuild(db, since=datetime(2000, 1, 1, tzinfo=UTC))
    assert res.clamped and res.events == 2
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 5  # old days untouched


def test_retention_prunes_minute_rollups_an_hour_at_a_time_and_keeps_hours_and_days(
        db: Database) -> None:
    _reset(db)
    old = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    for back in (timedelta(days=10), timedelta(days=9, hours=22), timedelta(days=1)):
        clock.advance(-back)
        try:
            actions.ingest(db, [old] * 2)
        finally:
            clock.reset()
    aggregator.drain(db)

    def minute_buckets() -> list[datetime]:
        with db.read_sessions() as s:
            return sorted({b for (b,) in s.execute(select(Rollup.bucket).where(
                Rollup.grain == "m"))})

    assert len(minute_buckets()) == 3
    with db.read_sessions() as s:
        minute_rows = s.scalar(select(func.count()).select_from(Rollup).where(
            Rollup.grain == "m"))
    per_bucket = minute_rows // 3  # the post, the creator and the platform
    keep = timedelta(days=7)
    with unit_of_work(db.analytics) as s:  # the oldest hour of minute buckets only
        assert actions.prune_minute_rollups(s, keep) == per_bucket
    assert len(minute_buckets()) == 2
    assert actions.prune(db, timedelta(days=90), keep) == (0, per_bucket)
    assert [b.date() for b in minute_buckets()] == [(utcnow() - timedelta(days=1)).date()]
    with unit_of_work(db.analytics) as s:
        assert actions.prune_minute_rollups(s, keep) == 0
    with db.read_sessions() as s:  # hours and days are kept; raw events too (90 days)
        assert queries.rollup_total(s, "post", 1, "impressions") == 6
        assert queries.rollup_total(s, "post", 1, "impressions", grain="h") == 6
        assert queries.rollup_total(s, "platform", 0, "impressions", grain="m") == 2
        assert queries.event_count(s) == 6


def test_hourly_prune_job_applies_both_retention_settings(db: Database, uow: Any,
                                                          settings: Any) -> None:
    from shopwindow.jobs import handlers

    _reset(db)
    clock.advance(-timedelta(days=settings.analytics_minute_retention_days + 1))
    try:
        actions.ingest(db, [EventIn(type="impression", object_type="post", post_id=1,
                                    creator_id=2)] * 2)
    finally:
        clock.reset()
    aggregator.drain(db)
    with db.read_sessions() as s:
        minute_rows = s.scalar(select(func.count()).select_from(Rollup).where(
            Rollup.grain == "m"))
    assert minute_rows and handlers.prune_analytics() == minute_rows  # raw events: 90 days
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions", grain="m") == 0
        assert queries.rollup_total(s, "post", 1, "impressions") == 2
        assert queries.event_count(s) == 2


def test_actor_and_product_event_reads(db: Database) -> None:
    _reset(db)
    actions.ingest(db, [
        EventIn(type="read", object_type="post", actor_id=5, product_id=70, value=900),
        EventIn(type="click", object_type="recommendation", actor_id=5, product_id=71),
        EventIn(type="impression", object_type="post", actor_id=6, product_id=70),
        EventIn(type="read", object_type="post", product_id=72),  # anonymous
    ])
    since = datetime.now(UTC) - timedelta(hours=1)
    with db.read_sessions() as s:
        mine = queries.list_actor_events(s, 5, ["read", "click"], since)
        assert [(e.type, e.product_id) for e in mine] == [("click", 71), ("read", 70)]
        assert queries.list_actor_events(s, 5, ["read"], datetime.now(UTC)
                                         + timedelta(hours=1)) == []
        bulk = queries.list_product_events(s, ["read", "click"], since)
        assert sorted((a, p, t) for a, p, t, _ in bulk) == [(5, 70, "read"), (5, 71, "click")]


def test_memory_fold_skips_rows_already_folded_from_the_database(db: Database) -> None:
    """The writer's rows may be folded from the database first (another process, `drain`);
    offering them to the memory fold afterwards must not count them again, and rows
    folded from memory leave nothing for the database fold."""
    _reset(db)
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    first = _write_like_the_writer(db, [ev] * 3)
    assert aggregator.drain(db) == 3
    second = _write_like_the_writer(db, [ev] * 2)
    assert aggregator.fold_batches(db, first + second) == 2  # only the two still pending
    assert aggregator.drain(db) == 0
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 5
        assert queries.rollup_total(s, "creator", 2, "impressions", grain="m") == 5
        assert queries.rollup_total(s, "creator", 2, "impressions", grain="h",
                                    dim="surface", dim_value="other") == 5
        # dimensions have no minute rows (rules.MINUTE_DIMS)
        assert queries.rollup_total(s, "creator", 2, "impressions", grain="m",
                                    dim="surface", dim_value="other") == 0
        assert queries.pending_count(s) == 0


def test_aggregator_round_folds_memory_then_stale_database_rows(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under load (batches waiting in memory) a round also folds pending batches of other
    processes once they are STALE_SECONDS old, and drops what it counted from memory;
    with nothing in memory it folds everything pending."""
    import time

    from shopwindow.core.ids import id_floor_for_ms

    _reset(db)
    monkeypatch.setattr(aggregator, "STALE_SECONDS", 60.0)  # however slow this test runs
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    agg = aggregator.Aggregator(db)
    mine = _write_like_the_writer(db, [ev] * 4)
    old_ms = int((time.time() - 10 * aggregator.STALE_SECONDS) * 1000)
    late = _write_like_the_writer(db, [ev])  # committed, not handed over (yet)
    with unit_of_work(db.analytics) as s:
        [old] = actions.store_events(s, [actions.event_row(ev, utcnow())])
        # another process's batch, written ten STALE_SECONDS ago
        s.execute(update(PendingBatch).where(PendingBatch.id == old.id)
                  .values(id=id_floor_for_ms(old_ms) + 1))
        actions.ingest(s, [ev] * 2)  # another process's fresh events
    agg.offer(mine)
    assert agg.fold_round() == 5  # mine + the stale one; the young ones wait
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 3
    agg.offer(late)
    assert agg.fold_round() == 1
    assert agg.fold_round() == 2  # memory empty: everything pending
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 0
        assert queries.rollup_total(s, "post", 1, "impressions") == 8


def test_aggregator_round_takes_a_memory_batch_and_flags_a_backlog(db: Database) -> None:
    """A round folds whole batches waiting in memory, up to `memory_batch` events (at
    least one batch), and reports a backlog (the next round starts at once) only when
    batches were left waiting, whatever the database batch is: one fold per interval at
    the peak rate, not one per 20,000 rows. The database fold takes whole batches too."""
    _reset(db)
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    agg = aggregator.Aggregator(db, batch=2, memory_batch=3)
    for n in (2, 1, 2, 4):
        agg.offer(_write_like_the_writer(db, [ev] * n))
    assert agg.fold_round() == 3 and agg._backlog  # 2 + 1; the next 2 would exceed 3
    assert agg.fold_round() == 2 and agg._backlog
    assert agg.fold_round() == 4 and not agg._backlog  # one batch above memory_batch
    assert agg.fold_round() == 0 and not agg._backlog
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 9
        assert queries.pending_count(s) == 0
    # the database fold: whole batches up to `batch` events, a backlog while any is left
    with unit_of_work(db.analytics) as s:
        actions.ingest(s, [ev] * 2)
    with unit_of_work(db.analytics) as s:
        actions.ingest(s, [ev] * 3)
    assert agg.fold_round() == 2 and agg._backlog
    assert agg.fold_round() == 3 and not agg._backlog
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 14

def test_rebuild_counts_queued_events_once_and_large_inserts_queue_in_batches(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """An insert queues its events in batches of at most PENDING_MAX ids. A rebuild with
    events still queued counts each once: those of the rebuilt days by the recount, those
    of earlier days by folding them; the queue is empty afterwards, and handing the same
    batches to the memory fold counts nothing."""
    _reset(db)
    monkeypatch.setattr(actions, "PENDING_MAX", 3)
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    clock.advance(timedelta(days=-3))
    try:
        actions.ingest(db, [ev] * 2)
        aggregator.drain(db)  # folded
        actions.ingest(db, [ev] * 4)  # queued (3 + 1), three days ago
    finally:
        clock.reset()
    written = _write_like_the_writer(db, [ev] * 7)  # queued today
    assert [len(b.rows) for b in written] == [3, 3, 1]
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 11
        assert s.scalar(select(func.count()).select_from(PendingBatch)) == 5
    res = aggregator.rebuild(db, since=utcnow() - timedelta(days=1))
    assert res.events == 7
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 0
    assert aggregator.fold_batches(db, written) == 0
    assert aggregator.drain(db) == 0
    roll, evs = stored(db)
    assert len(evs) == 13
    assert roll == +recount(evs)
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 13


def test_rebuild_leaves_out_batches_queued_while_it_runs(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers do not wait for a rebuild on PostgreSQL: a batch committed after the
    rebuild took the queue stays queued and is left out of its recount, then folded once."""
    if db.is_sqlite:
        pytest.skip("SQLite: the rebuild holds the one write lock, nothing commits meanwhile")
    _reset(db)
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    actions.ingest(db, [ev] * 2)
    real = aggregator._pending_events
    late: list[actions.StoredBatch] = []

    def racing(conn: Any, where: str) -> Any:
        out = real(conn, where)
        if not late:  # another writer commits on its own connection meanwhile
            late.extend(_write_like_the_writer(db, [ev] * 3))
        return out

    monkeypatch.setattr(aggregator, "_pending_events", racing)
    res = aggregator.rebuild(db)
    assert late and res.events == 2
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 3
        assert queries.rollup_total(s, "post", 1, "impressions") == 2
    assert aggregator.fold_batches(db, late) == 3
    roll, evs = stored(db)
    assert len(evs) == 5 and roll == +recount(evs)


def _day_rows(db: Database) -> int:
    """The day counters stored for post 1 (without the hours read from hour counters)."""
    with db.read_sessions() as s:
        return int(s.scalar(select(func.coalesce(func.sum(Rollup.value), 0)).where(
            Rollup.grain == "d", Rollup.entity_type == "post", Rollup.entity_id == 1,
            Rollup.metric == "impressions", Rollup.dim == "all")) or 0)


def test_open_hours_reach_day_counters_when_compacted_and_late_events_directly(
        db: Database) -> None:
    """Folds write day counters only for hours before `day_from`; readers of day rows
    add the later hours from their hour counters, so a day figure is complete at once.
    `compact` adds closed hours to their days and moves `day_from`; a late event of a
    compacted hour goes to its day counter directly."""
    _reset(db)
    now = utcnow()
    base = now.replace(hour=10, minute=30, second=0, microsecond=0)
    if base > now:
        base -= timedelta(days=1)
    clock.advance(base - now)  # today (or yesterday) 10:30 UTC
    try:
        ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
        actions.ingest(db, [ev] * 3)
        aggregator.drain(db)
        with db.read_sessions() as s:
            assert queries.day_from(s) == base.replace(minute=0)  # fresh: this hour
            assert queries.rollup_total(s, "post", 1, "impressions") == 3
            assert queries.rollup_total(s, "post", 1, "impressions", grain="h") == 3
        assert _day_rows(db) == 0  # the open hour is not in the day counter yet
        assert aggregator.compact(db) == 0  # nothing closed yet
        clock.advance(timedelta(hours=1, minutes=50))  # 12:20
        assert aggregator.compact(db) > 0  # 10:00 and 11:00 ended 10 minutes ago
        with db.read_sessions() as s:
            assert queries.day_from(s) == base.replace(hour=12, minute=0)
        assert _day_rows(db) == 3
        actions.ingest(db, [ev] * 2)  # 12:20: an open hour again
        late_at = base.replace(minute=58)  # 10:58, in a compacted hour
        late = actions.event_row(ev, late_at)
        with unit_of_work(db.analytics) as s:
            actions.insert_events(s, [late])
        aggregator.drain(db)
        assert _day_rows(db) == 4  # the late event went to its day counter directly
        with db.read_sessions() as s:
            assert queries.rollup_total(s, "post", 1, "impressions") == 6
            assert queries.rollup_total(s, "creator", 2, "impressions",
                                        dim="surface", dim_value="other") == 6
        roll, evs = stored(db)
        assert roll == +recount(evs)
        aggregator.rebuild(db)
        assert stored(db)[0] == roll
        assert _day_rows(db) == 4
    finally:
        clock.reset()


def test_a_memory_fold_queues_behind_another_process_fold_and_gives_up_on_a_long_hold(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several web processes: a fold that finds the aggregation lock taken waits for it
    (another fold holds it for a fraction of a second) instead of coming back an interval
    later; behind a holder that keeps it past LOCK_WAIT (a rebuild) it gives up and its
    rows stay pending, folded once later."""
    if db.is_sqlite:
        pytest.skip("SQLite: one write lock, no advisory lock")
    _reset(db)
    ev = EventIn(type="impression", object_type="post", post_id=1, creator_id=2)
    batches = _write_like_the_writer(db, [ev] * 3)
    monkeypatch.setattr(aggregator, "LOCK_WAIT", 0.3)
    holder = db.analytics.engine.connect()
    try:
        holder.begin()
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": aggregator.LOCK_KEY})
        started = time.monotonic()
        assert aggregator.fold_batches(db, batches) is None  # held past LOCK_WAIT
        assert time.monotonic() - started >= 0.25
        with db.read_sessions() as s:
            assert queries.pending_count(s) == 3
            assert queries.rollup_total(s, "post", 1, "impressions") == 0
        release = threading.Timer(0.1, holder.rollback)  # the other fold commits soon
        release.start()
        assert aggregator.fold_batches(db, batches) == 3
        release.join()
    finally:
        holder.close()
    with db.read_sessions() as s:
        assert queries.pending_count(s) == 0
        assert queries.rollup_total(s, "post", 1, "impressions") == 3
    assert aggregator.drain(db) == 0


def test_reports_read_whole_days_from_day_rows_and_match_a_recount(db: Database) -> None:
    """Reports read the whole UTC days of an hour-sourced window from day rows (compacted
    days and, for the days after `day_from`, their hours) and hours only at the edges:
    totals, top lists, breakdowns and series equal a recount of the raw log in any zone."""
    from zoneinfo import ZoneInfo

    from shopwindow.analytics import report_rules as rr
    from shopwindow.analytics import reports

    _reset(db)
    now = utcnow()
    d0 = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=4)
    regions = ["CN", "US", ""]
    # Every 7 minutes over 3.5 days, each stored as received then (client times are
    # clamped to the server's clock): ~3 clicks an hour, on posts 1-3, in three regions.
    rows = [actions.event_row(EventIn(type=("click", "read", "impression")[i % 3],
                                      object_type="post", post_id=1 + i // 3 % 3,
                                      creator_id=7, region=regions[i // 3 % 5 % 3]),
                              d0 + timedelta(minutes=7 * i + 5))
            for i in range(int(3.5 * 24 * 60 / 7))]
    half = len(rows) // 2
    clock.advance(d0 + timedelta(days=2, hours=1) - now)
    try:
        with unit_of_work(db.analytics) as s:
            actions.insert_events(s, rows[:half])
        aggregator.drain(db)  # a fresh log: earlier hours go to their day counters too
        clock.advance(timedelta(days=2))
        aggregator.compact(db)
        with unit_of_work(db.analytics) as s:
            actions.insert_events(s, rows[half:])
        aggregator.drain(db)  # days after day_from: hour counters only
        with db.read_sessions() as s:
            assert queries.day_from(s) is not None and queries.day_from(s) < utcnow()
        _roll, stored_evs = stored(db)

        def recount_of(a: datetime, b: datetime, key: Any) -> Counter[Any]:
            out: Counter[Any] = Counter()
            for e in stored_evs:
                if a <= as_utc(e["occurred_at"]) < b and e["type"] == "click":
                    out[key(e)] += 1
            return out

        with db.read_sessions() as s:
            for tz in ("UTC", "Asia/Shanghai", "America/New_York"):
                for start, end, grain in (
                        (d0 + timedelta(hours=5), d0 + timedelta(days=3, hours=7), "hour"),
                        (d0 + timedelta(hours=13), d0 + timedelta(days=3, hours=20), "day")):
                    w = rr.make_window(start=start, end=end, grain=grain, tz=ZoneInfo(tz),
                                       now=utcnow())
                    parts = rr.source_parts(w, series=False)
                    assert [p[0] for p in parts].count("d") == 1  # days from day rows
                    scope = reports.Scope("account", "creator", (7,), "@c", 7, 7)
                    rep = reports.build(s, scope, w, breakdown_dim="region", with_tops=False)
                    assert rep.totals.counts["clicks"] == sum(
                        recount_of(w.start, w.end, lambda e: 0).values()) > 100
                    for b in rep.buckets:
                        nb = rr.next_bucket(b, w.grain, w.tz)
                        assert rep.series[b].counts.get("clicks", 0) == \
                            sum(recount_of(b, nb, lambda e: 0).values()), (tz, grain, b)
                    assert {v: f.counts["clicks"] for v, f in rep.breakdown} == \
                        recount_of(w.start, w.end, lambda e: e["region"])
                    tops = reports.top_entities(s, "post", [1, 2, 3], w, "clicks", ["clicks"])
                    assert {i: f.counts["clicks"] for i, f in tops} == \
                        recount_of(w.start, w.end, lambda e: e["post_id"])
            # India (UTC+5:30): an hour row counts in the local day its hour starts in,
            # whether the database (PostgreSQL) or Python (SQLite) does the bucketing
            w = rr.make_window(start=d0 + timedelta(hours=13), end=d0 + timedelta(days=3),
                               grain="day", tz=ZoneInfo("Asia/Kolkata"), now=utcnow())
            rep = reports.build(s, reports.Scope("account", "creator", (7,), "@c", 7, 7), w,
                                with_tops=False)
            by_hour: Counter[datetime] = Counter()
            for r in s.scalars(select(Rollup).where(
                    Rollup.grain == "h", Rollup.entity_type == "creator", Rollup.dim == "all",
                    Rollup.metric == "clicks", Rollup.bucket >= w.start,
                    Rollup.bucket < w.end)):
                by_hour[rr.bucket_of(as_utc(r.bucket), w)] += r.value
            assert {b: f.counts.get("clicks", 0) for b, f in rep.series.items()
                    if f.counts.get("clicks")} == dict(by_hour)
            assert len(by_hour) == 4 and rep.buckets[0].minute == 30
    finally:
        clock.reset()


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Asia/Kolkata",
                                  "America/Santiago"])
def test_local_day_series_are_bucketed_in_the_database_across_a_dst_change(
        db: Database, zone: str) -> None:
    """A local-day series from hour rows is summed per local day by the database
    (PostgreSQL's date_trunc, SQLite's offsets from `offset_changes`): around a DST
    change it equals the bucketing of each hour row in Python."""
    from zoneinfo import ZoneInfo

    from shopwindow.analytics import report_rules as rr
    from shopwindow.analytics import reports

    _reset(db)
    # New York moves on March 8 at 02:00, London on the 29th at 01:00; Santiago at local
    # midnight (April 5), where the exact hour decides the day
    start = datetime(2026, 3, 15 if zone == "America/Santiago" else 5, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(0, 30 * 24, 1)]
    with unit_of_work(db.analytics) as s:
        for i, h in enumerate(hours):
            s.add(Rollup(grain="h", bucket=h, entity_type="creator", entity_id=7,
                         metric="clicks", dim="all", dim_value="", currency="", value=1 + i % 7))
    now = start + timedelta(days=40)
    w = rr.make_window(start=start + timedelta(days=1), end=start + timedelta(days=28),
                       grain="day", tz=ZoneInfo(zone), now=now)
    assert w.source == "h" and len(rr.offset_changes(w)) == (1 if zone == "Asia/Kolkata" else 2)
    expected: Counter[datetime] = Counter()
    for i, h in enumerate(hours):
        if w.start <= h < w.end:
            expected[rr.bucket_of(h, w)] += 1 + i % 7
    with db.read_sessions() as s:
        rep = reports.build(s, reports.Scope("account", "creator", (7,), "@c", 7, 7), w,
                            with_tops=False)
    assert {b: f.counts["clicks"] for b, f in rep.series.items() if f.counts.get("clicks")} \
        == dict(expected)
    assert sum(expected.values()) == rep.totals.counts["clicks"] > 0
