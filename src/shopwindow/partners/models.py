"""ORM tables of the partners domain."""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopwindow.db.base import Base, UTCDateTime


class Partner(Base):
    """A vetted partner platform (shop): domains, tracking, product source, commission terms."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="active")
    tracking_param: Mapped[str] = mapped_column(String(40), default="sw_click")
    tracking_mode: Mapped[str] = mapped_column(String(16), default="query")
    product_source: Mapped[str] = mapped_column(String(16), default="markup")
    # api mode: URL template with one {id}, e.g. https://api.shop.example/api/products/{id}
    api_base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # where the product id sits in a product page URL, e.g. /p/{id}
    product_path: Mapped[str] = mapped_column(String(200), default="/p/{id}")
    # cart hand-off: URL template with one {items} (→ id:qty,id:qty), on the partner's domains,
    # e.g. https://shop.example/cart/add?items={items}; None: hand off to the first product
    cart_url_template: Mapped[str | None] = mapped_column(String(500), nullable=True)
    default_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    category_rates: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    attribution_window_days: Mapped[int] = mapped_column(Integer, default=7)
    return_window_days: Mapped[int] = mapped_column(Integer, default=15)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Kept in clear: verifying postback HMACs needs the key itself (cannot be a hash).
    postback_secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    domains: Mapped[list[PartnerDomain]] = relationship(
        back_populates="partner", lazy="selectin", cascade="all, delete-orphan",
        order_by="PartnerDomain.id",
    )


class PartnerDomain(Base):
    """A host (and, optionally, its subdomains) on which a partner's product links live.

    `port` 0 means the scheme's default port; a non-zero port allows exactly that port (the
    simulator on 127.0.0.1:PORT). A registrable domain belongs to one partner only.
    """

    __tablename__ = "partner_domain"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(253))
    registrable: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=0)
    allow_subdomains: Mapped[bool] = mapped_column(Boolean, default=True)
    is_ip: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    partner: Mapped[Partner] = relationship(back_populates="domains")

    __table_args__ = (
        UniqueConstraint("host", "port", name="uq_partner_domain_host_port"),
        Index("ix_partner_domain_registrable", "registrable"),
        Index("ix_partner_domain_partner", "partner_id"),
    )
