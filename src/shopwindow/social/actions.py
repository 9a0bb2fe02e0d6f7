"""Social writes: graph changes, posts, reposts, likes, bookmarks. Each emits events."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts
from shopwindow.config import get_settings
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.core.ids import new_id
from shopwindow.db.upsert import insert_ignore
from shopwindow.media import actions as media
from shopwindow.outbox import emit
from shopwindow.social import queries, rules
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


def _ensure_stats(session: Session, *account_ids: int) -> None:
    insert_ignore(session, AccountStats.__table__, [
        {"account_id": a, "followers_count": 0, "following_count": 0, "statuses_count": 0}
        for a in account_ids
    ])


def _bump(session: Session, account_id: int, **deltas: int) -> None:
    _ensure_stats(session, account_id)
    values = {k: getattr(AccountStats, k) + v for k, v in deltas.items()}
    session.execute(update(AccountStats).where(AccountStats.account_id == account_id)
                    .values(**values))


def _target(session: Session, target_id: int, actor_id: int) -> int:
    if target_id == actor_id:
        raise Invalid("You cannot do this to your own account", field="id", rule="not_self")
    accounts.get_account(session, target_id)
    return target_id


# ------------------------------------------------------------------ graph


def follow(session: Session, follower_id: int, target_id: int) -> bool:
    """Follow an account; idempotent. Returns True if a new follow was created."""
    _target(session, target_id, follower_id)
    if queries.blocked_either_way(session, follower_id, target_id):
        raise Forbidden("You cannot follow this account", field="id", rule="blocked")
    now = utcnow()
    created = insert_ignore(session, Follow.__table__, [{
        "follower_id": follower_id, "followee_id": target_id, "id": new_id(), "created_at": now,
    }])
    if created:
        _bump(session, follower_id, following_count=1)
        _bump(session, target_id, followers_count=1)
        emit(session, "social.followed", follower_id=follower_id, followee_id=target_id)
    return bool(created)


def unfollow(session: Session, follower_id: int, target_id: int) -> bool:
    """Stop following; idempotent."""
    _target(session, target_id, follower_id)
    res = session.execute(delete(Follow).where(Follow.follower_id == follower_id,
                                               Follow.followee_id == target_id))
    if res.rowcount:  # type: ignore[attr-defined]
        _bump(session, follower_id, following_count=-1)
        _bump(session, target_id, followers_count=-1)
        emit(session, "social.unfollowed", follower_id=follower_id, followee_id=target_id)
        return True
    return False


def remove_follower(session: Session, account_id: int, follower_id: int) -> bool:
    """Make someone stop following you."""
    return unfollow(session, follower_id, account_id)


def block(session: Session, account_id: int, target_id: int) -> None:
    """Block: also removes follows in both directions."""
    _target(session, target_id, account_id)
    created = insert_ignore(session, Block.__table__, [{
        "account_id": account_id, "target_id": target_id, "id": new_id(), "created_at": utcnow(),
    }])
    unfollow(session, account_id, target_id)
    unfollow(session, target_id, account_id)
    if created:
        emit(session, "social.blocked", account_id=account_id, target_id=target_id)


def unblock(session: Session, account_id: int, target_id: int) -> None:
    _target(session, target_id, account_id)
    res = session.execute(delete(Block).where(Block.account_id == account_id,
                                              Block.target_id == target_id))
    if res.rowcount:  # type: ignore[attr-defined]
        emit(session, "social.unblocked", account_id=account_id, target_id=target_id)


def mute(session: Session, account_id: int, target_id: int, *, notifications: bool = True) -> None:
    _target(session, target_id, account_id)
    existing = session.get(Mute, (account_id, target_id))
    if existing:
        existing.notifications = notifications
    else:
        session.add(Mute(account_id=account_id, target_id=target_id, id=new_id(),
                         notifications=notifications, created_at=utcnow()))
    session.flush()
    emit(session, "social.muted", account_id=account_id, target_id=target_id)


def unmute(session: Session, account_id: int, target_id: int) -> None:
    _target(session, target_id, account_id)
    res = session.execute(delete(Mute).where(Mute.account_id == account_id,
                                             Mute.target_id == target_id))
    if res.rowcount:  # type: ignore[attr-defined]
        emit(session, "social.unmuted", account_id=account_id, target_id=target_id)


# ------------------------------------------------------------------ posts


def create_post(
    session: Session,
    author_id: int,
    *,
    text: str,
    visibility: str | None = None,
    media_ids: list[int] | None = None,
    in_reply_to_id: int | None = None,
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
) -> Post:
    """Publish a post (optionally a reply) with up to 9 of the author's uploaded images."""
    settings = get_settings()
    author = accounts.get_account(session, author_id)
    text = (text or "").replace("\r\n", "\n")
    visibility = visibility or author.default_visibility or "public"
    media_ids = media_ids or []
    rules.check_post_input(text, media_count=len(media_ids), max_chars=settings.max_post_chars,
                           visibility=visibility, spoiler_text=spoiler_text or "")
    if language is not None and not (2 <= len(language) <= 8):
        raise Invalid("Language must be an ISO 639 code", field="language", rule="iso639")
    parent: Post | None = None
    if in_reply_to_id is not None:
        parent = queries.find_visible_post(session, in_reply_to_id, author_id)
        if parent is None or parent.reblog_of_id is not None:
            raise Invalid("The post you reply to does not exist or is not visible to you",
                          field="in_reply_to_id", rule="exists")
        if queries.blocked_either_way(session, author_id, parent.account_id):
            raise Forbidden("You cannot reply to this account", field="in_reply_to_id",
                            rule="blocked")
    parsed = rules.parse_text(text)
    mention_ids = accounts.ids_by_usernames(session, parsed.mentions)
    now = utcnow()
    post = Post(
        id=new_id(),
        account_id=author_id,
        text=text,
        html=rules.render_html(text, base_url=settings.base_url,
                               known_mentions=lambda u: u.lower() in mention_ids),
        spoiler_text=spoiler_text or "",
        sensitive=bool(sensitive or spoiler_text),
        visibility=visibility,
        language=language or (author.languages[0] if author.languages else None),
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        thread_root_id=(parent.thread_root_id or parent.id) if parent else None,
        created_at=now,
    )
    session.add(post)
    session.flush()
    media.attach_to_post(session, account_id=author_id, media_ids=media_ids, post_id=post.id)
    if parsed.tags:
        session.add_all([PostTag(tag=t, post_id=post.id) for t in parsed.tags])
    mentioned = [i for i in mention_ids.values() if i != author_id]
    if mentioned:
        session.add_all([PostMention(post_id=post.id, account_id=i) for i in mentioned])
    if parent is not None:
        session.execute(update(Post).where(Post.id == parent.id)
                        .values(replies_count=Post.replies_count + 1))
    _bump(session, author_id, statuses_count=1)
    session.execute(update(AccountStats).where(AccountStats.account_id == author_id)
                    .values(last_status_at=now))
    session.flush()
    emit(session, "social.post_created", post_id=post.id, author_id=author_id,
         visibility=visibility, mentions=mentioned, tags=parsed.tags,
         in_reply_to_id=post.in_reply_to_id,
         in_reply_to_account_id=post.in_reply_to_account_id, reblog_of_id=None)
    return post


