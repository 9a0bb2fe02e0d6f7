"""interests: ability-label classifier tables

Revision ID: 20261206d4
Revises: 20261206c3
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import shopwindow.db.base  # noqa: F401

revision: str = '20261206d4'
down_revision: str | None = '20261206c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
