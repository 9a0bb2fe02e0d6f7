"""Tracking writes: record clicks, ingest partner postbacks (orders, attribution, commission),
settle commission. See docs/tracking.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.clock import as_utc, utcnow
from shopwindow.core.ids import new_id
from shopwindow.db.bulk import insert_many
from shopwindow.db.uow import after_commit
from shopwindow.db.upsert import insert_ignore_returning
from shopwindow.ledger import actions as ledger
from shopwindow.outbox import emit, emit_many
from shopwindow.outbox.events import DomainEvent, OutboxEvent, handlers_for, publish
from shopwindow.partners import queries as partners_q
from shopwindow.partners import rules as partner_rules
from shopwindow.tracking import rules
from shopwindow.tracking.models import Click, Order, OrderLine, Postback

# ------------------------------------------------------------------ clicks


@dataclass(frozen=True, slots=True)
class ClickItem:
    """One product handed off: partner product id, recommendation, creator, quantity."""

    external_product_id: str
    recommendation_id: int
    creator_id: int
    product_id: int
    quantity: int = 1


def click_row(*, items: list[ClickItem], partner_id: int, surface: str, fan_id: int | None,
              promotion_id: int | None, user_agent: str, ip_hash: str, method: str,
              token: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """A tracking_click row (plain dict) for `record_clicks`; the first item is the click's
    own recommendation (the one that gets the order's unmatched lines)."""
    first = items[0]
    ua = (user_agent or "")[: rules.MAX_UA]
    return {
        "id": new_id(), "token": token or rules.new_click_token(), "fan_id": fan_id,
        "creator_id": first.creator_id, "recommendation_id": first.recommendation_id,
        "product_id": first.product_id, "partner_id": partner_id,
        "surface": rules.surface_of(surface), "promotion_id": promotion_id,
        "items": {i.external_product_id: [i.recommendation_id, i.creator_id, i.quantity]
                  for i in items if i.external_product_id},
        "user_agent": ua, "ip_hash": ip_hash, "method": method.upper()[:8],
        "flagged_reason": rules.flag_for(method, ua), "created_at": at or utcnow(),
    }


CLICKS_EVENT = "tracking.clicks_recorded"
CLICK_TABLE: Table = Click.__table__  # type: ignore[assignment]
OUTBOX_TABLE: Table = OutboxEvent.__table__  # type: ignore[assignment]
_ClickRow = Row[Any]  # a tracking_click row read with Core


def _clicks_event(rows: list[dict[str, Any]]) -> DomainEvent:
    """One outbox event for the clicks committed together.

    Why one event per batch, not per click: at thousands of hand-offs a second the
    per-click outbox row, publish and job cost more than the click itself (measured: /go
    at 50 % of /ping's requests per CPU-second with an event per click, 84 % without).
    Subscribers get the clicks in payload order, so they can key what they derive by
    (event id, index) and stay idempotent. The user agent travels along (capped at
    MAX_UA), so the analytics subscriber need not read every click back for it."""
    return DomainEvent(new_id(), CLICKS_EVENT, {"clicks": [{
        "click_id": r["id"], "partner_id": r["partner_id"], "creator_id": r["creator_id"],
        "recommendation_id": r["recommendation_id"], "product_id": r["product_id"],
        "surface": r["surface"], "promotion_id": r["promotion_id"], "fan_id": r["fan_id"],
        "flagged_reason": r["flagged_reason"], "user_agent": r["user_agent"]}
        for r in rows]})


def insert_clicks(conn: Connection, rows: list[dict[str, Any]]) -> list[DomainEvent]:
    """Insert clicks and one `tracking.clicks_recorded` outbox event for all of them on a
    connection (the hand-off's group commit). Returns the events the caller must publish
    after commit — none when no durable subscriber wants them: the row is then stored
    already marked dispatched."""
    if not rows:
        return []
    insert_many(conn, CLICK_TABLE, rows)
    ev = _clicks_event(rows)
    now = utcnow()
    wanted = bool(handlers_for(CLICKS_EVENT))
    insert_many(conn, OUTBOX_TABLE, [
        {"id": ev.id, "type": ev.type, "payload": ev.payload, "created_at": now,
         "dispatched_at": None if wanted else now}])
    return [ev] if wanted else []


def record_clicks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert clicks with their clicks_recorded event in the session's transaction."""
    if not rows:
        return
    events = insert_clicks(session.connection(), rows)
    if events:
        after_commit(session, lambda: publish(events))


def record_click(session: Session, **kw: Any) -> Click:
    """Record one click (cart checkout, tests); returns the stored row."""
    row = click_row(**kw)
    record_clicks(session, [row])
    click = session.get(Click, row["id"])
    assert click is not None
    return click


# ------------------------------------------------------------------ postbacks


@dataclass(frozen=True, slots=True)
class PostbackResult:
    """What happened to one postback: processed, stale, duplicate or rejected (+ reason)."""

    status: str
    reason: str | None = None
    order_id: int | None = None


class _BadPayload(Exception):
    pass


MAX_MINOR = 10**15  # far above any order; keeps amounts inside BIGINT on both databases


def _int(v: Any, name: str, *, minimum: int = 0, maximum: int = MAX_MINOR) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v <= maximum:
        raise _BadPayload(f"bad_{name}")
    return v


def _time(v: Any, name: str) -> datetime | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise _BadPayload(f"bad_{name}")
    try:
        return as_utc(datetime.fromisoformat(v))
    except ValueError as exc:
        raise _BadPayload(f"bad_{name}") from exc


def _str(v: Any, name: str, max_len: int = 128, *, required: bool = True) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v) or len(v) > max_len:
        raise _BadPayload(f"bad_{name}")
    return v


