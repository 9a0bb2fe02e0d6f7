"""Home timelines: the one module that owns the home-timeline cache.

Strategy (docs/timelines.md):

* Fan-out on write for ordinary authors: a job inserts a new post's id into each
  follower's home timeline in the store (`social_home_entry` rows, or one Redis sorted set
  per owner when SHOPWINDOW_REDIS_URL is set).
* Merge on read for big authors (more than `fanout_max_followers` followers): their
  posts are never copied; a follower's read merges their recent posts in. The read side
  merges every followee with more than half that many followers, so an author who crosses
  the threshold in either direction never drops out of anyone's home.
* The viewer's own posts are merged on read too (read-your-writes without waiting for a
  job).
* Reads filter what the store may still hold: deleted posts, authors the viewer no longer
  follows (before the purge job ran), blocked/blocking/muted authors, and reposts of such.
* The store is a cache: `rebuild_home` recreates a timeline from follows and posts.

Hot reads are served by `social.timeline_cache` (in-process, kept current through
`social.timeline_bus`); this module is the database truth it loads from and falls back to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from shopwindow.config import get_settings
from shopwindow.core.pagination import Page
from shopwindow.db.uow import after_commit
from shopwindow.social import queries, timeline_bus
from shopwindow.social.models import AccountStats, Follow, Post
from shopwindow.social.timeline_store import SqlTimelineStore, TimelineStore, Window

BATCH = 5000
BACKFILL = 40
REDIS_PREFIX = "sw:"

# Every process relays committed events to the read caches' bus (and to Redis when set).
timeline_bus.install_relay()

_override: TimelineStore | None = None
_stores: dict[tuple[str | None, int], TimelineStore] = {}


def set_store(store: TimelineStore | None) -> None:
    """Use `store` instead of the one chosen from settings (tests, benchmarks)."""
    global _override
    _override = store


def store() -> TimelineStore:
    """The configured backend: Redis when settings.redis_url is set, SQL otherwise."""
    if _override is not None:
        return _override
    s = get_settings()
    key = (s.redis_url, s.home_timeline_size)
    st = _stores.get(key)
    if st is None:
        if s.redis_url:
            from shopwindow.social.timeline_redis import RedisTimelineStore

            st = RedisTimelineStore(s.redis_url, s.home_timeline_size, REDIS_PREFIX)
        else:
            st = SqlTimelineStore(s.home_timeline_size)
        _stores[key] = st
    return st


def _notify(session: Session, kind: str, **payload: Any) -> None:
    after_commit(session, lambda: timeline_bus.publish(kind, payload))


# ------------------------------------------------------------------ big accounts


def fanout_limit() -> int:
    """Authors with more followers than this are merged on read instead of fanned out."""
    return get_settings().fanout_max_followers


def merge_threshold() -> int:
    """Followees with more followers than this are merged on read (half the fan-out limit)."""
    return fanout_limit() // 2


def is_big(session: Session, author_id: int) -> bool:
    st = session.get(AccountStats, author_id)
    return bool(st and st.followers_count > fanout_limit())


def _follower_batches(session: Session, author_id: int) -> Any:
    # Keyset pagination in the order of ix_social_follow_followee (followee_id, id): no sort.
    last = -1
    while True:
        rows = session.execute(
            select(Follow.id, Follow.follower_id)
            .where(Follow.followee_id == author_id, Follow.id > last)
            .order_by(Follow.id).limit(BATCH)).all()
        if not rows:
            return
        yield [int(r[1]) for r in rows]
        last = rows[-1][0]


# ------------------------------------------------------------------ writes (jobs)


def fanout_post(session: Session, post_id: int) -> int:
    """Insert a post into its author's followers' home timelines. Idempotent."""
    post = session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        return 0
    if is_big(session, post.account_id):
        return 0  # merged on read
    st = store()
    n = 0
    owners: list[int] = []
    for ids in _follower_batches(session, post.account_id):
        n += st.add(session, ids, post.id, post.account_id)
        owners.extend(ids)
    if owners:
        _notify(session, "timeline.added", owners=owners, post_id=post.id,
                author_id=post.account_id)
    return n


def remove_post(session: Session, post_id: int) -> None:
    """Drop a deleted post from its author's followers' home timelines."""
    post = session.get(Post, post_id)
    if post is None:
        return
    st = store()
    for ids in _follower_batches(session, post.account_id):
        st.remove_post(session, ids, post.id, post.account_id)


def _recent_posts(session: Session, author_id: int, limit: int) -> list[int]:
    return list(session.scalars(
        select(Post.id).where(Post.account_id == author_id, Post.deleted_at.is_(None))
        .order_by(Post.id.desc()).limit(limit)))


def backfill(session: Session, follower_id: int, followee_id: int, limit: int = BACKFILL) -> int:
    """After a follow: copy the followee's recent posts into the follower's home."""
    if is_big(session, followee_id):
        return 0
    if not queries.is_following(session, follower_id, followee_id):
        return 0  # unfollowed before the job ran
    ids = _recent_posts(session, followee_id, limit)
    n = store().add_entries(session, follower_id, [(i, followee_id) for i in ids])
    _notify(session, "timeline.changed", owner=follower_id)
    return n


def purge_author(session: Session, owner_id: int, author_id: int) -> None:
    """After an unfollow/block: remove the author's posts from the owner's home."""
    if queries.is_following(session, owner_id, author_id):
        return  # re-followed before the job ran
    store().remove_author(session, owner_id, author_id)
    _notify(session, "timeline.changed", owner=owner_id)


def rebuild_home(session: Session, owner_id: int, per_author: int = BACKFILL) -> int:
    """Rebuild one home timeline from follows and posts."""
    st = store()
    st.clear(session, owner_id)
    limit = fanout_limit()
    rows = session.execute(
        select(Follow.followee_id, func.coalesce(AccountStats.followers_count, 0))
        .select_from(Follow)
        .outerjoin(AccountStats, AccountStats.account_id == Follow.followee_id)
        .where(Follow.follower_id == owner_id))
    n = 0
    for fid, followers in rows.all():
        if int(followers) > limit:
            continue
        ids = _recent_posts(session, int(fid), per_author)
        n += st.add_entries(session, owner_id, [(i, int(fid)) for i in ids])
    st.trim(session, owner_id, get_settings().home_timeline_size)
    _notify(session, "timeline.changed", owner=owner_id)
    return n


def trim(session: Session, owner_id: int) -> None:
    """Keep only the newest `home_timeline_size` entries (older pages fall back to SQL)."""
    store().trim(session, owner_id, get_settings().home_timeline_size)


def entry_count(session: Session, owner_id: int) -> int:
    """How many entries the store holds for one owner (tests, benchmarks)."""
    return store().count(session, owner_id)


def contains(session: Session, owner_id: int, post_id: int) -> bool:
    """Whether the store holds `post_id` in `owner_id`'s timeline."""
    got = store().window(session, owner_id, Window(max_id=post_id + 1, since_id=post_id - 1,
                                                   limit=1))
    return bool(got) and got[0][0] == post_id


