"""analytics: find day rollups by bucket, for reports over every entity of a type

`ix_analytics_rollup_day` on `bucket`, partial (`grain = 'd'`). Reports now read the whole
UTC days of an hour-sourced window from day rows (`reports.window_rows`); a platform top
list sums every creator's or product's rows of those days, which without this index was a
scan of the whole rollup table on PostgreSQL (0.5 s on 5M rows). Only day rows carry an
entry, and adding to a counter changes no indexed column, so PostgreSQL still updates
counters in place.

On a split SQLite database (revision 20261207g7) the index goes into the analytics file.
Building it reads the whole rollup table once (on PostgreSQL writes to it wait meanwhile).
No data changes.

Revision ID: 20261208m13
Revises: 20261207l12
Create Date: 2026-12-08
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopwindow.db.migrate import on_analytics_tables

revision: str = '20261208m13'
down_revision: str | None = '20261207l12'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = 'ix_analytics_rollup_day'


def _create(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {_NAME} ON analytics_rollup (bucket) WHERE grain = 'd'")


def _drop(conn: sa.Connection) -> None:
    conn.exec_driver_sql(f'DROP INDEX IF EXISTS {_NAME}')


def upgrade() -> None:
    on_analytics_tables(op.get_bind(), _create)


def downgrade() -> None:
    on_analytics_tables(op.get_bind(), _drop)
