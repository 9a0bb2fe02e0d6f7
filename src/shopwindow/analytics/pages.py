"""Report pages: /reports (own account), /reports/posts|recommendations|products/{id},
/ops/reports (platform). Server-rendered tables; reports.js draws charts and follows the
live stream."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.analytics import report_rules as rr
from shopwindow.analytics import reports
from shopwindow.analytics.api import RawQuery, object_id, parse_params, resolve_scope
from shopwindow.analytics.schemas import report_read
from shopwindow.core.errors import Invalid
from shopwindow.web.deps import DbSession, OptionalAuth
from shopwindow.web.pages.common import PageRoute, page, require_viewer
from shopwindow.web.pages.messages import message_for
from shopwindow.web.templating import request_locale

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DEFAULT_RANGE = "24h"
KEEP = ("from", "to", "range", "grain", "tz", "breakdown")


def _raw(request: Request) -> RawQuery:
    qp = request.query_params
    raw = RawQuery(from_=qp.get("from") or None, to=qp.get("to") or None,
                   range=qp.get("range") or None, grain=qp.get("grain") or None,
                   tz=qp.get("tz") or None, breakdown=qp.get("breakdown") or None)
    if raw.from_ is None and raw.range is None:
        raw.range = DEFAULT_RANGE
    return raw


def _render(request: Request, session: Session, spec: str, api_path: str) -> Response:
    viewer = require_viewer(getattr(request.state, "auth", None))
    scope = resolve_scope(session, viewer, spec)
    raw = _raw(request)
    errors: dict[str, str] = {}
    status = 200
    try:
        p = parse_params(request, raw)
    except Invalid as exc:
        # Inline error next to the offending field; the report falls back to the default.
        errors[exc.field or "base"] = message_for(exc)
        status = 422
        raw = RawQuery(range=DEFAULT_RANGE, tz=raw.tz if exc.field != "tz" else None)
        p = parse_params(request, raw)
    rep = reports.build(session, scope, p.window, breakdown_dim=p.breakdown)
    data = report_read(rep, request_locale(request))
    query = {k: v for k, v in (("from", raw.from_), ("to", raw.to), ("range", raw.range),
                               ("grain", raw.grain), ("tz", raw.tz),
                               ("breakdown", raw.breakdown)) if v}
    stream_scope = spec if spec != "account" else "account"
    chart_metrics = [m for m in rep.metrics if not rr.is_money(m)]

    def link(**change: str | None) -> str:
        q = {**query, **change}
        return request.url.path + "?" + urlencode({k: v for k, v in q.items() if v})

    return page(
        request, session, "analytics/report.html", status=status, nav="reports",
        rep=rep, data=data, raw=raw, errors=errors, link=link,
        # Live refreshes redraw figures and charts, not the top lists: skip computing them.
        api_url=api_path + "?" + urlencode({**query, "top": "0"}),
        csv_url=api_path + ".csv?" + urlencode(query),
        csv_top_url=api_path + ".csv?" + urlencode({**query, "table": "top"}),
        csv_breakdown_url=(api_path + ".csv?" + urlencode({**query, "table": "breakdown"})
                           if raw.breakdown else None),
        stream_url="/reports/stream?" + urlencode({"scope": stream_scope}),
        ranges=list(rr.RANGES), dims=rr.DIMENSIONS, grains=rr.GRAINS,
        chart_metrics=chart_metrics,
        chart_default=rr.default_chart_metric(chart_metrics, rep.totals.counts),
    )


@router.get("/reports")
def my_report_page(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """The signed-in account's report (creators and brands; anyone's own account)."""
    return _render(request, session, "account", "/api/sw/v1/reports/me")


@router.get("/ops/reports")
def platform_report_page(request: Request, session: DbSession,
                         auth: OptionalAuth) -> Response:
    """The operator's platform report (404 for everyone else)."""
    return _render(request, session, "platform", "/api/sw/v1/reports/platform")


def _object_page(kind: str, plural: str) -> None:
    def endpoint(request: Request, session: DbSession, auth: OptionalAuth,
                 id: str) -> Any:
        oid, _ = object_id(id)
        return _render(request, session, f"{kind}:{oid}", f"/api/sw/v1/reports/{plural}/{oid}")

    endpoint.__name__ = f"{kind}_report_page"
    endpoint.__doc__ = f"One {kind}'s report page (owner and operators; 404 otherwise)."
    router.get(f"/reports/{plural}/{{id}}")(endpoint)


for _kind, _plural in (("post", "posts"), ("recommendation", "recommendations"),
                       ("product", "products")):
    _object_page(_kind, _plural)
