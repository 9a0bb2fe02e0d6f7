"""Request/response models of the showcase platform API (/api/sw/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shopwindow.showcase import rules


class PreviewRequest(BaseModel):
    """A pasted product link."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)


class PriceRead(BaseModel):
    amount_minor: int
    currency: str
    formatted: str


class ProductPreviewRead(BaseModel):
    """What the publisher shows after reading a link (nothing is stored yet)."""

    partner_id: str
    partner_name: str
    url: str
    title: str
    title_problem: str | None = Field(
        default=None, description="rule the partner's own title breaks (the creator must edit)")
    price: PriceRead
    availability: str
    stock: int | None
    images: list[str]
    brand: str | None
    category: str | None
    gtin: str | None


class PublishItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    title: str | None = Field(default=None, max_length=500,
                              description="edited title; the partner's title when omitted")
    reason: str = Field(max_length=rules.REASON_MAX * 2)
    images: list[str] | None = Field(default=None, max_length=rules.MAX_IMAGES)


class PublishRequest(BaseModel):
    """Publish 1–9 recommended products as one post."""

    model_config = ConfigDict(extra="forbid")

    items: list[PublishItemIn] = Field(min_length=1, max_length=rules.MAX_PRODUCTS_PER_POST)
    text: str = Field(default="", max_length=1000)
    visibility: Literal["public", "unlisted", "private"] | None = None


class CreatorRef(BaseModel):
    id: str
    username: str
    display_name: str


class ProductRead(BaseModel):
    id: str
    partner_id: str
    partner_name: str
    url: str
    title: str
    brand: str | None
    category: str | None
    gtin: str | None
    images: list[str]
    price: PriceRead
    stock: int | None
    availability: str
    available: bool
    last_fetched_at: datetime
    price_changed_at: datetime | None


class RecommendationRead(BaseModel):
    id: str
    url: str
    creator: CreatorRef
    post_id: str | None
    title: str
    reason: str
    images: list[str]
    created_at: datetime
    bookmarks_count: int
    carts_count: int
    product: ProductRead


class RecommendationDetailRead(RecommendationRead):
    others: list[RecommendationRead]
    bookmarked: bool | None = None
    in_cart: int | None = None


class PublishRead(BaseModel):
    post_id: str
    recommendations: list[RecommendationRead]


class CategoryCount(BaseModel):
    category: str
    count: int


class ShowcaseRead(BaseModel):
    creator: CreatorRef
    items: list[RecommendationRead]
    categories: list[CategoryCount]
    total: int
    page: int
    pages: int
    sort: str
    share_url: str


class BookmarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recommendation_id: str = Field(pattern=r"^\d{1,19}$")


class BookmarkRead(BaseModel):
    id: str
    recommendation: RecommendationRead


class BookmarkList(BaseModel):
    items: list[BookmarkRead]
    next_max_id: str | None


class CartAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recommendation_id: str = Field(pattern=r"^\d{1,19}$")
    quantity: int = Field(default=1, ge=rules.QUANTITY_MIN, le=rules.QUANTITY_MAX)


class CartQuantity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=rules.QUANTITY_MIN, le=rules.QUANTITY_MAX)


class CartLineRead(BaseModel):
    recommendation: RecommendationRead
    quantity: int
    line_total: PriceRead


class CartGroupRead(BaseModel):
    partner_id: str
    partner_name: str
    lines: list[CartLineRead]
    totals: list[PriceRead]
    checkout_path: str


class CartRead(BaseModel):
    groups: list[CartGroupRead]
    quantity: int
    totals: list[PriceRead]
