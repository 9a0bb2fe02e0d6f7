"""Showcase actions against the real partner-shop simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from shopwindow.core.clock import clock
from shopwindow.core.errors import Forbidden, Invalid, NotFound, RuleViolation
from shopwindow.outbox.events import OutboxEvent
from shopwindow.partners import actions as partners
from shopwindow.showcase import actions, queries
from shopwindow.showcase.models import Product, Recommendation
from shopwindow.social.models import Post
from tests.helpers import make_account

REASON = "I have used it every day for a month"


@pytest.fixture
def partner_id(uow, sim):
    with uow() as s:
        return partners.register_partner(s, slug="testmall", name="Test Mall",
                                         domains=[f"127.0.0.1:{sim.port}"]).id


def admin(sim, product_id, **changes):
    r = httpx.post(f"{sim.url}/_admin/products/{product_id}", json=changes,
                   headers={"authorization": "Bearer adm"})
    assert r.status_code == 200, r.text


def events(session, etype):
    return [e.payload for e in session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == etype).order_by(OutboxEvent.id))]


def test_publish_from_a_simulator_url(uow, session, sim, partner_id):
    creator = make_account(uow, "ada", role="creator")
    p = next(x for x in sim.products() if x["availability"] == "InStock")
    with uow() as s:
        out = actions.publish(s, creator, [{"url": f"{sim.url}/p/{p['id']}?utm=x",
                                            "reason": REASON}], text="My pick")
        rec_id = out.recommendations[0].id
    prod = session.scalar(select(Product))
    assert (prod.partner_id, prod.external_id, prod.title, prod.price_minor, prod.stock,
            prod.gtin, prod.category) == (partner_id, p["id"], p["title"], p["price_minor"],
                                          p["stock"], p["gtin"], p["category"])
    rec = session.get(Recommendation, rec_id)
    assert (rec.creator_id, rec.title, rec.reason, rec.images, rec.post_id) == (
        creator, p["title"], REASON, p["images"], out.post_id)
    post = session.get(Post, out.post_id)
    assert "My pick" in post.text and REASON in post.text and f"/r/{rec_id}" in post.text
    evs = events(session, "showcase.recommendation_published")
    assert evs == [dict(recommendation_id=rec_id, creator_id=creator, product_id=prod.id,
                        partner_id=partner_id, post_id=out.post_id, category=p["category"],
                        price_minor=p["price_minor"], currency="CNY")]
    t = queries.get_recommendation_for_handoff(session, rec_id)
    assert t == queries.HandoffTarget(rec_id, creator, prod.id, partner_id,
                                      f"{sim.url}/p/{p['id']}", True)


def test_same_product_two_creators_is_one_product(uow, session, sim, partner_id):
    a = make_account(uow, "ada", role="creator")
    b = make_account(uow, "bo", role="brand")
    p = sim.products()[1]
    ids = []
    for who in (a, b):
        with uow() as s:
            ids.append(actions.publish(s, who, [{"url": f"{sim.url}/p/{p['id']}",
                                                 "reason": REASON,
                                                 "title": "Great linen thing"}])
                       .recommendations[0].id)
    assert session.scalar(select(func.count()).select_from(Product)) == 1
    detail = queries.recommendation_detail(session, ids[0])
    assert [o.rec.id for o in detail.others] == [ids[1]]
    assert detail.others[0].creator.username == "bo"


def test_nine_products_max_and_item_fields(uow, sim, partner_id):
    c = make_account(uow, "ada", role="creator")
    prods = sim.products()
    with uow() as s, pytest.raises(RuleViolation) as ei:
        actions.publish(s, c, [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON}
                               for p in prods[:10]])
    assert ei.value.rule == "max_products"
    with uow() as s, pytest.raises(RuleViolation) as ei:
        actions.publish(s, c, [{"url": f"{sim.url}/p/{prods[0]['id']}", "reason": REASON},
                               {"url": f"{sim.url}/p/{prods[1]['id']}", "reason": REASON,
                                "title": "dress dress dress"}])
    assert (ei.value.field, ei.value.rule) == ("items.1.title", "title_repeated_word")
    with uow() as s, pytest.raises(Invalid) as ei:
        actions.publish(s, c, [{"url": f"{sim.url}/p/{prods[0]['id']}", "reason": ""}])
    assert (ei.value.field, ei.value.rule) == ("items.0.reason", "reason_required")
    with uow() as s:
        out = actions.publish(s, c, [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON}
                                     for p in prods[:9]])
    assert [r.position for r in out.recommendations] == list(range(9))


def test_fans_cannot_publish_and_foreign_urls_are_refused(uow, session, sim, partner_id):
    fan = make_account(uow, "fan")
    c = make_account(uow, "ada", role="creator")
    p = sim.products()[0]
    with uow() as s, pytest.raises(Forbidden) as ei:
        actions.publish(s, fan, [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON}])
    assert ei.value.field == "role"
    with uow() as s, pytest.raises(RuleViolation) as ei:
        actions.preview_product(s, "https://shop.evil.example/p/1")
    assert (ei.value.field, ei.value.rule) == ("url", "partner_domain")
    with uow() as s, pytest.raises(RuleViolation) as ei:
        actions.publish(s, c, [{"url": "https://shop.evil.example/p/1", "reason": REASON}])
    assert ei.value.field == "items.0.url"
    assert session.scalar(select(func.count()).select_from(Post)) == 0


def test_refresh_marks_unavailable_and_emits_price_drop(uow, session, sim, partner_id):
    c = make_account(uow, "ada", role="creator")
    p = [x for x in sim.products() if x["availability"] == "InStock"][5]
    with uow() as s:
        rid = actions.publish(s, c, [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON}]
                              ).recommendations[0].id
    pid = session.get(Recommendation, rid).product_id
    admin(sim, p["id"], price_minor=p["price_minor"] - 100, stock=3)
    clock.advance(timedelta(hours=2))
    try:
        with uow() as s:
            assert actions.refresh_stale_products(s, timedelta(hours=1)) == {"updated": 1}
        session.expire_all()
        prod = session.get(Product, pid)
        assert (prod.price_minor, prod.stock, prod.available) == (p["price_minor"] - 100, 3,
                                                                  True)
        assert events(session, "showcase.price_dropped") == [dict(
            product_id=pid, partner_id=partner_id, old_price_minor=p["price_minor"],
            new_price_minor=p["price_minor"] - 100, currency="CNY")]
        # fresh products are not read again
        with uow() as s:
            assert actions.refresh_stale_products(s, timedelta(hours=1)) == {}
        admin(sim, p["id"], available=False)
        with uow() as s:
            assert actions.refresh_product(s, pid) == "updated"
        session.expire_all()
        assert session.get(Product, pid).available is False
        assert queries.get_recommendation_for_handoff(session, rid).available is False
        # a price rise is no drop
        admin(sim, p["id"], available=True, price_minor=p["price_minor"] + 500)
        with uow() as s:
            actions.refresh_product(s, pid)
        assert len(events(session, "showcase.price_dropped")) == 1
        # the partner says 404: gone
        with uow() as s:
            s.get(Product, pid).canonical_url = f"{sim.url}/p/99999999"
        with uow() as s:
            assert actions.refresh_product(s, pid) == "gone"
        session.expire_all()
        prod = session.get(Product, pid)
        assert (prod.available, prod.availability) == (False, "discontinued")
        assert events(session, "showcase.product_availability_changed")[-1] == dict(
            product_id=pid, partner_id=partner_id, available=False)
    finally:
        clock.reset()
        admin(sim, p["id"], available=True, price_minor=p["price_minor"], stock=p["stock"])


def test_bookmarks_cart_and_delete(uow, session, sim, partner_id):
    c = make_account(uow, "ada", role="creator")
    other = make_account(uow, "bo", role="creator")
    fan = make_account(uow, "fan")
    prods = [x for x in sim.products() if x["availability"] == "InStock"]
    with uow() as s:
        recs = [r.id for r in actions.publish(s, c, [
            {"url": f"{sim.url}/p/{p['id']}", "reason": REASON} for p in prods[:2]]
        ).recommendations]
    with uow() as s:
        assert actions.bookmark_product(s, fan, recs[0]) is True
        assert actions.bookmark_product(s, fan, recs[0]) is False
        actions.cart_add(s, fan, recs[0], 2)
        actions.cart_add(s, fan, recs[0], 1)
        actions.cart_add(s, fan, recs[1])
    assert [v.rec.id for _b, v in queries.bookmarks(session, fan)] == [recs[0]]
    cart = queries.cart(session, fan)
    assert [(ln.view.rec.id, ln.quantity) for g in cart.groups for ln in g.lines] == [
        (recs[0], 3), (recs[1], 1)]
    assert cart.groups[0].partner_name == "Test Mall"
    assert cart.totals[0].amount == 3 * prods[0]["price_minor"] + prods[1]["price_minor"]
    handoff = queries.cart_for_handoff(session, fan)
    assert [(t.recommendation_id, q) for t, q in handoff[partner_id]] == [(recs[0], 3),
                                                                          (recs[1], 1)]
    with uow() as s, pytest.raises(Invalid):
        actions.cart_add(s, fan, recs[0], 97)
    with uow() as s:
        actions.cart_set_quantity(s, fan, recs[0], 99)
    # another account cannot touch the fan's lines
    with uow() as s, pytest.raises(NotFound):
        actions.cart_set_quantity(s, other, recs[0], 1)
    with uow() as s, pytest.raises(NotFound):
        actions.cart_remove(s, other, recs[0])
    with uow() as s, pytest.raises(Forbidden):
        actions.delete_recommendation(s, other, recs[0])
    with uow() as s:
        actions.delete_recommendation(s, c, recs[0])
    assert [t.recommendation_id for t, _q in queries.cart_for_handoff(session, fan)[partner_id]
            ] == [recs[1]]
    assert queries.bookmarks(session, fan) == []
    with pytest.raises(NotFound):
        queries.get_recommendation_for_handoff(session, recs[0])
    assert events(session, "showcase.recommendation_deleted")[0]["recommendation_id"] == recs[0]
    with uow() as s:
        actions.cart_remove(s, fan, recs[1])
    assert queries.cart(session, fan).groups == []


def test_refresh_job_and_post_deletion_handler(uow, session, sim, partner_id):
    from shopwindow.jobs import handlers
    from shopwindow.social import actions as social

    c = make_account(uow, "ada", role="creator")
    p = [x for x in sim.products() if x["availability"] == "InStock"][7]
    with uow() as s:
        out = actions.publish(s, c, [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON}])
    rid = out.recommendations[0].id
    assert handlers.refresh_products() == {}
    clock.advance(timedelta(hours=2))
    try:
        assert handlers.refresh_products() == {"updated": 1}
    finally:
        clock.reset()
    # deleting the carrying post withdraws its recommendations (durable handler, idempotent)
    with uow() as s:
        social.delete_post(s, c, out.post_id)
    session.expire_all()
    assert session.get(Recommendation, rid).deleted_at is not None
    with uow() as s:
        assert actions.withdraw_for_post(s, out.post_id) == 0
