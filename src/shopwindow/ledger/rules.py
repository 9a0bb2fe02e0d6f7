"""Pure ledger policy: the chart of accounts, posting validation, commission arithmetic.

Posting amounts are signed integer minor units, **debit positive, credit negative**.
Balances are reported on each account's normal side (see `NORMAL_SIDE`), so a creator's
available balance is positive when the platform owes the creator money and negative when
the creator owes the platform (e.g. a refund after a payout): carried and shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from shopwindow.core.errors import Invalid, RuleViolation
from shopwindow.core.money import Money

DEBIT = 1
CREDIT = -1

# kind -> normal side. Debit-normal accounts are what others owe the platform (assets);
# credit-normal ones are what the platform owes or has earned (liabilities, revenue).
NORMAL_SIDE: dict[str, int] = {
    "partner_receivable": DEBIT,  # commission a partner owes for attributed orders
    "platform_cash": DEBIT,  # money held at the payment provider (payment issues)
    "creator_pending": CREDIT,  # creator's share while the return window is open
    "creator_available": CREDIT,  # creator's settled share, payable (may go negative)
    "creator_paid_out": CREDIT,  # cumulative amount paid out to the creator
    "platform_revenue_pending": CREDIT,  # platform's share while the window is open
    "platform_revenue": CREDIT,  # platform's settled, earned share
    "wallet": CREDIT,  # an account's spendable wallet balance (promotions)
}

OWNER_TYPES = frozenset({"partner", "account", "platform"})
PLATFORM_OWNER_ID = 0

ENTRY_KINDS = frozenset({
    "commission_booked",
    "commission_settled",
    "refund_reversal",
    "payout",
    "reversal",
    "correction",
})

BPS = 10_000


@dataclass(frozen=True, slots=True, order=True)
class AccountRef:
    """Names a ledger account without its currency (the posting's Money carries that)."""

    kind: str
    owner_type: str
    owner_id: int

    def __post_init__(self) -> None:
        if self.kind not in NORMAL_SIDE:
            raise Invalid(f"unknown ledger account kind {self.kind!r}", field="kind",
                          rule="known_kind")
        if self.owner_type not in OWNER_TYPES:
            raise Invalid(f"unknown owner type {self.owner_type!r}", field="owner_type",
                          rule="known_owner_type")
        if not isinstance(self.owner_id, int) or isinstance(self.owner_id, bool):
            raise Invalid("owner_id must be an int", field="owner_id", rule="int")


def partner_receivable(partner_id: int) -> AccountRef:
    return AccountRef("partner_receivable", "partner", partner_id)


def creator_pending(creator_id: int) -> AccountRef:
    return AccountRef("creator_pending", "account", creator_id)


def creator_available(creator_id: int) -> AccountRef:
    return AccountRef("creator_available", "account", creator_id)


def creator_paid_out(creator_id: int) -> AccountRef:
    return AccountRef("creator_paid_out", "account", creator_id)


def platform_revenue_pending() -> AccountRef:
    return AccountRef("platform_revenue_pending", "platform", PLATFORM_OWNER_ID)


def platform_revenue() -> AccountRef:
    return AccountRef("platform_revenue", "platform", PLATFORM_OWNER_ID)


Posting = tuple[AccountRef, Money]


def validate_postings(postings: Iterable[Posting]) -> list[Posting]:
    """Check a journal entry's postings; returns them as a list or raises Invalid.

    At least two postings, integer non-zero amounts, and each currency sums to zero.
    """
    items = list(postings)
    if len(items) < 2:
        raise Invalid("a journal entry needs at least two postings", field="postings",
                      rule="min_postings")
    sums: dict[str, int] = defaultdict(int)
    for ref, money in items:
        if not isinstance(ref, AccountRef):
            raise Invalid("posting account must be an AccountRef", field="postings",
                          rule="account_ref")
        if not isinstance(money, Money):
            raise Invalid("posting amount must be Money", field="postings", rule="money")
        if money.amount == 0:
            raise Invalid("zero-amount postings are not allowed", field="postings",
                          rule="non_zero")
        sums[money.currency] += money.amount
    unbalanced = {c: s for c, s in sums.items() if s != 0}
    if unbalanced:
        raise Invalid(f"journal entry does not balance: {unbalanced}", field="postings",
                      rule="balanced")
    return items


def natural(kind: str, raw_sum: int) -> int:
    """Turn a debit-positive sum into a balance on the account's normal side."""
    return raw_sum * NORMAL_SIDE[kind]


def div_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, exactly (no floats); denominator > 0."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        q += 1
    return q


def _check_amount(name: str, value: int, *, positive: bool = False) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{name} must be an int of minor units", field=name, rule="int")
    if value < 0 or (positive and value == 0):
        raise Invalid(f"{name} must be {'positive' if positive else 'non-negative'}",
                      field=name, rule="positive" if positive else "non_negative")


def split_commission(amount_minor: int, take_rate_bps: int) -> tuple[int, int]:
    """(creator share, platform share): the platform's take rounded half-even, the creator
    gets the remainder, so the parts always add up to the whole."""
    _check_amount("amount_minor", amount_minor)
    _check_amount("take_rate_bps", take_rate_bps)
    if take_rate_bps > BPS:
        raise Invalid("take rate cannot exceed 100%", field="take_rate_bps", rule="max_bps")
    platform = div_half_even(amount_minor * take_rate_bps, BPS)
    return amount_minor - platform, platform


def refund_share(
    commission: int, refunded_amount: int, line_amount: int, *, previously_refunded: int = 0
) -> int:
    """Commission to reverse for a refund of `refunded_amount` on a line of `line_amount`.

    Computed cumulatively (share of everything refunded so far, minus the share of what
    was refunded before), so partial refunds add up to exactly `commission` when the whole
    line is refunded, and over-reported refunds are capped at the line amount.
    """
    _check_amount("commission", commission)
    _check_amount("refunded_amount", refunded_amount)
    _check_amount("line_amount", line_amount, positive=True)
    _check_amount("previously_refunded", previously_refunded)
    before = min(previously_refunded, line_amount)
    after = min(previously_refunded + refunded_amount, line_amount)
    return (div_half_even(commission * after, line_amount)
            - div_half_even(commission * before, line_amount))


def split_reversal(amount: int, outstanding: int, platform_outstanding: int) -> tuple[int, int]:
    """(creator part, platform part) of reversing `amount` of a booking's outstanding
    commission, proportional to what is still outstanding on each side.

    Reversing everything outstanding returns exactly each side's outstanding share; no part
    ever exceeds what is left on its side.
    """
    _check_amount("amount", amount, positive=True)
    _check_amount("outstanding", outstanding)
    _check_amount("platform_outstanding", platform_outstanding)
    if platform_outstanding > outstanding:
        raise Invalid("platform share exceeds outstanding commission",
                      field="platform_outstanding", rule="max")
    if amount > outstanding:
        raise RuleViolation(
            f"cannot reverse {amount}: only {outstanding} of this commission is outstanding",
            field="amount_minor", rule="max_outstanding")
    platform = div_half_even(amount * platform_outstanding, outstanding)
    return amount - platform, platform
