"""Reports API (/api/sw/v1/reports/…), CSV export and the live SSE stream (/reports/stream).

Thin: parse and validate parameters (problem+json naming `from`, `to`, `grain`, `tz`,
`breakdown`, `format`), authorise through `reports.*_scope`, build, serialise.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shopwindow.analytics import live, reports
from shopwindow.analytics import report_rules as rr
from shopwindow.analytics.schemas import ReportRead, csv_table, report_read
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Invalid, NotFound, Unauthorized
from shopwindow.db.engine import Database
from shopwindow.web.deps import DbSession, resolve_auth, user
from shopwindow.web.errors import problem_responses
from shopwindow.web.templating import request_locale

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/sw/v1/reports", tags=["reports"])
stream_router = APIRouter(tags=["reports"])
ERRORS = problem_responses(401, 403, 404, 422)
SCOPE = "read:statistics"
TZ_COOKIE = "sw_tz"
HEARTBEAT_SECONDS = 15.0
STREAM_MAX_SECONDS = 300.0  # EventSource reconnects by itself; bounds a stream's lifetime
Viewer = Annotated[Any, Depends(user(SCOPE))]


@dataclass(slots=True)
class RawQuery:
    """The report query string, unvalidated (validation names fields in problem+json)."""

    from_: str | None = None
    to: str | None = None
    range: str | None = None
    grain: str | None = None
    tz: str | None = None
    breakdown: str | None = None
    format: str | None = None
    table: str | None = None
    top: str | None = None


def report_query(
    from_: Annotated[str | None, Query(alias="from", description="ISO date or date-time "
                                       "(dates are local midnights in `tz`)")] = None,
    to: Annotated[str | None, Query(description="ISO date or date-time, exclusive "
                                    "(default: now)")] = None,
    range: Annotated[str | None, Query(description="instead of from/to: the last 1h, 3h, "
                                       "24h, 7d, 30d, 90d or 365d")] = None,
    grain: Annotated[str | None, Query(description="minute | hour | day "
                                       "(default: chosen from the range)")] = None,
    tz: Annotated[str | None, Query(description="IANA time zone of the viewer "
                                    "(default: the sw_tz cookie, else UTC)")] = None,
    breakdown: Annotated[str | None, Query(description="surface | follower | vertical | "
                                           "region | device | lang")] = None,
    format: Annotated[str | None, Query(description="json (default) | csv")] = None,
    top: Annotated[str | None, Query(description="1 (default): include top lists; 0: skip "
                                     "them (live refreshes)")] = None,
    table: Annotated[str | None, Query(description="CSV table: series (default) | "
                                       "breakdown | top")] = None,
) -> RawQuery:
    """Dependency: the raw report query."""
    return RawQuery(from_, to, range, grain, tz, breakdown, format, table, top)


RQ = Annotated[RawQuery, Depends(report_query)]


@dataclass(slots=True)
class Params:
    """Validated report parameters."""

    window: rr.Window
    breakdown: str | None
    csv: bool
    table: str
    tops: bool = True


def cookie_zone(request: Request) -> ZoneInfo:
    """The zone the page script stored in the sw_tz cookie (UTC when absent or unknown)."""
    try:
        return rr.parse_tz(unquote(request.cookies.get(TZ_COOKIE) or "") or "UTC")
    except Invalid:
        return rr.parse_tz("UTC")


def parse_params(request: Request, q: RawQuery, *, csv_suffix: bool = False) -> Params:
    """Validate query parameters; every error names its field and rule."""
    zone = rr.parse_tz(q.tz) if q.tz else cookie_zone(request)
    now = utcnow()
    start = rr.parse_instant(q.from_, zone, "from") if q.from_ else None
    end = rr.parse_instant(q.to, zone, "to") if q.to else None
    if start is None and q.range:
        start = (end or now) - rr.parse_range(q.range)
    if start is not None and end is None and start >= now:
        raise Invalid("`from` is in the future", field="from", rule="not_future")
    g = (q.grain or "").strip().lower() or None
    window = rr.make_window(start=start, end=end, grain=g, tz=zone, now=now)
    if q.breakdown is not None and q.breakdown not in rr.DIMENSIONS:
        raise Invalid("breakdown must be one of " + ", ".join(rr.DIMENSIONS),
                      field="breakdown", rule="one_of")
    f = (q.format or ("csv" if csv_suffix else "json")).lower()
    if f not in ("json", "csv"):
        raise Invalid("format must be json or csv", field="format", rule="one_of")
    t = q.table or "series"
    if t not in ("series", "breakdown", "top"):
        raise Invalid("table must be series, breakdown or top", field="table", rule="one_of")
    if t == "breakdown" and q.breakdown is None:
        raise Invalid("table=breakdown needs a breakdown dimension", field="breakdown",
                      rule="required")
    if q.top not in (None, "0", "1"):
        raise Invalid("top must be 0 or 1", field="top", rule="one_of")
    tops = t == "top" if f == "csv" else q.top != "0"
    return Params(window, q.breakdown, f == "csv", t, tops)


def object_id(raw: str, field: str = "id") -> tuple[int, bool]:
    """A decimal id from the path (with an optional `.csv` suffix), else NotFound."""
    suffix = raw.endswith(".csv")
    s = raw[:-4] if suffix else raw
    if not s.isdigit() or len(s) > 19 or int(s) >= 1 << 63:
        raise NotFound("Not found", field=field, rule="exists")
    return int(s), suffix


def resolve_scope(session: Session, viewer: Any, spec: str) -> reports.Scope:
    """A scope from 'account', 'account:ID', 'post:ID', 'recommendation:ID', 'product:ID',
    'promotion:ID' or 'platform' (what the SSE stream and pages pass around)."""
    kind, _, raw = (spec or "account").partition(":")
    if kind == "platform" and not raw:
        return reports.platform_scope(viewer)
    if kind == "account" and not raw:
        return reports.account_scope(session, viewer)
    builders = {"account": lambda i: reports.account_scope(session, viewer, i),
                "post": lambda i: reports.post_scope(session, viewer, i),
                "recommendation": lambda i: reports.recommendation_scope(session, viewer, i),
                "product": lambda i: reports.product_scope(session, viewer, i),
                "promotion": lambda i: reports.promotion_scope(session, viewer, i)}
    if kind not in builders:
        raise Invalid("Unknown report scope", field="scope", rule="one_of")
    oid, _ = object_id(raw, "scope")
    return builders[kind](oid)


def respond(request: Request, session: Session, scope: reports.Scope, p: Params) -> Any:
    """Build the report; JSON, or CSV as an attachment."""
    rep = reports.build(session, scope, p.window, breakdown_dim=p.breakdown,
                        with_tops=p.tops)
    if not p.csv:
        return report_read(rep, request_locale(request))
    buf = io.StringIO()
    csv.writer(buf).writerows(rr.csv_rows(csv_table(rep, p.table)))
    name = "-".join(filter(None, ["report", scope.kind,
                                  str(scope.object_id) if scope.object_id else "",
                                  p.table if p.table != "series" else "",
                                  p.window.start.astimezone(p.window.tz).date().isoformat()]))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{rr.filename_part(name)}.csv"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def _route(path: str, summary: str) -> Any:
    return router.get(path, response_model=ReportRead, responses=ERRORS, summary=summary)


@router.get("/me.csv", include_in_schema=False)
def my_report_csv(request: Request, session: DbSession, viewer: Viewer, q: RQ) -> Any:
    """The caller's account report as CSV."""
    p = parse_params(request, q, csv_suffix=True)
    return respond(request, session, reports.account_scope(session, viewer), p)