@dataclass(slots=True)
class _Snapshot:
    type: str
    sequence: int
    order_id: str
    status: str
    currency: str
    tracking_id: str | None
    total: int
    refunded: int
    placed_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    lines: list[dict[str, Any]]


def _parse(payload: Any) -> _Snapshot:
    if not isinstance(payload, dict):
        raise _BadPayload("not_an_object")
    etype = payload.get("type")
    if etype not in rules.EVENT_TYPES:
        raise _BadPayload("unknown_event_type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise _BadPayload("bad_data")
    currency = _str(data.get("currency"), "currency", 3)
    if not partner_rules.CURRENCY_RE.match(currency):
        raise _BadPayload("bad_currency")
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines or len(raw_lines) > 500:
        raise _BadPayload("bad_lines")
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ln in raw_lines:
        if not isinstance(ln, dict):
            raise _BadPayload("bad_lines")
        lid = _str(ln.get("line_id"), "line_id", 64)
        if lid in seen:
            raise _BadPayload("duplicate_line_id")
        seen.add(lid)
        amount = _int(ln.get("total_minor"), "line_total")
        refunded = _int(ln.get("refunded_minor", 0), "line_refunded")
        cat = ln.get("category")
        lines.append({
            "line_id": lid, "product_ref": _str(ln.get("product_id"), "product_id", 128,
                                                required=False),
            "gtin": _str(ln.get("gtin"), "gtin", 32, required=False) or None,
            "category": cat.strip().lower()[:40] if isinstance(cat, str) else None,
            "title": str(ln.get("title") or "")[:300],
            "quantity": _int(ln.get("quantity", 1), "quantity", maximum=2**31 - 1),
            "amount_minor": amount, "refunded_minor": min(refunded, amount),
        })
    tid = data.get("tracking_id")
    if tid is not None and (not isinstance(tid, str) or len(tid) > 128):
        raise _BadPayload("bad_tracking_id")
    status = _str(data.get("status"), "status", 24)
    return _Snapshot(
        type=etype, sequence=_int(payload.get("sequence"), "sequence", minimum=1,
                                  maximum=2**31 - 1),
        order_id=_str(data.get("order_id"), "order_id"), status=status, currency=currency,
        tracking_id=tid or None, total=_int(data.get("total_minor"), "total"),
        refunded=_int(data.get("refunded_total_minor", 0), "refunded_total"),
        placed_at=_time(data.get("placed_at"), "placed_at"),
        paid_at=_time(data.get("paid_at"), "paid_at"),
        cancelled_at=_time(data.get("cancelled_at"), "cancelled_at"), lines=lines)


def is_duplicate(session: Session, partner_id: int, webhook_id: str) -> bool:
    """True if this webhook id of this partner was already received."""
    return session.scalar(select(Postback.id).where(
        Postback.partner_id == partner_id, Postback.webhook_id == webhook_id)) is not None


@dataclass(frozen=True, slots=True)
class PartnerTerms:
    """What ingestion needs of a partner (a plain snapshot: cacheable between batches)."""

    id: int
    currency: str
    attribution_window_days: int
    return_window_days: int
    default_rate_bps: int
    category_rates: dict[str, int]


def partner_terms(session: Session, partner_id: int) -> PartnerTerms:
    """The partner's current terms (NotFound if it does not exist)."""
    p = partners_q.get_partner(session, partner_id)
    return PartnerTerms(int(p.id), p.currency, int(p.attribution_window_days),
                        int(p.return_window_days), int(p.default_rate_bps),
                        dict(p.category_rates or {}))


@dataclass(frozen=True, slots=True)
class PostbackIn:
    """One verified postback waiting to be ingested."""

    partner_id: int
    webhook_id: str
    payload: Any


DUPLICATE = PostbackResult("duplicate")
ORDER_TABLE: Table = Order.__table__  # type: ignore[assignment]
LINE_TABLE: Table = OrderLine.__table__  # type: ignore[assignment]
POSTBACK_TABLE: Table = Postback.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class _OrderState:
    """An order row being changed by a postback batch (Core rows, not ORM objects: the
    unit of work's bookkeeping was a quarter of ingestion's CPU). Written back by id."""

    id: int
    partner_id: int
    external_order_id: str
    click_id: int | None
    tracking_id: str | None
    creator_id: int | None
    recommendation_id: int | None
    status: str
    currency: str
    total_minor: int
    refunded_minor: int
    attribution: str
    reason: str | None
    commission_minor: int
    reversed_minor: int
    placed_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    last_sequence: int
    created_at: datetime
    updated_at: datetime

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in _ORDER_MUTABLE)


