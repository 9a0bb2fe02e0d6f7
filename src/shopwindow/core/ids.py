"""Sortable, non-sequential 63-bit ids (snowflake-like).

Layout (docs/adr/0004-ids.md):
    bits 62…16  milliseconds since 2020-01-01 (47 bits)
    bits 15…6   node number of the minting process (10 bits)
    bits  5…0   sequence within the millisecond (6 bits: 64 ids/ms/process, then the
                next millisecond is borrowed)

Ids sort by creation time (cursor pagination, Mastodon's max_id/min_id). Two processes can
only collide if they share a node number: set SHOPWINDOW_NODE_ID (0–1023) per process in
large deployments; otherwise a random node is drawn at start-up.
"""

from __future__ import annotations

import os
import secrets
import threading
import time

_EPOCH_MS = 1_577_836_800_000
_NODE_BITS = 10
_SEQ_BITS = 6
_SEQ_MAX = (1 << _SEQ_BITS) - 1
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def _pick_node() -> int:
    raw = os.environ.get("SHOPWINDOW_NODE_ID")
    if raw is not None and raw.strip().isdigit() and 0 <= int(raw) < 1 << _NODE_BITS:
        return int(raw)
    return secrets.randbelow(1 << _NODE_BITS)


_node = _pick_node()


def _reseed_after_fork() -> None:
    # A forked worker (uvicorn --workers, huey) must not share its parent's node number.
    global _node, _last_ms, _seq
    _node = _pick_node() if "SHOPWINDOW_NODE_ID" not in os.environ else _node
    _last_ms, _seq = 0, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_after_fork)


def new_id(at_ms: int | None = None) -> int:
    """Return a new id; ids made in the same process are strictly increasing."""
    global _last_ms, _seq
    with _lock:
        now = int(time.time() * 1000) if at_ms is None else at_ms
        if now <= _last_ms:
            now = _last_ms
            _seq += 1
            if _seq > _SEQ_MAX:
                now += 1
                _seq = 0
        else:
            _seq = 0
        _last_ms = now
        return ((now - _EPOCH_MS) << 16) | (_node << _SEQ_BITS) | _seq


def new_ids(n: int) -> list[int]:
    """`n` new ids at once: what `n` calls of `new_id` return (strictly increasing, 64 per
    millisecond, then the next millisecond is borrowed), minted under one lock
    acquisition and one clock read. The beacon mints one id per event on the event loop,
    where a lock and a clock read per event cost 0.5 µs."""
    global _last_ms, _seq
    if n <= 0:
        return []
    with _lock:
        now = int(time.time() * 1000)
        # (millisecond, sequence) as one counter: ms * 64 + seq, counted up n times
        first = _last_ms * (_SEQ_MAX + 1) + _seq + 1 if now <= _last_ms \
            else now * (_SEQ_MAX + 1)
        last = first + n - 1
        _last_ms, _seq = last >> _SEQ_BITS, last & _SEQ_MAX
    node = _node << _SEQ_BITS
    epoch = _EPOCH_MS << 16
    # (ms << 16) | node | seq for the counter c = ms * 64 + seq: ((c >> 6) << 16) | …
    return [(((c >> _SEQ_BITS) << 16) - epoch) | node | (c & _SEQ_MAX)
            for c in range(first, last + 1)]


def id_floor_for_ms(ms: int) -> int:
    """Smallest id that could have been made at unix-ms `ms` (for time-range queries)."""
    return max(0, (ms - _EPOCH_MS) << 16)


def node_id() -> int:
    """This process's node number."""
    return _node


def new_token(nbytes: int = 32) -> str:
    """Unguessable URL-safe token."""
    return secrets.token_urlsafe(nbytes)
