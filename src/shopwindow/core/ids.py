"""Sortable, non-sequential 63-bit ids (snowflake-like).

Layout: 47 bits of milliseconds since 2020-01-01 | 16 bits (random start, then sequence).
They sort by creation time (needed for cursor pagination and Mastodon's max_id/min_id),
yet the low bits do not reveal how many objects exist.
"""

from __future__ import annotations

import secrets
import threading
import time

_EPOCH_MS = 1_577_836_800_000
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id(at_ms: int | None = None) -> int:
    """Return a new id; ids made in the same process are strictly increasing."""
    global _last_ms, _seq
    with _lock:
        now = int(time.time() * 1000) if at_ms is None else at_ms
        if now <= _last_ms:
            now = _last_ms
            _seq += 1 + secrets.randbelow(16)
            if _seq >= 1 << 16:
                now += 1
                _seq = secrets.randbelow(1 << 12)
        else:
            _seq = secrets.randbelow(1 << 12)
        _last_ms = now
        return ((now - _EPOCH_MS) << 16) | _seq


def id_floor_for_ms(ms: int) -> int:
    """Smallest id that could have been made at unix-ms `ms` (for time-range queries)."""
    return max(0, (ms - _EPOCH_MS) << 16)


def new_token(nbytes: int = 32) -> str:
    """Unguessable URL-safe token."""
    return secrets.token_urlsafe(nbytes)
