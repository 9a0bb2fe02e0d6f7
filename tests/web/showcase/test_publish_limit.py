"""No screen flooding: a per-creator limit of recommendations per 24 hours, refused with a
rule_violation naming the rule in the API and inline on the publisher page."""

from __future__ import annotations

from datetime import timedelta

from shopwindow.config import get_settings
from shopwindow.core.clock import clock
from tests.web.pages.util import HTML, csrf_of, sign_in
from tests.web.showcase.conftest import REASON, publish
from tests.web.showcase.test_api import bearer


def test_daily_publish_limit_in_api_and_page(client, new_client, uow, sim, partner_id,
                                             creator, in_stock, monkeypatch):
    monkeypatch.setenv("SHOPWINDOW_RECOMMENDATIONS_PER_DAY", "2")
    get_settings.cache_clear()
    clock.reset()
    try:
        publish(uow, sim, creator, in_stock[:1])
        url = f"{sim.url}/p/{in_stock[1]['id']}"
        # Two more in one post would make three: refused as a whole, nothing published.
        r = client.post("/api/sw/v1/showcase/recommendations", headers=bearer(uow, creator),
                        json={"items": [{"url": url, "reason": REASON},
                                        {"url": f"{sim.url}/p/{in_stock[2]['id']}",
                                         "reason": REASON}]})
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        err = r.json()["errors"][0]
        assert (r.json()["code"], err["field"], err["rule"]) == (
            "rule_violation", "items", "max_recommendations_per_day")
        assert "at most 2" in r.json()["detail"] and "1 left" in r.json()["detail"]
        publish(uow, sim, creator, in_stock[1:2])  # the second one is within the limit
        c = new_client()
        sign_in(c, "ada")
        tok = csrf_of(c.get("/publish", headers=HTML).text)
        form = {"csrf_token": tok, "op": "publish", "count": "1",
                "url_0": f"{sim.url}/p/{in_stock[2]['id']}", "title_0": "Linen dress",
                "reason_0": REASON, "visibility": "public"}
        page = c.post("/publish", data=form, headers=HTML)
        assert page.status_code == 422 and "No screen flooding" in page.text
        # 24 hours later the window has moved on.
        clock.advance(timedelta(hours=24, minutes=1))
        ok = c.post("/publish", data=form, headers=HTML, follow_redirects=False)
        assert ok.status_code == 303, ok.text[:500]
    finally:
        clock.reset()
        get_settings.cache_clear()
