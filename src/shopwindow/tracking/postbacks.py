"""POST /partners/{slug}/postbacks: signed partner order events (plain Starlette route).

Answers (the simulator's delivery semantics, docs/partner-simulator.md):
* 200 `processed` / `stale` (an older snapshot, stored, changes nothing) / `duplicate`
  (webhook id already received: nothing changes);
* 401 bad or missing signature, timestamp outside the tolerance (not retried, nothing
  stored); 404 unknown partner; 413 body too large; 422 a verified but malformed event
  (stored as rejected);
* 503 when the database is busy or failed (the partner retries).
A suspended partner's postbacks are still accepted: orders from earlier hand-offs count.

Ingestion is group-committed (`PostbackIngester`): the request verifies the signature
and timestamp, answers exact replays it has already seen from memory, and hands the
event to one ingester thread, which ingests every event waiting at that moment in ONE
transaction (`tracking.actions.ingest_postbacks`, set-based). The answer is sent only
after that transaction committed: an acknowledged postback survives a crash. See
docs/tracking.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from shopwindow.config import Settings
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import NotFound
from shopwindow.db.engine import Database
from shopwindow.db.uow import AFTER_COMMIT_KEY
from shopwindow.outbox import DomainEvent, subscribe_live
from shopwindow.partners import queries as partners_q
from shopwindow.tracking import actions, rules
from shopwindow.tracking.group_commit import GroupCommitter
from shopwindow.web.middleware import SECURITY_HEADERS

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
PROBLEM = "application/problem+json"
MAX_BATCH = 256
SEEN_MAX = 200_000
PARTNER_TTL = 5.0

_Key = tuple[int, str]
_Job = tuple[actions.PostbackIn, Future[actions.PostbackResult]]


def _problem(path: str, status: int, code: str, title: str,
             detail: str) -> tuple[int, dict[str, Any]]:
    return status, {"type": f"https://shopwindow.dev/problems/{code}", "title": title,
                    "status": status, "detail": detail, "instance": path, "code": code}


class PostbackIngester(GroupCommitter[_Job, Callable[[], None]]):
    """Group commit for postbacks: one transaction for every event waiting right now.

    `submit(item)` returns (future, copy): the future resolves with the item's
    `PostbackResult` once the batch holding it has committed. `copy` is True when the same
    (partner, webhook id) is already in flight: the caller shares that future and answers
    `duplicate`. Webhook ids committed by this process are remembered (bounded) so exact
    replays are answered without touching the database; anything else is decided by the
    database's unique keys, so idempotency also holds across processes.
    """

    name = "postback-ingester"
    max_batch = MAX_BATCH

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db)
        self.settings = settings
        self._inflight: dict[_Key, Future[actions.PostbackResult]] = {}
        self._seen: OrderedDict[_Key, None] = OrderedDict()
        self._partners: dict[str, tuple[int, str, float]] = {}
        self._terms: dict[int, tuple[actions.PartnerTerms, float]] = {}
        self._creators: dict[int, bool] = {}
        self._creators_until = 0.0
        self.batches = 0
        self.events = 0
        _ingesters.add(self)

    # ---------------------------------------------------------------- partner secrets

    def partner(self, slug: str, *, fresh: bool = False) -> tuple[int, str] | None:
        """(partner id, postback secret) by slug, cached PARTNER_TTL seconds (blocking)."""
        hit = self._partners.get(slug)
        if hit is not None and not fresh and hit[2] > time.monotonic():
            return hit[0], hit[1]
        with self.db.read_sessions() as s:
            try:
                p = partners_q.get_by_slug(s, slug)
            except NotFound:
                self._partners.pop(slug, None)
                return None
            found = int(p.id), p.postback_secret
        if len(self._partners) > 10_000:
            self._partners.clear()
        self._partners[slug] = (*found, time.monotonic() + PARTNER_TTL)
        return found

    def cached_partner(self, slug: str) -> tuple[int, str] | None:
        """The cached (id, secret) if still fresh, without touching the database."""
        hit = self._partners.get(slug)
        return (hit[0], hit[1]) if hit is not None and hit[2] > time.monotonic() else None

    def forget_partners(self) -> None:
        self._partners.clear()
        self._terms.clear()

    # ---------------------------------------------------------------- ingestion

    def seen(self, partner_id: int, webhook_id: str) -> bool:
        """True if this process committed this webhook id already (an exact replay)."""
        return (partner_id, webhook_id[:128]) in self._seen

    def submit(self, item: actions.PostbackIn) -> tuple[Future[actions.PostbackResult], bool]:
        key = (item.partner_id, item.webhook_id[:128])
        with self._lock:
            fut = self._inflight.get(key)
            if fut is not None:
                return fut, True
            fut = Future()
            self._inflight[key] = fut
        self._put((item, fut))
        return fut, False

    def _commit(self, batch: list[_Job]) -> None:
        session = self.db.sessions()
        # Whether a creator is deleted, shared across batches for PARTNER_TTL seconds (a
        # lookup per batch was one of its ~20 statements); a deletion counts for orders
        # ingested a few seconds later at most.
        now = time.monotonic()
        if now >= self._creators_until:
            self._creators, self._creators_until = {}, now + PARTNER_TTL
        session.info[actions.CREATORS_KEY] = self._creators
        try:
            results = actions.ingest_postbacks(
                session, [item for item, _ in batch],
                take_rate_bps=self.settings.platform_take_rate_bps,
                attribution_rule=self.settings.attribution_rule,
                terms=self._terms_for(session, {item.partner_id for item, _ in batch}))
            session.commit()
        except Exception as exc:
            session.rollback()
            session.info.pop(AFTER_COMMIT_KEY, None)
            session.close()
            if len(batch) > 1:
                # One poisonous event (or a deadlock between processes) must not fail the
                # others: ingest each alone, each in its own transaction.
                log.warning("postback batch of %d failed (%s); retrying one by one",
                            len(batch), type(exc).__name__)
                for job in batch:
                    self._commit([job])
                return
            log.exception("postback ingestion failed")
            self._finish(batch, None, exc)
            return
        hooks = session.info.pop(AFTER_COMMIT_KEY, [])
        session.close()
        self.batches += 1
        self.events += len(batch)
        # Committed: answer first, then publish the batch's events on the publisher thread
        # (one job per durable subscriber and event must not hold up the next batch; the
        # outbox sweeper re-publishes what a crash leaves undispatched).
        self._finish(batch, results, None)
        if hooks:
            self._defer(hooks)

    def _terms_for(self, session: Session,
                   partner_ids: set[int]) -> dict[int, actions.PartnerTerms]:
        # Partner terms change rarely; reading the row (and its domains) per batch was a
        # tenth of ingestion's CPU. Same TTL and invalidation as the secrets.
        now = time.monotonic()
        out: dict[int, actions.PartnerTerms] = {}
        for pid in partner_ids:
            hit = self._terms.get(pid)
            if hit is None or hit[1] <= now:
                hit = (actions.partner_terms(session, pid), now + PARTNER_TTL)
                self._terms[pid] = hit
            out[pid] = hit[0]
        return out

    def _publish(self, work: list[Callable[[], None]]) -> None:
        for fn in work:
            try:
                fn()
            except Exception:
                log.exception("publishing postback events failed (the sweeper retries)")

    def _finish(self, batch: list[_Job], results: list[actions.PostbackResult] | None,
                exc: BaseException | None) -> None:
        with self._lock:
            for item, _ in batch:
                key = (item.partner_id, item.webhook_id[:128])
                self._inflight.pop(key, None)
                if results is not None:
                    self._seen[key] = None
            while len(self._seen) > SEEN_MAX:
                self._seen.popitem(last=False)
        for n, (_, fut) in enumerate(batch):
            if results is not None:
                fut.set_result(results[n])
            else:
                fut.set_exception(exc or RuntimeError("postback ingestion failed"))


_ingesters: weakref.WeakSet[PostbackIngester] = weakref.WeakSet()


def _partner_changed(_ev: DomainEvent) -> None:
    for ing in list(_ingesters):
        ing.forget_partners()


for _etype in ("partner.secret_rotated", "partner.updated", "partner.registered"):
    subscribe_live(_etype, _partner_changed)


def _verify(settings: Settings, secret: str, headers: dict[str, str], body: bytes) -> str:
    return rules.verify_signature(secret, headers, body, utcnow(),
                                  settings.postback_tolerance_seconds)


_WANTED = {b"content-length", b"webhook-id", b"webhook-timestamp", b"webhook-signature"}


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers postbacks read (lower-case names; the last one wins)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k.lower() in _WANTED}


def _too_large(path: str) -> tuple[int, dict[str, Any]]:
    return _problem(path, 413, "too_large", "Payload too large", "Body too large")


def _declared_too_large(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "")
    return length.isdigit() and int(length) > MAX_BODY


async def answer(ingester: PostbackIngester, settings: Settings, slug: str, path: str,
                 headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """Verify, deduplicate and ingest one partner postback (acknowledged after commit):
    the HTTP status and JSON body to answer with (a problem document for errors)."""
    if len(body) > MAX_BODY:
        return _too_large(path)
    found = ingester.cached_partner(slug)
    cached = found is not None
    if found is None:
        found = await run_in_threadpool(ingester.partner, slug)
    if found is None:
        return _problem(path, 404, "not_found", "Not found", "Unknown partner")
    try:
        try:
            webhook_id = _verify(settings, found[1], headers, body)
        except rules.SignatureError as exc:
            if not cached or exc.reason != "bad_signature":
                raise
            # The secret may have been rotated by another process: check the stored one.
            found = await run_in_threadpool(lambda: ingester.partner(slug, fresh=True))
            if found is None:
                return _problem(path, 404, "not_found", "Not found", "Unknown partner")
            webhook_id = _verify(settings, found[1], headers, body)
    except rules.SignatureError as exc:
        log.info("postback for %s refused: %s", slug, exc.reason)
        return _problem(path, 401, "unauthorized", "Signature verification failed",
                        exc.reason)
    partner_id = found[0]
    if ingester.seen(partner_id, webhook_id):
        return 200, DUPLICATE
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = {"raw": body[:1000].decode("utf-8", "replace")}
    fut, copy = ingester.submit(actions.PostbackIn(partner_id, webhook_id, payload))
    try:
        result = await asyncio.wrap_future(fut)
    except OperationalError:
        log.warning("database busy while ingesting a postback for %s", slug)
        return _problem(path, 503, "unavailable", "Service busy", "Retry shortly")
    except Exception:
        return _problem(path, 503, "unavailable", "Ingestion failed", "Retry shortly")
    if copy:
        return 200, DUPLICATE
    if result.status == "rejected":
        return _problem(path, 422, "invalid", "Invalid postback", result.reason or "")
    return 200, {"status": result.status, "reason": result.reason,
                 "order_id": str(result.order_id) if result.order_id else None}


DUPLICATE: dict[str, Any] = {"status": "duplicate"}


async def receive(request: Request) -> Response:
    """POST /partners/{slug}/postbacks as a Starlette endpoint (the app's route; the front
    door normally answers first through `serve`)."""
    headers = _headers(request.scope["headers"])
    path = request.url.path
    if _declared_too_large(headers):
        status, doc = _too_large(path)
    else:
        status, doc = await answer(
            request.app.state.postback_ingester, request.app.state.settings,
            request.path_params["slug"], path, headers, await request.body())
    return JSONResponse(doc, status_code=status,
                        media_type=PROBLEM if status >= 400 else "application/json")


_JSON_HEADERS = [(b"content-type", b"application/json"), *SECURITY_HEADERS]
_PROBLEM_HEADERS = [(b"content-type", PROBLEM.encode()), *SECURITY_HEADERS]


async def serve(app: Any, scope: Scope, receive_: Receive, send: Send, slug: str) -> None:
    """The same answer as `receive`, straight on ASGI (the front door): no Request or
    Response objects, the security headers pre-joined. Per delivery this is most of what
    the process does besides ingestion (every event arrives about three times)."""
    headers = _headers(scope["headers"])
    path: str = scope["path"]
    chunks: list[bytes] = []
    size = 0
    more = not _declared_too_large(headers)
    while more:
        message = await receive_()
        if message["type"] != "http.request":
            return  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        more = message.get("more_body", False)
    if _declared_too_large(headers) or size > MAX_BODY:
        status, doc = _too_large(path)
    else:
        status, doc = await answer(app.state.postback_ingester, app.state.settings, slug,
                                   path, headers, b"".join(chunks))
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        *(_PROBLEM_HEADERS if status >= 400 else _JSON_HEADERS),
        (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
