"""Property test: random sequences of bookings, partial refunds, settlements, refunds
after settlement and payouts across several creators, partners and currencies keep the
ledger balanced, append-only and equal to a simple model (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from shopwindow.core.clock import utcnow
from shopwindow.core.ids import new_id
from shopwindow.core.money import Money
from shopwindow.ledger import actions as ledger
from shopwindow.ledger import queries, rules
from shopwindow.ledger.models import LedgerPosting

CURRENCIES = ["CNY", "USD", "JPY"]


@dataclass
class Booking:
    id: int
    creator: int
    partner: int
    currency: str
    outstanding: int
    platform: int
    days: int
    settled: bool = False

    @property
    def creator_outstanding(self) -> int:
        return self.outstanding - self.platform


def test_ledger_matches_model_under_random_operations(uow, db):
    class LedgerMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            # Fresh owners per example: the database is shared across examples.
            base = new_id()
            self.creators = [base + 1, base + 2, base + 3]
            self.partners = [base + 11, base + 12]
            self.bookings: list[Booking] = []
            self.paid: dict[tuple[int, str], int] = defaultdict(int)
            self.postings: dict[int, tuple[int, int, int, str]] = {}
            self.n = 0

        def _key(self, what: str) -> str:
            self.n += 1
            return f"{what}:{self.creators[0]}:{self.n}"

        @rule(c=st.integers(0, 2), p=st.integers(0, 1), cur=st.sampled_from(CURRENCIES),
              commission=st.integers(1, 10**7), bps=st.integers(0, 10_000),
              days=st.integers(0, 30), replay=st.booleans())
        def book(self, c, p, cur, commission, bps, days, replay):
            key = self._key("book")
            for _ in range(2 if replay else 1):  # a replayed postback books nothing more
                with uow() as s:
                    e = ledger.book_commission(
                        s, key=key, partner_id=self.partners[p], creator_id=self.creators[c],
                        currency=cur, commission_minor=commission, take_rate_bps=bps,
                        ref_type="order", ref_id=key,
                        settle_after=utcnow() + timedelta(days=days))
            _, platform = rules.split_commission(commission, bps)
            self.bookings.append(Booking(e.id, self.creators[c], self.partners[p], cur,
                                         commission, platform, days))

        @precondition(lambda self: any(b.outstanding for b in self.bookings))
        @rule(data=st.data(), full=st.booleans())
        def refund(self, data, full):
            b = data.draw(st.sampled_from([b for b in self.bookings if b.outstanding]))
            amount = b.outstanding if full else data.draw(st.integers(1, b.outstanding))
            with uow() as s:
                e = ledger.reverse_commission(s, key=self._key("refund"), booking=b.id,
                                              amount_minor=None if full else amount)
                assert e is not None
            _, p = rules.split_reversal(amount, b.outstanding, b.platform)
            b.outstanding -= amount
            b.platform -= p

        @precondition(lambda self: any(not b.settled for b in self.bookings))
        @rule(data=st.data())
        def settle_one(self, data):
            b = data.draw(st.sampled_from([b for b in self.bookings if not b.settled]))
            with uow() as s:
                e = ledger.settle_commission(s, booking=b.id, force=True)
            assert (e is None) == (b.outstanding == 0)
            if e is not None:
                b.settled = True

        @rule(days=st.integers(0, 31))
        def settlement_job(self, days):
            with uow() as s:
                ledger.settle_due(s, now=utcnow() + timedelta(days=days, hours=1))
            for b in self.bookings:
                if not b.settled and b.outstanding and b.days <= days:
                    b.settled = True

        @rule(c=st.integers(0, 2), cur=st.sampled_from(CURRENCIES), data=st.data())
        def payout(self, c, cur, data):
            creator = self.creators[c]
            available = self._expected(creator, cur)[1]
            if available <= 0:
                return
            amount = data.draw(st.integers(1, available))
            with uow() as s:
                ledger.record_payout(s, key=self._key("payout"), creator_id=creator,
                                     currency=cur, amount_minor=amount)
            self.paid[(creator, cur)] += amount

        def _expected(self, creator: int, cur: str) -> tuple[int, int, int]:
            mine = [b for b in self.bookings if b.creator == creator and b.currency == cur]
            pending = sum(b.creator_outstanding for b in mine if not b.settled)
            earned = sum(b.creator_outstanding for b in mine if b.settled)
            paid = self.paid[(creator, cur)]
            return pending, earned - paid, paid

        @invariant()
        def ledger_is_balanced_and_append_only(self):
            with db.read_sessions() as s:
                assert all(v == 0 for v in queries.trial_balance(s).values())
                assert queries.unbalanced_entries(s) == []
                now = {r.id: (r.entry_id, r.account_id, r.amount, r.currency)
                       for r in s.scalars(select(LedgerPosting))}
            for pid, row in self.postings.items():
                assert now.get(pid) == row  # nothing changed or vanished
            assert len(now) >= len(self.postings)
            self.postings = now

        @invariant()
        def balances_match_model(self):
            with db.read_sessions() as s:
                for creator in self.creators:
                    got = queries.creator_balances(s, creator)
                    for cur in CURRENCIES:
                        bal = got.get(cur)
                        actual = ((bal.pending.amount, bal.available.amount,
                                   bal.paid_out.amount) if bal else (0, 0, 0))
                        assert actual == self._expected(creator, cur), (creator, cur)
                for partner in self.partners:
                    got_p = queries.partner_balances(s, partner)
                    for cur in CURRENCIES:
                        want = sum(b.outstanding for b in self.bookings
                                   if b.partner == partner and b.currency == cur)
                        assert got_p.get(cur, Money(0, cur)).amount == want
                for b in self.bookings:
                    st_ = queries.booking_state(s, b.id)
                    assert (st_.outstanding, st_.platform_outstanding) == (b.outstanding,
                                                                           b.platform)
                    if b.outstanding:
                        assert st_.settled == b.settled
                    # Settled bookings hold nothing in pending, unsettled nothing in available.
                    if st_.settled:
                        assert st_.creator_pending == st_.platform_pending == 0
                    else:
                        assert st_.creator_available == st_.platform_revenue == 0

    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=30, stateful_step_count=12, deadline=None))
