"""Tracking reads: clicks, orders, creators' earnings trails, partners' balances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound
from shopwindow.core.money import Money
from shopwindow.ledger import queries as ledger_q
from shopwindow.partners import queries as partners_q
from shopwindow.tracking.models import Click, Order, OrderLine, Postback


def find_click_by_token(session: Session, token: str) -> Click | None:
    """A click by its public tracking id."""
    return session.scalars(select(Click).where(Click.token == token)).one_or_none()


def get_click(session: Session, click_id: int) -> Click:
    c = session.get(Click, click_id)
    if c is None:
        raise NotFound("Click not found", field="id", rule="exists")
    return c


def clicks_by_ids(session: Session, click_ids: Iterable[int]) -> dict[int, Click]:
    """Clicks by id, in one query per 5,000 (missing ids are left out)."""
    ids = sorted(set(click_ids))
    out: dict[int, Click] = {}
    for i in range(0, len(ids), 5000):
        out.update((int(c.id), c) for c in session.scalars(
            select(Click).where(Click.id.in_(ids[i:i + 5000]))))
    return out


def click_user_agents(session: Session, click_ids: list[int]) -> dict[int, str]:
    """click id → user agent, for many clicks in one query (missing ids are left out)."""
    out: dict[int, str] = {}
    for i in range(0, len(click_ids), 5000):
        out.update((int(cid), ua or "") for cid, ua in session.execute(
            select(Click.id, Click.user_agent).where(Click.id.in_(click_ids[i:i + 5000]))))
    return out


def find_order(session: Session, partner_id: int, external_order_id: str) -> Order | None:
    """An order by the partner's order id."""
    return session.scalars(select(Order).where(
        Order.partner_id == partner_id,
        Order.external_order_id == external_order_id)).one_or_none()


def order_lines(session: Session, order_id: int) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                .order_by(OrderLine.line_id)))


def postbacks_for(session: Session, partner_id: int, external_order_id: str) -> list[Postback]:
    return list(session.scalars(select(Postback).where(
        Postback.partner_id == partner_id, Postback.external_order_id == external_order_id)
        .order_by(Postback.id)))


def creator_balances(session: Session, creator_id: int) -> dict[str, ledger_q.CreatorBalances]:
    """Pending / available (may be negative) / paid out, per currency."""
    return ledger_q.creator_balances(session, creator_id)


@dataclass(slots=True)
class TrailStep:
    """One ledger entry of a creator's order trail."""

    kind: str  # commission_booked | commission_settled | refund_reversal | …
    at: str
    amount: Money  # change of the creator's balance (pending or available), signed
    account: str  # creator_pending | creator_available
    memo: str


@dataclass(slots=True)
class OrderTrail:
    """click → order → commission → settlement / reversal, for one creator."""

    order: Order
    partner_name: str
    click: Click | None
    lines: list[OrderLine]
    commission: Money
    reversed: Money
    steps: list[TrailStep] = field(default_factory=list)


def creator_orders(session: Session, creator_id: int, *, limit: int = 50,
                   before: int | None = None) -> list[OrderTrail]:
    """The creator's orders, newest first, each with its trail (only the creator's share).

    Includes orders that earned nothing (with the reason) when the creator's click was
    found; orders of other creators are never visible.
    """
    mine = or_(Order.creator_id == creator_id, exists().where(
        OrderLine.order_id == Order.id, OrderLine.creator_id == creator_id))
    q = select(Order).where(mine).order_by(Order.id.desc()).limit(max(1, min(limit, 200)))
    if before is not None:
        q = q.where(Order.id < before)
    orders = list(session.scalars(q))
    out: list[OrderTrail] = []
    names: dict[int, str] = {}
    for o in orders:
        if o.partner_id not in names:
            partner = partners_q.find_partner(session, o.partner_id)
            names[o.partner_id] = partner.name if partner else "?"
        lines = [ln for ln in order_lines(session, o.id)
                 if ln.creator_id == creator_id or ln.creator_id is None]
        click = session.get(Click, o.click_id) if o.click_id else None
        steps: list[TrailStep] = []
        for e in ledger_q.entries_for_ref(session, "tracking_order", str(o.id)):
            for leg in e.postings:
                a = leg.account
                if a.owner_type == "account" and a.owner_id == creator_id and a.kind in (
                        "creator_pending", "creator_available"):
                    # Credit-normal accounts: a negative posting raises the balance.
                    steps.append(TrailStep(e.kind, e.created_at.isoformat(),
                                           Money(-leg.amount.amount, leg.amount.currency),
                                           a.kind, e.memo))
        commission = sum(ln.commission_minor for ln in lines)
        reversed_ = sum(ln.reversed_minor for ln in lines)
        out.append(OrderTrail(o, names[o.partner_id], click, lines,
                              Money(commission if o.commission_minor else 0, o.currency),
                              Money(reversed_, o.currency), steps))
    return out


@dataclass(slots=True)
class PartnerBalance:
    """What a partner owes the platform (negative: the platform owes a credit)."""

    partner_id: int
    slug: str
    name: str
    status: str
    receivable: dict[str, Money]
    orders: int
    attributed: int


def partner_balance(session: Session, partner_id: int) -> PartnerBalance:
    p = partners_q.get_partner(session, partner_id)
    rows = session.execute(select(Order.attribution).where(Order.partner_id == p.id)).all()
    return PartnerBalance(p.id, p.slug, p.name, p.status,
                          ledger_q.partner_balances(session, p.id), len(rows),
                          sum(1 for r in rows if r[0] == "attributed"))


def partner_balances(session: Session) -> list[PartnerBalance]:
    """Every partner's receivable and order counts (the operator's view)."""
    return [partner_balance(session, p.id) for p in partners_q.list_partners(session)]


def fan_product_events(session: Session, fan_id: int | None = None
                       ) -> list[tuple[int, int, str, datetime]]:
    """(fan, product, "click" | "order", at) of signed-in fans' hand-offs and their orders."""
    clicks = select(Click.fan_id, Click.product_id, Click.created_at).where(
        Click.fan_id.is_not(None), Click.flagged_reason.is_(None))
    orders = (select(Click.fan_id, Click.product_id, Order.created_at)
              .join(Click, Click.id == Order.click_id)
              .where(Click.fan_id.is_not(None)))
    if fan_id is not None:
        clicks = clicks.where(Click.fan_id == fan_id)
        orders = orders.where(Click.fan_id == fan_id)
    out = [(int(f or 0), int(p), "click", t) for f, p, t in session.execute(clicks)]
    out += [(int(f or 0), int(p), "order", t) for f, p, t in session.execute(orders)]
    return out