@dataclass(slots=True)
class _LineState:
    """An order line being written by a postback batch (`new` ones are inserted)."""

    id: int
    order_id: int
    line_id: str
    product_ref: str
    gtin: str | None
    category: str | None
    title: str
    quantity: int
    amount_minor: int
    refunded_minor: int
    creator_id: int | None
    recommendation_id: int | None
    rate_bps: int
    commission_minor: int
    reversed_minor: int
    new: bool = False

    def row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _LINE_COLUMNS}


_O, _L, _C = ORDER_TABLE.c, LINE_TABLE.c, CLICK_TABLE.c
# Ingestion's reads, built once with expanding parameters (run on the connection: a
# statement rebuilt per batch and run through the ORM session cost ~4x the query).
_LOCK_ORDERS = select(ORDER_TABLE).where(
    _O.partner_id == bindparam("partner_id"),
    _O.external_order_id.in_(bindparam("ext", expanding=True))).order_by(_O.id).with_for_update()
_LINES_OF = select(LINE_TABLE).where(_L.order_id.in_(bindparam("ids", expanding=True)))
_CLICKS_BY_TOKEN = select(CLICK_TABLE).where(_C.token.in_(bindparam("tokens", expanding=True)))
_CLICK_BY_ID = select(CLICK_TABLE).where(_C.id == bindparam("id"))
_FAN_CLICKS = select(_C.created_at, _C.id).where(
    _C.fan_id == bindparam("fan_id"), _C.partner_id == bindparam("partner_id"),
    _C.flagged_reason.is_(None), _C.created_at >= bindparam("since"),
    _C.created_at <= bindparam("until"))
_MARK_STALE = update(POSTBACK_TABLE).where(POSTBACK_TABLE.c.id == bindparam("pb_id")).values(
    status="stale", reason="older_sequence")
