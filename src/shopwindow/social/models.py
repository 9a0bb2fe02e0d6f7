"""ORM tables of the social domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime

# Account ids are plain BIGINT columns without cross-domain foreign keys: the graph and
# posts tables are the ones we would shard by account id (ARCHITECTURE.md, Citus note).


class Follow(Base):
    __tablename__ = "social_follow"

    follower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    followee_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, unique=True)  # for pagination
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_social_follow_followee", "followee_id", "id"),)


class Block(Base):
    __tablename__ = "social_block"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # "Who blocks me?" is asked on every home-timeline load (hidden authors).
    __table_args__ = (Index("ix_social_block_target", "target_id", "account_id"),)


class Mute(Base):
    __tablename__ = "social_mute"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, unique=True)
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Post(Base):
    """A status: original post, reply, or repost (reblog_of_id set, empty text)."""

    __tablename__ = "social_post"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    spoiler_text: Mapped[str] = mapped_column(String(200), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    in_reply_to_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    thread_root_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reblog_of_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    replies_count: Mapped[int] = mapped_column(Integer, default=0)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0)
    favourites_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_social_post_account", "account_id", "id"),
        Index("ix_social_post_reply", "in_reply_to_id"),
        Index("ix_social_post_thread", "thread_root_id"),
        Index("ix_social_post_reblog", "reblog_of_id", "account_id"),
        Index("ix_social_post_public", "visibility", "id"),
    )


class PostTag(Base):
    __tablename__ = "social_post_tag"

    tag: Mapped[str] = mapped_column(String(100), primary_key=True)  # normalised lower-case
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class PostMention(Base):
    __tablename__ = "social_post_mention"

    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_social_post_mention_account", "account_id", "post_id"),)


class Like(Base):
    __tablename__ = "social_like"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_social_like_post", "post_id"),)


class Bookmark(Base):
    __tablename__ = "social_bookmark"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountStats(Base):
    """Denormalised counters per account (updated with relative UPDATEs)."""

    __tablename__ = "social_account_stats"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    statuses_count: Mapped[int] = mapped_column(Integer, default=0)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HomeEntry(Base):
    """Materialised home timeline (fan-out on write); a rebuildable cache owned by
    `social.timelines`. Never read or written elsewhere."""

    __tablename__ = "social_home_entry"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    author_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_social_home_entry_author", "owner_id", "author_id"),)