@_route("/me", "The caller's account report (creator or brand)")
def my_report(request: Request, session: DbSession, viewer: Viewer, q: RQ) -> Any:
    """Followers, posts, recommendations and earnings of the caller's account."""
    return respond(request, session, reports.account_scope(session, viewer),
                   parse_params(request, q))


@router.get("/platform.csv", include_in_schema=False)
def platform_report_csv(request: Request, session: DbSession, viewer: Viewer, q: RQ) -> Any:
    """The platform report as CSV."""
    p = parse_params(request, q, csv_suffix=True)
    return respond(request, session, reports.platform_scope(viewer), p)


@_route("/platform", "The platform report (operators)")
def platform_report(request: Request, session: DbSession, viewer: Viewer, q: RQ) -> Any:
    """Platform GMV, clicks and orders by partner, top creators and products."""
    return respond(request, session, reports.platform_scope(viewer), parse_params(request, q))


def _object_route(kind: str, plural: str) -> None:
    def endpoint(request: Request, session: DbSession, viewer: Viewer, id: str,
                 q: RQ) -> Any:
        oid, suffix = object_id(id)
        p = parse_params(request, q, csv_suffix=suffix)
        return respond(request, session, resolve_scope(session, viewer, f"{kind}:{oid}"), p)

    endpoint.__name__ = f"{kind}_report"
    endpoint.__doc__ = (f"One {kind}'s report (its owner and operators; 404 for anyone "
                        f"else). Append .csv or pass format=csv for a CSV export.")
    _route(f"/{plural}/{{id}}", f"One {kind}'s report")(endpoint)


for _kind, _plural in (("account", "accounts"), ("post", "posts"),
                       ("recommendation", "recommendations"), ("product", "products"),
                       ("promotion", "promotions")):
    _object_route(_kind, _plural)


# ------------------------------------------------------------------ live stream


def _authorise_stream(request: Request, spec: str) -> set[tuple[str, int]]:
    db: Database = request.app.state.db
    with db.read_sessions() as s:
        auth = resolve_auth(request, s)
        if auth is None:
            raise Unauthorized("Sign in to follow a report live", field="authorization",
                               rule="required")
        viewer = auth.require(SCOPE)
        return resolve_scope(s, viewer, spec).keys


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@stream_router.get("/reports/stream", responses=ERRORS,
                   response_class=StreamingResponse)
async def report_stream(request: Request,
                        scope: Annotated[str, Query(max_length=40)] = "account") -> Any:
    """Server-sent events: `update` (with the changed entity keys) about a second after
    events of the report's entities are aggregated; a comment heartbeat every 15 s."""
    keys = await run_in_threadpool(_authorise_stream, request, scope)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[set[tuple[str, int]]] = asyncio.Queue(maxsize=256)

    def put(hit: set[tuple[str, int]]) -> None:
        if not queue.full():
            queue.put_nowait(hit)

    def listener(changed: set[tuple[str, int]]) -> None:
        hit = changed & keys
        if hit:
            loop.call_soon_threadsafe(put, hit)

    async def events() -> Any:
        live.add_listener(listener)
        try:
            yield "retry: 2000\n" + _sse("ready", {"keys": sorted(f"{t}:{i}" for t, i in keys)})
            deadline = loop.time() + STREAM_MAX_SECONDS
            while loop.time() < deadline:
                if await request.is_disconnected():
                    break
                try:
                    hit = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                while not queue.empty():
                    hit |= queue.get_nowait()
                yield _sse("update", {"keys": sorted(f"{t}:{i}" for t, i in hit)})
        finally:
            live.remove_listener(listener)

    return StreamingResponse(events(), media_type="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
