"""POST /partners/{slug}/postbacks: signed partner order events (plain Starlette route).

Answers (the simulator's delivery semantics, docs/partner-simulator.md):
* 200 `processed` / `stale` (an older snapshot, stored, changes nothing) / `duplicate`
  (webhook id already received: nothing changes);
* 401 bad or missing signature, timestamp outside the tolerance (not retried, nothing
  stored); 404 unknown partner; 413 body too large; 422 a verified but malformed event
  (stored as rejected);
* 503 when the database is busy (the partner retries).
A suspended partner's postbacks are still accepted: orders from earlier hand-offs count.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shopwindow.config import Settings
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import NotFound
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.partners import queries as partners_q
from shopwindow.tracking import actions, rules

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
PROBLEM = "application/problem+json"


def _problem(request: Request, status: int, code: str, title: str, detail: str) -> Response:
    return JSONResponse({"type": f"https://shopwindow.dev/problems/{code}", "title": title,
                         "status": status, "detail": detail, "instance": request.url.path,
                         "code": code}, status_code=status, media_type=PROBLEM)


def _partner(db: Database, slug: str) -> tuple[int, str] | None:
    with db.read_sessions() as s:
        try:
            p = partners_q.get_by_slug(s, slug)
        except NotFound:
            return None
        return int(p.id), p.postback_secret


def _duplicate(db: Database, partner_id: int, webhook_id: str) -> bool:
    with db.read_sessions() as s:
        return actions.is_duplicate(s, partner_id, webhook_id)


_sqlite_writer = threading.Lock()


def _ingest(db: Database, settings: Settings, partner_id: int, webhook_id: str,
            payload: Any) -> actions.PostbackResult:
    if db.is_sqlite:
        # SQLite has one writer: queueing here is far cheaper than 32 threads polling in
        # its busy handler (which sleeps in growing steps: seconds of tail latency).
        with _sqlite_writer:
            return _ingest_tx(db, settings, partner_id, webhook_id, payload)
    return _ingest_tx(db, settings, partner_id, webhook_id, payload)


def _ingest_tx(db: Database, settings: Settings, partner_id: int, webhook_id: str,
               payload: Any) -> actions.PostbackResult:
    with unit_of_work(db) as s:
        return actions.ingest_postback(
            s, partner_id=partner_id, webhook_id=webhook_id, payload=payload,
            take_rate_bps=settings.platform_take_rate_bps,
            attribution_rule=settings.attribution_rule)


async def receive(request: Request) -> Response:
    """Verify, deduplicate and ingest one partner postback."""
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    slug = request.path_params["slug"]
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return _problem(request, 413, "too_large", "Payload too large", "Body too large")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _problem(request, 413, "too_large", "Payload too large", "Body too large")
    found = await run_in_threadpool(_partner, db, slug)
    if found is None:
        return _problem(request, 404, "not_found", "Not found", "Unknown partner")
    partner_id, secret = found
    try:
        webhook_id = rules.verify_signature(secret, request.headers, body, utcnow(),
                                            settings.postback_tolerance_seconds)
    except rules.SignatureError as exc:
        log.info("postback for %s refused: %s", slug, exc.reason)
        return _problem(request, 401, "unauthorized", "Signature verification failed",
                        exc.reason)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {"raw": body[:1000].decode("utf-8", "replace")}
    try:
        # Replays are the common case of duplicates: answered from a read, no write lock.
        if await run_in_threadpool(_duplicate, db, partner_id, webhook_id):
            return JSONResponse({"status": "duplicate"})
        result = await run_in_threadpool(_ingest, db, settings, partner_id, webhook_id, payload)
    except OperationalError:
        log.warning("database busy while ingesting a postback for %s", slug)
        return _problem(request, 503, "unavailable", "Service busy", "Retry shortly")
    if result.status == "rejected":
        return _problem(request, 422, "invalid", "Invalid postback", result.reason or "")
    return JSONResponse({"status": result.status, "reason": result.reason,
                         "order_id": str(result.order_id) if result.order_id else None})
