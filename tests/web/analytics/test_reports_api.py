"""Reports API, pages and CSV against real rollups (SQLite and PostgreSQL).

Figures are hand-computed from rollup rows written here, or come through the real
pipeline (ingest → aggregator drain) for the time-zone case.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from shopwindow.analytics import actions as analytics
from shopwindow.analytics import aggregator
from shopwindow.analytics.models import Rollup
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import clock, utcnow
from shopwindow.showcase import actions as showcase
from shopwindow.social import actions as social
from tests.helpers import make_account, token_for
from tests.integration.partners.conftest import sim  # noqa: F401
from tests.web.pages.conftest import new_client  # noqa: F401
from tests.web.pages.util import HTML, field_error, sign_in
from tests.web.showcase.conftest import in_stock, partner_id, publish  # noqa: F401

API = "/api/sw/v1/reports"


@pytest.fixture
def world(uow: Any, sim: Any, partner_id: int, in_stock: list[dict[str, Any]],  # noqa: F811
          ) -> dict[str, Any]:
    ada = make_account(uow, "ada", role="creator")
    bea = make_account(uow, "bea", role="creator")
    fan = make_account(uow, "fan")
    ops = make_account(uow, "ops", role="operator")
    muzi = make_account(uow, "muzi", role="brand")
    rec = publish(uow, sim, ada, in_stock[:1])[0]
    with uow() as s:
        post = social.create_post(s, ada, text='=HYPERLINK("http://evil.example","x")').id
    from shopwindow.showcase import queries as showcase_q

    with uow() as s:
        product = showcase_q.get_recommendation(s, rec).product_id
    tokens = {n: token_for(uow, i, "read") for n, i in
              (("ada", ada), ("bea", bea), ("fan", fan), ("ops", ops),
                                                    ("muzi", muzi))}
    return {"ada": ada, "bea": bea, "fan": fan, "ops": ops, "muzi": muzi, "rec": rec,
            "post": post,
            "product": product, "tok": tokens}


def auth(w: dict[str, Any], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w['tok'][who]}"}


def day0() -> datetime:
    """Midnight UTC two days ago (inside every rollup horizon)."""
    return (utcnow() - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def rollups(uow: Any, rows: list[tuple[Any, ...]]) -> None:
    """(grain, bucket, entity_type, entity_id, metric, value[, dim, dim_value, currency]).

    Each hour row also counts into its UTC day's row, as the aggregator keeps them (day
    counters are the sum of their hours): reports read whole UTC days from day rows."""
    out: dict[tuple[Any, ...], int] = {}
    for r in rows:
        g, b, et, eid, metric, value, *rest = r
        dim, dv, cur = (rest + ["all", "", ""][len(rest):])[:3]
        out[(g, b, et, eid, metric, dim, dv, cur)] = value
        if g == "h":
            day = ("d", b.replace(hour=0), et, eid, metric, dim, dv, cur)
            out[day] = out.get(day, 0) + value
    with uow() as s:
        for (g, b, et, eid, metric, dim, dv, cur), value in out.items():
            s.add(Rollup(grain=g, bucket=b, entity_type=et, entity_id=eid, metric=metric,
                         dim=dim, dim_value=dv, currency=cur, value=value))


def test_account_report_math_and_local_days(analytics_uow: Any, client: Any, uow: Any, world: dict[str, Any],
                                            ) -> None:
    d, ada = day0(), world["ada"]
    h10, h20, nxt3 = d + timedelta(hours=10), d + timedelta(hours=20), d + timedelta(hours=27)
    rollups(analytics_uow, [
        ("h", h10, "creator", ada, "impressions", 400), ("h", h10, "creator", ada, "clicks", 20),
        ("h", h10, "creator", ada, "orders", 3), ("h", h10, "creator", ada, "profile_visits", 50),
        ("h", h10, "creator", ada, "follows", 5), ("h", h10, "creator", ada, "unfollows", 1),
        ("h", h10, "creator", ada, "gmv", 12345, "all", "", "CNY"),
        ("h", h10, "creator", ada, "gmv", 500, "all", "", "USD"),
        ("h", h20, "creator", ada, "clicks", 7),
        ("h", nxt3, "creator", ada, "impressions", 100),
        # not counted: another creator, minute rollups at day grain, a dimension row
        ("h", h10, "creator", world["bea"], "clicks", 999),
        ("m", h10, "creator", ada, "clicks", 20),
        ("h", h10, "creator", ada, "clicks", 20, "surface", "home"),
    ])
    q = {"from": d.date().isoformat(), "to": (d + timedelta(days=3)).date().isoformat(),
         "grain": "day"}
    r = client.get(f"{API}/me", params={**q, "tz": "UTC"}, headers=auth(world, "ada"))
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["range"]["day_basis"] == "local" and j["range"]["source_grain"] == "h"
    assert j["labels"] == [(d + timedelta(days=i)).date().isoformat() for i in range(3)]
    assert j["series"]["clicks"] == [27, 0, 0] and j["series"]["impressions"] == [400, 100, 0]
    assert j["totals"]["counts"]["clicks"] == 27 and j["totals"]["counts"]["impressions"] == 500
    assert j["derived"]["ctr"] == {"value": 27 / 500, "numerator": 27, "denominator": 500,
                                   "formatted": "5.40%"}
    assert j["derived"]["conversion_rate"]["numerator"] == 3
    assert j["derived"]["conversion_rate"]["denominator"] == 27
    assert j["derived"]["follow_rate"]["formatted"] == "10.00%"  # 5 / 50 profile visits
    assert j["derived"]["net_follows"]["value"] == 4
    gmv = {a["currency"]: a for a in j["totals"]["money"]["gmv"]}
    assert gmv["CNY"]["amount_minor"] == 12345 and gmv["CNY"]["formatted"] == "CN¥123.45"
    assert gmv["USD"]["amount_minor"] == 500 and j["money_series"]["gmv"]["CNY"] == [12345, 0, 0]
    assert j["live"] == [f"creator:{ada}"]
    # The viewer at UTC+8: 20:00 UTC is 04:00 the next local day; dates are local midnights.
    r = client.get(f"{API}/me", params={**q, "tz": "Asia/Shanghai"}, headers=auth(world, "ada"))
    j = r.json()
    assert j["range"]["start"] == (d - timedelta(hours=8)).isoformat()
    assert j["series"]["clicks"] == [20, 7, 0]
    # 03:00 UTC on day 1 is 11:00 local on day 1
    assert j["series"]["impressions"] == [400, 100, 0]
    # breakdown by surface uses only the dimension rows
    r = client.get(f"{API}/me", params={**q, "breakdown": "surface"}, headers=auth(world, "ada"))
    rows = r.json()["breakdown"]["rows"]
    assert [(x["value"], x["counts"]["clicks"]) for x in rows] == [("home", 20)]


def test_event_at_20_utc_is_next_local_day_through_the_pipeline(client: Any, db: Any, uow: Any,
                                                                world: dict[str, Any]) -> None:
    d, ada = day0(), world["ada"]
    clock.advance(d + timedelta(hours=20, seconds=30) - utcnow())
    try:
        analytics.ingest(db, [EventIn(type="click", object_type="recommendation",
                                      object_id=world["rec"], creator_id=ada,
                                      recommendation_id=world["rec"], surface="middle_page")])
    finally:
        clock.reset()
    aggregator.drain(db)
    q = {"from": d.date().isoformat(), "to": (d + timedelta(days=2)).date().isoformat(),
         "grain": "day"}
    for tz, want in (("UTC", [1, 0]), ("Asia/Shanghai", [0, 1]), ("America/New_York", [1, 0])):
        j = client.get(f"{API}/me", params={**q, "tz": tz}, headers=auth(world, "ada")).json()
        assert j["series"]["clicks"] == want, tz
    # the recommendation's own report and the creator's top list see it too
    j = client.get(f"{API}/recommendations/{world['rec']}", params=q,
                   headers=auth(world, "ada")).json()
    assert j["totals"]["counts"]["clicks"] == 1
    j = client.get(f"{API}/me", params=q, headers=auth(world, "ada")).json()
    assert [t["id"] for t in j["top"]["recommendations"]] == [str(world["rec"])]
    # live refreshes skip the top lists
    assert client.get(f"{API}/me", params={**q, "top": "0"},
                      headers=auth(world, "ada")).json()["top"] == {}
    # a creator's product report sums only their recommendations of it
    j = client.get(f"{API}/products/{world['product']}", params=q,
                   headers=auth(world, "ada")).json()
    assert j["totals"]["counts"]["clicks"] == 1 and j["live"] == [f"recommendation:{world['rec']}"]
    # ... and keeps the figures of a recommendation withdrawn since
    with uow() as s:
        showcase.delete_recommendation(s, world["ada"], world["rec"])
    j = client.get(f"{API}/products/{world['product']}", params=q,
                   headers=auth(world, "ada")).json()
    assert j["totals"]["counts"]["clicks"] == 1 and j["live"] == [f"recommendation:{world['rec']}"]
    # another creator has no report of the product: it is not theirs
    assert client.get(f"{API}/products/{world['product']}", params=q,
                      headers=auth(world, "bea")).status_code == 404


def test_only_owners_and_operators_see_reports(client: Any, uow: Any,
                                               world: dict[str, Any]) -> None:
    w = world
    owned = [f"/posts/{w['post']}", f"/recommendations/{w['rec']}", f"/products/{w['product']}",
             f"/accounts/{w['ada']}"]
    for path in owned:
        assert client.get(API + path, headers=auth(w, "ada")).status_code == 200, path
        assert client.get(API + path, headers=auth(w, "ops")).status_code == 200, path
        for who in ("bea", "fan", "muzi"):
            r = client.get(API + path, headers=auth(w, who))
            assert r.status_code == 404, (path, who)
            assert r.headers["content-type"].startswith("application/problem+json")
        # IDOR: another's object answers exactly like a missing one
        missing = path.rsplit("/", 1)[0] + "/4242424242"
        r2 = client.get(API + missing, headers=auth(w, "bea"))
        assert r2.status_code == 404 and r2.json()["detail"] == r.json()["detail"]
        assert client.get(API + path).status_code == 401
    # a brand (organisation account) has the same account report as a creator
    j = client.get(f"{API}/me", headers=auth(w, "muzi")).json()
    assert j["scope"] == {"kind": "account", "id": str(w["muzi"]), "title": "@muzi"}
    assert j["live"] == [f"creator:{w['muzi']}"]
    assert client.get(f"{API}/platform", headers=auth(w, "ada")).status_code == 404
    assert client.get(f"{API}/platform", headers=auth(w, "ops")).status_code == 200
    assert client.get(f"{API}/promotions/5", headers=auth(w, "ada")).status_code == 404
    assert client.get(f"{API}/posts/abc", headers=auth(w, "ada")).status_code == 404
    # a token without read scope is refused
    tok = token_for(uow, w["ada"], "write")
    r = client.get(f"{API}/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "scope"


BAD = [
    ({"grain": "week"}, "grain", "one_of"),
    ({"tz": "Mars/Base"}, "tz", "iana_time_zone"),
    ({"breakdown": "colour"}, "breakdown", "one_of"),
    ({"from": "yesterday"}, "from", "iso8601"),
    ({"from": "2026-12-05", "to": "2026-12-01"}, "from", "before_to"),
    ({"range": "2w"}, "range", "one_of"),
    ({"format": "xlsx"}, "format", "one_of"),
    ({"grain": "minute", "range": "7d"}, "grain", "minute_horizon"),
    ({"grain": "hour", "range": "90d"}, "grain", "max_span:hour"),
    ({"table": "breakdown"}, "breakdown", "required"),
    ({"top": "yes"}, "top", "one_of"),
]


def test_bad_parameters_are_problems_naming_the_field(client: Any, world: dict[str, Any],
                                                      ) -> None:
    for params, field, rule in BAD:
        r = client.get(f"{API}/me", params=params, headers=auth(world, "ada"))
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith("application/problem+json")
        err = r.json()["errors"][0]
        assert (err["field"], err["rule"]) == (field, rule), params


def test_csv_export_is_an_attachment_without_formulas(analytics_uow: Any, client: Any, uow: Any,
                                                      world: dict[str, Any]) -> None:
    d, pid = day0(), world["post"]
    rollups(analytics_uow, [("h", d + timedelta(hours=5), "post", pid, "reads", 9),
                  ("h", d + timedelta(hours=5), "post", pid, "reads", 9, "region", "=SUM(A1)"),
                  ("h", d + timedelta(hours=5), "post", pid, "gmv", -250, "all", "", "CNY")])
    q = {"from": d.date().isoformat(), "to": (d + timedelta(days=1)).date().isoformat(),
         "tz": "UTC"}
    r = client.get(f"{API}/posts/{pid}.csv", params=q, headers=auth(world, "ada"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == \
        f'attachment; filename="report-post-{pid}-{d.date().isoformat()}.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["report", "post", "'=HYPERLINK(\"http://evil.example\",\"x\")"]
    head = rows[2]
    assert head[0] == "bucket" and "gmv_CNY" in head
    total = dict(zip(head, rows[-1], strict=True))
    assert total["bucket"] == "total" and total["reads"] == "9" and total["gmv_CNY"] == "-2.50"
    assert sum(int(x[head.index("reads")]) for x in rows[3:-1]) == 9
    r2 = client.get(f"{API}/posts/{pid}", params={**q, "format": "csv"},
                    headers=auth(world, "ada"))
    assert r2.text == r.text
    r3 = client.get(f"{API}/posts/{pid}.csv", params={**q, "breakdown": "region",
                                                      "table": "breakdown"},
                    headers=auth(world, "ada"))
    rows = list(csv.reader(io.StringIO(r3.text)))
    assert rows[3][0] == "'=SUM(A1)" and rows[3][rows[2].index("reads")] == "9"
    assert client.get(f"{API}/posts/{pid}.csv", headers=auth(world, "bea")).status_code == 404


def test_report_pages_access_and_inline_errors(new_client: Any, world: dict[str, Any]  # noqa: F811
                                               ) -> None:
    c = new_client()
    sign_in(c, "ada")
    r = c.get("/reports", headers=HTML)
    assert r.status_code == 200 and 'id="report-data"' in r.text
    assert 'href="/reports"' in r.text  # navigation link for creators
    assert 'data-stream="/reports/stream?scope=account"' in r.text
    r = c.get(f"/reports/posts/{world['post']}", headers=HTML)
    assert r.status_code == 200
    assert "&#34;http://evil.example&#34;" in r.text or "&quot;" in r.text
    assert '<script>' not in r.text.split('id="report-data">')[1].split("</script>")[0]
    r = c.get("/reports?grain=week", headers=HTML)
    assert r.status_code == 422 and field_error(r.text, "r-grain")
    assert c.get("/ops/reports", headers=HTML).status_code == 404
    f = new_client()
    sign_in(f, "bea")
    for path in (f"/reports/posts/{world['post']}", f"/reports/products/{world['product']}",
                 f"/reports/recommendations/{world['rec']}"):
        assert f.get(path, headers=HTML).status_code == 404, path
    o = new_client()
    sign_in(o, "ops")
    r = o.get("/ops/reports", headers=HTML)
    assert r.status_code == 200 and "Top creators by GMV" in r.text
    assert 'href="/ops/reports"' in r.text
    z = new_client()
    sign_in(z, "ada")
    z.cookies.set("sw_locale", "zh-CN")
    html = z.get("/reports?grain=week", headers=HTML).text
    assert "账号报表" in html and "数据报表" in html
    assert field_error(html, "r-grain") == "粒度必须是分钟、小时或天"
    assert new_client().get("/reports", follow_redirects=False).status_code == 303


def test_report_page_is_wide_and_its_chart_opens_on_a_metric_with_data(
        analytics_uow: Any, new_client: Any, world: dict[str, Any]) -> None:  # noqa: F811
    import re

    def selected(html: str) -> str:
        picker = html.split('id="chart-metric"')[1].split("</select>")[0]
        found = re.search(r'<option value="([^"]+)" selected>', picker)
        assert found is not None, picker
        return found.group(1)

    c = new_client()
    sign_in(c, "ada")
    html = c.get("/reports?range=7d", headers=HTML).text
    assert '<main id="main" tabindex="-1" class="wide">' in html
    assert selected(html) == "clicks"  # nothing yet: the commerce signal
    h10 = day0() + timedelta(hours=10)
    rollups(analytics_uow, [("h", h10, "creator", world["ada"], "impressions", 40),
                            ("h", h10, "creator", world["ada"], "reads", 9)])
    assert selected(c.get("/reports?range=7d", headers=HTML).text) == "impressions"
    rollups(analytics_uow, [("h", h10, "creator", world["ada"], "clicks", 1),
                            ("h", h10, "post", world["post"], "reads", 9),
                            ("h", h10, "post", world["post"], "impressions", 30)])
    html = c.get("/reports?range=7d", headers=HTML).text
    assert selected(html) == "clicks"
    # top posts are ranked by reads, so their table shows them
    posts = html.split('id="top-posts"')[1].split("</section>")[0]
    assert "<th scope=\"col\">Reads</th>" in posts and "<td>9</td>" in posts
    # other pages keep the reading width
    assert 'class="wide"' not in c.get("/settings", headers=HTML).text


def test_platform_report_tops_by_hand(analytics_uow: Any, client: Any, uow: Any, world: dict[str, Any],
                                      partner_id: int) -> None:  # noqa: F811
    h = day0() + timedelta(hours=30)
    ada, bea, prod = world["ada"], world["bea"], world["product"]
    rollups(analytics_uow, [
        ("h", h, "platform", 0, "clicks", 14), ("h", h, "platform", 0, "orders", 2),
        ("h", h, "platform", 0, "gmv", 14000, "all", "", "CNY"),
        ("h", h, "partner", partner_id, "clicks", 5), ("h", h, "partner", 777, "clicks", 9),
        ("h", h, "partner", partner_id, "orders", 2),
        ("h", h, "creator", ada, "gmv", 5000, "all", "", "CNY"),
        ("h", h, "creator", bea, "gmv", 9000, "all", "", "CNY"),
        ("h", h, "creator", ada, "clicks", 10), ("h", h, "creator", bea, "clicks", 4),
        ("h", h, "product", prod, "clicks", 14),
        ("h", h, "product", prod, "gmv", 14000, "all", "", "CNY"),
        # outside the window: not counted anywhere
        ("h", h - timedelta(days=5), "creator", ada, "gmv", 10**6, "all", "", "CNY"),
    ])
    q = {"from": day0().date().isoformat(), "to": (day0() + timedelta(days=3)).date().isoformat(),
         "tz": "UTC"}
    j = client.get(f"{API}/platform", params=q, headers=auth(world, "ops")).json()
    assert j["totals"]["counts"]["clicks"] == 14
    assert j["totals"]["money"]["gmv"][0]["amount_minor"] == 14000
    assert j["derived"]["conversion_rate"]["formatted"] == "14.29%"  # 2 / 14
    top = j["top"]
    assert [(t["id"], t["name"], t["counts"]["clicks"]) for t in top["partners"]] == \
        [("777", "#777", 9), (str(partner_id), "Test Mall", 5)]
    assert [t["name"] for t in top["creators_by_gmv"]] == ["@bea", "@ada"]
    assert top["creators_by_gmv"][0]["money"]["gmv"][0]["amount_minor"] == 9000
    assert [t["name"] for t in top["creators_by_clicks"]] == ["@ada", "@bea"]
    assert [t["id"] for t in top["products_by_gmv"]] == [str(prod)]
    # the operator may read any account's report; the top list CSV carries the names
    j = client.get(f"{API}/accounts/{bea}", params=q, headers=auth(world, "ops")).json()
    assert j["totals"]["money"]["gmv"][0]["amount_minor"] == 9000
    r = client.get(f"{API}/platform.csv", params={**q, "table": "top"},
                   headers=auth(world, "ops"))
    rows = list(csv.reader(io.StringIO(r.text)))
    # "@…" would start a formula in some spreadsheets: neutralised like "=…"
    assert ["creators_by_gmv", "creator", str(bea), "'@bea"] in [x[:4] for x in rows]


def test_breakdown_of_a_minute_range_reads_the_hours_it_overlaps(analytics_uow: Any,
        client: Any, uow: Any, world: dict[str, Any]) -> None:
    """Dimensions have no minute rollups: a 30-minute window's series comes from minute
    buckets, its breakdown from the hour buckets the window overlaps."""
    ada = world["ada"]
    h10 = (utcnow() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    rollups(analytics_uow, [
        ("m", h10 + timedelta(minutes=5), "creator", ada, "clicks", 4),
        ("h", h10, "creator", ada, "clicks", 9, "surface", "home"),
        ("h", h10, "creator", ada, "clicks", 2, "surface", "discover"),
        ("h", h10 + timedelta(hours=1), "creator", ada, "clicks", 50, "surface", "home"),
    ])
    q = {"from": (h10 + timedelta(minutes=15)).isoformat(),
         "to": (h10 + timedelta(minutes=45)).isoformat(), "tz": "UTC", "breakdown": "surface"}
    r = client.get(f"{API}/me", params={**q, "grain": "minute"}, headers=auth(world, "ada"))
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["range"]["source_grain"] == "m"
    assert [(x["value"], x["counts"]["clicks"]) for x in j["breakdown"]["rows"]] == \
        [("home", 9), ("discover", 2)]