# ------------------------------------------------------------------ reads


@dataclass(frozen=True, slots=True)
class ViewerContext:
    """What filtering and merging a viewer's home needs."""

    viewer_id: int
    followees: frozenset[int]
    merge: tuple[int, ...]  # the viewer and followees merged on read
    hidden: frozenset[int]  # blocked, blocking or muted

    def shows_author(self, author_id: int) -> bool:
        if author_id == self.viewer_id:
            return True
        return author_id in self.followees and author_id not in self.hidden

    def shows_reply(self, author_id: int, reply_to_account_id: int) -> bool:
        """Like Mastodon: a followee's reply to someone else reaches the home timeline only
        when the viewer follows that someone too (self-threads and replies to the viewer
        always do; replies to hidden accounts never do)."""
        if author_id == self.viewer_id or reply_to_account_id in (author_id, self.viewer_id):
            return True
        return reply_to_account_id in self.followees and reply_to_account_id not in self.hidden


def viewer_context(session: Session, viewer_id: int) -> ViewerContext:
    """Load followees (with their size), hidden accounts and the merge list."""
    rows = session.execute(
        select(Follow.followee_id, func.coalesce(AccountStats.followers_count, 0))
        .select_from(Follow)
        .outerjoin(AccountStats, AccountStats.account_id == Follow.followee_id)
        .where(Follow.follower_id == viewer_id)).all()
    threshold = merge_threshold()
    followees = frozenset(int(r[0]) for r in rows)
    big = sorted(int(r[0]) for r in rows if int(r[1]) > threshold)
    hidden = frozenset(queries.hidden_authors(session, viewer_id))
    return ViewerContext(viewer_id, followees, (viewer_id, *big), hidden)


UNION_CHUNK = 200  # authors per UNION ALL statement (SQLite allows 500 compound terms)


def _author_window(author_id: int, w: Window) -> Any:
    stmt = select(Post.id).where(Post.account_id == author_id, Post.deleted_at.is_(None))
    if w.max_id is not None:
        stmt = stmt.where(Post.id < w.max_id)
    if w.since_id is not None:
        stmt = stmt.where(Post.id > w.since_id)
    if w.min_id is not None:
        stmt = stmt.where(Post.id > w.min_id).order_by(Post.id.asc())
    else:
        stmt = stmt.order_by(Post.id.desc())
    return stmt.limit(w.limit)


