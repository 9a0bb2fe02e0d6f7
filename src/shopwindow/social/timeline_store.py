"""Home-timeline storage backends (used only by `social.timelines`).

A store holds, per owner, the ids of posts fanned out to them on write, newest first, with
the author of each entry (so an unfollow can purge one author). It is a cache: everything
in it can be rebuilt from follows and posts (`timelines.rebuild_home`). Two backends with the
same interface and semantics:

* `SqlTimelineStore`: the `social_home_entry` table (SQLite / PostgreSQL).
* `RedisTimelineStore` (`social.timeline_redis`): one sorted set per owner.

Windows follow Mastodon's cursors: `max_id` / `since_id` are exclusive bounds and the
result is newest first; with `min_id` the result is the `limit` entries just above
`min_id`, oldest first (callers reverse it).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopwindow.social.models import HomeEntry

# The SQL store trims an owner's timeline on roughly one insert in TRIM_EVERY (chosen by a
# hash of owner and post, so a retried job trims the same owners): trimming costs an index
# walk of `size` rows, too much to pay for every follower of every post. A timeline thus
# holds at most about size + TRIM_EVERY entries between trims; `trim()` is exact.
TRIM_EVERY = 16

# Delete everything at or below the (size+1)-th newest entry; no-op when there are fewer
# (the comparison with NULL matches nothing). An index walk of `size` rows per owner.
_FANOUT_SQLITE = text(
    "INSERT INTO social_home_entry (owner_id, post_id, author_id) "
    "SELECT value, :p, :a FROM json_each(:owners) WHERE true ON CONFLICT DO NOTHING")
_FANOUT_PG = text(
    "INSERT INTO social_home_entry (owner_id, post_id, author_id) "
    "SELECT o, :p, :a FROM unnest(CAST(:owners AS bigint[])) AS o ON CONFLICT DO NOTHING")
_TRIM = text(
    "DELETE FROM social_home_entry WHERE owner_id = :o AND post_id <= ("
    "SELECT post_id FROM social_home_entry WHERE owner_id = :o "
    "ORDER BY post_id DESC LIMIT 1 OFFSET :size)")


@dataclass(frozen=True, slots=True)
class Window:
    """Cursor bounds of one read (see module docstring)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20


class TimelineStore(Protocol):
    """What `social.timelines` needs from a home-timeline backend."""

    name: str

    def add(self, session: Session, owner_ids: Sequence[int], post_id: int,
            author_id: int) -> int:
        """Insert one post into many owners' timelines (idempotent); returns rows added."""
        ...

    def add_entries(self, session: Session, owner_id: int,
                    entries: Sequence[tuple[int, int]]) -> int:
        """Insert (post_id, author_id) entries into one owner's timeline (idempotent)."""
        ...

    def remove_post(self, session: Session, owner_ids: Sequence[int], post_id: int,
                    author_id: int) -> None:
        """Remove one post from the given owners' timelines."""
        ...

    def remove_author(self, session: Session, owner_id: int, author_id: int) -> None:
        """Remove every entry of one author from one owner's timeline."""
        ...

    def clear(self, session: Session, owner_id: int) -> None:
        """Empty one owner's timeline."""
        ...

    def trim(self, session: Session, owner_id: int, size: int) -> None:
        """Keep only the newest `size` entries of one owner's timeline."""
        ...

    def window(self, session: Session, owner_id: int, w: Window) -> list[tuple[int, int]]:
        """(post_id, author_id) entries in the window (see module docstring for order)."""
        ...

    def count(self, session: Session, owner_id: int) -> int:
        """Number of entries in one owner's timeline."""
        ...


def should_trim(owner_id: int, post_id: int) -> bool:
    """Deterministic 1-in-TRIM_EVERY sample of (owner, post) pairs."""
    return zlib.crc32(f"{owner_id}:{post_id}".encode()) % TRIM_EVERY == 0


class SqlTimelineStore:
    """Home timelines in the `social_home_entry` table."""

    name = "sql"

    def __init__(self, size: int) -> None:
        self.size = size

    def add(self, session: Session, owner_ids: Sequence[int], post_id: int,
            author_id: int) -> int:
        # One statement with the owners as a single array parameter: the database expands
        # it, so the job thread never takes the GIL back per row (with executemany, a busy
        # web thread in the same process can stretch a 5,000-row fan-out to seconds).
        if not owner_ids:
            return 0
        pg = session.get_bind().dialect.name == "postgresql"
        owners: Any = list(owner_ids) if pg else json.dumps(list(owner_ids))
        res = session.execute(_FANOUT_PG if pg else _FANOUT_SQLITE,
                              {"owners": owners, "p": post_id, "a": author_id})
        due = [{"o": o, "size": self.size} for o in owner_ids if should_trim(o, post_id)]
        if due:
            session.execute(_TRIM, due)  # ≈ size/16 short index walks
        n = getattr(res, "rowcount", -1)
        return int(n) if n is not None and n >= 0 else len(owner_ids)

    def add_entries(self, session: Session, owner_id: int,
                    entries: Sequence[tuple[int, int]]) -> int:
        return self._insert(session, [{"owner_id": owner_id, "post_id": p, "author_id": a}
                                      for p, a in entries])

    @staticmethod
    def _insert(session: Session, rows: list[dict[str, int]]) -> int:
        # One cached single-row statement run as executemany: compiling a multi-VALUES
        # statement for thousands of followers costs more than inserting them.
        if not rows:
            return 0
        dialect = session.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            HomeEntry).on_conflict_do_nothing()
        res = session.execute(ins, rows)
        n = getattr(res, "rowcount", -1)
        return int(n) if n is not None and n >= 0 else len(rows)

    def remove_post(self, session: Session, owner_ids: Sequence[int], post_id: int,
                    author_id: int) -> None:
        # Keyed by the primary key (owner_id, post_id): no index on post_id alone is needed.
        for i in range(0, len(owner_ids), 5000):
            session.execute(delete(HomeEntry).where(HomeEntry.owner_id.in_(owner_ids[i:i + 5000]),
                                                    HomeEntry.post_id == post_id))

    def remove_author(self, session: Session, owner_id: int, author_id: int) -> None:
        session.execute(delete(HomeEntry).where(HomeEntry.owner_id == owner_id,
                                                HomeEntry.author_id == author_id))

    def clear(self, session: Session, owner_id: int) -> None:
        session.execute(delete(HomeEntry).where(HomeEntry.owner_id == owner_id))

    def trim(self, session: Session, owner_id: int, size: int) -> None:
        session.execute(_TRIM, {"o": owner_id, "size": size})

    def window(self, session: Session, owner_id: int, w: Window) -> list[tuple[int, int]]:
        col = HomeEntry.post_id
        stmt = select(HomeEntry.post_id, HomeEntry.author_id).where(HomeEntry.owner_id == owner_id)
        if w.max_id is not None:
            stmt = stmt.where(col < w.max_id)
        if w.since_id is not None:
            stmt = stmt.where(col > w.since_id)
        if w.min_id is not None:
            stmt = stmt.where(col > w.min_id).order_by(col.asc())
        else:
            stmt = stmt.order_by(col.desc())
        return [(int(r[0]), int(r[1])) for r in session.execute(stmt.limit(w.limit))]

    def count(self, session: Session, owner_id: int) -> int:
        return int(session.scalar(select(func.count()).select_from(HomeEntry)
                                  .where(HomeEntry.owner_id == owner_id)) or 0)
