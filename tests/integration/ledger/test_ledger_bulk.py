"""Set-based bookings (postback ingestion's path) on SQLite and PostgreSQL: same entries,
keys and balances as the one-at-a-time actions, idempotent per key."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shopwindow.core.errors import Conflict, RuleViolation
from shopwindow.ledger import actions as ledger
from shopwindow.ledger import queries
from shopwindow.ledger.models import LedgerEntry, LedgerPosting
from shopwindow.outbox.events import emitted

PARTNER, CREATOR = 11, 22


def _booking(key: str, amount: int) -> ledger.CommissionBooking:
    return ledger.CommissionBooking(key=key, partner_id=PARTNER, creator_id=CREATOR,
                                    currency="CNY", commission_minor=amount,
                                    take_rate_bps=2000, ref_type="order", ref_id=key)


def _state(session: Any, key: str) -> tuple[int, int, int]:
    st = queries.booking_state(session, queries.find_entry_id(session, key) or 0)
    return st.outstanding, st.creator_pending, st.platform_pending


def test_bulk_bookings_and_reversals_match_single_calls(uow: Any) -> None:
    with uow() as s:
        ledger.book_commission(s, key="single", partner_id=PARTNER, creator_id=CREATOR,
                               currency="CNY", commission_minor=1001, take_rate_bps=2000,
                               ref_type="order", ref_id="single")
        ledger.reverse_commission(s, key="single:r1", booking="single", amount_minor=333)
        ledger.reverse_commission(s, key="single:r2", booking="single", amount_minor=334)
    with uow() as s:
        ids = ledger.book_commissions(s, [_booking("bulk", 1001), _booking("bulk", 1001),
                                          _booking("other", 500)])
        revs = ledger.reverse_commissions(s, [
            ledger.CommissionReversal("bulk:r1", "bulk", 333),
            ledger.CommissionReversal("bulk:r2", "bulk", 334)])
        kinds = [e.payload["kind"] for e in emitted(s) if e.type == "ledger.entry_posted"]
    assert set(ids) == {"bulk", "other"} and set(revs) == {"bulk:r1", "bulk:r2"}
    assert kinds == ["commission_booked", "commission_booked", "refund_reversal",
                     "refund_reversal"]
    with uow() as s:
        assert _state(s, "bulk") == _state(s, "single") == (334, 267, 67)
        assert all(v == 0 for v in queries.trial_balance(s).values())
        n_entries = s.scalar(select(func.count()).select_from(LedgerEntry))
        n_postings = s.scalar(select(func.count()).select_from(LedgerPosting))
    assert n_entries == 6 + 1
    # Again, in another transaction: every key is known, nothing is posted.
    with uow() as s:
        assert ledger.book_commissions(s, [_booking("bulk", 1001)]) == {"bulk": ids["bulk"]}
        assert ledger.reverse_commissions(
            s, [ledger.CommissionReversal("bulk:r2", "bulk", 334)]) == \
            {"bulk:r2": revs["bulk:r2"]}
        assert emitted(s) == []
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(LedgerPosting)) == n_postings


def test_bulk_refuses_what_single_calls_refuse(uow: Any) -> None:
    with uow() as s:
        ledger.book_commissions(s, [_booking("b1", 100)])
    with pytest.raises(RuleViolation), uow() as s:
        ledger.reverse_commissions(s, [ledger.CommissionReversal("b1:r", "b1", 101)])
    with pytest.raises(Conflict), uow() as s:
        ledger.reverse_commissions(s, [ledger.CommissionReversal("b1", "b1", 10)])
    with uow() as s:
        assert _state(s, "b1") == (100, 80, 20)
