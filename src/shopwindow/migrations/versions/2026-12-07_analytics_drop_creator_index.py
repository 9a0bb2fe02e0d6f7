"""analytics: drop the raw log's creator index

`ix_analytics_event_creator` (`creator_id`, `occurred_at`) was read by one query: the
recommendations of a creator's product report that had events, which now come from the
showcase (every recommendation of the product, deleted ones included). Reports read
rollups; the log's other readers go by actor, order or id range. The index cost every
event an entry in a second random-order B-tree, and the event insert is PostgreSQL's
largest cost per event (docs/analytics.md, "Writing events on PostgreSQL").

On a split SQLite database (revision 20261207g7) the index lives in the analytics file.
The downgrade builds it again (one read of the whole log).

Revision ID: 20261207l12
Revises: 20261207k11
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopwindow.db.migrate import on_analytics_tables

revision: str = '20261207l12'
down_revision: str | None = '20261207k11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = 'ix_analytics_event_creator'


def _drop(conn: sa.Connection) -> None:
    conn.exec_driver_sql(f'DROP INDEX IF EXISTS {_NAME}')


def _create(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        f'CREATE INDEX IF NOT EXISTS {_NAME} ON analytics_event (creator_id, occurred_at)')


def upgrade() -> None:
    on_analytics_tables(op.get_bind(), _drop)


def downgrade() -> None:
    on_analytics_tables(op.get_bind(), _create)
