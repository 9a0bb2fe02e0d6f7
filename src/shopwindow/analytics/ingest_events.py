"""Server-side analytics events from committed domain events (durable outbox handlers).

Each handler turns one outbox event into zero or more analytics events in the job's
transaction. The dedup key is derived from the outbox event id, so a redelivered event
(at-least-once delivery, the sweeper) is stored once. Other domains are read only
through their queries. Registered by `jobs.handlers` for every type in HANDLERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shopwindow.analytics import actions, aggregator, ingest, queries, rules
from shopwindow.analytics.models import ORDER_EVENTS, Event
from shopwindow.analytics.rules import EventIn
from shopwindow.core.errors import NotFound
from shopwindow.db.uow import after_commit
from shopwindow.ledger import queries as ledger_q
from shopwindow.outbox import DomainEvent, Inline
from shopwindow.social import queries as social_q
from shopwindow.tracking import queries as tracking_q

Builder = Callable[[Session, DomainEvent], list[EventIn]]


def _follows(session: Session, actor: int | None, creator: int | None) -> bool | None:
    if actor is None or creator is None:
        return None
    return social_q.is_following(session, actor, creator)


def _post_event(session: Session, etype: str, actor: int | None, post_id: int | None,
                surface: str = "other") -> list[EventIn]:
    if post_id is None:
        return []
    cred = ingest.resolve(session, [("post", int(post_id))]).get(("post", int(post_id)))
    if cred is None:
        return []
    return [EventIn(type=etype, object_type="post", object_id=int(post_id), actor_id=actor,
                    creator_id=cred.creator_id, post_id=cred.post_id,
                    recommendation_id=cred.recommendation_id, product_id=cred.product_id,
                    partner_id=cred.partner_id, vertical=cred.vertical, surface=surface,
                    is_follower=_follows(session, actor, cred.creator_id))]


def _rec_event(session: Session, etype: str, actor: int | None,
               rec_id: int | None) -> list[EventIn]:
    if rec_id is None:
        return []
    key = ("recommendation", int(rec_id))
    cred = ingest.resolve(session, [key]).get(key)
    if cred is None:
        return []
    return [EventIn(type=etype, object_type="recommendation", object_id=int(rec_id),
                    actor_id=actor, creator_id=cred.creator_id, post_id=cred.post_id,
                    recommendation_id=cred.recommendation_id, product_id=cred.product_id,
                    partner_id=cred.partner_id, vertical=cred.vertical, surface="other",
                    is_follower=_follows(session, actor, cred.creator_id))]


def _followed(session: Session, ev: DomainEvent, etype: str) -> list[EventIn]:
    p = ev.payload
    return [EventIn(type=etype, object_type="account", object_id=int(p["followee_id"]),
                    actor_id=int(p["follower_id"]), creator_id=int(p["followee_id"]),
                    vertical=ingest.vertical_for(session, int(p["followee_id"])),
                    surface="other")]


def _post_created(session: Session, ev: DomainEvent) -> list[EventIn]:
    p = ev.payload
    actor = int(p["author_id"])
    if p.get("reblog_of_id"):
        return _post_event(session, "repost", actor, p["reblog_of_id"])
    if p.get("in_reply_to_id"):
        return _post_event(session, "reply", actor, p["in_reply_to_id"])
    return []


def _clicks_of(session: Session, clicks: list[dict[str, Any]]) -> list[EventIn]:
    """Click events for hand-off payloads, with set-based lookups: one query for the user
    agents, one for the follows, one vertical per creator (a batch holds up to 1,000)."""
    clicks = [p for p in clicks if not p.get("flagged_reason")]  # bots, previews, HEAD
    if not clicks:
        return []
    # Payloads carry the user agent; events written before they did are read back.
    agents = {int(p["click_id"]): str(p["user_agent"]) for p in clicks if "user_agent" in p}
    if len(agents) < len(clicks):
        agents.update(tracking_q.click_user_agents(
            session, [int(p["click_id"]) for p in clicks if "user_agent" not in p]))
    pairs = {(int(p["fan_id"]), int(p["creator_id"])) for p in clicks
             if p.get("fan_id") and p.get("creator_id")}
    follows = social_q.follow_pairs(session, pairs)
    verticals: dict[int | None, str] = {}
    # The post carrying the recommendation gets the click too, like its impressions and
    # its orders (ingest.resolve): otherwise a post's report shows orders without clicks.
    recs = ingest.credits_in(session, {("recommendation", int(p["recommendation_id"]))
                                       for p in clicks})
    out: list[EventIn] = []
    for p in clicks:
        cid = int(p["click_id"])
        device = rules.device_class(agents[cid]) if cid in agents else "unknown"
        if device == "bot":
            continue
        fan = int(p["fan_id"]) if p.get("fan_id") else None
        creator = int(p["creator_id"]) if p.get("creator_id") else None
        if creator not in verticals:
            verticals[creator] = ingest.vertical_for(session, creator)
        surface = rules.click_surface(p.get("surface"))
        cred = recs.get(("recommendation", int(p["recommendation_id"])))
        out.append(EventIn(
            type="click", object_type="recommendation",
            object_id=int(p["recommendation_id"]), actor_id=fan, creator_id=creator,
            post_id=cred.post_id if cred is not None else None,
            recommendation_id=int(p["recommendation_id"]), product_id=int(p["product_id"]),
            partner_id=int(p["partner_id"]),
            promotion_id=int(p["promotion_id"]) if p.get("promotion_id") else None,
            surface=str(surface), device=device, vertical=verticals[creator],
            is_follower=None if fan is None or creator is None else (fan, creator) in follows))
    return out


@dataclass(slots=True)
class _Prefetched:
    """What the money events of one batch need, read with a few set-based queries
    (`_prefetch`) instead of several queries per event."""

    orders: set[int] = field(default_factory=set)  # order ids covered below
    credits: dict[ingest.ObjKey, ingest.Credits | None] = field(default_factory=dict)
    clicks: dict[int, Any] = field(default_factory=dict)
    facts: dict[int, list[Event]] = field(default_factory=dict)  # order id → order events
    # (order id, creator id) → refunded so far: the log's refunds, then this batch's
    refunded: dict[tuple[int, int | None], int] = field(default_factory=dict)
    verticals: dict[int | None, str] = field(default_factory=dict)
    follows: set[tuple[int, int]] = field(default_factory=set)


_PREFETCH = "analytics_prefetch"
# Literal, so the partial index ix_analytics_event_order serves it (models.ORDER_EVENTS).
_ORDER_EVENTS = text("analytics_event." + ORDER_EVENTS)
_MONEY = ("tracking.order_recorded", "tracking.order_refunded", "tracking.commission_booked")


def _prefetched(session: Session) -> _Prefetched | None:
    found: _Prefetched | None = session.info.get(_PREFETCH)
    return found


def _prefetch(session: Session, evs: list[DomainEvent]) -> _Prefetched | None:
    """Read what a batch's order, refund and commission events need in one go."""
    money = [e for e in evs if e.type in _MONEY]
    if len(money) < 2:
        return None
    pre = _Prefetched()
    pre.orders = {int(e.payload["order_id"]) for e in money}
    orders = [e for e in money if e.type == "tracking.order_recorded"]
    keys = {("recommendation", int(e.payload["recommendation_id"])) for e in orders
            if e.payload.get("recommendation_id")}
    pre.credits = ingest.resolve(session, keys) if keys else {}
    pre.clicks = tracking_q.clicks_by_ids(
        session, [int(e.payload["click_id"]) for e in orders if e.payload.get("click_id")])
    pairs = {(int(c.fan_id), int(e.payload["creator_id"])) for e in orders
             if e.payload.get("click_id") and e.payload.get("creator_id")
             and (c := pre.clicks.get(int(e.payload["click_id"]))) is not None and c.fan_id}
    pre.follows = social_q.follow_pairs(session, pairs)
    ids = sorted(pre.orders)
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        for ev in session.scalars(select(Event).where(
                _ORDER_EVENTS, Event.object_id.in_(part), Event.type == "order")
                .order_by(Event.id)):
            pre.facts.setdefault(int(ev.object_id or 0), []).append(ev)
        for oid, creator, total in session.execute(
                select(Event.object_id, Event.creator_id, func.sum(Event.value)).where(
                    _ORDER_EVENTS, Event.object_id.in_(part), Event.type == "refund")
                .group_by(Event.object_id, Event.creator_id)):
            order, amount = int(oid or 0), int(total or 0)
            pre.refunded[(order, creator)] = amount
            pre.refunded[(order, None)] = pre.refunded.get((order, None), 0) + amount
    return pre


