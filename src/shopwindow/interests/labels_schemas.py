"""Request/response models of the ability-label API (/api/sw/v1)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LabelRead(BaseModel):
    """One ability label of an account."""

    vertical: str
    name_en: str
    name_zh: str
    confidence: float = Field(description="0–1; 1.0 for labels an operator set")
    source: str = Field(description="model | operator")
    updated_at: datetime


class AccountLabelsRead(BaseModel):
    """An account's ability labels, operator-set first, then by confidence."""

    account_id: str
    labels: list[LabelRead]


class ExampleCreate(BaseModel):
    """An operator-written training example."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    vertical: str = Field(min_length=1, max_length=40)


class ExampleCreated(BaseModel):
    """Whether the example was new (false if the same text was already an example)."""

    added: bool


class CorrectionRead(BaseModel):
    """The account's labels after a correction, and the training examples it added."""

    account_id: str
    examples_added: int
    labels: list[LabelRead]


class DeclaredUpdate(BaseModel):
    """The verticals a creator creates content about (at most three)."""

    model_config = ConfigDict(extra="forbid")

    verticals: list[str] = Field(max_length=20)


class DeclaredRead(BaseModel):
    """A creator's declared verticals."""

    verticals: list[str]