_ORDER_MUTABLE = ("click_id", "creator_id", "recommendation_id", "status", "currency",
                  "total_minor", "refunded_minor", "attribution", "reason",
                  "commission_minor", "reversed_minor", "placed_at", "paid_at",
                  "cancelled_at", "last_sequence", "updated_at")
_LINE_COLUMNS = tuple(c.name for c in LINE_TABLE.columns)
# One statement shape for every changed order (and line) of a batch: one executemany.
_UPDATE_ORDER = update(ORDER_TABLE).where(ORDER_TABLE.c.id == bindparam("o_id")).values(
    {c: bindparam(f"o_{c}") for c in _ORDER_MUTABLE})
_UPDATE_LINE = update(LINE_TABLE).where(LINE_TABLE.c.id == bindparam("l_id")).values(
    refunded_minor=bindparam("l_refunded"), reversed_minor=bindparam("l_reversed"))


def _postback_row(item: PostbackIn, now: datetime) -> dict[str, Any]:
    payload = item.payload
    row: dict[str, Any] = {
        "id": new_id(), "partner_id": item.partner_id, "webhook_id": item.webhook_id[:128],
        "event_type": "", "external_order_id": "", "sequence": 0, "status": "processed",
        "reason": None,
        "payload": payload if isinstance(payload, dict) else {"raw": str(payload)[:1000]},
        "received_at": now}
    if isinstance(payload, dict):
        row["event_type"] = str(payload.get("type") or "")[:40]
        data = payload.get("data")
        if isinstance(data, dict) and isinstance(data.get("order_id"), str):
            row["external_order_id"] = data["order_id"][:128]
        seq = payload.get("sequence")
        row["sequence"] = seq if isinstance(seq, int) and not isinstance(seq, bool) and \
            0 <= seq < 2**31 else 0
    return row


def ingest_postback(session: Session, *, partner_id: int, webhook_id: str, payload: Any,
                    take_rate_bps: int, attribution_rule: str = "last_click") -> PostbackResult:
    """Store a verified postback once per (partner, webhook id) and converge the order, its
    attribution and its commission on the newest snapshot. Safe to call concurrently with
    the same postback: exactly one call has an effect, the others answer `duplicate`."""
    return ingest_postbacks(session, [PostbackIn(partner_id, webhook_id, payload)],
                            take_rate_bps=take_rate_bps, attribution_rule=attribution_rule)[0]


def ingest_postbacks(session: Session, items: Sequence[PostbackIn], *, take_rate_bps: int,
                     attribution_rule: str = "last_click",
                     terms: dict[int, PartnerTerms] | None = None) -> list[PostbackResult]:
    """Ingest a batch of verified postbacks in the session's transaction, set-based.

    Each postback gets the answer it would get alone, in this order: the unique
    (partner, webhook id) decides duplicates (also against concurrent transactions of
    other processes), order rows are created with INSERT … ON CONFLICT DO NOTHING and
    locked, snapshots are applied in arrival order, and each touched order's ledger is
    reconciled once, after its newest snapshot of the batch (same keys, same balances).
    `terms` may bring partners' terms read earlier (the ingester caches them briefly).

    Runs without autoflush: every read here is of rows written with Core statements
    (postbacks, orders' first insert, ledger entries) or of rows this batch does not
    change, so the ORM's changes (order updates, new lines, outbox rows) can wait for
    the commit's one flush, where updates of the same shape go out as one executemany
    (autoflush before each read cost a dozen small flushes per batch).
    """
    with session.no_autoflush:
        try:
            results = _ingest_postbacks(session, items, take_rate_bps=take_rate_bps,
                                        attribution_rule=attribution_rule, terms=terms)
        except BaseException:
            session.info.pop(_LATER_KEY, None)
            raise
        _emit_collected(session)
        return results


_LATER_KEY = "tracking_events"
CREATORS_KEY = "tracking_creators"  # session.info: creator id → deleted or unknown


def _later(session: Session, event_type: str, **payload: Any) -> None:
    """Queue a domain event of this ingestion batch; `_emit_collected` writes the queue in
    one statement (`emit_many`), keeping the order events were raised in."""
    session.info.setdefault(_LATER_KEY, []).append((event_type, payload))


