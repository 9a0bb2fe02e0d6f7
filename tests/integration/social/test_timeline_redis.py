"""Redis specifics: exact windows despite double scores, trimming on insert, key cleanup,
and the cache-invalidation bus between processes. (The shared semantics of both stores are
in test_timelines_semantics.py, parametrised over SQL and Redis.)"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from shopwindow.core.pagination import Page
from shopwindow.social import timeline_bus, timeline_cache, timelines
from shopwindow.social.timeline_store import Window
from tests.helpers import make_account
from tests.integration.social.test_timelines_support import (
    REDIS_URL,
    follow,
    post,
    redis_store,
    require_redis,
    use_backend,
)


@pytest.fixture
def store() -> Iterator[Any]:
    require_redis()
    st = redis_store(size=10)
    yield st
    st.delete_prefix()
    assert not list(st.r.scan_iter(match=f"{st.prefix}*"))


def test_windows_are_exact_where_scores_collide(store):
    base = 14_254_595_664_120_551  # > 2**53: neighbouring ids share a double
    ids = [base + i for i in range(8)]
    assert float(ids[0]) == float(ids[1])
    for i in ids:
        store.add(None, [1], i, 7)
    assert [p for p, _ in store.window(None, 1, Window(limit=20))] == ids[::-1]
    assert [p for p, _ in store.window(None, 1, Window(max_id=ids[5], limit=3))] == \
        [ids[4], ids[3], ids[2]]
    assert [p for p, _ in store.window(None, 1, Window(min_id=ids[1], limit=3))] == \
        [ids[2], ids[3], ids[4]]
    assert [p for p, _ in store.window(None, 1, Window(since_id=ids[5], limit=9))] == \
        [ids[7], ids[6]]
    assert store.window(None, 1, Window(max_id=ids[0], limit=5)) == []


def test_insert_trims_and_purges_by_author(store):
    for i in range(1, 16):
        store.add(None, [1, 2], 1000 + i, 7 if i % 2 else 8)
    assert store.count(None, 1) == 10 and store.count(None, 2) == 10
    assert store.window(None, 1, Window(limit=1))[0] == (1015, 7)
    store.remove_author(None, 1, 8)
    assert {a for _p, a in store.window(None, 1, Window(limit=20))} == {7}
    store.remove_post(None, [1, 2], 1015, 7)
    assert store.window(None, 2, Window(limit=1))[0] == (1014, 8)
    store.clear(None, 2)
    assert store.count(None, 2) == 0


@pytest.fixture
def bus() -> Iterator[str]:
    """The bus on a unique Redis channel for this test."""
    require_redis()
    prefix = f"swtest:{uuid.uuid4().hex}:"
    timeline_bus.configure(REDIS_URL, prefix)
    yield timeline_bus.remote.channel
    timeline_bus.shutdown()


def _wait(fn: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.02)
    return False


def test_bus_applies_messages_from_other_processes(bus, db):
    timeline_cache.clear()
    timeline_cache.meta[42] = (7, 0, 0, False, 0)
    r = redis.Redis.from_url(REDIS_URL)
    msg = {"o": "another-process", "k": "social.post_deleted",
           "p": {"post_id": 42, "author_id": 7, "reblog_of_id": None}}
    r.publish(bus, json.dumps(msg))
    assert _wait(lambda: timeline_cache.meta[42][3] is True)
    # Our own messages are not applied twice, but do reach the others.
    ps = r.pubsub(ignore_subscribe_messages=True)
    ps.subscribe(bus)
    time.sleep(0.1)
    timeline_bus.publish("timeline.changed", {"owner": 5})
    got = None
    end = time.monotonic() + 5
    while got is None and time.monotonic() < end:
        got = ps.get_message(timeout=0.2)
    assert got is not None and json.loads(got["data"])["k"] == "timeline.changed"
    ps.close()
    timeline_cache.clear()


def test_fan_out_reaches_a_cached_head_through_redis(bus, db, uow, monkeypatch):
    for st in use_backend("redis", monkeypatch):
        a, b = make_account(uow, "alice"), make_account(uow, "bob")
        follow(uow, b, a)
        p1 = post(uow, a, "first")
        with db.read_sessions() as s:
            timeline_cache.load(s, b)
        assert timeline_cache.page(b, Page()).ids == [p1]  # type: ignore[union-attr]
        time.sleep(timeline_cache.CLOCK_MARGIN_MS / 1000 + 0.05)
        p2 = post(uow, a, "second")  # fan-out job -> store -> bus -> cached head
        got = timeline_cache.page(b, Page())
        assert isinstance(got, timeline_cache.HomePage) and got.ids == [p2, p1]
        assert st.count(None, b) == 2
        with db.read_sessions() as s:
            assert timelines.home_ids(s, b, Page()) == [p2, p1]
