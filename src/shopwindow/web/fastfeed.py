"""Fast path for GET /api/v1/timelines/home (pure ASGI, in front of the FastAPI route).

A cache hit costs no database query and no JSON encoding: the bearer token resolves from
a token cache, the page's post ids come from `social.timeline_cache`, and each status is
assembled from cached JSON fragments (the status without viewer fields, its author's
account entity, the viewer's favourited/reblogged/bookmarked flags). Whatever is missing
is loaded on a worker thread and cached; anything this path does not handle (no bearer
token, invalid or unscoped token, a page outside the cached window, a bad `limit`) goes to
the regular FastAPI route, which gives identical results and errors.

Freshness (docs/timelines.md):
* Tokens are re-checked against the database at most TOKEN_TTL seconds after their last
  check (in batches, ahead of expiry, for tokens in use): a revoked token stops working
  within TOKEN_TTL, at once in this process when the revocation emits an event.
* Status and account JSON is refreshed after a like, repost, reply, profile change or
  post/follow count change (event), and at least every JSON_TTL seconds. Until a refresh
  lands the previous JSON is served: counts may lag by milliseconds, never visibility,
  which `timeline_cache` decides from events before any JSON is looked up.

Install with `install(app)` before the app serves its first request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from shopwindow.accounts import rules as account_rules
from shopwindow.accounts.models import Account, OAuthToken
from shopwindow.config import Settings
from shopwindow.core.pagination import Page
from shopwindow.db.engine import Database
from shopwindow.social import queries as social_q
from shopwindow.social import timeline_bus as bus
from shopwindow.social import timeline_cache as tc
from shopwindow.social.timelines import REDIS_PREFIX
from shopwindow.web.mastodon.entities import Serializer

log = logging.getLogger(__name__)

PATH = "/api/v1/timelines/home"
SCOPE = "read:statuses"
TOKEN_TTL = 5.0  # a revoked token works for at most this long in other processes
TOKEN_REFRESH_AHEAD = 2.5  # tokens in use are re-checked this long before they expire
JSON_TTL = 300.0
MAX_TOKENS = 100_000
MAX_STATUSES = 100_000
MAX_ACCOUNTS = 100_000
_CURSORS = ("max_id", "since_id", "min_id")


@dataclass(slots=True)
class TokenEntry:
    account_id: int
    can_read: bool
    expires: float


@dataclass(slots=True)
class StatusJSON:
    body: bytes  # the status object without "}" and without account/reblog/viewer fields
    author: int
    text: bytes  # JSON string of the source text (shown to the author only)
    reblog_of: int
    expires: float


tokens: dict[str, TokenEntry] = {}
statuses: dict[int, StatusJSON] = {}
accounts: dict[int, tuple[bytes, float]] = {}

_VIEWER_KEYS = ("account", "reblog", "text", "favourited", "reblogged", "muted", "bookmarked",
                "pinned")
_B = (b"false", b"true")


def _tail(own: bool, flags: int) -> bytes:
    return (b',"favourited":' + _B[flags & tc.FAV != 0] + b',"reblogged":'
            + _B[flags & tc.REBLOGGED != 0] + b',"muted":false,"bookmarked":'
            + _B[flags & tc.BOOKMARKED != 0] + b',"pinned":' + (b"false" if own else b"null")
            + b"}")


_TAILS = {(own, f): _tail(own, f) for own in (False, True) for f in range(8)}


def clear() -> None:
    """Forget every cached token and JSON fragment (tests)."""
    tokens.clear()
    statuses.clear()
    accounts.clear()


def _dumps(v: Any) -> bytes:
    # Same encoding as FastAPI's JSONResponse.
    return json.dumps(v, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _cap(d: dict[Any, Any], limit: int) -> None:
    while len(d) > limit:
        d.pop(next(iter(d)), None)


# ------------------------------------------------------------------ invalidation


def _stale_status(pid: Any) -> None:
    if pid is not None:
        s = statuses.get(int(pid))
        if s is not None:
            s.expires = 0.0


def _stale_account(aid: Any) -> None:
    if aid is not None:
        a = accounts.get(int(aid))
        if a is not None:
            accounts[int(aid)] = (a[0], 0.0)


def _handle(kind: str, p: dict[str, Any]) -> None:
    if kind in ("social.liked", "social.unliked"):
        _stale_status(p.get("post_id"))
    elif kind == "social.post_created":
        _stale_status(p.get("in_reply_to_id"))
        _stale_status(p.get("reblog_of_id"))
        _stale_account(p.get("author_id"))
    elif kind == "social.post_deleted":
        _stale_status(p.get("reblog_of_id"))
        _stale_account(p.get("author_id"))
    elif kind in ("social.followed", "social.unfollowed"):
        _stale_account(p.get("follower_id"))
        _stale_account(p.get("followee_id"))
    elif kind == "account.updated":
        _stale_account(p.get("account_id"))
    elif kind in ("account.deleted", "account.token_revoked"):
        aid = p.get("account_id")
        if kind == "account.deleted":
            _stale_account(aid)
        for k, t in list(tokens.items()):
            if t.account_id == aid:
                tokens.pop(k, None)
    elif kind == bus.FLUSH:
        clear()


bus.on(_handle)


# ------------------------------------------------------------------ loading (worker threads)


def _token_rows(session: Session, hashes: list[str]) -> dict[str, TokenEntry]:
    """Active tokens of live accounts among `hashes` (one query, no ORM objects)."""
    out: dict[str, TokenEntry] = {}
    exp = time.monotonic() + TOKEN_TTL
    for i in range(0, len(hashes), 500):
        rows = session.execute(
            select(OAuthToken.token_hash, OAuthToken.account_id, OAuthToken.scopes)
            .join(Account, Account.id == OAuthToken.account_id)
            .where(OAuthToken.token_hash.in_(hashes[i:i + 500]),
                   OAuthToken.revoked_at.is_(None), Account.deleted_at.is_(None)))
        for h, aid, scopes in rows:
            can_read = account_rules.scopes_allow(scopes.split(), SCOPE)
            out[h] = TokenEntry(int(aid or 0), can_read, exp)
    return out


def _split(d: dict[str, Any], text: str, exp: float) -> StatusJSON:
    rest = {k: v for k, v in d.items() if k not in _VIEWER_KEYS}
    rb = d.get("reblog")
    return StatusJSON(_dumps(rest)[:-1], int(d["account"]["id"]), _dumps(text),
                      int(rb["id"]) if rb else 0, exp)


# ------------------------------------------------------------------ the middleware


class FastHomeTimeline:
    """ASGI middleware serving GET /api/v1/timelines/home from caches when it can."""

    def __init__(self, app: ASGIApp, settings: Settings, db: Database) -> None:
        self.app = app
        self.settings = settings
        self.db = db
        self.base = settings.base_url.rstrip("/") + PATH
        self._due: set[str] = set()
        self._refreshing: set[int] = set()
        self._stale_st: set[int] = set()
        self._stale_acct: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._token_task = False
        self._pending: dict[str, asyncio.Future[TokenEntry | None]] = {}
        self._inflight: dict[int, asyncio.Future[None]] = {}
        self._batching = False
        self._json_task = False
        bus.configure(settings.redis_url, REDIS_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        try:
            body, link = await self._serve(scope)
        except _Fallback:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if link:
            headers.append((b"link", link))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # -------------------------------------------------------------- steps

    async def _serve(self, scope: Scope) -> tuple[bytes, bytes | None]:
        viewer = await self._viewer(scope)
        pg, keep = _page(scope)
        res = tc.page(viewer, pg)
        if isinstance(res, tc.Miss):
            if res.uncached:
                raise _Fallback
            res = await run_in_threadpool(self._resolve, viewer, pg)
        if res.stale and viewer not in self._refreshing:
            self._refreshing.add(viewer)
            self._spawn(self._refresh_head, viewer)
        body = self._compose(res, viewer)
        if body is None:
            await self._ensure_json(_needed(res), viewer)
            body = self._compose(res, viewer)
            if body is None:
                raise _Fallback
        link = None
        if res.ids:
            pre = urlencode(keep) + "&" if keep else ""
            link = (f'<{self.base}?{pre}max_id={res.ids[-1]}>; rel="next", '
                    f'<{self.base}?{pre}min_id={res.ids[0]}>; rel="prev"').encode()
        return body, link

    async def _viewer(self, scope: Scope) -> int:
        auth = None
        for k, v in scope["headers"]:
            if k == b"authorization":
                auth = v
                break
        if auth is None or auth[:7].lower() != b"bearer ":
            raise _Fallback
        raw = auth[7:].strip().decode("latin-1")
        if not raw:
            raise _Fallback
        key = account_rules.hash_token(raw)
        now = time.monotonic()
        tok = tokens.get(key)
        if tok is None or tok.expires <= now:
            tok = await self._check_token(key)
            if tok is None:
                raise _Fallback  # invalid (the route answers 401) or the lookup failed
        elif tok.expires - now < TOKEN_REFRESH_AHEAD:
            self._due.add(key)
            if not self._token_task:
                self._token_task = True
                self._spawn(self._refresh_tokens)
        if not tok.can_read:
            raise _Fallback  # the route answers 403
        return tok.account_id

    async def _ensure_json(self, pids: list[int], viewer: int) -> None:
        # Single flight: when a new post lands in many homes at once (a big account posts),
        # one request loads its JSON and the others wait for that load.
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[None]] = []
        mine: list[int] = []
        for pid in pids:
            f = self._inflight.get(pid)
            if f is None:
                f = loop.create_future()
                self._inflight[pid] = f
                mine.append(pid)
            waits.append(f)
        if mine:
            try:
                await run_in_threadpool(self._load_json, mine, viewer)
            except Exception:
                log.exception("status JSON load failed")
            finally:
                for pid in mine:
                    f = self._inflight.pop(pid)
                    if not f.done():
                        f.set_result(None)
        await asyncio.gather(*waits)

    async def _check_token(self, key: str) -> TokenEntry | None:
        # Requests whose tokens need a database check share one query per batch: after an
        # idle spell (or at start) thousands of tokens may need one at the same moment.
        fut = self._pending.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._pending[key] = fut
            if not self._batching:
                self._batching = True
                task = asyncio.get_running_loop().create_task(self._token_batches())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return await fut

    async def _token_batches(self) -> None:
        try:
            while self._pending:
                batch = dict(list(self._pending.items())[:500])
                for k in batch:
                    self._pending.pop(k, None)
                try:
                    found = await run_in_threadpool(self._lookup_tokens, list(batch))
                except Exception:
                    log.exception("token lookup failed")
                    found = {}
                for k, f in batch.items():
                    if not f.done():
                        f.set_result(found.get(k))
        finally:
            self._batching = False

    def _compose(self, res: tc.HomePage, viewer: int) -> bytes | None:
        parts: list[bytes] = [b"["]
        now = time.monotonic()
        flags = res.flags
        for n, pid in enumerate(res.ids):
            if n:
                parts.append(b",")
            if not self._status_parts(parts, pid, viewer, flags, now):
                return None
        parts.append(b"]")
        return b"".join(parts)

    def _status_parts(self, parts: list[bytes], pid: int, viewer: int, flags: dict[int, int],
                      now: float) -> bool:
        s = statuses.get(pid)
        if s is None:
            return False
        a = accounts.get(s.author)
        if a is None:
            return False
        if s.expires < now:
            self._mark_stale(pid, None)
        if a[1] < now:
            self._mark_stale(None, s.author)
        parts += (s.body, b',"account":', a[0], b',"reblog":')
        if s.reblog_of:
            if not self._status_parts(parts, s.reblog_of, viewer, flags, now):
                return False
        else:
            parts.append(b"null")
        own = s.author == viewer
        parts += (b',"text":', s.text if own else b"null",
                  _TAILS[(own, flags.get(pid, 0))])
        return True

    # -------------------------------------------------------------- background work

    def _spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(run_in_threadpool(fn, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mark_stale(self, pid: int | None, aid: int | None) -> None:
        if pid is not None:
            self._stale_st.add(pid)
        if aid is not None:
            self._stale_acct.add(aid)
        if not self._json_task:
            self._json_task = True
            self._spawn(self._refresh_json)

    def _refresh_tokens(self) -> None:
        try:
            while self._due:
                keys = list(self._due)[:500]
                self._due.difference_update(keys)
                found = self._lookup_tokens(keys)
                for k in keys:
                    if k not in found:
                        tokens.pop(k, None)
        except Exception:
            log.exception("token refresh failed")
        finally:
            self._token_task = False

    def _refresh_json(self) -> None:
        try:
            while self._stale_st or self._stale_acct:
                pids = list(self._stale_st)[:200]
                aids = list(self._stale_acct)[:200]
                self._stale_st.difference_update(pids)
                self._stale_acct.difference_update(aids)
                self._load_json(pids, None, aids)
        except Exception:
            log.exception("status JSON refresh failed")
        finally:
            self._json_task = False

    def _refresh_head(self, viewer: int) -> None:
        try:
            with self.db.read_sessions() as s:
                tc.load(s, viewer, refresh=True)
        except Exception:
            log.exception("home refresh failed")
        finally:
            self._refreshing.discard(viewer)

    # -------------------------------------------------------------- database (worker threads)

    def _lookup_tokens(self, keys: list[str]) -> dict[str, TokenEntry]:
        with self.db.read_sessions() as s:
            found = _token_rows(s, keys)
        tokens.update(found)
        _cap(tokens, MAX_TOKENS)
        return found

    def _resolve(self, viewer: int, pg: Page) -> tc.HomePage:
        with self.db.read_sessions() as s:
            for _ in range(6):
                res = tc.page(viewer, pg)
                if isinstance(res, tc.HomePage):
                    return res
                if res.uncached:
                    break
                tc.load(s, viewer, res)
        raise _Fallback

    def _load_json(self, pids: list[int], viewer: int | None,
                   account_ids: list[int] | None = None) -> None:
        gen = bus.generation()
        exp = time.monotonic() + JSON_TTL
        with self.db.read_sessions() as s:
            posts = list(social_q.posts_by_ids(s, pids).values())
            ser = Serializer(s, self.settings, viewer)
            dicts = ser.statuses(posts)
            texts = {p.id: p.text for p in posts}
            origs = social_q.posts_by_ids(s, [p.reblog_of_id for p in posts
                                              if p.reblog_of_id is not None])
            texts.update({p.id: p.text for p in origs.values()})
            new_st: dict[int, StatusJSON] = {}
            new_acct: dict[int, tuple[bytes, float]] = {}
            for d in dicts:
                for x in (d, d.get("reblog")):
                    if x:
                        new_st[int(x["id"])] = _split(x, texts.get(int(x["id"]), ""), exp)
                        new_acct[int(x["account"]["id"])] = (_dumps(x["account"]), exp)
            if account_ids:
                for aid, e in ser.accounts(account_ids).items():
                    new_acct[aid] = (_dumps(e), exp)
        with bus.lock:
            statuses.update(new_st)
            accounts.update(new_acct)
            # Anything invalidated while we read is marked stale again.
            for kind, payload in bus.since(gen) or []:
                _handle(kind, payload)
            _cap(statuses, MAX_STATUSES)
            _cap(accounts, MAX_ACCOUNTS)


class _Fallback(Exception):
    """Let the FastAPI route answer."""


def _page(scope: Scope) -> tuple[Page, list[tuple[str, str]]]:
    qs = scope.get("query_string") or b""
    if not qs:
        return Page(), []
    items = parse_qsl(qs.decode("latin-1"), keep_blank_values=True)
    d = dict(items)
    limit = d.get("limit")
    if limit is not None:
        try:
            lim = int(limit)
        except ValueError:
            raise _Fallback from None  # the route answers 422
    pg = Page.of(d.get("max_id"), d.get("since_id"), d.get("min_id"),
                 20 if limit is None else lim, 40)
    return pg, [(k, v) for k, v in items if k not in _CURSORS]


def _needed(res: tc.HomePage) -> list[int]:
    def ok(pid: int) -> bool:
        s = statuses.get(pid)
        return s is not None and s.author in accounts and (not s.reblog_of or ok(s.reblog_of))

    return [pid for pid in res.ids if not ok(pid)]


def install(app: Any) -> None:
    """Put the fast path in front of the app's routes (idempotent; before serving)."""
    if any(m.cls is FastHomeTimeline for m in app.user_middleware):
        return
    app.user_middleware.append(Middleware(FastHomeTimeline, settings=app.state.settings,
                                          db=app.state.db))
