"""analytics: find minute rollups by age, for their retention

`ix_analytics_rollup_minute` on `bucket`, partial (`grain = 'm'`): the hourly
`prune_analytics` job deletes minute rollups older than
`SHOPWINDOW_ANALYTICS_MINUTE_RETENTION_DAYS` an hour of buckets at a time (hour and day
rollups are kept). Only minute rows carry an entry, and adding to a counter changes no
indexed column, so PostgreSQL still updates counters in place.

On a split SQLite database (revision 20261207g7) the index goes into the analytics file.
Building it reads the whole rollup table once (on PostgreSQL writes to it wait meanwhile).

Revision ID: 20261207h8
Revises: 20261207g7
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopwindow.db.migrate import analytics_file_engine

revision: str = '20261207h8'
down_revision: str | None = '20261207g7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = 'ix_analytics_rollup_minute'
_CREATE = f"CREATE INDEX IF NOT EXISTS {_NAME} ON analytics_rollup (bucket) WHERE grain = 'm'"


def upgrade() -> None:
    engine = analytics_file_engine(op.get_bind())
    if engine is None:
        where = sa.text("grain = 'm'")
        op.create_index(_NAME, 'analytics_rollup', ['bucket'], unique=False,
                        postgresql_where=where, sqlite_where=where)
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(_CREATE)
    finally:
        engine.dispose()


def downgrade() -> None:
    engine = analytics_file_engine(op.get_bind())
    if engine is None:
        op.drop_index(_NAME, table_name='analytics_rollup')
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS {_NAME}')
    finally:
        engine.dispose()