def _vertical(session: Session, creator: int | None) -> str:
    pre = _prefetched(session)
    if pre is None:
        return ingest.vertical_for(session, creator)
    if creator not in pre.verticals:
        pre.verticals[creator] = ingest.vertical_for(session, creator)
    return pre.verticals[creator]


def _order_facts(session: Session, order_id: int,
                 creator_id: int | None) -> Event | None:
    """The order's own analytics event (what it was credited to), if still kept."""
    pre = _prefetched(session)
    if pre is not None and order_id in pre.orders:
        return next((e for e in pre.facts.get(order_id, [])
                     if creator_id is None or e.creator_id == creator_id), None)
    q = select(Event).where(_ORDER_EVENTS, Event.object_id == order_id, Event.type == "order")
    if creator_id is not None:
        q = q.where(Event.creator_id == creator_id)
    return session.scalars(q.limit(1)).first()


def _money_event(etype: str, order_id: int, value: int, currency: str, creator: int | None,
                 partner: int | None, facts: Event | None) -> EventIn:
    return EventIn(
        type=etype, object_type="order", object_id=order_id,
        actor_id=facts.actor_id if facts else None, creator_id=creator,
        recommendation_id=facts.recommendation_id if facts else None,
        product_id=facts.product_id if facts else None, partner_id=partner,
        promotion_id=facts.promotion_id if facts else None,
        post_id=facts.post_id if facts else None,
        surface=facts.surface if facts else "other",
        is_follower=facts.is_follower if facts else None,
        vertical=facts.vertical if facts else "", region=facts.region if facts else "",
        device=facts.device if facts else "unknown", lang=facts.lang if facts else "",
        value=value, currency=currency)