def _emit_collected(session: Session) -> None:
    emit_many(session, session.info.pop(_LATER_KEY, []))


def _ingest_postbacks(session: Session, items: Sequence[PostbackIn], *, take_rate_bps: int,
                      attribution_rule: str,
                      terms: dict[int, PartnerTerms] | None) -> list[PostbackResult]:
    now = utcnow()
    results: list[PostbackResult] = [DUPLICATE] * len(items)
    rows: dict[int, dict[str, Any]] = {}
    snaps: dict[int, _Snapshot] = {}
    keys: set[tuple[int, str]] = set()
    for i, item in enumerate(items):
        row = _postback_row(item, now)
        key = (row["partner_id"], row["webhook_id"])
        if key in keys:
            continue
        keys.add(key)
        try:
            snaps[i] = _parse(item.payload)
        except _BadPayload as exc:
            row["status"], row["reason"] = "rejected", str(exc)
        rows[i] = row
    # Sorted so that concurrent batches meet on the unique index in the same order.
    stored = {int(r[0]) for r in insert_ignore_returning(
        session, Postback.__table__,
        sorted(rows.values(), key=lambda r: (r["partner_id"], r["webhook_id"])), Postback.id)}
    accepted: list[int] = []
    for i, row in rows.items():
        if row["id"] not in stored:
            continue
        if row["status"] == "rejected":
            _later(session, "tracking.postback_rejected", partner_id=row["partner_id"],
                 postback_id=row["id"], reason=row["reason"])
            results[i] = PostbackResult("rejected", row["reason"])
        else:
            accepted.append(i)
    if not accepted:
        return results
    partners = {pid: (terms or {}).get(pid) or partner_terms(session, pid)
                for pid in sorted({items[i].partner_id for i in accepted})}
    firsts: dict[tuple[int, str], _Snapshot] = {}
    for i in accepted:
        firsts.setdefault((items[i].partner_id, snaps[i].order_id), snaps[i])
    conn = session.connection()
    orders = _lock_orders(session, firsts, now)
    before = {o.id: o.values() for o in orders.values()}
    lines: dict[int, dict[str, _LineState]] = {o.id: {} for o in orders.values()}
    for r in conn.execute(_LINES_OF, {"ids": list(lines)}):
        ln = _LineState(**r._mapping)
        lines[ln.order_id][ln.line_id] = ln
    lines_before = {ln.id: (ln.refunded_minor, ln.reversed_minor)
                    for by_line in lines.values() for ln in by_line.values()}
    tokens = sorted({s.tracking_id for k, s in firsts.items()
                     if s.tracking_id and orders[k].attribution == "new"})
    clicks = {(c.partner_id, c.token): c for c in conn.execute(
        _CLICKS_BY_TOKEN, {"tokens": tokens})} if tokens else {}
    touched: dict[int, _OrderState] = {}
    stale: list[int] = []
    for i in accepted:
        snap = snaps[i]
        pid = items[i].partner_id
        order = orders[(pid, snap.order_id)]
        fresh = _apply(session, order, lines[order.id], snap, partners[pid], clicks,
                       attribution_rule, now)
        touched[order.id] = order
        if fresh:
            results[i] = PostbackResult("processed", None, order.id)
        else:
            stale.append(rows[i]["id"])
            results[i] = PostbackResult("stale", "older_sequence", order.id)
    if stale:
        # Core executemany (by primary key): only the stale minority is touched twice.
        conn.execute(_MARK_STALE, [{"pb_id": x} for x in stale])
    _reconcile(session, list(touched.values()), lines, partners, take_rate_bps)
    _write_back(session, orders.values(), before, lines, lines_before)
    return results


