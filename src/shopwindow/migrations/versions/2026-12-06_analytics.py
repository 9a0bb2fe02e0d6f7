"""analytics: event log and rollups

Revision ID: 20261206b2
Revises: 20261206a1
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import shopwindow.db.base  # noqa: F401

revision: str = '20261206b2'
down_revision: str | None = '20261206a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
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
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_event')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_analytics_event_dedup_key'))
    )
    with op.batch_alter_table('analytics_event', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_event_actor', ['actor_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_analytics_event_creator', ['creator_id', 'occurred_at'], unique=False)

    op.create_table('analytics_rollup',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('metric', sa.String(length=30), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('dim_value', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entity_type', 'entity_id', 'grain', 'dim', 'metric', 'bucket',
                            'dim_value', 'currency', name='pk_analytics_rollup')
    )
    op.create_table('analytics_pending',
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_analytics_pending'))
    )
    op.create_table('analytics_state',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_analytics_state'))
    )


def downgrade() -> None:
    op.drop_table('analytics_state')
    op.drop_table('analytics_pending')
    op.drop_table('analytics_rollup')
    with op.batch_alter_table('analytics_event', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_event_creator')
        batch_op.drop_index('ix_analytics_event_actor')

    op.drop_table('analytics_event')
