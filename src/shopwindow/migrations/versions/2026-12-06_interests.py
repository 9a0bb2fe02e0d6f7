"""interests: verticals, ability labels, interest profiles, recommendation artefacts

Revision ID: 20261206c3
Revises: 20261206b2
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shopwindow.db.base

revision: str = '20261206c3'
down_revision: str | None = '20261206b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interest_vertical',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('name_zh', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_vertical')),
    sa.UniqueConstraint('slug', name=op.f('uq_interest_vertical_slug'))
    )
    op.create_table('interest_explicit',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('vertical_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_explicit_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vertical_id'], ['interest_vertical.id'], name=op.f('fk_interest_explicit_vertical_id_interest_vertical'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'vertical_id', name=op.f('pk_interest_explicit'))
    )
    with op.batch_alter_table('interest_explicit', schema=None) as batch_op:
        batch_op.create_index('ix_interest_explicit_vertical', ['vertical_id'], unique=False)

    op.create_table('interest_dismissal',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_dismissal_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_dismissal')),
    sa.UniqueConstraint('account_id', 'kind', 'target_id', name='uq_interest_dismissal_target')
    )
    op.create_table('interest_preference',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('ranked_home', sa.Boolean(), nullable=False),
    sa.Column('onboarded_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_preference_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_interest_preference'))
    )
    op.create_table('interest_training_run',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('started_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_training_run'))
    )
    with op.batch_alter_table('interest_training_run', schema=None) as batch_op:
        batch_op.create_index('ix_interest_training_run_started', ['started_at'], unique=False)

    # The default taxonomy as data (the operator edits it afterwards); the same rows
    # interests.actions.ensure_default_verticals inserts on first use.
    from shopwindow.core.ids import new_id
    from shopwindow.interests.rules import DEFAULT_VERTICALS

    now = datetime.now(UTC)
    table = sa.table('interest_vertical',
                     sa.column('id', sa.BigInteger()), sa.column('slug', sa.String()),
                     sa.column('name_en', sa.String()), sa.column('name_zh', sa.String()),
                     sa.column('position', sa.Integer()), sa.column('active', sa.Boolean()),
                     sa.column('created_at', shopwindow.db.base.UTCDateTime()),
                     sa.column('updated_at', shopwindow.db.base.UTCDateTime()))
    op.bulk_insert(table, [dict(id=new_id(), slug=s, name_en=en, name_zh=zh,
                                position=(i + 1) * 10, active=True, created_at=now,
                                updated_at=now)
                           for i, (s, en, zh) in enumerate(DEFAULT_VERTICALS)])


def downgrade() -> None:
    with op.batch_alter_table('interest_training_run', schema=None) as batch_op:
        batch_op.drop_index('ix_interest_training_run_started')
    op.drop_table('interest_training_run')
    op.drop_table('interest_preference')
    op.drop_table('interest_dismissal')
    with op.batch_alter_table('interest_explicit', schema=None) as batch_op:
        batch_op.drop_index('ix_interest_explicit_vertical')
    op.drop_table('interest_explicit')
    op.drop_table('interest_vertical')
