"""Request/response models of the partners platform API (/api/sw/v1/partners)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Bps = Field(ge=0, le=10_000)
Days = Field(ge=0, le=365)


class DomainCreate(BaseModel):
    """A host (`shop.example`, or `127.0.0.1:8101` for a local simulator)."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=260)
    allow_subdomains: bool = True
    port: int | None = Field(default=None, ge=1, le=65535)


class DomainRead(BaseModel):
    id: str
    host: str
    port: int | None
    registrable: str
    allow_subdomains: bool


class PartnerCreate(BaseModel):
    """Register a partner; the postback secret is generated unless given."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
    name: str = Field(min_length=1, max_length=100)
    domains: list[str] = Field(default_factory=list, max_length=50)
    allow_subdomains: bool = True
    tracking_param: str = Field(default="sw_click", pattern=r"^[A-Za-z0-9_.~-]{1,40}$")
    tracking_mode: Literal["query"] = "query"
    product_source: Literal["markup", "api"] = "markup"
    api_base_url: str | None = Field(default=None, max_length=500)
    product_path: str = Field(default="/p/{id}", max_length=200)
    cart_url_template: str | None = Field(default=None, max_length=500)
    default_rate_bps: int = Bps
    category_rates: dict[str, int] = Field(default_factory=dict, max_length=100)
    attribution_window_days: int = Field(default=7, ge=0, le=365)
    return_window_days: int = Field(default=15, ge=0, le=365)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    postback_secret: str | None = Field(default=None, max_length=200)


class PartnerUpdate(BaseModel):
    """Partial update; unknown fields (status, secret, slug) are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_param: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.~-]{1,40}$")
    tracking_mode: Literal["query"] | None = None
    product_source: Literal["markup", "api"] | None = None
    api_base_url: str | None = Field(default=None, max_length=500)
    product_path: str | None = Field(default=None, max_length=200)
    cart_url_template: str | None = Field(default=None, max_length=500)
    default_rate_bps: int | None = Field(default=None, ge=0, le=10_000)
    category_rates: dict[str, int] | None = Field(default=None, max_length=100)
    attribution_window_days: int | None = Field(default=None, ge=0, le=365)
    return_window_days: int | None = Field(default=None, ge=0, le=365)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class PartnerRead(BaseModel):
    """A partner as operators see it (never the postback secret)."""

    id: str
    slug: str
    name: str
    status: Literal["active", "suspended"]
    domains: list[DomainRead]
    tracking_param: str
    tracking_mode: str
    product_source: Literal["markup", "api"]
    api_base_url: str | None
    product_path: str
    cart_url_template: str | None
    default_rate_bps: int
    category_rates: dict[str, int]
    attribution_window_days: int
    return_window_days: int
    currency: str
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None


class PartnerCreated(PartnerRead):
    """Answer to registration: the only time the generated secret is shown."""

    postback_secret: str


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    postback_secret: str | None = Field(default=None, max_length=200)


class SecretRead(BaseModel):
    postback_secret: str


class PartnerList(BaseModel):
    items: list[PartnerRead]


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=4096)


class PartnerRef(BaseModel):
    id: str
    slug: str
    name: str


class ProductPreview(BaseModel):
    title: str
    price_minor: int
    currency: str
    availability: str
    canonical_url: str
    images: list[str]
    brand: str | None
    category: str | None
    gtin: str | None
    sku: str | None
    stock: int | None
    external_id: str | None
    description: str | None
    commission_rate_bps: int


class ResolveRead(BaseModel):
    partner: PartnerRef
    url: str
    product: ProductPreview