def _order(session: Session, ev: DomainEvent) -> list[EventIn]:
    p = ev.payload
    creator = int(p["creator_id"]) if p.get("creator_id") else None
    rec_id = int(p["recommendation_id"]) if p.get("recommendation_id") else None
    pre = _prefetched(session)
    cred = None
    if rec_id is not None:
        key = ("recommendation", rec_id)
        cred = (pre.credits.get(key) if pre is not None and key in pre.credits
                else ingest.resolve(session, [key]).get(key))
    fan: int | None = None
    product: int | None = cred.product_id if cred else None
    surface, device, promo = "other", "unknown", None
    if p.get("click_id"):
        click: Any = None
        if pre is not None:  # the batch's money events: their orders are all prefetched
            click = pre.clicks.get(int(p["click_id"]))
        else:
            try:
                click = tracking_q.get_click(session, int(p["click_id"]))
            except NotFound:
                pass
        if click is not None:
            fan = click.fan_id
            surface = rules.click_surface(click.surface)
            device = rules.device_class(click.user_agent)
            promo = click.promotion_id
            product = product or click.product_id
    return [EventIn(
        type="order", object_type="order", object_id=int(p["order_id"]), actor_id=fan,
        creator_id=creator, recommendation_id=rec_id,
        post_id=cred.post_id if cred else None, product_id=product,
        partner_id=int(p["partner_id"]), promotion_id=promo, surface=surface,
        device=device if device != "bot" else "unknown",
        vertical=_vertical(session, creator),
        is_follower=(None if fan is None or creator is None else (fan, creator) in pre.follows)
        if pre is not None else _follows(session, fan, creator),
        value=max(0, int(p.get("total_minor") or 0)), currency=str(p["currency"]))]


def _refund(session: Session, ev: DomainEvent) -> list[EventIn]:
    p = ev.payload
    order_id = int(p["order_id"])
    creator = int(p["creator_id"]) if p.get("creator_id") else None
    # The payload carries the cumulative refund; count only what is new. Tracking also
    # sends the amount before this refund (read under the order's row lock): exact
    # whatever order or concurrency the events are handled in. Events of older releases
    # lack it: their increment is worked out against the refunds logged so far.
    pre = _prefetched(session)
    if p.get("refunded_before_minor") is not None:
        before = int(p["refunded_before_minor"])
    elif pre is not None:
        # the log's refunds plus those of earlier events in this batch (not stored yet)
        before = pre.refunded.get((order_id, creator), 0)
    else:
        q = select(func.coalesce(func.sum(Event.value), 0)).where(
            _ORDER_EVENTS, Event.object_id == order_id, Event.type == "refund")
        if creator is not None:
            q = q.where(Event.creator_id == creator)
        before = int(session.scalar(q) or 0)
    delta = int(p["refunded_minor"]) - before
    if delta <= 0:
        return []
    if pre is not None:
        pre.refunded[(order_id, creator)] = pre.refunded.get((order_id, creator), 0) + delta
        if creator is not None:
            pre.refunded[(order_id, None)] = pre.refunded.get((order_id, None), 0) + delta
    return [_money_event("refund", order_id, delta, str(p["currency"]), creator,
                         int(p["partner_id"]), _order_facts(session, order_id, creator))]


def _commission(session: Session, ev: DomainEvent) -> list[EventIn]:
    p = ev.payload
    order_id, creator = int(p["order_id"]), int(p["creator_id"])
    return [_money_event("commission_booked", order_id, int(p["commission_minor"]),
                         str(p["currency"]), creator, int(p["partner_id"]),
                         _order_facts(session, order_id, creator))]


