"""Live notifications: which entities' rollups just changed (for SSE report streams).

The aggregator calls `notify(keys)` after each committed batch. Local listeners are called
at once; when SHOPWINDOW_REDIS_URL is set the keys are also PUBLISHed, and a daemon thread
in every process that has listeners relays other processes' messages to its listeners, so
an SSE stream in any web process sees batches folded by any process. Best effort: a
listener that misses a message still sees the data on its next read.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from shopwindow.config import get_settings

log = logging.getLogger(__name__)

Listener = Callable[[set[tuple[str, int]]], None]
Key = tuple[str, int]

ORIGIN = f"{os.getpid()}-{time.monotonic_ns()}"
_lock = threading.Lock()
_listeners: list[Listener] = []


class _Remote:
    url: str | None = None
    client: Any = None
    thread: threading.Thread | None = None
    stop: threading.Event | None = None


_remote = _Remote()


def channel() -> str:
    """The pub/sub channel (server-wide, so it carries the configured database number)."""
    url = get_settings().redis_url or ""
    try:
        db = int(redis.connection.parse_url(url).get("db", 0) or 0) if url else 0
    except ValueError:
        db = 0
    return f"sw:analytics:{db}"


def add_listener(fn: Listener) -> None:
    """Call `fn(changed)` after each committed aggregation batch (any process with Redis)."""
    with _lock:
        if fn not in _listeners:
            _listeners.append(fn)
    _ensure_remote(listen=True)


def remove_listener(fn: Listener) -> None:
    """Stop calling `fn`."""
    with _lock:
        if fn in _listeners:
            _listeners.remove(fn)


def _deliver(keys: set[Key]) -> None:
    with _lock:
        fns = list(_listeners)
    for fn in fns:
        try:
            fn(set(keys))
        except Exception:  # one broken stream must not stop the others
            log.exception("analytics live listener failed")


def notify(keys: set[Key]) -> None:
    """Tell local listeners (and, with Redis, every other process) that `keys` changed."""
    if not keys:
        return
    _deliver(keys)
    _ensure_remote(listen=False)
    if _remote.client is not None:
        msg = json.dumps({"o": ORIGIN, "k": sorted([t, i] for t, i in keys)},
                         separators=(",", ":"))
        try:
            _remote.client.publish(channel(), msg)
        except redis.RedisError:
            log.warning("analytics live: publish to Redis failed")


def _ensure_remote(*, listen: bool) -> None:
    url = get_settings().redis_url
    if url != _remote.url:
        shutdown()
        _remote.url = url
        if url:
            _remote.client = redis.Redis.from_url(url, socket_timeout=5,
                                                  socket_connect_timeout=5)
    if listen and url and _remote.thread is None:
        _remote.stop = threading.Event()
        _remote.thread = threading.Thread(target=_listen, args=(url, channel(), _remote.stop),
                                          name="analytics-live", daemon=True)
        _remote.thread.start()


def shutdown() -> None:
    """Stop relaying and forget the Redis connection (tests, settings changes)."""
    if _remote.stop is not None:
        _remote.stop.set()
    if _remote.thread is not None:
        _remote.thread.join(timeout=3)
    _remote.client = _remote.thread = _remote.stop = None
    _remote.url = None


def _listen(url: str, chan: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=5)
            ps = client.pubsub(ignore_subscribe_messages=True)
            ps.subscribe(chan)
            while not stop.is_set():
                msg = ps.get_message(timeout=0.5)
                if msg is None or msg.get("type") != "message":
                    continue
                try:
                    data = json.loads(msg["data"])
                    keys = {(str(t), int(i)) for t, i in data.get("k", [])}
                except (ValueError, TypeError):
                    continue
                if data.get("o") != ORIGIN:
                    _deliver(keys)
            ps.close()
            client.close()
        except redis.RedisError:
            log.warning("analytics live: Redis subscription lost; retrying")
            stop.wait(1.0)
