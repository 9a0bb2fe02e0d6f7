"""The demo's shoppers: over real HTTP, visitors click through the platform's hand-off,
buy at the partner-shop simulators and get refunds there; the shops' signed postbacks
make the orders, commissions and report figures — nothing written to the platform
directly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from shopwindow.analytics import aggregator
from shopwindow.analytics import queries as analytics_q
from shopwindow.demo import buyers, seed, shops
from shopwindow.ledger import queries as ledger_q
from shopwindow.showcase.models import Recommendation
from shopwindow.tracking.models import Order
from tests.partnersim.conftest import ServerThread, free_port


@pytest.fixture
def db_url(tmp_path) -> str:
    """SQLite only: the shops, the seed and the server open their own connections."""
    return f"sqlite:///{tmp_path}/test.db"


def test_shoppers_click_buy_and_refund_through_the_real_loop(settings: Any, db: Any) -> None:
    from shopwindow.app import create_app

    port = free_port()
    live = settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
    seed.seed_if_empty(live, creators=3, fans=4, posts_per_creator=(1, 1), with_images=False)
    running = shops.start_shops(live, count=2, products=20, fixed_ports=False)
    server = ServerThread(create_app(live, db=db), port=port).start()
    try:
        assert shops.seed_recommendations(live, running, total=6) == 6
        assert buyers.wait_until_up(server.url, timeout=10)
        assert not buyers.platform_has_clicks(db)
        recs = buyers.recommendation_ids(db)
        assert len(recs) == 6
        done = buyers.shop(server.url, recs, visits=12, buy_rate=0.5, refund_rate=0.5, seed=3)
        assert done.failed == 0 and done.clicks == 12
        assert done.orders >= 2 and done.refunds >= 1  # seed 3: some of each

        def orders() -> list[Any]:
            with db.read_sessions() as s:
                return list(s.scalars(select(Order)))

        deadline = time.monotonic() + 20  # the shops deliver postbacks from their outbox
        while time.monotonic() < deadline:
            got = orders()
            if len(got) == done.orders and sum(o.refunded_minor > 0 for o in got) == \
                    done.refunds:
                break
            time.sleep(0.2)
        got = orders()
        assert len(got) == done.orders
        assert all(o.attribution == "attributed" for o in got)
        assert sum(o.refunded_minor > 0 for o in got) == done.refunds

        def counted(metric: str) -> int:
            aggregator.drain(db)
            with db.read_sessions() as s:
                return analytics_q.rollup_total(s, "platform", 0, metric)

        # clicks and money become analytics events shortly after their commits (publishers)
        want = {"clicks": done.clicks, "orders": done.orders, "refunds": done.refunds}
        deadline = time.monotonic() + 20
        while any(counted(m) < n for m, n in want.items()) and time.monotonic() < deadline:
            time.sleep(0.2)
        with db.read_sessions() as s:
            assert analytics_q.rollup_total(s, "platform", 0, "clicks") == done.clicks
            assert analytics_q.rollup_total(s, "platform", 0, "orders") == done.orders
            assert analytics_q.rollup_total(s, "platform", 0, "refunds") == done.refunds
            assert all(v == 0 for v in ledger_q.trial_balance(s).values())
            assert s.scalar(select(func.count()).select_from(Order)) == done.orders
            # a post's clicks are its recommendations' clicks (as are its orders)
            by_post: dict[int, list[int]] = {}
            for rec in s.scalars(select(Recommendation)):
                by_post.setdefault(int(rec.post_id), []).append(int(rec.id))
            for post, rec_ids in by_post.items():
                for metric in ("clicks", "orders"):
                    assert analytics_q.rollup_total(s, "post", post, metric) == sum(
                        analytics_q.rollup_total(s, "recommendation", r, metric)
                        for r in rec_ids), (post, metric)
            assert sum(analytics_q.rollup_total(s, "post", p, "clicks")
                       for p in by_post) == done.clicks
        assert buyers.platform_has_clicks(db)  # a restarted demo sends no second wave
    finally:
        server.stop()
        shops.stop_shops(running)
