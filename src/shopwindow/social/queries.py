"""Social reads: relationships, visibility, posts, threads, lists and timelines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound
from shopwindow.core.pagination import Page
from shopwindow.media import queries as media_q
from shopwindow.social import rules
from shopwindow.social.models import (
    AccountStats,
    Block,
    Bookmark,
    Follow,
    Like,
    Mute,
    Post,
    PostMention,
    PostTag,
)

# ------------------------------------------------------------- relationships


def is_following(session: Session, follower_id: int, followee_id: int) -> bool:
    return session.get(Follow, (follower_id, followee_id)) is not None


def follow_pairs(session: Session, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (follower, followee) pairs among `pairs` that are follows, in one query."""
    wanted = set(pairs)
    if not wanted:
        return set()
    followers = sorted({a for a, _ in wanted})
    followees = sorted({b for _, b in wanted})
    rows = session.execute(select(Follow.follower_id, Follow.followee_id).where(
        Follow.follower_id.in_(followers), Follow.followee_id.in_(followees)))
    return {(int(a), int(b)) for a, b in rows} & wanted


def blocked_either_way(session: Session, a: int, b: int) -> bool:
    return bool(session.scalar(select(exists().where(or_(
        and_(Block.account_id == a, Block.target_id == b),
        and_(Block.account_id == b, Block.target_id == a),
    )))))


@dataclass(slots=True)
class Relationship:
    id: int
    following: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False


def relationships(
    session: Session, viewer_id: int, target_ids: Sequence[int]
) -> list[Relationship]:
    """Viewer's relationship to each target, in order."""
    ids = list(dict.fromkeys(target_ids))
    if not ids:
        return []
    following = set(session.scalars(select(Follow.followee_id).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(ids))))
    followed_by = set(session.scalars(select(Follow.follower_id).where(
        Follow.followee_id == viewer_id, Follow.follower_id.in_(ids))))
    blocking = set(session.scalars(select(Block.target_id).where(
        Block.account_id == viewer_id, Block.target_id.in_(ids))))
    blocked_by = set(session.scalars(select(Block.account_id).where(
        Block.target_id == viewer_id, Block.account_id.in_(ids))))
    mutes = {m.target_id: m for m in session.scalars(select(Mute).where(
        Mute.account_id == viewer_id, Mute.target_id.in_(ids)))}
    return [Relationship(i, i in following, i in followed_by, i in blocking, i in blocked_by,
                         i in mutes, bool(mutes[i].notifications) if i in mutes else False)
            for i in ids]


def hidden_authors(session: Session, viewer_id: int) -> set[int]:
    """Accounts whose posts the viewer should not see in lists (blocked, blocking, muted)."""
    out = set(session.scalars(select(Block.target_id).where(Block.account_id == viewer_id)))
    out |= set(session.scalars(select(Block.account_id).where(Block.target_id == viewer_id)))
    out |= set(session.scalars(select(Mute.target_id).where(Mute.account_id == viewer_id)))
    return out


def muted_notification_sources(session: Session, account_id: int) -> set[int]:
    out = set(session.scalars(select(Mute.target_id).where(Mute.account_id == account_id,
                                                           Mute.notifications.is_(True))))
    out |= set(session.scalars(select(Block.target_id).where(Block.account_id == account_id)))
    return out


def stats(session: Session, account_ids: Iterable[int]) -> dict[int, AccountStats]:
    ids = list(set(account_ids))
    if not ids:
        return {}
    return {s.account_id: s for s in session.scalars(
        select(AccountStats).where(AccountStats.account_id.in_(ids)))}


def follower_ids(session: Session, account_id: int) -> list[int]:
    return list(session.scalars(select(Follow.follower_id).where(Follow.followee_id == account_id)))


def _paged(stmt: Any, col: Any, page: Page) -> Any:
    if page.max_id is not None:
        stmt = stmt.where(col < page.max_id)
    if page.since_id is not None:
        stmt = stmt.where(col > page.since_id)
    if page.min_id is not None:
        return stmt.where(col > page.min_id).order_by(col.asc()).limit(page.limit)
    return stmt.order_by(col.desc()).limit(page.limit)


