"""analytics: the aggregation queue holds one row per stored batch of events

`analytics_pending` (one row per event not yet folded into rollups) is replaced by
`analytics_pending_batch`: one row per batch of stored events (`id` minted when the batch
is written, `size`, `event_ids` as int8[] on PostgreSQL, a JSON array on SQLite). A queue
row per event — its insert, its index entry and its deletion by the fold — was about a
fifth of PostgreSQL's CPU per beacon event (docs/performance.md).

Upgrade: the events still pending move into batches of at most 8,000 ids (ids 1, 2, …:
older than any batch written later, so they are folded first), then the old table is
dropped, in one transaction. On a split SQLite database (revision 20261207g7) this happens
in the analytics file. Downgrade: the reverse.

Revision ID: 20261207j10
Revises: 20261207i9
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import ARRAY

from shopwindow.db.migrate import on_analytics_tables

revision: str = '20261207j10'
down_revision: str | None = '20261207i9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PER_BATCH = 8_000


def _tables() -> tuple[sa.Table, sa.Table]:
    """The old and the new queue table (frozen: later model changes do not apply)."""
    md = sa.MetaData()
    old = sa.Table(
        'analytics_pending', md,
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', name='pk_analytics_pending'),
    )
    new = sa.Table(
        'analytics_pending_batch', md,
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('event_ids', sa.Text().with_variant(ARRAY(sa.BigInteger()), 'postgresql'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_analytics_pending_batch'),
    )
    return old, new


def _to_batches(conn: Connection) -> None:
    old, new = _tables()
    new.create(conn)
    ids = ('json_group_array(event_id)' if conn.dialect.name == 'sqlite'
           else 'array_agg(event_id ORDER BY event_id)')
    conn.exec_driver_sql(
        f'INSERT INTO analytics_pending_batch (id, size, event_ids) SELECT g + 1, count(*), '
        f'{ids} FROM (SELECT event_id, (row_number() OVER (ORDER BY event_id) - 1) / '
        f'{_PER_BATCH} AS g FROM analytics_pending ORDER BY event_id) AS s GROUP BY g')
    old.drop(conn)


def _to_rows(conn: Connection) -> None:
    old, new = _tables()
    old.create(conn)
    ids = ('SELECT j.value FROM analytics_pending_batch AS p, json_each(p.event_ids) AS j'
           if conn.dialect.name == 'sqlite'
           else 'SELECT unnest(event_ids) FROM analytics_pending_batch')
    conn.exec_driver_sql(f'INSERT INTO analytics_pending (event_id) SELECT DISTINCT * FROM ({ids}) AS i')
    new.drop(conn)


def upgrade() -> None:
    on_analytics_tables(op.get_bind(), _to_batches)


def downgrade() -> None:
    on_analytics_tables(op.get_bind(), _to_rows)