def _write_back(session: Session, orders: Iterable[_OrderState],
                before: dict[int, tuple[Any, ...]], lines: dict[int, dict[str, _LineState]],
                lines_before: dict[int, tuple[int, int]]) -> None:
    """Store what the batch changed: new lines, then changed orders and lines, each as one
    statement (executemany by primary key)."""
    conn = session.connection()
    all_lines = [ln for by_line in lines.values() for ln in by_line.values()]
    insert_many(conn, LINE_TABLE, [ln.row() for ln in all_lines if ln.new])
    changed = [o for o in orders if o.values() != before[o.id]]
    if changed:
        conn.execute(_UPDATE_ORDER, [{"o_id": o.id, **{f"o_{c}": v for c, v in zip(
            _ORDER_MUTABLE, o.values(), strict=True)}} for o in changed])
    moved = [ln for ln in all_lines if not ln.new
             and (ln.refunded_minor, ln.reversed_minor) != lines_before[ln.id]]
    if moved:
        conn.execute(_UPDATE_LINE, [{"l_id": ln.id, "l_refunded": ln.refunded_minor,
                                     "l_reversed": ln.reversed_minor} for ln in moved])
    # ORM copies of these rows loaded earlier in the caller's session are now stale
    for model, ids in ((Order, [o.id for o in changed]),
                       (OrderLine, [ln.id for ln in all_lines])):
        for pk in ids:
            obj = session.identity_map.get(session.identity_key(model, pk))
            if obj is not None:
                session.expire(obj)


def _lock_orders(session: Session, firsts: dict[tuple[int, str], _Snapshot],
                 now: datetime) -> dict[tuple[int, str], _OrderState]:
    """Create missing order rows (INSERT … ON CONFLICT DO NOTHING: two first events of one
    order at the same moment create one row), then lock them all in id order."""
    insert_ignore_returning(session, Order.__table__, [{
        "id": new_id(), "partner_id": pid, "external_order_id": ext,
        "tracking_id": s.tracking_id, "status": s.status, "currency": s.currency,
        "total_minor": 0, "refunded_minor": 0, "attribution": "new", "commission_minor": 0,
        "reversed_minor": 0, "last_sequence": 0, "created_at": now, "updated_at": now,
        "click_id": None, "creator_id": None, "recommendation_id": None, "reason": None,
        "placed_at": None, "paid_at": None, "cancelled_at": None}
        for (pid, ext), s in sorted(firsts.items())], Order.id)
    by_partner: dict[int, list[str]] = defaultdict(list)
    for pid, ext in firsts:
        by_partner[pid].append(ext)
    out: dict[tuple[int, str], _OrderState] = {}
    conn = session.connection()
    for pid, exts in sorted(by_partner.items()):
        for r in conn.execute(_LOCK_ORDERS, {"partner_id": pid, "ext": exts}):
            o = _OrderState(**r._mapping)
            out[(pid, o.external_order_id)] = o
    return out


def _apply(session: Session, order: _OrderState, by_line: dict[str, _LineState],
           snap: _Snapshot, partner: PartnerTerms, clicks: dict[tuple[int, str], _ClickRow],
           attribution_rule: str, now: datetime) -> bool:
    """Update the order from a snapshot; returns whether the snapshot was the newest."""
    fresh = snap.sequence > order.last_sequence
    if order.attribution == "new":
        _attribute(session, order, by_line, snap, partner, clicks, attribution_rule)
    if not fresh:
        return False
    refunded_before = order.refunded_minor
    status_before = order.status
    order.status, order.currency = snap.status, snap.currency
    order.total_minor, order.refunded_minor = snap.total, snap.refunded
    order.placed_at = snap.placed_at or order.placed_at
    order.paid_at = snap.paid_at or order.paid_at
    order.cancelled_at = snap.cancelled_at or order.cancelled_at
    order.last_sequence, order.updated_at = snap.sequence, now
    for data in snap.lines:
        ln = by_line.get(data["line_id"])
        if ln is not None:
            # Only refunds change after the order is placed; never let them shrink.
            ln.refunded_minor = max(ln.refunded_minor, data["refunded_minor"])
    if order.refunded_minor > refunded_before:
        # Both amounts: read under the order's row lock, so consumers take the exact
        # increment instead of working it out against what they logged earlier (two
        # refunds of one order handled at once would both count in full).
        _later(session, "tracking.order_refunded", order_id=order.id, partner_id=order.partner_id,
             creator_id=order.creator_id, refunded_minor=order.refunded_minor,
             refunded_before_minor=refunded_before, currency=order.currency)
    if order.status == "cancelled" and status_before != "cancelled":
        _later(session, "tracking.order_cancelled", order_id=order.id,
             partner_id=order.partner_id, creator_id=order.creator_id)
    return True


