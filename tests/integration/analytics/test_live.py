"""Live notifications: local listeners after each fold, and across processes via Redis."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from shopwindow.analytics import live
from shopwindow.config import get_settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def with_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not _redis_up():
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    monkeypatch.setenv("SHOPWINDOW_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    yield
    live.shutdown()
    get_settings.cache_clear()


def test_local_listeners_get_changed_keys_and_can_leave() -> None:
    got: list[set[tuple[str, int]]] = []
    live.add_listener(got.append)
    live.notify({("post", 1), ("platform", 0)})
    live.remove_listener(got.append)
    live.notify({("post", 2)})
    live.notify(set())
    assert got == [{("post", 1), ("platform", 0)}]


def test_other_processes_messages_arrive_through_redis(with_redis: None) -> None:
    arrived = threading.Event()
    got: list[set[tuple[str, int]]] = []

    def listener(keys: set[tuple[str, int]]) -> None:
        got.append(keys)
        arrived.set()

    live.add_listener(listener)
    try:
        client = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 5
        # What another web process's aggregator publishes (another origin).
        msg = json.dumps({"o": "other-process", "k": [["creator", 7], ["platform", 0]]})
        while not arrived.is_set() and time.monotonic() < deadline:
            client.publish(live.channel(), msg)  # until the listener thread is subscribed
            arrived.wait(0.1)
        assert got and got[0] == {("creator", 7), ("platform", 0)}
        # Our own messages are not delivered twice (once locally, once via Redis).
        got.clear()
        live.notify({("post", 3)})
        time.sleep(0.5)
        assert got == [{("post", 3)}]
    finally:
        live.remove_listener(listener)
