"""Home timelines: the one module that owns the home-timeline cache.

Strategy (docs/timelines.md): fan-out on write for ordinary authors (a job inserts the new
post id into each follower's home entries), merge on read for authors with more than
`fanout_max_followers` followers (their recent posts are pulled at read time), and the
viewer's own posts are merged on read too (read-your-writes without waiting for a job).
The cache is rebuildable from follows + posts (`rebuild_home`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shopwindow.config import get_settings
from shopwindow.core.pagination import Page
from shopwindow.db.upsert import insert_ignore
from shopwindow.social import queries
from shopwindow.social.models import AccountStats, Follow, HomeEntry, Post

BATCH = 5000


def is_big(session: Session, author_id: int) -> bool:
    st = session.get(AccountStats, author_id)
    return bool(st and st.followers_count > get_settings().fanout_max_followers)


def fanout_post(session: Session, post_id: int) -> int:
    """Insert a post into its author's followers' home timelines. Idempotent."""
    post = session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        return 0
    if is_big(session, post.account_id):
        return 0  # merged on read
    n = 0
    last = -1
    while True:
        ids = list(session.scalars(
            select(Follow.follower_id)
            .where(Follow.followee_id == post.account_id, Follow.follower_id > last)
            .order_by(Follow.follower_id).limit(BATCH)))
        if not ids:
            break
        n += insert_ignore(session, HomeEntry.__table__, [
            {"owner_id": i, "post_id": post.id, "author_id": post.account_id} for i in ids])
        last = ids[-1]
    return n


def remove_post(session: Session, post_id: int) -> None:
    """Drop a deleted post from every home timeline."""
    session.execute(delete(HomeEntry).where(HomeEntry.post_id == post_id))


def backfill(session: Session, follower_id: int, followee_id: int, limit: int = 40) -> int:
    """After a follow: copy the followee's recent posts into the follower's home."""
    if is_big(session, followee_id):
        return 0
    if not queries.is_following(session, follower_id, followee_id):
        return 0  # unfollowed before the job ran
    ids = list(session.scalars(
        select(Post.id).where(Post.account_id == followee_id, Post.deleted_at.is_(None))
        .order_by(Post.id.desc()).limit(limit)))
    return insert_ignore(session, HomeEntry.__table__, [
        {"owner_id": follower_id, "post_id": i, "author_id": followee_id} for i in ids])


def purge_author(session: Session, owner_id: int, author_id: int) -> None:
    """After an unfollow/block: remove the author's posts from the owner's home."""
    if queries.is_following(session, owner_id, author_id):
        return  # re-followed before the job ran
    session.execute(delete(HomeEntry).where(HomeEntry.owner_id == owner_id,
                                            HomeEntry.author_id == author_id))


def rebuild_home(session: Session, owner_id: int, per_author: int = 40) -> int:
    """Rebuild one home timeline from follows and posts."""
    session.execute(delete(HomeEntry).where(HomeEntry.owner_id == owner_id))
    n = 0
    for fid in session.scalars(select(Follow.followee_id).where(Follow.follower_id == owner_id)):
        n += backfill(session, owner_id, fid, per_author)
    return n


def trim(session: Session, owner_id: int) -> None:
    """Keep only the newest `home_timeline_size` entries (older pages fall back to SQL)."""
    size = get_settings().home_timeline_size
    cutoff = session.scalar(select(HomeEntry.post_id).where(HomeEntry.owner_id == owner_id)
                            .order_by(HomeEntry.post_id.desc()).offset(size).limit(1))
    if cutoff is not None:
        session.execute(delete(HomeEntry).where(HomeEntry.owner_id == owner_id,
                                                HomeEntry.post_id <= cutoff))


def _big_followees(session: Session, viewer_id: int) -> list[int]:
    return list(session.scalars(
        select(Follow.followee_id).join(AccountStats, AccountStats.account_id == Follow.followee_id)
        .where(Follow.follower_id == viewer_id,
               AccountStats.followers_count > get_settings().fanout_max_followers)))


def _window(stmt: Any, col: Any, page: Page, limit: int) -> Any:
    if page.max_id is not None:
        stmt = stmt.where(col < page.max_id)
    if page.since_id is not None:
        stmt = stmt.where(col > page.since_id)
    if page.min_id is not None:
        return stmt.where(col > page.min_id).order_by(col.asc()).limit(limit)
    return stmt.order_by(col.desc()).limit(limit)


def home(session: Session, viewer_id: int, page: Page) -> list[Post]:
    """The viewer's home timeline page: cached entries ∪ own posts ∪ big followees' posts."""
    want = page.limit
    hidden = queries.hidden_authors(session, viewer_id)
    over = want + min(len(hidden), 20)
    ids: set[int] = set(session.scalars(_window(
        select(HomeEntry.post_id).where(HomeEntry.owner_id == viewer_id), HomeEntry.post_id,
        page, over)))
    authors = [viewer_id, *_big_followees(session, viewer_id)]
    ids |= set(session.scalars(_window(
        select(Post.id).where(Post.account_id.in_(authors), Post.deleted_at.is_(None)),
        Post.id, page, over)))
    ordered = sorted(ids, reverse=page.min_id is None)
    posts = queries.posts_by_ids(session, ordered[: over * 2])
    out: list[Post] = []
    for pid in ordered:
        p = posts.get(pid)
        if p is None or p.deleted_at is not None or p.account_id in hidden:
            continue
        if p.reblog_of_id is not None:
            orig = session.get(Post, p.reblog_of_id)
            if orig is None or orig.deleted_at is not None or orig.account_id in hidden:
                continue
        out.append(p)
        if len(out) >= want:
            break
    if page.min_id is not None:
        out.sort(key=lambda p: p.id, reverse=True)
    return out
