"""Settings from the environment / .env (prefix SHOPWINDOW_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All runtime configuration of one shopwindow process."""

    model_config = SettingsConfigDict(env_prefix="SHOPWINDOW_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/shopwindow.db"
    redis_url: str | None = None
    data_dir: Path = Path("./var/data")
    secret_key: str = "dev-insecure-change-me"
    base_url: str = "http://127.0.0.1:8000"
    instance_title: str = "shopwindow"
    instance_description: str = (
        "Interest-driven social commerce: creators recommend, fans discover."
    )
    contact_email: str = "operator@shopwindow.local"
    # Registration: open without e-mail confirmation by default (demo); production may require it.
    registrations_open: bool = True
    registration_requires_confirmation: bool = False
    # Accounts with more followers than this are not fanned out on write; their posts are
    # merged into followers' home timelines at read time (see docs/timelines.md).
    fanout_max_followers: int = 10_000
    home_timeline_size: int = 800
    # Rate limits ("limits" library notation).
    signup_rate_limit: str = "10/hour"
    signin_rate_limit: str = "20/minute"
    api_write_rate_limit: str = "300/5minute"
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_post_chars: int = 2000
    # "No screen flooding": recommendations one creator may publish in any 24 hours
    # (0 = no limit). Deleted ones count too, so delete-and-republish does not reset it.
    recommendations_per_day: int = 30
    # Job runner: "thread" runs the huey consumer inside the web process (demo/embedded),
    # "external" expects `shopwindow worker`, "immediate" runs jobs synchronously (tests).
    jobs_mode: Literal["thread", "external", "immediate"] = "thread"
    jobs_queue_name: str = "shopwindow"
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    session_max_age: int = 14 * 24 * 3600
    cookie_secure: bool = False
    default_locale: str = "en"
    log_level: str = "INFO"
    environment: Literal["development", "production", "test"] = "development"
    demo_creators: int = Field(default=20)
    demo_fans: int = Field(default=200)
    # Tracking (docs/tracking.md): the platform's share of each commission, which click
    # wins when a fan clicked several times, and the postback signature clock tolerance.
    platform_take_rate_bps: int = 2000
    attribution_rule: Literal["last_click", "first_click"] = "last_click"
    postback_tolerance_seconds: int = 300
    # Analytics (docs/analytics.md): raw events older than this are pruned (rollups stay),
    # the beacon counts one impression/read per viewer, object and surface per window, and
    # each web process folds new events into rollups on a thread unless disabled.
    analytics_raw_retention_days: int = 90
    # Minute rollups older than this are pruned too (hours and days stay): reports read
    # minute buckets only for the last two days (analytics.report_rules.MINUTE_HORIZON).
    analytics_minute_retention_days: int = Field(default=7, ge=3)
    analytics_dedup_window_seconds: int = 1800
    analytics_aggregator: bool = True
    # Interests (docs/interests.md): how fast old interactions fade, how often the
    # recommenders retrain (0: never on a schedule).
    interest_half_life_days: float = 30.0
    recs_train_interval_minutes: int = 60

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql") or v.startswith("postgres")):
            raise ValueError("database_url must be sqlite:///path or postgresql://user@host/db")
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings (cached)."""
    return Settings()
