"""analytics: on SQLite, the analytics tables move to a file of their own

SQLite has one write lock per file. The analytics writers (event batches, the rollup
folds) held the lock that every hand-off's click commit waits for. From this revision a
SQLite database `shop.db` keeps `analytics_event`, `analytics_rollup`, `analytics_pending`
and `analytics_state` in `shop-analytics.db` (`shopwindow.db.engine.analytics_url`);
the main file's read connections attach it, so reads see both.

Upgrade (SQLite files only; PostgreSQL and in-memory databases are unchanged): the four
tables are created in the analytics file (this revision's schema), their rows are copied
there in one transaction of that file (replacing whatever an interrupted earlier run left
in it), then dropped from the main file in the migration's own transaction. A crash in
between leaves the main tables in place, and the next run copies them again.

Downgrade: the tables are created in the main file again and the rows copied back. The
analytics file is left as it is (the next upgrade replaces its rows); delete it by hand
once the downgrade has committed if the older code is to stay.

Revision ID: 20261207g7
Revises: 20261207f6
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection

import shopwindow.db.base
from shopwindow.db.migrate import analytics_file_engine

revision: str = '20261207g7'
down_revision: str | None = '20261207f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTOR_WHERE = sa.text('actor_id IS NOT NULL')
_ORDER_WHERE = sa.text("object_type = 'order'")
_CHUNK = 20_000


def _tables() -> sa.MetaData:
    """The four tables as of this revision (frozen: later model changes do not apply)."""
    md = sa.MetaData()
    ts = shopwindow.db.base.UTCDateTime
    event = sa.Table(
        'analytics_event', md,
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('occurred_at', ts(timezone=True), nullable=False),
        sa.Column('received_at', ts(timezone=True), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=True),
        sa.Column('object_type', sa.String(length=20), nullable=False),
        sa.Column('object_id', sa.BigInteger(), nullable=True),
        sa.Column('creator_id', sa.BigInteger(), nullable=True),
        sa.Column('post_id', sa.BigInteger(), nullable=True),
        sa.Column('recommendation_id', sa.BigInteger(), nullable=True),
        sa.Column('product_id', sa.BigInteger(), nullable=True),
        sa.Column('partner_id', sa.BigInteger(), nullable=True),
        sa.Column('promotion_id', sa.BigInteger(), nullable=True),
        sa.Column('surface', sa.String(length=20), nullable=False),
        sa.Column('is_follower', sa.Boolean(), nullable=True),
        sa.Column('vertical', sa.String(length=40), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('device', sa.String(length=10), nullable=False),
        sa.Column('lang', sa.String(length=10), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('dedup_key', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_analytics_event'),
        sa.UniqueConstraint('dedup_key', name='uq_analytics_event_dedup_key'),
    )
    sa.Index('ix_analytics_event_actor', event.c.actor_id, event.c.occurred_at,
             sqlite_where=_ACTOR_WHERE)
    sa.Index('ix_analytics_event_creator', event.c.creator_id, event.c.occurred_at)
    sa.Index('ix_analytics_event_order', event.c.object_id, sqlite_where=_ORDER_WHERE)
    sa.Table(
        'analytics_rollup', md,
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('bucket', ts(timezone=True), nullable=False),
        sa.Column('entity_type', sa.String(length=20), nullable=False),
        sa.Column('entity_id', sa.BigInteger(), nullable=False),
        sa.Column('metric', sa.String(length=30), nullable=False),
        sa.Column('dim', sa.String(length=12), nullable=False),
        sa.Column('dim_value', sa.String(length=40), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('entity_type', 'entity_id', 'grain', 'dim', 'metric', 'bucket',
                                'dim_value', 'currency', name='pk_analytics_rollup'),
    )
    sa.Table(
        'analytics_pending', md,
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', name='pk_analytics_pending'),
    )
    sa.Table(
        'analytics_state', md,
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name='pk_analytics_state'),
    )
    return md


def _rows(src: Connection, table: sa.Table) -> Iterator[list[tuple[object, ...]]]:
    cols = ', '.join(f'"{c.name}"' for c in table.columns)
    result = src.exec_driver_sql(f'SELECT {cols} FROM "{table.name}"')
    while chunk := result.fetchmany(_CHUNK):
        yield [tuple(r) for r in chunk]


def _copy(src: Connection, dst: Connection, table: sa.Table) -> None:
    """Every row of `table` from src to dst, as stored (no type conversion)."""
    cols = ', '.join(f'"{c.name}"' for c in table.columns)
    marks = ', '.join('?' * len(table.columns))
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})'
    for chunk in _rows(src, table):
        dst.exec_driver_sql(sql, chunk)  # type: ignore[arg-type]


def upgrade() -> None:
    bind = op.get_bind()
    engine = analytics_file_engine(bind)
    if engine is None:
        return
    md = _tables()
    try:
        with engine.begin() as dst:
            md.create_all(dst, checkfirst=True)
            for table in md.sorted_tables:
                dst.exec_driver_sql(f'DELETE FROM "{table.name}"')
                _copy(bind, dst, table)
    finally:
        engine.dispose()
    for table in reversed(md.sorted_tables):
        op.drop_table(table.name)  # its indexes go with it


def downgrade() -> None:
    bind = op.get_bind()
    engine = analytics_file_engine(bind)
    if engine is None:
        return
    md = _tables()
    md.create_all(bind)
    try:
        with engine.connect() as src:
            present = set(sa.inspect(src).get_table_names())
            for table in md.sorted_tables:
                if table.name in present:
                    _copy(src, bind, table)
    finally:
        engine.dispose()
