"""Idempotency-Key for POST /api/v1/statuses, the way Mastodon does it: in Redis, not a table.

The same key from the same account within an hour returns the status created first. A key
is first *reserved* (a short-lived "pending" marker, SET NX), then bound to the status id
after the transaction commits; a concurrent retry with the same key waits briefly for the
first request instead of creating a duplicate. Without Redis (embedded, single process) the
same protocol runs on an in-process map. Keys are stored hashed, per account.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)

TTL_SECONDS = 3600
PENDING_TTL_SECONDS = 30
PENDING = "pending"
MAX_KEY_LENGTH = 200


class Store(Protocol):
    def reserve(self, key: str) -> bool: ...
    def get(self, key: str) -> str | None: ...
    def bind(self, key: str, value: str) -> None: ...
    def release(self, key: str) -> None: ...


class MemoryStore:
    """Per-process store with expiry (embedded mode: one web process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, str]] = {}

    def _live(self, key: str, now: float) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._data[key]
            return None
        return item[1]

    def _prune(self, now: float) -> None:
        if len(self._data) > 10_000:
            for k in [k for k, (exp, _) in self._data.items() if exp <= now]:
                del self._data[k]

    def reserve(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._live(key, now) is not None:
                return False
            self._prune(now)
            self._data[key] = (now + PENDING_TTL_SECONDS, PENDING)
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key, time.monotonic())

    def bind(self, key: str, value: str) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + TTL_SECONDS, value)

    def release(self, key: str) -> None:
        with self._lock:
            if self._live(key, time.monotonic()) == PENDING:
                del self._data[key]


class RedisStore:
    """Shared by every web process (production)."""

    def __init__(self, url: str) -> None:
        import redis

        self.r: Any = redis.Redis.from_url(url, socket_timeout=2, decode_responses=True)

    def reserve(self, key: str) -> bool:
        return bool(self.r.set(key, PENDING, nx=True, ex=PENDING_TTL_SECONDS))

    def get(self, key: str) -> str | None:
        v = self.r.get(key)
        return v if isinstance(v, str) else None

    def bind(self, key: str, value: str) -> None:
        self.r.set(key, value, ex=TTL_SECONDS)

    def release(self, key: str) -> None:
        # Delete only our own pending marker, never a bound id (atomic compare-and-delete).
        self.r.eval("if redis.call('get', KEYS[1]) == ARGV[1] then "
                    "return redis.call('del', KEYS[1]) end return 0", 1, key, PENDING)


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def store_for(redis_url: str | None, app_state: Any) -> Store:
    """Redis when configured (one client per URL), otherwise a map owned by the app."""
    if redis_url:
        with _stores_lock:
            if redis_url not in _stores:
                _stores[redis_url] = RedisStore(redis_url)
            return _stores[redis_url]
    st = getattr(app_state, "mastodon_idempotency", None)
    if st is None:
        st = MemoryStore()
        app_state.mastodon_idempotency = st
    return st


def storage_key(account_id: int, idempotency_key: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "replace")).hexdigest()
    return f"sw:idempotency:status:{account_id}:{digest}"


def wait_for_binding(store: Store, key: str, timeout: float = 5.0) -> str | None:
    """Wait for a concurrent request holding the key to finish; its status id or None."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        v = store.get(key)
        if v != PENDING:
            return v
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
    return PENDING
