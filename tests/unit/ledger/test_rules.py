"""Ledger rules: posting validation, half-even splits, cumulative refund shares."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopwindow.core.errors import Invalid, RuleViolation
from shopwindow.core.money import Money
from shopwindow.ledger import rules
from shopwindow.ledger.rules import (
    AccountRef,
    div_half_even,
    refund_share,
    split_commission,
    split_reversal,
    validate_postings,
)

R = rules.partner_receivable(1)
C = rules.creator_pending(2)
P = rules.platform_revenue_pending()


def test_valid_entry_balances_per_currency():
    legs = [(R, Money(100, "CNY")), (C, Money(-80, "CNY")), (P, Money(-20, "CNY")),
            (R, Money(5, "USD")), (C, Money(-5, "USD"))]
    assert validate_postings(legs) == legs


@pytest.mark.parametrize("legs,rule", [
    ([], "min_postings"),
    ([(R, Money(0, "CNY"))], "min_postings"),
    ([(R, Money(10, "CNY")), (C, Money(-9, "CNY"))], "balanced"),
    ([(R, Money(10, "CNY")), (C, Money(-10, "USD"))], "balanced"),
    ([(R, Money(0, "CNY")), (C, Money(0, "CNY"))], "non_zero"),
    ([(R, 10), (C, -10)], "money"),
    ([("partner_receivable", Money(10, "CNY")), (C, Money(-10, "CNY"))], "account_ref"),
])
def test_invalid_entries(legs, rule):
    with pytest.raises(Invalid) as exc:
        validate_postings(legs)
    assert exc.value.rule == rule


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]


def test_account_ref_checks_kind_and_owner():
    with pytest.raises(Invalid):
        AccountRef("cash_drawer", "platform", 0)
    with pytest.raises(Invalid):
        AccountRef("wallet", "robot", 1)
    assert rules.natural("creator_available", -30) == 30
    assert rules.natural("partner_receivable", 30) == 30


@pytest.mark.parametrize("n,d,q", [(5, 2, 2), (7, 2, 4), (1, 3, 0), (2, 3, 1), (15, 10, 2),
                                   (25, 10, 2), (0, 7, 0), (-5, 2, -2), (-7, 2, -4)])
def test_div_half_even(n, d, q):
    assert div_half_even(n, d) == q


@pytest.mark.parametrize("amount,bps,parts", [
    (1000, 2000, (800, 200)),
    (999, 2000, (799, 200)),      # 199.8 -> 200
    (5, 1000, (5, 0)),            # 0.5 -> 0 (even)
    (15, 1000, (13, 2)),          # 1.5 -> 2 (even)
    (25, 1000, (23, 2)),          # 2.5 -> 2 (even)
    (1, 10_000, (0, 1)),
    (1, 0, (1, 0)),
    (0, 3000, (0, 0)),
])
def test_split_commission_cases(amount, bps, parts):
    assert split_commission(amount, bps) == parts


def test_split_commission_rejects_bad_input():
    for args in [(-1, 100), (10, -1), (10, 10_001)]:
        with pytest.raises(Invalid):
            split_commission(*args)
    with pytest.raises(Invalid):
        split_commission(10.0, 100)  # type: ignore[arg-type]


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_split_parts_sum_to_whole(amount, bps):
    creator, platform = split_commission(amount, bps)
    assert creator + platform == amount
    assert creator >= 0 and platform >= 0
    assert abs(platform * 10_000 - amount * bps) <= 5_000  # within half a minor unit


def test_refund_share_cases():
    # 30.00 commission on a 300.00 line: refund 100.00 -> 10.00
    assert refund_share(3000, 10000, 30000) == 1000
    # thirds: 10 commission on a line of 3, refunded one unit at a time
    parts = [refund_share(10, 1, 3, previously_refunded=i) for i in range(3)]
    assert parts == [3, 4, 3] and sum(parts) == 10
    # over-reported refunds are capped at the line amount
    assert refund_share(10, 5, 3) == 10
    assert refund_share(10, 5, 3, previously_refunded=3) == 0


@settings(max_examples=200)
@given(st.integers(0, 10**9), st.integers(1, 10**9), st.data())
def test_cumulative_refunds_never_exceed_commission(commission, line, data):
    refunds = data.draw(st.lists(st.integers(0, line), max_size=8))
    done = total = 0
    for r in refunds:
        part = refund_share(commission, r, line, previously_refunded=done)
        assert part >= 0
        done += r
        total += part
        assert total <= commission
    # refunding the rest returns exactly the commission
    total += refund_share(commission, max(0, line - done), line, previously_refunded=done)
    assert total == commission


def test_split_reversal_cases():
    assert split_reversal(100, 1000, 200) == (80, 20)
    assert split_reversal(1000, 1000, 200) == (800, 200)
    assert split_reversal(1, 3, 1) == (1, 0)
    with pytest.raises(RuleViolation):
        split_reversal(11, 10, 2)
    with pytest.raises(Invalid):
        split_reversal(0, 10, 2)


@settings(max_examples=200)
@given(st.integers(1, 10**9), st.integers(0, 10_000), st.data())
def test_successive_reversals_exhaust_each_side_exactly(commission, bps, data):
    creator_left, platform_left = split_commission(commission, bps)
    outstanding = commission
    for step in range(8):
        if not outstanding:
            break
        amount = outstanding if step == 7 else data.draw(st.integers(1, outstanding))
        c, p = split_reversal(amount, outstanding, platform_left)
        assert c + p == amount
        assert 0 <= c <= creator_left and 0 <= p <= platform_left
        creator_left -= c
        platform_left -= p
        outstanding -= amount
    assert creator_left == platform_left == 0
