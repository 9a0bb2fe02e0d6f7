"""Turning what a page reports into stored events: entity resolution, viewers, dimensions.

A page reports only *what* was seen (object type and id), *where* (surface) and, for reads,
for how long. Everything an event is credited to (author, recommendation, product,
partner) is looked up here from the other domains' queries, so a client cannot credit an
impression to someone else's account. Lookups are cached in memory: objects for
OBJECT_TTL seconds, viewers and their followees for VIEWER_TTL seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import rules
from shopwindow.core.errors import NotFound
from shopwindow.core.ids import new_ids
from shopwindow.db.engine import Database
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

OBJECT_TTL = 300.0
VIEWER_TTL = 30.0
MAX_CACHE = 200_000

VerticalResolver = Callable[[Session, int], str]
_vertical_resolver: VerticalResolver | None = None


def set_vertical_resolver(fn: VerticalResolver | None) -> None:
    """Install `fn(session, creator_id) -> vertical` (e.g. the creator's main ability
    label, from the interests domain, which sits above analytics and so registers itself).
    Without one the vertical dimension is ''."""
    global _vertical_resolver
    _vertical_resolver = fn
    objects.clear()


def vertical_for(session: Session, creator_id: int | None) -> str:
    """The vertical an event of this creator counts under ('' when unknown)."""
    if creator_id is None or _vertical_resolver is None:
        return ""
    try:
        return (_vertical_resolver(session, creator_id) or "")[:40]
    except Exception:  # a missing label must never lose the event
        return ""


@dataclass(frozen=True, slots=True)
class Credits:
    """Who an object's events are credited to."""

    creator_id: int | None = None
    post_id: int | None = None
    recommendation_id: int | None = None
    product_id: int | None = None
    partner_id: int | None = None
    vertical: str = ""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person behind a beacon request."""

    account_id: int | None
    key: str  # stable per person for de-duplication (account, or hashed IP + UA)
    region: str = ""


ObjKey = tuple[str, int]


class _TTLCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._d: dict[Any, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[bool, Any]:
        hit = self._d.get(key)
        if hit is None or hit[1] < time.monotonic():
            return False, None
        return True, hit[0]

    def get_many(self, keys: Iterable[Any]) -> tuple[dict[Any, Any], list[Any]]:
        """({key: value} of the live entries, [keys missing or expired]): one clock read
        for a whole request's keys (the beacon looks up ~200 per request)."""
        now = time.monotonic()
        d = self._d
        found: dict[Any, Any] = {}
        missing: list[Any] = []
        for k in keys:
            hit = d.get(k)
            if hit is None or hit[1] < now:
                missing.append(k)
            else:
                found[k] = hit[0]
        return found, missing

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._d) > MAX_CACHE:
                self._d.clear()
            self._d[key] = (value, time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


objects = _TTLCache(OBJECT_TTL)  # (object_type, id) → Credits | None (gone)
viewers = _TTLCache(VIEWER_TTL)  # cookie → (account_id, region) | None
followees = _TTLCache(VIEWER_TTL)  # account id → frozenset of followee ids


def resolve(session: Session, keys: Iterable[ObjKey]) -> dict[ObjKey, Credits | None]:
    """Credits of each object from the database (None: no such object)."""
    out: dict[ObjKey, Credits | None] = {}
    wanted = set(keys)
    post_ids = [i for t, i in wanted if t == "post"]
    posts = social_q.posts_by_ids(session, post_ids) if post_ids else {}
    cards = showcase_q.cards_for_posts(session, post_ids) if post_ids else {}
    acct_ids = [i for t, i in wanted if t == "account"]
    accts = accounts_q.accounts_by_ids(session, acct_ids) if acct_ids else {}
    for t, i in wanted:
        cred: Credits | None = None
        if t == "post":
            p = posts.get(i)
            if p is not None and getattr(p, "deleted_at", None) is None:
                recs = cards.get(i, [])
                # A post carrying one product card is that recommendation's impression too.
                if len(recs) == 1:
                    r = recs[0]
                    cred = Credits(int(p.account_id), i, int(r.rec.id), int(r.product.id),
                                   int(r.product.partner_id))
                else:
                    cred = Credits(int(p.account_id), i)
        elif t == "recommendation":
            try:
                rec = showcase_q.get_recommendation(session, i)
                prod = showcase_q.get_product(session, int(rec.product_id))
            except NotFound:
                pass
            else:
                cred = Credits(int(rec.creator_id), int(rec.post_id) if rec.post_id else None,
                               i, int(prod.id), int(prod.partner_id))
        elif t == "product":
            try:
                prod = showcase_q.get_product(session, i)
            except NotFound:
                pass
            else:
                cred = Credits(None, None, None, i, int(prod.partner_id))
        elif t == "account":
            a = accts.get(i)
            if a is not None and a.deleted_at is None:
                cred = Credits(i)
        if cred is not None and cred.creator_id is not None:
            v = vertical_for(session, cred.creator_id)
            if v:
                cred = Credits(cred.creator_id, cred.post_id, cred.recommendation_id,
                               cred.product_id, cred.partner_id, v)
        out[(t, i)] = cred
    return out


def credits_for(db: Database, keys: Iterable[ObjKey]) -> dict[ObjKey, Credits | None]:
    """Credits of each object (None: no such object), from the cache or the database."""
    out, missing = _cached(keys)
    if missing:
        with db.read_sessions() as s:
            out.update(_load(s, missing))
    return out


def credits_in(session: Session, keys: Iterable[ObjKey]) -> dict[ObjKey, Credits | None]:
    """`credits_for` inside a caller's session (the domain-event handlers)."""
    out, missing = _cached(keys)
    if missing:
        out.update(_load(session, missing))
    return out


def _cached(keys: Iterable[ObjKey]) -> tuple[dict[ObjKey, Credits | None], list[ObjKey]]:
    return objects.get_many(keys)


def _load(session: Session, keys: list[ObjKey]) -> dict[ObjKey, Credits | None]:
    loaded = resolve(session, keys)
    for k, v in loaded.items():
        objects.put(k, v)
    return loaded


def cached_credits(keys: Iterable[ObjKey]) -> dict[ObjKey, Credits | None] | None:
    """Credits if every object is cached (the hot path skips the threadpool), else None."""
    out, missing = objects.get_many(keys)
    return None if missing else out


def viewer_account(db: Database, cookie: str) -> tuple[int, str] | None:
    """(account id, region setting) behind a session cookie, cached."""
    found, val = viewers.get(cookie)
    if found:
        return val
    with db.read_sessions() as s:
        hit = accounts_q.account_for_web_session(s, cookie)
        val = (int(hit[0].id), str(hit[0].region or "")) if hit else None
    viewers.put(cookie, val)
    return val


def followee_set(db: Database, account_id: int) -> frozenset[int]:
    """Who the account follows, cached (the follower dimension)."""
    found, val = followees.get(account_id)
    if found:
        return val
    with db.read_sessions() as s:
        val = frozenset(social_q.followee_ids(s, account_id))
    followees.put(account_id, val)
    return val


def dedup_key(viewer: str, etype: str, object_type: str, object_id: int, surface: str,
              window: int) -> str:
    """One event per viewer, type, object and surface within a de-duplication window."""
    raw = f"{viewer}|{etype}|{object_type}|{object_id}|{surface}|{window}".encode()
    return "b:" + hashlib.blake2b(raw, digest_size=16).hexdigest()


class Reported(NamedTuple):
    """One validated beacon item (before resolution). A named tuple: made once per event
    on the event loop, where a frozen dataclass's __init__ cost as much as validating."""

    type: str
    object_type: str
    object_id: int
    surface: str
    dwell_ms: int
    occurred_at: datetime | None


def build_rows(items: list[Reported], credits: dict[ObjKey, Credits | None], viewer: Viewer,
               follows: frozenset[int], *, device: str, lang: str, received: datetime,
               window_seconds: int) -> tuple[list[dict[str, Any]], int]:
    """Event rows for the items whose object exists; (rows, how many were unknown)."""
    rows: list[dict[str, Any]] = []
    unknown = 0
    window = int(received.timestamp()) // max(1, window_seconds)
    signed_in = viewer.account_id is not None
    # The row dict is built here directly (what actions.event_row makes of an EventIn):
    # this runs once per event on the event loop, and the dataclass cost more than the
    # rest of the row. Ids are minted for the whole request at once; those left over
    # when some objects are unknown are never used (ids need not be dense). The dedup
    # keys are `dedup_key`'s, the hash of the request's common prefix computed once.
    ids = iter(new_ids(len(items)))
    prefix = hashlib.blake2b(f"{viewer.key}|".encode(), digest_size=16)
    tail = f"|{window}"
    for it in items:
        cred = credits.get((it.object_type, it.object_id))
        if cred is None:
            unknown += 1
            continue
        is_follower = (cred.creator_id in follows if cred.creator_id is not None else None) \
            if signed_in else False
        h = prefix.copy()
        h.update(f"{it.type}|{it.object_type}|{it.object_id}|{it.surface}{tail}".encode())
        rows.append({
            "id": next(ids),
            "occurred_at": received if it.occurred_at is None
            else rules.clamp_occurred(it.occurred_at, received),
            "received_at": received, "type": it.type, "actor_id": viewer.account_id,
            "object_type": it.object_type, "object_id": it.object_id,
            "creator_id": cred.creator_id, "post_id": cred.post_id,
            "recommendation_id": cred.recommendation_id, "product_id": cred.product_id,
            "partner_id": cred.partner_id, "promotion_id": None, "surface": it.surface,
            "is_follower": is_follower, "vertical": cred.vertical, "region": viewer.region,
            "device": device, "lang": lang, "value": it.dwell_ms if it.type == "read" else 0,
            "currency": "", "dedup_key": "b:" + h.hexdigest()})
    return rows, unknown


def parse_items(payload: Any, max_events: int) -> list[Reported]:
    """Validate the beacon body {"events": [...]}; raises Invalid naming field and rule."""
    from shopwindow.core.errors import Invalid

    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise Invalid('The body must be a JSON object {"events": [...]}', field="events",
                      rule="required")
    raw = payload["events"]
    if len(raw) > max_events:
        raise Invalid(f"At most {max_events} events per request", field="events",
                      rule="max_items")
    out: list[Reported] = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise Invalid("Each event must be an object", field=f"events[{n}]", rule="type")
        etype = item.get("type")
        if etype not in rules.BEACON_TYPES:
            raise Invalid(f"type must be one of {sorted(rules.BEACON_TYPES)}",
                          field=f"events[{n}].type", rule="one_of")
        otype = item.get("object_type")
        allowed = ("account",) if etype == "profile_visit" else \
            ("post", "recommendation", "product")
        if otype not in allowed:
            raise Invalid(f"object_type of a {etype} must be one of {list(allowed)}",
                          field=f"events[{n}].object_type", rule="one_of")
        oid = item.get("object_id")
        if isinstance(oid, str) and oid.isdigit() and len(oid) <= 19:
            oid = int(oid)
        if isinstance(oid, bool) or not isinstance(oid, int) or not 0 < oid <= rules.MAX_ID:
            raise Invalid("object_id must be a positive integer id (a decimal string)",
                          field=f"events[{n}].object_id", rule="id")
        surface = item.get("surface", "other")
        if surface not in rules.SURFACES:
            raise Invalid(f"surface must be one of {sorted(rules.SURFACES)}",
                          field=f"events[{n}].surface", rule="one_of")
        dwell = item.get("dwell_ms", 0)
        if etype == "read" and (isinstance(dwell, bool) or not isinstance(dwell, int | float)
                                or not 0 <= dwell <= rules.MAX_DWELL_MS):
            raise Invalid(f"dwell_ms must be a number from 0 to {rules.MAX_DWELL_MS}",
                          field=f"events[{n}].dwell_ms", rule="range")
        t = item.get("t")
        out.append(Reported(str(etype), str(otype), oid, surface,
                            int(dwell) if etype == "read" else 0,
                            None if t is None else rules.parse_time(t, f"events[{n}].t")))
    return out
