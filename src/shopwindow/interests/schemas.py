"""Request and response models of the interests API (/api/sw/v1/…)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shopwindow.showcase.schemas import RecommendationRead


class VerticalRead(BaseModel):
    """An interest vertical."""

    id: str
    slug: str
    name_en: str
    name_zh: str
    position: int
    active: bool
    updated_at: datetime


class VerticalCreate(BaseModel):
    """A new vertical (operator)."""

    slug: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    name_zh: str = Field(max_length=200)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)


class VerticalUpdate(BaseModel):
    """Rename, reorder, deactivate or reactivate a vertical (operator); omitted = unchanged."""

    name_en: str | None = Field(default=None, max_length=200)
    name_zh: str | None = Field(default=None, max_length=200)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    active: bool | None = None


class InterestsRead(BaseModel):
    """The verticals an account picked, and its ranked-home setting."""

    verticals: list[str]
    ranked_home: bool


class InterestsUpdate(BaseModel):
    """Replace the picked verticals (slugs) and/or switch the ranked home feed."""

    verticals: list[str] | None = Field(default=None, max_length=50)
    ranked_home: bool | None = None


class ReasonRead(BaseModel):
    """Why something is recommended: a stable code and a sentence in the caller's language."""

    code: str
    text: str
    count: int = 0
    name: str = ""


class ProductSuggestionRead(BaseModel):
    """A recommended product (through one recommendation of it) and why."""

    product_id: str
    score: float
    reason: ReasonRead
    recommendation: RecommendationRead


class AccountRef(BaseModel):
    """A suggested account."""

    id: str
    username: str
    display_name: str
    role: str
    url: str


class AccountSuggestionRead(BaseModel):
    """An account to follow and why."""

    account: AccountRef
    score: float
    reason: ReasonRead


class DismissIn(BaseModel):
    """Stop recommending a product or an account."""

    kind: str
    id: str = Field(max_length=20)


class TrainingRunRead(BaseModel):
    """One training run."""

    id: str
    version: int
    status: str
    stats: dict[str, float | int | str]
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class WeightedVertical(BaseModel):
    """A vertical and its share of the profile."""

    slug: str
    name: str
    share: float


class WeightedAccount(BaseModel):
    """A creator and their share of the profile."""

    account: AccountRef
    share: float


class WeightedProduct(BaseModel):
    """A product and its share of the profile."""

    product_id: str
    share: float


class ProfileRead(BaseModel):
    """What the recommenders think you like (live, with time decay)."""

    verticals: list[WeightedVertical]
    creators: list[WeightedAccount]
    products: list[WeightedProduct]