def delete_post(session: Session, actor_id: int, post_id: int) -> Post:
    """Delete your own post (its reposts go with it)."""
    post = session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound("Post not found", field="id", rule="exists")
    if post.account_id != actor_id:
        raise Forbidden("You can only delete your own posts", field="id", rule="owner")
    _delete(session, post)
    if post.reblog_of_id is None:
        for rb in session.scalars(select(Post).where(Post.reblog_of_id == post.id,
                                                     Post.deleted_at.is_(None))):
            _delete(session, rb)
    return post


def _delete(session: Session, post: Post) -> None:
    post.deleted_at = utcnow()
    _bump(session, post.account_id, statuses_count=-1)
    if post.in_reply_to_id is not None:
        session.execute(update(Post).where(Post.id == post.in_reply_to_id)
                        .values(replies_count=Post.replies_count - 1))
    if post.reblog_of_id is not None:
        session.execute(update(Post).where(Post.id == post.reblog_of_id)
                        .values(reblogs_count=Post.reblogs_count - 1))
    else:
        media.delete_for_post(session, post.id)
    session.flush()
    emit(session, "social.post_deleted", post_id=post.id, author_id=post.account_id,
         reblog_of_id=post.reblog_of_id)


def reblog(session: Session, actor_id: int, post_id: int,
           visibility: str = "public") -> Post:
    """Repost; idempotent (returns the existing repost). Followers-only posts cannot be."""
    target = queries.find_visible_post(session, post_id, actor_id)
    if target is None:
        raise NotFound("Post not found", field="id", rule="exists")
    if target.reblog_of_id is not None:
        target = queries.find_visible_post(session, target.reblog_of_id, actor_id)
        if target is None:
            raise NotFound("Post not found", field="id", rule="exists")
    if target.visibility == "private":
        raise Forbidden("Followers-only posts cannot be reposted", field="id",
                        rule="visibility:private")
    existing = session.scalar(select(Post).where(Post.reblog_of_id == target.id,
                                                 Post.account_id == actor_id,
                                                 Post.deleted_at.is_(None)))
    if existing is not None:
        return existing
    if visibility not in rules.VISIBILITIES:
        raise Invalid("Unknown visibility", field="visibility", rule="enum")
    rb = Post(id=new_id(), account_id=actor_id, text="", html="", visibility=visibility,
              reblog_of_id=target.id, created_at=utcnow())
    session.add(rb)
    session.execute(update(Post).where(Post.id == target.id)
                    .values(reblogs_count=Post.reblogs_count + 1))
    _bump(session, actor_id, statuses_count=1)
    session.flush()
    emit(session, "social.post_created", post_id=rb.id, author_id=actor_id,
         visibility=visibility, mentions=[], tags=[], in_reply_to_id=None,
         in_reply_to_account_id=None, reblog_of_id=target.id,
         reblog_of_account_id=target.account_id)
    return rb