def _newest_first(rows: list[Any], page: Page, key: Any) -> list[Any]:
    return sorted(rows, key=key, reverse=True) if page.min_id is not None else rows


def followers(session: Session, account_id: int, page: Page) -> list[tuple[int, int]]:
    """(follow id, follower account id), newest first."""
    rows = list(session.execute(_paged(select(Follow.id, Follow.follower_id)
                                       .where(Follow.followee_id == account_id),
                                       Follow.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


def following(session: Session, account_id: int, page: Page) -> list[tuple[int, int]]:
    rows = list(session.execute(_paged(select(Follow.id, Follow.followee_id)
                                       .where(Follow.follower_id == account_id),
                                       Follow.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


def blocks(session: Session, account_id: int, page: Page) -> list[tuple[int, int]]:
    rows = list(session.execute(_paged(select(Block.id, Block.target_id)
                                       .where(Block.account_id == account_id), Block.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


def mutes(session: Session, account_id: int, page: Page) -> list[tuple[int, int]]:
    rows = list(session.execute(_paged(select(Mute.id, Mute.target_id)
                                       .where(Mute.account_id == account_id), Mute.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


# ------------------------------------------------------------- visibility


def can_view_post(session: Session, post: Post, viewer_id: int | None) -> bool:
    if post.deleted_at is not None:
        return False
    if viewer_id is None:
        return post.visibility in ("public", "unlisted")
    if viewer_id == post.account_id:
        return True
    follows = post.visibility == "private" and is_following(session, viewer_id, post.account_id)
    mentioned = post.visibility == "private" and session.get(
        PostMention, (post.id, viewer_id)) is not None
    return rules.can_view(
        visibility=post.visibility, author_id=post.account_id, viewer_id=viewer_id,
        viewer_follows_author=follows, viewer_is_mentioned=mentioned,
        blocked_either_way=blocked_either_way(session, viewer_id, post.account_id),
    )


def find_visible_post(session: Session, post_id: int, viewer_id: int | None) -> Post | None:
    post = session.get(Post, post_id)
    if post is None or not can_view_post(session, post, viewer_id):
        return None
    if post.reblog_of_id is not None:
        orig = session.get(Post, post.reblog_of_id)
        if orig is None or not can_view_post(session, orig, viewer_id):
            return None
    return post


def get_visible_post(session: Session, post_id: int, viewer_id: int | None) -> Post:
    """The post if it exists and the viewer may see it; NotFound otherwise (no oracle)."""
    post = find_visible_post(session, post_id, viewer_id)
    if post is None:
        raise NotFound("Post not found", field="id", rule="exists")
    return post


def _visible_filter(viewer_id: int | None) -> Any:
    """SQL condition: post visible to viewer in lists (public/unlisted, own, or followed)."""
    if viewer_id is None:
        return Post.visibility.in_(("public", "unlisted"))
    return or_(
        Post.visibility.in_(("public", "unlisted")),
        Post.account_id == viewer_id,
        exists().where(Follow.follower_id == viewer_id, Follow.followee_id == Post.account_id),
        exists().where(PostMention.post_id == Post.id, PostMention.account_id == viewer_id),
    )


def account_posts(
    session: Session, account_id: int, viewer_id: int | None, page: Page, *,
    exclude_replies: bool = False, exclude_reblogs: bool = False, only_media: bool = False,
    tagged: str | None = None,
) -> list[Post]:
    """A profile's posts visible to the viewer."""
    if viewer_id is not None and viewer_id != account_id and blocked_either_way(
            session, viewer_id, account_id):
        return []
    stmt = select(Post).where(Post.account_id == account_id, Post.deleted_at.is_(None),
                              _visible_filter(viewer_id))
    if exclude_replies:
        stmt = stmt.where(or_(Post.in_reply_to_id.is_(None),
                              Post.in_reply_to_account_id == account_id))
    if exclude_reblogs:
        stmt = stmt.where(Post.reblog_of_id.is_(None))
    if only_media:
        stmt = stmt.where(media_q.has_media(Post.id))
    if tagged:
        stmt = stmt.where(exists().where(PostTag.post_id == Post.id,
                                         PostTag.tag == rules.normalise_tag(tagged)))
    return _newest_first(list(session.scalars(_paged(stmt, Post.id, page))), page,
                         lambda p: p.id)


def public_timeline(session: Session, viewer_id: int | None, page: Page, *,
                    only_media: bool = False) -> list[Post]:
    """Public originals and reposts, newest first, minus the viewer's hidden accounts."""
    stmt = select(Post).where(Post.visibility == "public", Post.deleted_at.is_(None))
    if only_media:
        stmt = stmt.where(media_q.has_media(Post.id))
    if viewer_id is not None:
        hidden = hidden_authors(session, viewer_id)
        if hidden:
            stmt = stmt.where(Post.account_id.not_in(hidden))
    return _newest_first(list(session.scalars(_paged(stmt, Post.id, page))), page,
                         lambda p: p.id)


def tag_timeline(session: Session, tag: str, viewer_id: int | None, page: Page) -> list[Post]:
    t = rules.normalise_tag(tag)
    stmt = (select(Post).join(PostTag, PostTag.post_id == Post.id)
            .where(PostTag.tag == t, Post.visibility == "public", Post.deleted_at.is_(None)))
    if viewer_id is not None:
        hidden = hidden_authors(session, viewer_id)
        if hidden:
            stmt = stmt.where(Post.account_id.not_in(hidden))
    return _newest_first(list(session.scalars(_paged(stmt, Post.id, page))), page,
                         lambda p: p.id)


def context(session: Session, post: Post, viewer_id: int | None) -> tuple[list[Post], list[Post]]:
    """Ancestors (oldest first) and descendants (thread order) visible to the viewer."""
    ancestors: list[Post] = []
    cur = post
    seen = {post.id}
    while cur.in_reply_to_id is not None and len(ancestors) < 100:
        parent = session.get(Post, cur.in_reply_to_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        if can_view_post(session, parent, viewer_id):
            ancestors.append(parent)
        cur = parent
    ancestors.reverse()
    root = post.thread_root_id or post.id
    candidates = list(session.scalars(
        select(Post).where(Post.thread_root_id == root, Post.deleted_at.is_(None))
        .order_by(Post.id).limit(2000)))
    children: dict[int, list[Post]] = {}
    for c in candidates:
        if c.in_reply_to_id is not None:
            children.setdefault(c.in_reply_to_id, []).append(c)
    hidden = hidden_authors(session, viewer_id) if viewer_id else set()
    descendants: list[Post] = []

    def walk(pid: int) -> None:
        for c in children.get(pid, []):
            if c.account_id not in hidden and can_view_post(session, c, viewer_id):
                descendants.append(c)
                walk(c.id)

    walk(post.id)
    return ancestors, descendants


def favourites(session: Session, account_id: int, page: Page) -> list[tuple[int, Post]]:
    """(like id, post) newest like first."""
    stmt = (select(Like.id, Post).join(Post, Post.id == Like.post_id)
            .where(Like.account_id == account_id, Post.deleted_at.is_(None)))
    rows = [(r[0], r[1]) for r in session.execute(_paged(stmt, Like.id, page))]
    return _newest_first(rows, page, lambda r: r[0])


def bookmarks(session: Session, account_id: int, page: Page) -> list[tuple[int, Post]]:
    stmt = (select(Bookmark.id, Post).join(Post, Post.id == Bookmark.post_id)
            .where(Bookmark.account_id == account_id, Post.deleted_at.is_(None)))
    rows = [(r[0], r[1]) for r in session.execute(_paged(stmt, Bookmark.id, page))]
    return _newest_first(rows, page, lambda r: r[0])


def favourited_by(session: Session, post_id: int, page: Page) -> list[tuple[int, int]]:
    rows = list(session.execute(_paged(select(Like.id, Like.account_id)
                                       .where(Like.post_id == post_id), Like.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


def reblogged_by(session: Session, post_id: int, page: Page) -> list[tuple[int, int]]:
    rows = list(session.execute(_paged(select(Post.id, Post.account_id).where(
        Post.reblog_of_id == post_id, Post.deleted_at.is_(None)), Post.id, page)))
    return _newest_first([(r[0], r[1]) for r in rows], page, lambda r: r[0])


def trending_tags(session: Session, limit: int = 10) -> list[tuple[str, int]]:
    rows = session.execute(select(PostTag.tag, func.count()).group_by(PostTag.tag)
                           .order_by(func.count().desc()).limit(limit))
    return [(r[0], int(r[1])) for r in rows]


# ------------------------------------------------------------- hydration


@dataclass(slots=True)
class PostView:
    """A post with everything a client needs except the account objects."""

    post: Post
    reblog: PostView | None = None
    media: list[Any] = field(default_factory=list)  # media attachments, in order
    tags: list[str] = field(default_factory=list)
    mention_ids: list[int] = field(default_factory=list)
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False

    def account_ids(self) -> set[int]:
        ids = {self.post.account_id, *self.mention_ids}
        if self.reblog is not None:
            ids |= self.reblog.account_ids()
        return ids


def post_views(session: Session, posts: Sequence[Post], viewer_id: int | None) -> list[PostView]:
    """Hydrate posts (and reposted originals) in a fixed number of queries."""
    originals_ids = {p.reblog_of_id for p in posts if p.reblog_of_id is not None}
    originals = {p.id: p for p in session.scalars(select(Post).where(
        Post.id.in_(originals_ids)))} if originals_ids else {}
    all_posts = [*posts, *originals.values()]
    ids = [p.id for p in all_posts]
    media = media_q.media_for_posts(session, ids)
    tags: dict[int, list[str]] = {}
    mentions: dict[int, list[int]] = {}
    if ids:
        for t in session.scalars(select(PostTag).where(PostTag.post_id.in_(ids))):
            tags.setdefault(t.post_id, []).append(t.tag)
        for m in session.scalars(select(PostMention).where(PostMention.post_id.in_(ids))):
            mentions.setdefault(m.post_id, []).append(m.account_id)
    fav: set[int] = set()
    bm: set[int] = set()
    rb: set[int] = set()
    if viewer_id is not None and ids:
        fav = set(session.scalars(select(Like.post_id).where(Like.account_id == viewer_id,
                                                             Like.post_id.in_(ids))))
        bm = set(session.scalars(select(Bookmark.post_id).where(
            Bookmark.account_id == viewer_id, Bookmark.post_id.in_(ids))))
        rb = set(session.scalars(select(Post.reblog_of_id).where(
            Post.account_id == viewer_id, Post.reblog_of_id.in_(ids),
            Post.deleted_at.is_(None))))

    def view(p: Post) -> PostView:
        return PostView(p, None, media.get(p.id, []), tags.get(p.id, []), mentions.get(p.id, []),
                        p.id in fav, p.id in rb, p.id in bm)

    out = []
    for p in posts:
        v = view(p)
        if p.reblog_of_id is not None and p.reblog_of_id in originals:
            v.reblog = view(originals[p.reblog_of_id])
        out.append(v)
    return out


def get_post(session: Session, post_id: int) -> Post | None:
    return session.get(Post, post_id)


def posts_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Post]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(wanted)))}


def post_ids_by_author(session: Session, account_id: int, before_id: int | None = None
                       ) -> list[int]:
    """Ids of an account's posts (older than `before_id` if given): report candidates."""
    stmt = select(Post.id).where(Post.account_id == account_id)
    if before_id is not None:
        stmt = stmt.where(Post.id < before_id)
    return list(session.scalars(stmt))


def followee_ids(session: Session, account_id: int) -> set[int]:
    """Ids of the accounts this account follows."""
    return set(session.scalars(select(Follow.followee_id).where(Follow.follower_id == account_id)))


def follow_edges(session: Session, follower_ids: Iterable[int] | None = None
                 ) -> list[tuple[int, int, datetime]]:
    """(follower, followee, followed at) of every follow, or of some followers (recommenders)."""
    stmt = select(Follow.follower_id, Follow.followee_id, Follow.created_at)
    if follower_ids is not None:
        ids = list(set(follower_ids))
        if not ids:
            return []
        stmt = stmt.where(Follow.follower_id.in_(ids))
    return [(int(a), int(b), t) for a, b, t in session.execute(stmt)]
