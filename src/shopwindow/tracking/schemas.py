"""Response models of the tracking API (earnings, order trails, partner balances)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Amount(BaseModel):
    """Integer minor units and the ISO 4217 currency; `formatted` for display."""

    amount_minor: int
    currency: str
    formatted: str


class BalanceRead(BaseModel):
    """One currency of a creator's earnings; `available` may be negative (carried)."""

    currency: str
    pending: Amount
    available: Amount
    paid_out: Amount
    total: Amount


class EarningsRead(BaseModel):
    balances: list[BalanceRead]


class ClickRead(BaseModel):
    id: str
    at: datetime
    surface: str
    recommendation_id: str
    flagged_reason: str | None


class LineRead(BaseModel):
    line_id: str
    title: str
    category: str | None
    quantity: int
    amount: Amount
    refunded: Amount
    rate_bps: int
    commission: Amount
    reversed: Amount


class StepRead(BaseModel):
    """A ledger entry of the trail: its effect on the creator's pending/available balance."""

    kind: str
    at: str
    account: str
    amount: Amount
    memo: str


class OrderTrailRead(BaseModel):
    """click → order → commission → settlement or reversal."""

    id: str
    partner: str
    external_order_id: str
    status: str
    attribution: str
    reason: str | None
    total: Amount
    refunded: Amount
    commission: Amount
    reversed: Amount
    placed_at: datetime | None
    paid_at: datetime | None
    click: ClickRead | None
    lines: list[LineRead]
    trail: list[StepRead]


class OrderTrailList(BaseModel):
    items: list[OrderTrailRead]
    next_before: str | None


class PartnerBalanceRead(BaseModel):
    partner_id: str
    slug: str
    name: str
    status: str
    receivable: list[Amount]
    orders: int
    attributed: int


class PartnerBalanceList(BaseModel):
    items: list[PartnerBalanceRead]
