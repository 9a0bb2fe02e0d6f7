"""The beacon's row building: dedup keys, unknown objects, the object cache."""

from __future__ import annotations

from datetime import UTC, datetime

from shopwindow.analytics import ingest
from shopwindow.analytics.ingest import Credits, Reported, Viewer


def test_build_rows_keys_are_dedup_keys_and_unknown_objects_are_counted() -> None:
    at = datetime(2026, 12, 7, 19, 30, 5, tzinfo=UTC)
    items = [Reported("impression", "post", 11, "home", 0, None),
             Reported("read", "post", 11, "home", 900, None),
             Reported("impression", "post", 12, "discover", 0, None),
             Reported("impression", "post", 99, "home", 0, None)]  # no such post
    credits = {("post", 11): Credits(creator_id=5, post_id=11, vertical="books"),
               ("post", 12): Credits(creator_id=6, post_id=12)}
    viewer = Viewer(None, "v:abc:def", "CN")
    rows, unknown = ingest.build_rows(items, credits, viewer, frozenset(), device="mobile",
                                      lang="zh", received=at, window_seconds=1800)
    assert unknown == 1
    window = int(at.timestamp()) // 1800
    assert [r["dedup_key"] for r in rows] == [
        ingest.dedup_key("v:abc:def", it.type, it.object_type, it.object_id, it.surface,
                         window) for it in items[:3]]
    assert len({r["dedup_key"] for r in rows}) == 3
    assert [(r["type"], r["value"], r["creator_id"], r["is_follower"]) for r in rows] == [
        ("impression", 0, 5, False), ("read", 900, 5, False), ("impression", 0, 6, False)]
    assert len({r["id"] for r in rows}) == 3
    # another viewer or another window gives other keys
    other, _ = ingest.build_rows(items[:1], credits, Viewer(None, "v:abc:xyz", "CN"),
                                 frozenset(), device="mobile", lang="zh", received=at,
                                 window_seconds=1800)
    later, _ = ingest.build_rows(items[:1], credits, viewer, frozenset(), device="mobile",
                                 lang="zh", received=at, window_seconds=1)
    assert other[0]["dedup_key"] != rows[0]["dedup_key"] != later[0]["dedup_key"]


def test_ttl_cache_get_many_returns_live_entries_and_the_rest_as_missing() -> None:
    cache = ingest._TTLCache(60.0)
    cache.put("a", 1)
    cache.put("b", None)  # a cached "no such object"
    gone = ingest._TTLCache(-1.0)  # every entry already expired
    gone.put("a", 1)
    assert cache.get_many(["a", "b", "c"]) == ({"a": 1, "b": None}, ["c"])
    assert gone.get_many(["a"]) == ({}, ["a"])
