"""Partner actions on both databases: stored state, events, conflicts, URL resolution."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopwindow.core.errors import Conflict, Invalid, NotFound, RuleViolation
from shopwindow.outbox import OutboxEvent
from shopwindow.partners import actions, queries
from shopwindow.partners.models import Partner, PartnerDomain


def events(session, type_prefix="partner."):
    return [(e.type, e.payload) for e in session.scalars(
        select(OutboxEvent).order_by(OutboxEvent.id)) if e.type.startswith(type_prefix)]


def register_tmall(uow, **kw):
    with uow() as s:
        args = dict(slug="tmall", name="Tmall", domains=["tmall.com"], default_rate_bps=500,
                    category_rates={"beauty": 800}, attribution_window_days=7,
                    return_window_days=15, currency="CNY")
        args.update(kw)
        return actions.register_partner(s, **args).id


def test_register_stores_terms_domains_and_emits(uow, session):
    pid = register_tmall(uow)
    p = session.get(Partner, pid)
    assert (p.slug, p.name, p.status, p.tracking_param, p.product_source) == \
        ("tmall", "Tmall", "active", "sw_click", "markup")
    assert p.category_rates == {"beauty": 800} and p.default_rate_bps == 500
    assert p.postback_secret.startswith("whsec_")
    assert [(d.host, d.registrable, d.port, d.allow_subdomains) for d in p.domains] == \
        [("tmall.com", "tmall.com", 0, True)]
    evs = events(session)
    assert evs == [("partner.registered", {"partner_id": pid, "slug": "tmall",
                                           "domains": ["tmall.com"]})]
    assert "whsec_" not in str(evs)


def test_register_refuses_bad_input(uow, session):
    register_tmall(uow)
    cases = [
        (dict(slug="tmall"), Conflict, "slug"),
        (dict(slug="Bad Slug"), Invalid, "slug"),
        (dict(slug="b", domains=["com"]), Invalid, "domain"),
        (dict(slug="b", domains=["detail.tmall.com"]), Conflict, "domain"),
        (dict(slug="b", default_rate_bps=20_000), Invalid, "default_rate_bps"),
        (dict(slug="b", currency="cny"), Invalid, "currency"),
        (dict(slug="b", product_source="api"), Invalid, "api_base_url"),
        (dict(slug="b", postback_secret="nope"), Invalid, "postback_secret"),
        (dict(slug="b", return_window_days=400), Invalid, "return_window_days"),
        (dict(slug="b", name=" "), Invalid, "name"),
    ]
    for kw, exc, field in cases:
        with pytest.raises(exc) as ei, uow() as s:
            actions.register_partner(s, **{"name": "B", "domains": ["b-shop.com"], **kw})
        assert ei.value.field == field, kw
    assert session.scalar(select(Partner.id).where(Partner.slug == "b")) is None


def test_update_suspend_activate_rotate(uow, session):
    pid = register_tmall(uow)
    with uow() as s:
        p = queries.get_partner(s, pid)
        old_secret = p.postback_secret
        actions.update_partner(s, p, default_rate_bps=600, category_rates={"Digital": 200},
                               name="Tmall 天猫")
        with pytest.raises(Invalid):
            actions.update_partner(s, p, status="active")
    with uow() as s:
        p = queries.get_partner(s, pid)
        actions.suspend_partner(s, p)
        actions.suspend_partner(s, p)  # idempotent: one event
    session.expire_all()
    p = session.get(Partner, pid)
    assert p.status == "suspended" and p.suspended_at is not None
    assert p.category_rates == {"digital": 200} and p.name == "Tmall 天猫"
    with pytest.raises(RuleViolation):
        queries.require_active(session, pid)
    with uow() as s:
        p = queries.get_partner(s, pid)
        actions.activate_partner(s, p)
        new = actions.rotate_secret(s, p)
    session.expire_all()
    p = session.get(Partner, pid)
    assert p.status == "active" and p.suspended_at is None
    assert p.postback_secret == new != old_secret
    types = [t for t, _ in events(session)]
    assert types == ["partner.registered", "partner.updated", "partner.suspended",
                     "partner.activated", "partner.secret_rotated"]
    assert events(session)[1][1]["fields"] == ["category_rates", "default_rate_bps", "name"]
    assert new not in str(events(session))


def test_domains(uow, session):
    pid = register_tmall(uow)
    with uow() as s:
        p = queries.get_partner(s, pid)
        d = actions.add_domain(s, p, "tmall.hk", allow_subdomains=False)
        sim = actions.add_domain(s, p, "127.0.0.1:8101", allow_subdomains=True)
        did, sim_id = d.id, sim.id
    with uow() as s:
        other = actions.register_partner(s, slug="jd", name="JD", domains=["jd.com"])
        oid = other.id
        with pytest.raises(Conflict) as ei:
            actions.add_domain(s, other, "m.tmall.hk")
        assert ei.value.rule == "unique_registrable"
        with pytest.raises(Conflict) as ei:
            actions.add_domain(s, other, "127.0.0.1", port=8101)
        assert ei.value.rule == "unique"
        # Another simulator on the same IP, different port: a different partner is fine.
        actions.add_domain(s, other, "127.0.0.1:8102")
    rows = {(d.host, d.port, d.allow_subdomains, d.partner_id)
            for d in session.scalars(select(PartnerDomain))}
    assert ("127.0.0.1", 8101, False, pid) in rows and ("127.0.0.1", 8102, False, oid) in rows
    assert ("tmall.hk", 0, False, pid) in rows
    with uow() as s:
        p = queries.get_partner(s, pid)
        actions.remove_domain(s, p, did)
        with pytest.raises(NotFound):
            actions.remove_domain(s, p, did)
    with uow() as s, pytest.raises(NotFound):
        actions.remove_domain(s, queries.get_partner(s, oid), sim_id)
    assert session.get(PartnerDomain, did) is None
    types = [t for t, _ in events(session)]
    assert types.count("partner.domain_added") == 3 and types.count("partner.domain_removed") == 1


def test_resolve_product_url(uow, session):
    pid = register_tmall(uow, domains=["tmall.com", "127.0.0.1:8101"])
    with uow() as s:
        actions.register_partner(s, slug="shop", name="Shop", domains=["detail.shop.cn"],
                                 allow_subdomains=False)
    with uow() as s:
        p, url = actions.resolve_product_url(s, "HTTPS://Detail.TMALL.com./item?id=1")
        assert (p.id, url) == (pid, "https://detail.tmall.com/item?id=1")
        p, url = actions.resolve_product_url(s, "http://127.0.0.1:8101/p/1")
        assert p.id == pid
        assert actions.resolve_product_url(s, "https://detail.shop.cn/x")[0].slug == "shop"
        for raw, rule in [("https://tmall.com.evil.cn/x", "partner_domain"),
                          ("https://evil-tmall.com/x", "partner_domain"),
                          ("https://m.detail.shop.cn/x", "partner_domain"),
                          ("https://shop.cn/x", "partner_domain"),
                          ("http://127.0.0.1:8102/p/1", "partner_domain"),
                          ("http://127.0.0.1/p/1", "partner_domain"),
                          ("https://evil.com\\@tmall.com", "backslash"),
                          ("https://user@tmall.com/x", "userinfo"),
                          ("javascript:alert(1)", "scheme")]:
            with pytest.raises((Invalid, RuleViolation)) as ei:
                actions.resolve_product_url(s, raw)
            assert (ei.value.field, ei.value.rule) == ("url", rule), raw
    with uow() as s:
        actions.suspend_partner(s, queries.get_partner(s, pid))
    with uow() as s, pytest.raises(RuleViolation) as ei:
        actions.resolve_product_url(s, "https://tmall.com/item")
    assert (ei.value.field, ei.value.rule) == ("url", "partner_active")


def test_queries(uow, session):
    pid = register_tmall(uow)
    with uow() as s:
        actions.register_partner(s, slug="jd", name="JD", domains=["jd.com"])
        actions.suspend_partner(s, queries.get_by_slug(s, "jd"))
    assert [p.slug for p in queries.list_partners(session)] == ["jd", "tmall"]
    assert [p.slug for p in queries.list_partners(session, status="active")] == ["tmall"]
    assert queries.get_by_slug(session, "TMALL").id == pid
    assert queries.partner_for_host(session, "a.tmall.com").id == pid
    assert queries.partner_for_host(session, "tmall.com", 8443) is None
    assert queries.partner_for_host(session, "nottmall.com") is None
    assert queries.partner_for_host(session, "bad host!") is None
    with pytest.raises(NotFound):
        queries.get_partner(session, 12345)
    with pytest.raises(NotFound):
        queries.get_by_slug(session, "nope")
