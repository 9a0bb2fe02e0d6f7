"""Shared helpers for the home-timeline tests (SQL and Redis stores, in-process cache)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from shopwindow.config import get_settings
from shopwindow.core.pagination import Page
from shopwindow.social import actions, timeline_cache, timelines
from shopwindow.social.timeline_redis import RedisTimelineStore

REDIS_URL = os.environ.get("SHOPWINDOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ON_CI = os.environ.get("CI", "").lower() == "true"


def redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"


def require_redis() -> None:
    """Skip (visibly) when Redis is unreachable; fail on CI."""
    problem = redis_problem()
    if problem:
        if ON_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URL} is unreachable: {problem}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {problem}")


def redis_store(size: int) -> RedisTimelineStore:
    return RedisTimelineStore(REDIS_URL, size, prefix=f"swtest:{uuid.uuid4().hex}:")


def use_backend(name: str, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Iterator[Any]:
    """Select a store backend (with setting overrides) for one test; clean up after."""
    for k, v in settings.items():
        monkeypatch.setenv(f"SHOPWINDOW_{k.upper()}", str(v))
    get_settings.cache_clear()
    timeline_cache.clear()
    st: Any = None
    if name == "redis":
        require_redis()
        st = redis_store(get_settings().home_timeline_size)
        timelines.set_store(st)
    try:
        yield timelines.store()
    finally:
        timelines.set_store(None)
        timeline_cache.clear()
        if st is not None:
            st.delete_prefix()
        get_settings.cache_clear()


def follow(uow: Any, a: int, b: int) -> None:
    with uow() as s:
        actions.follow(s, a, b)


def post(uow: Any, author: int, text: str = "hello", **kw: Any) -> int:
    with uow() as s:
        return actions.create_post(s, author, text=text, **kw).id


def truth(db: Any, viewer: int, **page: Any) -> list[int]:
    """The database answer (fresh session: no stale identity map)."""
    with db.read_sessions() as s:
        return timelines.home_ids(s, viewer, Page(**page))


def cached(db: Any, viewer: int, **page: Any) -> list[int] | None:
    """The in-process cache's answer, loading what it misses; None if it defers to SQL."""
    pg = Page(**page)
    with db.read_sessions() as s:
        for _ in range(8):
            r = timeline_cache.page(viewer, pg)
            if isinstance(r, timeline_cache.HomePage):
                return r.ids
            if r.uncached:
                return None
            timeline_cache.load(s, viewer, r)
    raise AssertionError("cache did not converge")


def home(db: Any, viewer: int, **page: Any) -> list[int]:
    """Truth, checked against the cache whenever the cache answers."""
    want = truth(db, viewer, **page)
    got = cached(db, viewer, **page)
    if got is not None:
        assert got == want, f"cache {got} != database {want} for page {page}"
    return want


def stored(db: Any, owner: int, post_id: int) -> bool:
    with db.read_sessions() as s:
        return timelines.contains(s, owner, post_id)


def count(db: Any, owner: int) -> int:
    with db.read_sessions() as s:
        return timelines.entry_count(s, owner)