def posts_window(session: Session, authors: Sequence[int], w: Window) -> list[int]:
    """Ids of the authors' non-deleted posts in the window (store order convention).

    One index range per author, combined with UNION ALL: with `account_id IN (…) ORDER BY
    id DESC LIMIT n`, PostgreSQL walks the primary key backwards and filters, which reads
    the whole table when the authors posted little.
    """
    authors = list(dict.fromkeys(authors))
    if not authors:
        return []
    if len(authors) == 1:
        return [int(i) for i in session.scalars(_author_window(authors[0], w))]
    asc = w.min_id is not None
    out: list[int] = []
    for i in range(0, len(authors), UNION_CHUNK):
        subs = [_author_window(a, w).subquery() for a in authors[i:i + UNION_CHUNK]]
        u = union_all(*[select(sq.c.id) for sq in subs]).subquery()
        stmt = select(u.c.id).order_by(u.c.id.asc() if asc else u.c.id.desc()).limit(w.limit)
        out.extend(int(x) for x in session.scalars(stmt))
    out.sort(reverse=not asc)
    return out[: w.limit]


def visible_in_home(ctx: ViewerContext, post: Post | None, original: Post | None) -> bool:
    """Whether a candidate post belongs in the viewer's home timeline."""
    if post is None or post.deleted_at is not None or not ctx.shows_author(post.account_id):
        return False
    if post.in_reply_to_account_id is not None and not ctx.shows_reply(
            post.account_id, post.in_reply_to_account_id):
        return False
    if post.reblog_of_id is not None:
        if original is None or original.deleted_at is not None:
            return False
        if original.account_id in ctx.hidden:
            return False
    return True


def home_ids(session: Session, viewer_id: int, page: Page,
             ctx: ViewerContext | None = None) -> list[int]:
    """The viewer's home page as post ids, newest first (database truth)."""
    return [p.id for p in home(session, viewer_id, page, ctx)]


def oldest_entry(session: Session, owner_id: int) -> int | None:
    """The oldest post id in the owner's stored timeline (None when empty)."""
    got = store().window(session, owner_id, Window(min_id=0, limit=1))
    return got[0][0] if got else None


def home(session: Session, viewer_id: int, page: Page,
         ctx: ViewerContext | None = None) -> list[Post]:
    """The viewer's home timeline page: stored entries ∪ own posts ∪ big followees' posts.

    Below the oldest stored entry (trimmed away, or a timeline never built) the page comes
    from the followees' posts in the database, so losing the cache never changes a page.
    """
    ctx = ctx or viewer_context(session, viewer_id)
    st = store()
    others = sorted(ctx.followees.difference(ctx.merge))
    floor = oldest_entry(session, viewer_id) if others else None
    asc = page.min_id is not None
    batch = page.limit + 20
    out: list[Post] = []
    max_id, min_id = page.max_id, page.min_id
    for _ in range(10):
        w = Window(max_id=max_id, since_id=page.since_id, min_id=min_id, limit=batch)
        sources = [[p for p, _a in st.window(session, viewer_id, w)],
                   posts_window(session, ctx.merge, w)]
        if others:
            below = w.max_id if floor is None else min(floor, w.max_id or floor)
            sources.append(posts_window(session, others, Window(
                max_id=below, since_id=w.since_id, min_id=w.min_id, limit=batch)))
        # A source that filled its batch may hold more beyond its last id: only ids up to
        # the nearest such boundary are complete in this round.
        full = [s[-1] for s in sources if len(s) >= batch]
        bound = (min(full) if asc else max(full)) if full else None
        cands = sorted({i for s in sources for i in s}, reverse=not asc)
        if bound is not None:
            cands = [i for i in cands if (i <= bound if asc else i >= bound)]
        posts = queries.posts_by_ids(session, cands)
        origs = queries.posts_by_ids(session, [p.reblog_of_id for p in posts.values()
                                               if p.reblog_of_id is not None])
        for pid in cands:
            p = posts.get(pid)
            o = origs.get(p.reblog_of_id) if p is not None and p.reblog_of_id else None
            if visible_in_home(ctx, p, o):
                assert p is not None
                out.append(p)
                if len(out) >= page.limit:
                    break
        if len(out) >= page.limit or bound is None:
            break
        if asc:
            min_id = bound
        else:
            max_id = bound
    if asc:
        out.sort(key=lambda p: p.id, reverse=True)
    return out
