"""Home timelines in Redis: one sorted set per owner (used only by `social.timelines`).

Key `{prefix}home:{owner_id}`; member `"{post_id}:{author_id}"` (the author lets an
unfollow purge one author without reading posts); score = post id. Post ids are 63-bit
snowflakes and Redis scores are doubles (53-bit mantissa), so neighbouring ids can share
a score: range queries use the rounded bound inclusively, fetch a few extra members, and
then filter and order by the exact id parsed from the member. Every insert trims the set
to the newest `size` members (ZREMRANGEBYRANK), like Mastodon's FeedManager.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy.orm import Session

from shopwindow.social.timeline_store import Window

PIPE_BATCH = 1000
_SLACK = 8  # extra members fetched around a rounded score bound


def _parse(member: bytes | str) -> tuple[int, int]:
    s = member.decode() if isinstance(member, bytes) else member
    p, _, a = s.partition(":")
    return int(p), int(a or 0)


class RedisTimelineStore:
    """Home timelines as Redis sorted sets; same interface as `SqlTimelineStore`."""

    name = "redis"

    def __init__(self, url: str, size: int, prefix: str = "sw:") -> None:
        self.url = url
        self.size = size
        self.prefix = prefix
        self.r: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def key(self, owner_id: int) -> str:
        return f"{self.prefix}home:{owner_id}"

    def add(self, session: Session, owner_ids: Sequence[int], post_id: int,
            author_id: int) -> int:
        member = f"{post_id}:{author_id}"
        added = 0
        for i in range(0, len(owner_ids), PIPE_BATCH):
            pipe = self.r.pipeline(transaction=False)
            for o in owner_ids[i:i + PIPE_BATCH]:
                k = self.key(o)
                pipe.zadd(k, {member: post_id})
                pipe.zremrangebyrank(k, 0, -(self.size + 1))
            res = pipe.execute()
            added += sum(int(x) for x in res[0::2])
        return added

    def add_entries(self, session: Session, owner_id: int,
                    entries: Sequence[tuple[int, int]]) -> int:
        if not entries:
            return 0
        k = self.key(owner_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(k, {f"{p}:{a}": p for p, a in entries})
        pipe.zremrangebyrank(k, 0, -(self.size + 1))
        return int(pipe.execute()[0])

    def remove_post(self, session: Session, owner_ids: Sequence[int], post_id: int,
                    author_id: int) -> None:
        member = f"{post_id}:{author_id}"
        for i in range(0, len(owner_ids), PIPE_BATCH):
            pipe = self.r.pipeline(transaction=False)
            for o in owner_ids[i:i + PIPE_BATCH]:
                pipe.zrem(self.key(o), member)
            pipe.execute()

    def remove_author(self, session: Session, owner_id: int, author_id: int) -> None:
        k = self.key(owner_id)
        suffix = f":{author_id}"
        gone = [m for m in self.r.zrange(k, 0, -1)
                if (m.decode() if isinstance(m, bytes) else m).endswith(suffix)]
        if gone:
            self.r.zrem(k, *gone)

    def clear(self, session: Session, owner_id: int) -> None:
        self.r.delete(self.key(owner_id))

    def trim(self, session: Session, owner_id: int, size: int) -> None:
        self.r.zremrangebyrank(self.key(owner_id), 0, -(size + 1))

    def window(self, session: Session, owner_id: int, w: Window) -> list[tuple[int, int]]:
        k = self.key(owner_id)
        hi: Any = w.max_id if w.max_id is not None else "+inf"
        lo_id = max(w.since_id or 0, w.min_id or 0) if (w.since_id or w.min_id) else None
        lo: Any = lo_id if lo_id is not None else "-inf"
        asc = w.min_id is not None
        out: list[tuple[int, int]] = []
        offset = 0
        want = w.limit + _SLACK
        while True:
            if asc:
                raw = self.r.zrangebyscore(k, lo, hi, start=offset, num=want)
            else:
                raw = self.r.zrevrangebyscore(k, hi, lo, start=offset, num=want)
            for m in raw:
                p, a = _parse(m)
                if w.max_id is not None and p >= w.max_id:
                    continue
                if lo_id is not None and p <= lo_id:
                    continue
                out.append((p, a))
            if len(raw) < want or len(out) >= w.limit + _SLACK:
                break
            offset += want
        out.sort(reverse=not asc)
        return out[: w.limit]

    def count(self, session: Session, owner_id: int) -> int:
        return int(self.r.zcard(self.key(owner_id)))

    def delete_prefix(self) -> int:
        """Delete every key under this store's prefix (tests, `db reset`)."""
        n = 0
        for k in self.r.scan_iter(match=f"{self.prefix}*", count=1000):
            n += int(self.r.delete(k))
        return n
