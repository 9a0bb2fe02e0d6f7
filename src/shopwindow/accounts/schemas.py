"""Request/response models of the accounts platform API (/api/sw/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProfileRead(BaseModel):
    """The signed-in account's own profile and settings."""

    id: str
    username: str
    email: str
    role: Literal["fan", "creator", "brand", "operator"]
    display_name: str
    bio: str
    region: str
    languages: list[str]
    locale: str
    locked: bool
    discoverable: bool
    default_visibility: Literal["public", "unlisted", "private"]
    created_at: datetime


class ProfileUpdate(BaseModel):
    """Partial update; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=60)
    bio: str | None = Field(default=None, max_length=500)
    region: str | None = Field(default=None, max_length=40)
    languages: list[str] | None = Field(default=None, max_length=10)
    locale: Literal["en", "zh-CN"] | None = None
    locked: bool | None = None
    discoverable: bool | None = None
    default_visibility: Literal["public", "unlisted", "private"] | None = None


class AccountDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=8, max_length=256)
