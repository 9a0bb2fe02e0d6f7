"""Server-side events: committed domain events become analytics events once (redelivery
is idempotent), credited to the right entities, with bots' clicks left out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shopwindow.analytics import aggregator, queries
from shopwindow.analytics.models import Event
from shopwindow.db.engine import Database
from shopwindow.jobs import runtime
from shopwindow.outbox import emit
from shopwindow.outbox.events import OutboxEvent
from shopwindow.social import actions as social
from shopwindow.tracking import actions as tracking
from tests.helpers import make_account

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


def _events(db: Database, etype: str) -> list[Event]:
    with db.read_sessions() as s:
        return list(s.scalars(select(Event).where(Event.type == etype).order_by(Event.id)))


def test_social_events_are_recorded_once(db: Database, uow: Any) -> None:
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "fan1")
    stranger = make_account(uow, "other")
    with uow() as s:
        post = social.create_post(s, creator, text="hello").id
    with uow() as s:
        social.follow(s, fan, creator)
    with uow() as s:
        social.favourite(s, fan, post)
        social.favourite(s, stranger, post)
        social.bookmark(s, fan, post)
        social.create_post(s, fan, text="@maker agreed", in_reply_to_id=post)
        social.reblog(s, stranger, post)
    with uow() as s:
        social.unfollow(s, fan, creator)
    # Redelivery (the sweeper, a retried job) must not count twice.
    with db.read_sessions() as s:
        liked = s.scalars(select(OutboxEvent.id).where(OutboxEvent.type == "social.liked")
                          ).first()
    assert liked is not None
    runtime._run_handler("analytics.social.liked", liked)
    aggregator.drain(db)
    with db.read_sessions() as s:
        total = queries.rollup_total
        assert total(s, "creator", creator, "follows") == 1
        assert total(s, "creator", creator, "unfollows") == 1
        assert total(s, "post", post, "likes") == 2
        assert total(s, "post", post, "likes", dim="follower", dim_value="yes") == 1
        assert total(s, "post", post, "likes", dim="follower", dim_value="no") == 1
        assert total(s, "post", post, "bookmarks") == 1
        assert total(s, "post", post, "replies") == 1
        assert total(s, "post", post, "reposts") == 1
        assert total(s, "platform", 0, "likes") == 2
    likes = _events(db, "like")
    assert sorted(e.actor_id for e in likes) == sorted([fan, stranger])
    assert {e.creator_id for e in likes} == {creator}


def test_clicks_orders_refunds_and_commission(db: Database, uow: Any) -> None:
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "fan1")
    rec, product, partner = 501, 601, 701
    item = tracking.ClickItem("sku-1", rec, creator, product)
    with uow() as s:
        click = tracking.record_click(s, items=[item], partner_id=partner, surface="showcase",
                                      fan_id=fan, promotion_id=None, user_agent=PHONE,
                                      ip_hash="x", method="GET")
        tracking.record_click(s, items=[item], partner_id=partner, surface="showcase",
                              fan_id=None, promotion_id=None, user_agent="Googlebot/2.1",
                              ip_hash="y", method="GET")
    # Tracking's own events, with the payloads tracking.actions emits.
    with uow() as s:
        emit(s, "tracking.order_recorded", order_id=9001, partner_id=partner,
             external_order_id="A-1", click_id=click.id, creator_id=creator,
             recommendation_id=rec, attribution="attributed", reason=None,
             currency="CNY", total_minor=25_900)
    with uow() as s:
        emit(s, "tracking.commission_booked", order_id=9001, partner_id=partner,
             creator_id=creator, entry_id=1, commission_minor=2_072, currency="CNY",
             settle_after="2026-12-20T00:00:00+00:00")
    for cumulative in (5_000, 5_000, 8_000):  # a replayed snapshot, then a second refund
        with uow() as s:
            emit(s, "tracking.order_refunded", order_id=9001, partner_id=partner,
                 creator_id=creator, refunded_minor=cumulative, currency="CNY")
    aggregator.drain(db)
    clicks = _events(db, "click")
    assert len(clicks) == 1 and clicks[0].device == "mobile" and clicks[0].actor_id == fan
    with db.read_sessions() as s:
        total = queries.rollup_total
        assert total(s, "recommendation", rec, "clicks", dim="surface",
                     dim_value="showcase") == 1
        assert total(s, "creator", creator, "orders") == 1
        assert total(s, "creator", creator, "gmv", currency="CNY") == 25_900
        assert total(s, "product", product, "gmv", currency="CNY") == 25_900
        assert total(s, "partner", partner, "commission", currency="CNY") == 2_072
        assert total(s, "recommendation", rec, "commission", currency="CNY") == 2_072
        assert total(s, "creator", creator, "refunds") == 2
        assert total(s, "creator", creator, "refunded", currency="CNY") == 8_000
        assert total(s, "creator", creator, "orders", dim="device", dim_value="mobile") == 1


def test_a_batch_of_hand_offs_is_one_event_and_counted_once(db: Database, uow: Any) -> None:
    creator = make_account(uow, "maker", role="creator")
    follower = make_account(uow, "fan1")
    passerby = make_account(uow, "fan2")
    with uow() as s:
        social.follow(s, follower, creator)
    rec, product, partner = 502, 602, 702
    item = tracking.ClickItem("sku-2", rec, creator, product)

    def row(fan: int | None, ua: str, method: str = "GET") -> dict[str, Any]:
        return tracking.click_row(items=[item], partner_id=partner, surface="home",
                                  fan_id=fan, promotion_id=None, user_agent=ua,
                                  ip_hash="h", method=method)

    with uow() as s:  # what the hand-off's group commit writes: five clicks at once
        tracking.record_clicks(s, [row(follower, PHONE), row(passerby, PHONE), row(None, PHONE),
                                   row(None, "Googlebot/2.1"), row(follower, PHONE, "HEAD")])
    with db.read_sessions() as s:
        outbox = s.scalars(select(OutboxEvent).where(
            OutboxEvent.type == tracking.CLICKS_EVENT)).all()
    assert len(outbox) == 1 and len(outbox[0].payload["clicks"]) == 5
    # the agents travel with the clicks (analytics needs not read the clicks back)
    assert [c["user_agent"] for c in outbox[0].payload["clicks"]] == [
        PHONE, PHONE, PHONE, "Googlebot/2.1", PHONE]
    # Redelivered (a retried job, the sweeper): still counted once.
    runtime._run_handler(f"analytics.{tracking.CLICKS_EVENT}", outbox[0].id)
    runtime._run_handler_batch(f"analytics.{tracking.CLICKS_EVENT}", [outbox[0].id])
    aggregator.drain(db)
    clicks = _events(db, "click")
    assert sorted((c.actor_id or 0, c.is_follower) for c in clicks) == sorted(
        [(follower, True), (passerby, False), (0, None)])
    with db.read_sessions() as s:
        total = queries.rollup_total
        assert total(s, "recommendation", rec, "clicks") == 3
        assert total(s, "creator", creator, "clicks", dim="follower", dim_value="yes") == 1
        assert total(s, "creator", creator, "clicks", dim="follower", dim_value="no") == 1
        assert total(s, "creator", creator, "clicks", dim="device", dim_value="mobile") == 3


def test_per_click_events_written_before_batching_still_count(db: Database, uow: Any) -> None:
    creator = make_account(uow, "maker", role="creator")
    with uow() as s:
        click = tracking.record_click(
            s, items=[tracking.ClickItem("sku-3", 503, creator, 603)], partner_id=703,
            surface="feed", fan_id=None, promotion_id=None, user_agent=PHONE, ip_hash="z",
            method="GET")
    with uow() as s:  # an outbox row of the previous release, still undelivered
        emit(s, "tracking.click_recorded", click_id=click.id, partner_id=703,
             creator_id=creator, recommendation_id=503, product_id=603, surface="home",
             promotion_id=None, fan_id=None, flagged_reason=None)
    with uow() as s:  # a batch event of the previous release: no user agents inside
        emit(s, tracking.CLICKS_EVENT, clicks=[{
            "click_id": click.id, "partner_id": 703, "creator_id": creator,
            "recommendation_id": 503, "product_id": 603, "surface": "showcase",
            "promotion_id": None, "fan_id": None, "flagged_reason": None}])
    aggregator.drain(db)
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "recommendation", 503, "clicks") == 3
        # the hand-off's "feed" is the reports' "home" (rules.click_surface)
        assert queries.rollup_total(s, "recommendation", 503, "clicks", dim="surface",
                                    dim_value="home") == 2
        assert queries.rollup_total(s, "recommendation", 503, "clicks", dim="surface",
                                    dim_value="other") == 0
        # the device class comes from the click row when the payload has no agent
        assert queries.rollup_total(s, "recommendation", 503, "clicks", dim="device",
                                    dim_value="mobile") == 3


def test_money_events_of_one_batch_are_read_together_and_refunds_count_once(
        db: Database, uow: Any) -> None:
    """What the postback ingester commits at once: several orders, a commission, and two
    cumulative refund snapshots of one order in the same batch (the second adds only the
    difference); then the whole batch delivered again (a retried job) changes nothing."""
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "fan1")
    with uow() as s:
        social.follow(s, fan, creator)
    rec, product, partner = 504, 604, 704
    item = tracking.ClickItem("sku-4", rec, creator, product)
    with uow() as s:
        click = tracking.record_click(s, items=[item], partner_id=partner,
                                      surface="showcase", fan_id=fan, promotion_id=None,
                                      user_agent=PHONE, ip_hash="x", method="GET")
    with uow() as s:  # the log already has this order and a first refund of 1,000
        emit(s, "tracking.order_recorded", order_id=9100, partner_id=partner,
             external_order_id="B-0", click_id=click.id, creator_id=creator,
             recommendation_id=rec, attribution="attributed", reason=None,
             currency="CNY", total_minor=10_000)
        emit(s, "tracking.order_refunded", order_id=9100, partner_id=partner,
             creator_id=creator, refunded_minor=1_000, currency="CNY")
    with uow() as s:
        evs = [emit(s, "tracking.order_recorded", order_id=9100 + n, partner_id=partner,
                    external_order_id=f"B-{n}", click_id=click.id, creator_id=creator,
                    recommendation_id=rec, attribution="attributed", reason=None,
                    currency="CNY", total_minor=20_000) for n in (1, 2)]
        evs.append(emit(s, "tracking.commission_booked", order_id=9100, partner_id=partner,
                        creator_id=creator, entry_id=1, commission_minor=800,
                        currency="CNY", settle_after="2026-12-20T00:00:00+00:00"))
        evs += [emit(s, "tracking.order_refunded", order_id=9100, partner_id=partner,
                     creator_id=creator, refunded_minor=cumulative, currency="CNY")
                for cumulative in (3_000, 4_500)]
    runtime._run_handler_batch("analytics.tracking.order_refunded", [e.id for e in evs])
    aggregator.drain(db)
    refunds = _events(db, "refund")
    assert sorted(r.value for r in refunds) == [1_000, 1_500, 2_000]  # 1,000 → 3,000 → 4,500
    orders = {o.object_id: o for o in _events(db, "order")}
    assert set(orders) == {9100, 9101, 9102}
    assert all(o.actor_id == fan and o.is_follower and o.device == "mobile"
               and o.surface == "showcase" and o.product_id == product
               for o in orders.values())
    (commission,) = _events(db, "commission_booked")
    # credited like its order (facts read with the batch)
    assert (commission.actor_id, commission.surface, commission.device) == (
        fan, "showcase", "mobile")
    with db.read_sessions() as s:
        total = queries.rollup_total
        assert total(s, "creator", creator, "refunded", currency="CNY") == 4_500
        assert total(s, "creator", creator, "gmv", currency="CNY") == 50_000
        assert total(s, "creator", creator, "orders", dim="follower", dim_value="yes") == 3


def test_refunds_handled_at_the_same_time_count_their_own_increment(
        db: Database, uow: Any) -> None:
    """Two refunds of one order handled at once (two job threads or processes): each
    builds its analytics event before the other's is stored. With the amount before the
    refund in the payload (tracking reads it under the order's row lock) each counts its
    own increment; worked out against the log, both would count in full (7,500)."""
    from shopwindow.analytics import ingest_events

    creator = make_account(uow, "maker", role="creator")
    partner = 705

    def refund(event_id: int, before: int, after: int) -> OutboxEvent:
        return OutboxEvent(id=event_id, type="tracking.order_refunded", payload={
            "order_id": 9200, "partner_id": partner, "creator_id": creator,
            "refunded_minor": after, "refunded_before_minor": before, "currency": "CNY"})

    first, second = refund(880_001, 0, 3_000), refund(880_002, 3_000, 4_500)
    with db.read_sessions() as rs:
        built_first = ingest_events.prepare_many(rs, [first])
    with db.read_sessions() as rs:  # the first one's event is not stored yet
        built_second = ingest_events.prepare_many(rs, [second])
    with uow() as s:
        ingest_events.store_prepared(s, built_second)
    with uow() as s:
        ingest_events.store_prepared(s, built_first)
    with uow() as s:  # redelivered: the dedup keys keep it out
        ingest_events.store_prepared(s, built_first)
    aggregator.drain(db)
    assert sorted(r.value for r in _events(db, "refund")) == [1_500, 3_000]
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "creator", creator, "refunded", currency="CNY") == 4_500
        assert queries.rollup_total(s, "partner", partner, "refunds") == 2


def test_inline_click_analytics_hand_their_rows_to_this_process_aggregator(
        db: Database, uow: Any) -> None:
    """The publisher stores a batch's click events itself and, once committed, gives the
    rows to the in-process aggregator, which folds them without reading them back."""
    creator = make_account(uow, "maker", role="creator")
    item = tracking.ClickItem("sku-5", 505, creator, 605)
    agg = aggregator.Aggregator(db)
    aggregator._receivers[db.url] = agg  # registered, thread not started: memory only
    try:
        with uow() as s:
            tracking.record_clicks(s, [tracking.click_row(
                items=[item], partner_id=705, surface="home", fan_id=None,
                promotion_id=None, user_agent=PHONE, ip_hash="h", method="GET")
                for _ in range(3)])
        assert [r["type"] for b in agg._mem for r in b.rows] == ["click"] * 3
        assert agg.fold_round() == 3
        with db.read_sessions() as s:
            assert queries.rollup_total(s, "recommendation", 505, "clicks") == 3
        assert aggregator.drain(db) == 0  # nothing left pending: counted once
    finally:
        aggregator._receivers.pop(db.url, None)
