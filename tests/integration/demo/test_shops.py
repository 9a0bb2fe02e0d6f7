"""The demo's partner shops: simulators start, are registered as partners (idempotently),
and the demo creators' recommendations of their products are seeded once."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from shopwindow.demo import seed, shops
from shopwindow.partners import queries as partners_q
from shopwindow.showcase.models import Recommendation


def _recs(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Recommendation))


@pytest.fixture
def db_url(tmp_path) -> str:
    """SQLite only: the shops and the seed open their own connections."""
    return f"sqlite:///{tmp_path}/test.db"


def test_shops_start_register_and_seed_recommendations_once(settings, db, session):
    seed.seed_if_empty(settings, creators=4, fans=6, posts_per_creator=(1, 2),
                       with_images=False)
    running = shops.start_shops(settings, count=2, products=30, fixed_ports=False)
    try:
        assert [s.spec.name for s in running] == ["Lumen Mall", "Bamboo Market"]
        for shop in running:
            health = httpx.get(f"{shop.url}/healthz", timeout=5).json()
            assert health == {"ok": True, "name": shop.spec.name, "products": 30}
            p = partners_q.get_by_slug(session, shop.spec.slug)
            assert p.id == shop.partner_id and p.status == "active"
            assert p.postback_secret.startswith("whsec_")
            assert p.default_rate_bps == shop.spec.default_rate_bps
            assert any(d.host == "127.0.0.1" and d.port == shop.port for d in p.domains)
        secrets = {s.spec.slug: partners_q.get_by_slug(session, s.spec.slug).postback_secret
                   for s in running}
        assert len({s.admin_token for s in running}) == 2
        made = shops.seed_recommendations(settings, running, total=8)
        assert made == 8
        assert _recs(session) == made
        recs = session.scalars(select(Recommendation)).all()
        assert len({r.creator_id for r in recs}) >= 2
        assert all(r.post_id for r in recs)
        assert shops.seed_recommendations(settings, running, total=8) == 0  # only once
    finally:
        shops.stop_shops(running)

    # A second run reuses the stored partners and their secrets (maybe on other ports).
    again = shops.start_shops(settings, count=2, products=30, fixed_ports=False)
    try:
        session.expire_all()
        for shop in again:
            p = partners_q.get_by_slug(session, shop.spec.slug)
            assert p.id == shop.partner_id and p.postback_secret == secrets[shop.spec.slug]
            assert any(d.port == shop.port for d in p.domains)
        assert len(partners_q.list_partners(session)) == 2
        assert _recs(session) == made
    finally:
        shops.stop_shops(again)
