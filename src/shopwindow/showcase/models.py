"""ORM tables of the showcase domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime


class Product(Base):
    """A partner's product, shared by every recommendation of it (one row per partner item)."""

    __tablename__ = "showcase_product"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    # The partner's product id (from the URL path / API), else its SKU, else the canonical URL.
    external_id: Mapped[str] = mapped_column(String(200))
    canonical_url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(500))
    brand: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    gtin: Mapped[str | None] = mapped_column(String(20), nullable=True)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    availability: Mapped[str] = mapped_column(String(16), default="unknown")
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    price_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("partner_id", "external_id", name="uq_showcase_product_partner_ext"),
        Index("ix_showcase_product_fetched", "last_fetched_at"),
        Index("ix_showcase_product_gtin", "gtin"),
    )


class Recommendation(Base):
    """A creator's recommendation of a product: edited title, reason, chosen images, post."""

    __tablename__ = "showcase_recommendation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("showcase_product.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The carrying post's visibility: followers-only recommendations stay off public shelves.
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    bookmarks_count: Mapped[int] = mapped_column(Integer, default=0)
    carts_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_showcase_recommendation_creator", "creator_id", "id"),
        Index("ix_showcase_recommendation_product", "product_id"),
        Index("ix_showcase_recommendation_post", "post_id"),
    )


class ProductBookmark(Base):
    """A fan's bookmark of a product (kept with the recommendation it was saved from)."""

    __tablename__ = "showcase_product_bookmark"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("showcase_product.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("showcase_recommendation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("account_id", "product_id", name="uq_showcase_product_bookmark_acct"),
        Index("ix_showcase_product_bookmark_list", "account_id", "id"),
    )


class CartItem(Base):
    """One line of a fan's cart: a recommendation (so the hand-off is attributed) × quantity."""

    __tablename__ = "showcase_cart_item"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("showcase_recommendation.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("account_id", "recommendation_id", name="uq_showcase_cart_item_acct"),
    )