def _click_candidates(session: Session, click: _ClickRow, placed_at: datetime,
                      window_days: int) -> list[tuple[datetime, int]]:
    rows = session.connection().execute(_FAN_CLICKS, {
        "fan_id": click.fan_id, "partner_id": click.partner_id,
        "since": placed_at - timedelta(days=window_days),
        "until": placed_at + timedelta(minutes=5)}).all()
    return [(as_utc(r[0]), int(r[1])) for r in rows]


def _attribute(session: Session, order: _OrderState, by_line: dict[str, _LineState],
               snap: _Snapshot, partner: PartnerTerms, clicks: dict[tuple[int, str], _ClickRow],
               attribution_rule: str) -> None:
    """Decide once, on the order's first event, whose click it was and what each line earns."""
    placed_at = snap.placed_at or snap.paid_at or utcnow()
    click = clicks.get((order.partner_id, snap.tracking_id)) if snap.tracking_id else None
    if click is not None and click.fan_id is not None and click.flagged_reason is None:
        chosen = rules.pick_click(
            _click_candidates(session, click, placed_at, partner.attribution_window_days),
            attribution_rule)
        if chosen is not None and chosen != click.id:
            click = session.connection().execute(_CLICK_BY_ID, {"id": chosen}).first() or click
    facts = None
    if click is not None:
        # creator id → gone (deleted or unknown), memoised per session, or across
        # batches by the ingester (CREATORS_KEY, a few seconds at most)
        known: dict[int, bool] = session.info.setdefault(CREATORS_KEY, {})
        if click.creator_id not in known:
            creator = accounts_q.find_account(session, click.creator_id)
            known[click.creator_id] = creator is None or creator.deleted_at is not None
        facts = rules.ClickFacts(click.flagged_reason, as_utc(click.created_at),
                                 known[click.creator_id])
    reason = rules.attribution_reason(
        facts, tracking_id=snap.tracking_id, placed_at=placed_at,
        window_days=partner.attribution_window_days, order_currency=snap.currency,
        partner_currency=partner.currency)
    order.attribution = "unattributed" if reason else "attributed"
    order.reason = reason
    if click is not None:
        # Kept even when unattributed, so the creator sees why the order earned nothing.
        order.click_id, order.creator_id = click.id, click.creator_id
        order.recommendation_id = click.recommendation_id
    rates = dict(partner.category_rates or {})
    items: dict[str, Any] = dict(click.items or {}) if click is not None else {}
    for data in snap.lines:
        if data["line_id"] in by_line:
            continue
        rec_id: int | None = None
        creator_id: int | None = None
        rate = commission = 0
        if click is not None:
            match = items.get(data["product_ref"])
            rec_id, creator_id = ((int(match[0]), int(match[1])) if match
                                  else (click.recommendation_id, click.creator_id))
        if reason is None:
            rate = partner_rules.rate_for(data["category"], partner.default_rate_bps, rates)
            commission = rules.line_commission(data["amount_minor"], rate)
        ln = _LineState(id=new_id(), order_id=order.id, **{**data, "refunded_minor": 0},
                        creator_id=creator_id, recommendation_id=rec_id, rate_bps=rate,
                        commission_minor=commission, reversed_minor=0, new=True)
        by_line[ln.line_id] = ln
    _later(session, "tracking.order_recorded", order_id=order.id, partner_id=order.partner_id,
         external_order_id=order.external_order_id, click_id=order.click_id,
         creator_id=order.creator_id, recommendation_id=order.recommendation_id,
         attribution=order.attribution, reason=reason, currency=snap.currency,
         total_minor=snap.total)


def booking_key(order_id: int, creator_id: int) -> str:
    """The ledger idempotency key of an order's commission booking for one creator."""
    return f"trk:com:{order_id}:{creator_id}"


