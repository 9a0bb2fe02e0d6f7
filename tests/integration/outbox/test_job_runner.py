"""The real job runner (huey consumer threads) processes outbox events: SQLite-backed
queue for the embedded default and Redis-backed queue for production."""

from __future__ import annotations

import os
import time

import pytest
import redis
from sqlalchemy import select

from shopwindow.jobs import runtime
from shopwindow.notifications.models import Notification
from shopwindow.social import actions as social
from shopwindow.social.models import HomeEntry
from tests.helpers import make_account

REDIS_URL = os.environ.get("SHOPWINDOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_ok() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except redis.RedisError:
        return False


def _wait(fn, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("backend", ["sqlite-queue", "redis-queue"])
def test_consumer_threads_fan_out_and_notify(backend, settings, db, uow, session):
    if backend == "redis-queue" and not _redis_ok():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis unreachable at {REDIS_URL} on CI")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    over = {"jobs_mode": "thread", "jobs_queue_name": f"sw-test-{os.getpid()}-{time.time_ns()}"}
    if backend == "redis-queue":
        over["redis_url"] = REDIS_URL
    s2 = settings.model_copy(update=over)
    runtime.configure(s2, db)
    runtime.start_embedded(workers=2)
    try:
        a, b = make_account(uow, "alice"), make_account(uow, "bob")
        with uow() as s:
            social.follow(s, b, a)
        with uow() as s:
            pid = social.create_post(s, a, text="through the queue").id
        assert _wait(lambda: session.scalar(select(HomeEntry).where(
            HomeEntry.owner_id == b, HomeEntry.post_id == pid)) is not None)
        assert _wait(lambda: session.scalar(select(Notification).where(
            Notification.account_id == a, Notification.type == "follow")) is not None)
    finally:
        runtime.stop_embedded()
        if backend == "redis-queue" and runtime.rt.huey is not None:
            runtime.rt.huey.storage.flush_all()
        runtime.configure(settings, db)
