"""Rollups equal a recount of the raw log, whatever the events, batches and fold timing;
rebuild reproduces them; retention prunes raw events but never rollups."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from shopwindow.analytics import actions, aggregator, live, queries
from shopwindow.analytics.models import Event, Pending, Rollup, State
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import clock
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TYPES = ["impression", "read", "follow", "click", "order", "refund", "commission_booked"]
MONEY = {"order": "gmv", "refund": "refunded", "commission_booked": "commission"}
COUNT = {"impression": "impressions", "read": "reads", "follow": "follows",
         "click": "clicks", "order": "orders", "refund": "refunds"}


def _reset(db: Database) -> None:
    with unit_of_work(db) as s:
        for t in (Pending, Rollup, Event, State):
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
                        out[(g, b, et, eid, m, d, dv, cur)] += v
    return out


def stored(db: Database) -> tuple[Counter[tuple[Any, ...]], list[dict[str, Any]]]:
    with db.read_sessions() as s:
        roll = Counter({(r.grain, r.bucket, r.entity_type, r.entity_id, r.metric, r.dim,
                         r.dim_value, r.currency): r.value
                        for r in s.scalars(select(Rollup)) if r.value})
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
                             st.booleans()),  # fold after this batch?
                   min_size=1, max_size=5)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(plan=batches)
def test_rollups_equal_recount_and_rebuild(db: Database, plan: list[Any]) -> None:
    _reset(db)
    changed: list[set[tuple[str, int]]] = []
    live.add_listener(changed.append)
    keys_seen: set[str] = set()
    stored_count = 0
    try:
        for step, evs, fold_now in plan:
            clock.advance(timedelta(minutes=step))
            res = actions.ingest(db, evs)
            fresh = {e.dedup_key for e in evs if e.dedup_key} - keys_seen
            keys_seen |= fresh
            stored_count += len(fresh) + sum(1 for e in evs if e.dedup_key is None)
            assert res.accepted == len(res.ids)
            if fold_now:
                aggregator.drain(db)
        aggregator.drain(db)
    finally:
        clock.reset()
        live.remove_listener(changed.append)
    roll, evs = stored(db)
    assert len(evs) == stored_count  # duplicates by dedup_key were dropped
    assert roll == +recount(evs)
    if evs:
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
    with unit_of_work(db) as s:
        assert actions.prune_raw_events(s, timedelta(days=30)) == 0
    aggregator.drain(db)
    with unit_of_work(db) as s:
        assert actions.prune_raw_events(s, timedelta(days=30)) == 3
    with db.read_sessions() as s:
        assert queries.event_count(s) == 2
        assert queries.rollup_total(s, "post", 1, "impressions") == 5
    res = aggregator.rebuild(db, since=datetime(2000, 1, 1, tzinfo=UTC))
    assert res.clamped and res.events == 2
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", 1, "impressions") == 5  # old days untouched


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