def _reconcile(session: Session, orders: list[_OrderState],
               lines: dict[int, dict[str, _LineState]], partners: dict[int, PartnerTerms],
               take_rate_bps: int) -> None:
    """Make the ledger match the orders: commission booked once paid, reversed as far as
    cumulative refunds (or a cancellation) require. Idempotent by construction; all the
    batch's bookings, then all its reversals, are posted set-based."""
    bookings: list[ledger.CommissionBooking] = []
    reversals: list[ledger.CommissionReversal] = []
    booked: list[tuple[_OrderState, int, int, datetime]] = []
    reversed_: list[tuple[_OrderState, int, int, bool, str]] = []
    for order in orders:
        if order.attribution != "attributed" or order.paid_at is None:
            continue
        ols = sorted(lines[order.id].values(), key=lambda ln: ln.line_id)
        per_creator: dict[int, int] = defaultdict(int)
        for ln in ols:
            if ln.creator_id is not None and ln.commission_minor > 0:
                per_creator[ln.creator_id] += ln.commission_minor
        if not per_creator:
            continue
        partner = partners[order.partner_id]
        settle_after = as_utc(order.paid_at) + timedelta(days=partner.return_window_days)
        if order.commission_minor == 0:
            for creator_id, amount in sorted(per_creator.items()):
                bookings.append(ledger.CommissionBooking(
                    key=booking_key(order.id, creator_id), partner_id=order.partner_id,
                    creator_id=creator_id, currency=order.currency, commission_minor=amount,
                    take_rate_bps=take_rate_bps, ref_type="tracking_order",
                    ref_id=str(order.id), settle_after=settle_after,
                    memo=f"order {order.external_order_id}"))
                booked.append((order, creator_id, amount, settle_after))
            order.commission_minor = sum(per_creator.values())
        cancelled = order.status == "cancelled"
        delta: dict[int, int] = defaultdict(int)
        target_total: dict[int, int] = defaultdict(int)
        for ln in ols:
            if ln.creator_id is None or ln.commission_minor <= 0:
                continue
            target = rules.reversal_target(ln.commission_minor, ln.refunded_minor,
                                           ln.amount_minor, cancelled)
            target_total[ln.creator_id] += target
            if target > ln.reversed_minor:
                delta[ln.creator_id] += target - ln.reversed_minor
                ln.reversed_minor = target
        for creator_id, amount in sorted(delta.items()):
            # Keyed by the cumulative amount reversed: a replayed snapshot maps to the same key.
            key = f"trk:rev:{order.id}:{creator_id}:{target_total[creator_id]}"
            reversals.append(ledger.CommissionReversal(
                key=key, booking_key=booking_key(order.id, creator_id), amount_minor=amount,
                memo="cancellation" if cancelled else "refund"))
            reversed_.append((order, creator_id, amount, cancelled, key))
        order.reversed_minor = sum(ln.reversed_minor for ln in ols)
    _emit_collected(session)  # the order's events before the ledger's, as raised
    entry_ids = ledger.book_commissions(session, bookings) if bookings else {}
    for order, creator_id, amount, settle_after in booked:
        _later(session, "tracking.commission_booked", order_id=order.id,
             partner_id=order.partner_id, creator_id=creator_id,
             entry_id=entry_ids[booking_key(order.id, creator_id)], commission_minor=amount,
             currency=order.currency, settle_after=settle_after.isoformat())
    _emit_collected(session)
    reversal_ids = ledger.reverse_commissions(session, reversals) if reversals else {}
    for order, creator_id, amount, cancelled, key in reversed_:
        _later(session, "tracking.commission_reversed", order_id=order.id,
             partner_id=order.partner_id, creator_id=creator_id,
             entry_id=reversal_ids.get(key), amount_minor=amount, currency=order.currency,
             reason="cancelled" if cancelled else "refunded")


# ------------------------------------------------------------------ settlement


def settle_now(session: Session, now: datetime | None = None) -> list[int]:
    """Settle every commission whose return window has closed (the periodic job's step)."""
    done = ledger.settle_due(session, now=now)
    if done:
        emit(session, "tracking.commissions_settled", entry_ids=done)
    return done