def unreblog(session: Session, actor_id: int, post_id: int) -> Post:
    """Undo a repost of `post_id`; idempotent. Returns the original post."""
    target = queries.find_visible_post(session, post_id, actor_id)
    if target is None:
        raise NotFound("Post not found", field="id", rule="exists")
    original_id = target.reblog_of_id or target.id
    rb = session.scalar(select(Post).where(Post.reblog_of_id == original_id,
                                           Post.account_id == actor_id,
                                           Post.deleted_at.is_(None)))
    if rb is not None:
        _delete(session, rb)
    post = session.get(Post, original_id)
    assert post is not None
    return post


def _visible_original(session: Session, actor_id: int, post_id: int) -> Post:
    post = queries.find_visible_post(session, post_id, actor_id)
    if post is None:
        raise NotFound("Post not found", field="id", rule="exists")
    if post.reblog_of_id is not None:
        orig = queries.find_visible_post(session, post.reblog_of_id, actor_id)
        if orig is None:
            raise NotFound("Post not found", field="id", rule="exists")
        return orig
    return post


def favourite(session: Session, actor_id: int, post_id: int) -> Post:
    """Like a post; idempotent."""
    post = _visible_original(session, actor_id, post_id)
    if insert_ignore(session, Like.__table__, [{"account_id": actor_id, "post_id": post.id,
                                                "id": new_id(), "created_at": utcnow()}]):
        session.execute(update(Post).where(Post.id == post.id)
                        .values(favourites_count=Post.favourites_count + 1))
        emit(session, "social.liked", account_id=actor_id, post_id=post.id,
             author_id=post.account_id)
    session.refresh(post)
    return post


def unfavourite(session: Session, actor_id: int, post_id: int) -> Post:
    post = _visible_original(session, actor_id, post_id)
    res = session.execute(delete(Like).where(Like.account_id == actor_id,
                                             Like.post_id == post.id))
    if res.rowcount:  # type: ignore[attr-defined]
        session.execute(update(Post).where(Post.id == post.id)
                        .values(favourites_count=Post.favourites_count - 1))
        emit(session, "social.unliked", account_id=actor_id, post_id=post.id)
    session.refresh(post)
    return post


def bookmark(session: Session, actor_id: int, post_id: int) -> Post:
    post = _visible_original(session, actor_id, post_id)
    if insert_ignore(session, Bookmark.__table__, [{"account_id": actor_id, "post_id": post.id,
                                                    "id": new_id(), "created_at": utcnow()}]):
        emit(session, "social.bookmarked", account_id=actor_id, post_id=post.id,
             author_id=post.account_id)
    return post


def unbookmark(session: Session, actor_id: int, post_id: int) -> Post:
    post = _visible_original(session, actor_id, post_id)
    res = session.execute(delete(Bookmark).where(Bookmark.account_id == actor_id,
                                                 Bookmark.post_id == post.id))
    if res.rowcount:  # type: ignore[attr-defined]
        emit(session, "social.unbookmarked", account_id=actor_id, post_id=post.id)
    return post


def purge_account_content(session: Session, account_id: int) -> None:
    """After account deletion: delete posts, graph edges and likes (idempotent job)."""
    for p in session.scalars(select(Post).where(Post.account_id == account_id,
                                                Post.deleted_at.is_(None))):
        _delete(session, p)
    for f in list(session.scalars(select(Follow).where(Follow.follower_id == account_id))):
        session.delete(f)
        _bump(session, f.followee_id, followers_count=-1)
    for f in list(session.scalars(select(Follow).where(Follow.followee_id == account_id))):
        session.delete(f)
        _bump(session, f.follower_id, following_count=-1)
    for like in list(session.scalars(select(Like).where(Like.account_id == account_id))):
        session.execute(update(Post).where(Post.id == like.post_id)
                        .values(favourites_count=Post.favourites_count - 1))
        session.delete(like)
    session.execute(delete(Bookmark).where(Bookmark.account_id == account_id))
    session.flush()
