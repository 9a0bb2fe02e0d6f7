"""Cache-invalidation bus for the timeline read caches (in-process, Redis across processes).

Committed outbox events reach live subscribers only in the process that committed them.
The read caches (`social.timeline_cache`, `web.fastfeed`) live in every web process, so
this bus relays the events they care about: it applies each message to the local handlers
at once and, when Redis is configured, PUBLISHes it so other processes apply it too (a
daemon thread per process listens). Timeline-store changes made by jobs (fan-out, backfill,
purge) are sent here as `timeline.*` messages after their transaction commits.

Without Redis there is no cross-process delivery: one web process with in-process job
threads (the embedded default) sees every message; several web processes or external
workers need SHOPWINDOW_REDIS_URL (docs/timelines.md). If the Redis subscription drops,
the local caches are flushed on reconnect, because messages may have been missed.

Handlers run under one lock, and every message gets a generation number; a cache that
loads from the database can ask which messages arrived since it started (`since`) and
replay them onto what it loaded, so no invalidation falls between a read and its install.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis
from redis.connection import parse_url

from shopwindow.config import get_settings
from shopwindow.outbox import DomainEvent, subscribe_live

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]

# Outbox event types whose effects the read caches must see.
RELAYED = (
    "social.post_created", "social.post_deleted", "social.liked", "social.unliked",
    "social.bookmarked", "social.unbookmarked", "social.followed", "social.unfollowed",
    "social.blocked", "social.unblocked", "social.muted", "social.unmuted",
    "account.updated", "account.deleted", "account.token_revoked",
)
FLUSH = "bus.flush"
LOG_SIZE = 20_000

ORIGIN = f"{os.getpid()}-{time.monotonic_ns()}"
lock = threading.RLock()
_handlers: list[Handler] = []
_log: deque[tuple[int, str, dict[str, Any]]] = deque(maxlen=LOG_SIZE)
_gen = 0


class _Remote:
    explicit: bool = False  # configure() was called; otherwise follow get_settings()
    url: str | None = None
    channel: str = "sw:bus"
    client: Any = None
    thread: threading.Thread | None = None
    stop: threading.Event | None = None
    ready: threading.Event | None = None


remote = _Remote()


def on(fn: Handler) -> Handler:
    """Register a local handler `fn(kind, payload)`; called under the bus lock."""
    if fn not in _handlers:
        _handlers.append(fn)
    return fn


def generation() -> int:
    """The number of messages applied so far in this process."""
    return _gen


def since(gen: int) -> list[tuple[str, dict[str, Any]]] | None:
    """Messages applied after generation `gen`, or None if the log no longer reaches back."""
    with lock:
        if _gen == gen:
            return []
        if not _log or _log[0][0] > gen + 1:
            return None
        return [(k, p) for g, k, p in _log if g > gen]


def apply_local(kind: str, payload: dict[str, Any]) -> None:
    """Apply a message to this process's handlers."""
    global _gen
    with lock:
        _gen += 1
        _log.append((_gen, kind, payload))
        for fn in _handlers:
            try:
                fn(kind, payload)
            except Exception:  # a cache bug must not break the write that caused it
                log.exception("timeline bus handler failed for %s", kind)


def publish(kind: str, payload: dict[str, Any]) -> None:
    """Apply locally and, when Redis is configured, broadcast to the other processes."""
    apply_local(kind, payload)
    if not remote.explicit:
        _auto_publisher()
    if remote.client is not None:
        msg = json.dumps({"o": ORIGIN, "k": kind, "p": payload}, separators=(",", ":"))
        try:
            remote.client.publish(remote.channel, msg)
        except redis.RedisError:
            log.warning("timeline bus: publish to Redis failed; peers rely on cache TTLs")


def channel_for(redis_url: str, prefix: str = "sw:") -> str:
    """The bus channel: pub/sub channels are server-wide, so it names the database too."""
    try:
        db = int(parse_url(redis_url).get("db", 0) or 0)
    except ValueError:
        db = 0
    return f"{prefix}bus:{db}"


def _auto_publisher() -> None:
    url = get_settings().redis_url
    if url != remote.url:
        remote.url = url
        remote.channel = channel_for(url) if url else "sw:bus"
        remote.client = (redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
                         if url else None)


def _relay(ev: DomainEvent) -> None:
    publish(ev.type, ev.payload)


_relay_installed = False


def install_relay() -> None:
    """Relay committed outbox events to the bus (once per process)."""
    global _relay_installed
    if _relay_installed:
        return
    _relay_installed = True
    for t in RELAYED:
        subscribe_live(t, _relay)


def configure(redis_url: str | None, prefix: str = "sw:", *, listen: bool = True) -> None:
    """Connect the bus to Redis (publishing; listening too when `listen`)."""
    install_relay()
    channel = channel_for(redis_url, prefix) if redis_url else f"{prefix}bus"
    if redis_url == remote.url and channel == remote.channel and (
            not listen or remote.thread is not None):
        return
    shutdown()
    remote.explicit = True
    remote.url, remote.channel = redis_url, channel
    if not redis_url:
        return
    remote.client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    if listen:
        remote.stop, remote.ready = threading.Event(), threading.Event()
        remote.thread = threading.Thread(target=_listen, args=(redis_url, channel, remote.stop,
                                                               remote.ready),
                                         name="timeline-bus", daemon=True)
        remote.thread.start()
        remote.ready.wait(5)


def shutdown() -> None:
    """Stop listening and forget the Redis connection."""
    if remote.stop is not None:
        remote.stop.set()
    if remote.thread is not None:
        remote.thread.join(timeout=3)
    remote.client = remote.thread = remote.stop = remote.ready = None
    remote.url = None
    remote.explicit = False


def _listen(url: str, channel: str, stop: threading.Event, ready: threading.Event) -> None:
    first = True
    while not stop.is_set():
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=5)
            ps = client.pubsub(ignore_subscribe_messages=True)
            ps.subscribe(channel)
            if not first:
                apply_local(FLUSH, {})  # messages may have been lost while disconnected
            first = False
            ready.set()
            while not stop.is_set():
                msg = ps.get_message(timeout=0.5)
                if msg is None or msg.get("type") != "message":
                    continue
                try:
                    data = json.loads(msg["data"])
                except ValueError:
                    continue
                if data.get("o") != ORIGIN:
                    apply_local(str(data.get("k")), dict(data.get("p") or {}))
            ps.close()
            client.close()
        except redis.RedisError:
            log.warning("timeline bus: Redis subscription lost; retrying")
            ready.set()
            stop.wait(1.0)
