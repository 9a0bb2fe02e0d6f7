"""Simulator configuration (filled from the command line or directly by tests / the demo)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def format_decimal(amount_minor: int, currency: str) -> str:
    """Minor units -> plain decimal string ("129.90", "1500" for JPY)."""
    digits = minor_digits(currency)
    if digits == 0:
        return str(amount_minor)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "partner"


@dataclass(slots=True)
class SimConfig:
    name: str = "Lumen Mall"
    seed: int = 1
    products: int = 150
    currency: str = "CNY"
    postback_url: str | None = None
    secret: str | None = None
    tracking_param: str = "sw_click"
    admin_token: str | None = None
    data_dir: Path | None = None
    public_url: str | None = None  # absolute base for links/images; default: from the request
    # delivery
    max_attempts: int = 10
    retry_base: float = 0.5
    retry_cap: float = 30.0
    retry_jitter: float = 0.2  # +/- fraction of the back-off delay
    timeout: float = 5.0
    replay: int = 0  # send every event this many extra times (receiver idempotency tests)
    hold: bool = False  # start with delivery on hold (events queue until released)

    @property
    def slug(self) -> str:
        return slugify(self.name)
