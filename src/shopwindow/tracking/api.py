"""Tracking platform API: a creator's earnings and order trails, partners' balances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shopwindow.core.errors import Forbidden, NotFound
from shopwindow.core.money import Money
from shopwindow.tracking import queries
from shopwindow.tracking.schemas import (
    Amount,
    BalanceRead,
    ClickRead,
    EarningsRead,
    LineRead,
    OrderTrailList,
    OrderTrailRead,
    PartnerBalanceList,
    PartnerBalanceRead,
    StepRead,
)
from shopwindow.web.deps import DbSession, RequiredAuth
from shopwindow.web.errors import problem_responses

router = APIRouter(prefix="/api/sw/v1", tags=["tracking"])
ERRORS = problem_responses(401, 403, 404)


def me_read(auth: RequiredAuth) -> int:
    """Dependency: the calling account (any role may have earnings); read scope."""
    return int(auth.require("read:accounts").id)


def operator_read(auth: RequiredAuth) -> int:
    acct = auth.require("read:partners")
    if acct.role != "operator":
        raise Forbidden("Only operators may do this", field="role", rule="role:operator")
    return int(acct.id)


Me = Annotated[int, Depends(me_read)]
OperatorRead = Annotated[int, Depends(operator_read)]


def _amount(m: Money) -> Amount:
    return Amount(amount_minor=m.amount, currency=m.currency, formatted=m.format())


def _m(n: int, cur: str) -> Amount:
    return _amount(Money(n, cur))


@router.get("/me/earnings", response_model=EarningsRead, responses=ERRORS)
def my_earnings(session: DbSession, me: Me) -> EarningsRead:
    """Balances per currency: pending, available (negative is shown), paid out."""
    out = []
    for cur, b in sorted(queries.creator_balances(session, me).items()):
        out.append(BalanceRead(currency=cur, pending=_amount(b.pending),
                               available=_amount(b.available), paid_out=_amount(b.paid_out),
                               total=_amount(b.total)))
    return EarningsRead(balances=out)


def trail_read(t: queries.OrderTrail) -> OrderTrailRead:
    o, cur = t.order, t.order.currency
    click = None
    if t.click is not None:
        click = ClickRead(id=str(t.click.id), at=t.click.created_at, surface=t.click.surface,
                          recommendation_id=str(t.click.recommendation_id),
                          flagged_reason=t.click.flagged_reason)
    return OrderTrailRead(
        id=str(o.id), partner=t.partner_name, external_order_id=o.external_order_id,
        status=o.status, attribution=o.attribution, reason=o.reason,
        total=_m(o.total_minor, cur), refunded=_m(o.refunded_minor, cur),
        commission=_amount(t.commission), reversed=_amount(t.reversed),
        placed_at=o.placed_at, paid_at=o.paid_at, click=click,
        lines=[LineRead(line_id=ln.line_id, title=ln.title, category=ln.category,
                        quantity=ln.quantity, amount=_m(ln.amount_minor, cur),
                        refunded=_m(ln.refunded_minor, cur), rate_bps=ln.rate_bps,
                        commission=_m(ln.commission_minor, cur),
                        reversed=_m(ln.reversed_minor, cur)) for ln in t.lines],
        trail=[StepRead(kind=s.kind, at=s.at, account=s.account, amount=_amount(s.amount),
                        memo=s.memo) for s in t.steps])


@router.get("/me/earnings/orders", response_model=OrderTrailList, responses=ERRORS)
def my_orders(session: DbSession, me: Me, limit: Annotated[int, Query(ge=1, le=200)] = 50,
              before: str | None = None) -> OrderTrailList:
    """The caller's orders, newest first, each with its click → commission trail."""
    cursor = int(before) if before and before.isdigit() and len(before) < 19 else None
    trails = queries.creator_orders(session, me, limit=limit, before=cursor)
    nxt = str(trails[-1].order.id) if len(trails) == limit else None
    return OrderTrailList(items=[trail_read(t) for t in trails], next_before=nxt)


def _balance(b: queries.PartnerBalance) -> PartnerBalanceRead:
    return PartnerBalanceRead(partner_id=str(b.partner_id), slug=b.slug, name=b.name,
                              status=b.status,
                              receivable=[_amount(m) for _, m in sorted(b.receivable.items())],
                              orders=b.orders, attributed=b.attributed)


@router.get("/partners/{partner_id}/balance", response_model=PartnerBalanceRead,
            responses=ERRORS)
def partner_balance(partner_id: str, session: DbSession, _: OperatorRead) -> PartnerBalanceRead:
    """What one partner owes the platform (operators only)."""
    if not partner_id.isdigit() or len(partner_id) > 19:
        raise NotFound("Not found", field="id", rule="exists")
    return _balance(queries.partner_balance(session, int(partner_id)))


@router.get("/operator/partner-balances", response_model=PartnerBalanceList, responses=ERRORS)
def partner_balances(session: DbSession, _: OperatorRead) -> PartnerBalanceList:
    """Every partner's receivable and order counts (operators only)."""
    return PartnerBalanceList(items=[_balance(b) for b in queries.partner_balances(session)])
