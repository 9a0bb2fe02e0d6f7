"""analytics: find hour rollups by bucket, for the day counters' compaction

`ix_analytics_rollup_hour` on `bucket`, partial (`grain = 'h'`). From this revision folds
write day counters only for hours before `analytics_state.day_from_ms`;
`aggregator.compact` adds each closed hour's counters to its day once a minute, reading
that hour's rows through this index. Only hour rows carry an entry, and adding to a
counter changes no indexed column, so PostgreSQL still updates counters in place.

On a split SQLite database (revision 20261207g7) the index goes into the analytics file.
Building it reads the whole rollup table once (on PostgreSQL writes to it wait meanwhile).
No data changes: the first fold after the upgrade sets `day_from_ms` to the hour after the
newest hour counter, so every day counter written so far stays complete.

Revision ID: 20261207k11
Revises: 20261207j10
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopwindow.db.migrate import on_analytics_tables

revision: str = '20261207k11'
down_revision: str | None = '20261207j10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = 'ix_analytics_rollup_hour'


def _create(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {_NAME} ON analytics_rollup (bucket) WHERE grain = 'h'")


def _drop(conn: sa.Connection) -> None:
    # The day counters of the hours not compacted yet must exist for older code, which
    # reads day rows as they are: add them, then forget the marker.
    _complete_days(conn)
    conn.exec_driver_sql(f'DROP INDEX IF EXISTS {_NAME}')


def upgrade() -> None:
    on_analytics_tables(op.get_bind(), _create)


def downgrade() -> None:
    on_analytics_tables(op.get_bind(), _drop)


def _complete_days(conn: sa.Connection) -> None:
    ms = conn.exec_driver_sql(
        "SELECT value FROM analytics_state WHERE name = 'day_from_ms'").scalar()
    if ms is None:
        return
    lite = conn.dialect.name == 'sqlite'
    if lite:
        day = "substr(bucket, 1, 10) || ' 00:00:00.000000'"
        since = "strftime('%Y-%m-%d %H:%M:%f', ? / 1000.0, 'unixepoch')"
    else:
        day = "date_trunc('day', bucket, 'UTC')"
        since = "to_timestamp(%s / 1000.0)"
    keys = 'entity_type, entity_id, metric, dim, dim_value, currency'
    conn.exec_driver_sql(
        f"INSERT INTO analytics_rollup (grain, bucket, {keys}, value) "
        f"SELECT 'd', {day}, {keys}, SUM(value) FROM analytics_rollup "
        f"WHERE grain = 'h' AND bucket >= {since} GROUP BY {day}, {keys} "
        "ON CONFLICT (entity_type, entity_id, grain, bucket, metric, dim, dim_value, "
        "currency) DO UPDATE SET value = analytics_rollup.value + excluded.value", (ms,))
    conn.exec_driver_sql("DELETE FROM analytics_state WHERE name = 'day_from_ms'")