def _settled(session: Session, ev: DomainEvent) -> list[EventIn]:
    out: list[EventIn] = []
    for entry_id in ev.payload.get("entry_ids") or []:
        try:
            entry = ledger_q.get_entry(session, int(entry_id))
        except NotFound:
            continue
        order_id = int(entry.ref_id) if entry.ref_id.isdigit() else None
        for leg in entry.postings:
            if leg.account.kind != "creator_available" or leg.amount.amount >= 0:
                continue
            creator = int(leg.account.owner_id)
            facts = _order_facts(session, order_id, creator) if order_id else None
            partner = facts.partner_id if facts else None
            out.append(_money_event("commission_settled", order_id or int(entry_id),
                                    -leg.amount.amount, leg.amount.currency, creator,
                                    partner, facts))
    return out


HANDLERS: dict[str, Builder] = {
    "social.followed": lambda s, e: _followed(s, e, "follow"),
    "social.unfollowed": lambda s, e: _followed(s, e, "unfollow"),
    "social.liked": lambda s, e: _post_event(s, "like", int(e.payload["account_id"]),
                                             e.payload.get("post_id")),
    "social.bookmarked": lambda s, e: _post_event(s, "bookmark", int(e.payload["account_id"]),
                                                  e.payload.get("post_id")),
    "social.post_created": _post_created,
    "showcase.product_bookmarked": lambda s, e: _rec_event(
        s, "bookmark", int(e.payload["account_id"]), e.payload.get("recommendation_id")),
    "showcase.cart_added": lambda s, e: _rec_event(
        s, "cart_add", int(e.payload["account_id"]), e.payload.get("recommendation_id")),
    "showcase.cart_removed": lambda s, e: _rec_event(
        s, "cart_remove", int(e.payload["account_id"]), e.payload.get("recommendation_id")),
    # One event per committed batch of hand-offs (clicks in payload order)…
    "tracking.clicks_recorded": lambda s, e: _clicks_of(s, list(e.payload.get("clicks") or [])),
    # …and one per click, as written before batching (still in outboxes after an upgrade).
    "tracking.click_recorded": lambda s, e: _clicks_of(s, [e.payload]),
    "tracking.order_recorded": _order,
    "tracking.order_refunded": _refund,
    "tracking.commission_booked": _commission,
    "tracking.commissions_settled": _settled,
}


def _built(session: Session, ev: DomainEvent) -> list[EventIn]:
    build = HANDLERS.get(ev.type)
    return build(session, ev) if build is not None else []


def _key(ev: DomainEvent, n: int) -> str:
    """The dedup key of the n-th analytics event derived from a domain event."""
    return f"ob:{ev.id}:{n}"


def record(session: Session, ev: DomainEvent) -> None:
    """The durable handler: store the analytics events of one domain event, once."""
    record_many(session, [ev])


def record_many(session: Session, evs: list[DomainEvent]) -> None:
    """The same for events committed together, stored with one insert."""
    # The builders read earlier order events in the analytics tables, which a write
    # session of a split SQLite database does not see (queries.reading); the domain
    # events' own rows are committed, so a read session sees them too.
    with queries.reading(session) as rs:
        prepared = prepare_many(rs, evs)
    store_prepared(session, prepared)


def prepare_many(session: Session, evs: list[DomainEvent]) -> tuple[list[EventIn], list[str]]:
    """Step one of `record_many` (reads only): the analytics events of domain events,
    validated, each with its dedup key."""
    events: list[EventIn] = []
    keys: list[str] = []
    pre = _prefetch(session, evs)
    if pre is not None:
        session.info[_PREFETCH] = pre
    try:
        for ev in evs:
            built = _built(session, ev)
            events += built
            keys += [_key(ev, n) for n in range(len(built))]
    finally:
        session.info.pop(_PREFETCH, None)
    for i, e in enumerate(events):
        rules.check_event(e, prefix=f"events[{i}].")
    return events, keys


def store_prepared(session: Session, prepared: tuple[list[EventIn], list[str]]) -> None:
    """Step two of `record_many`: store what `prepare_many` built (duplicates skipped);
    once committed, this process's aggregator folds the rows from memory."""
    events, keys = prepared
    if not events:
        return
    with actions.writing(session) as s:
        stored = actions.ingest_rows(s, events, keys, checked=True)
        bind = s.get_bind()
        after_commit(s, lambda: aggregator.handoff_bound(bind, stored))


# Published by the hand-off's and the postback ingester's own publisher threads, in
# thousands a second: run there by the publisher (outbox `Inline`), not through a job
# each (docs/analytics.md).
INLINE = frozenset({"tracking.clicks_recorded", *_MONEY})
INLINE_HANDLER = Inline(prepare=prepare_many, apply=store_prepared,
                        size=lambda ev: max(1, len(ev.payload.get("clicks") or ())))
