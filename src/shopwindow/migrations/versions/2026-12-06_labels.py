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
    op.create_table('interest_label_example',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('vertical', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_label_example_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_interest_label_example_created_by_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_label_example'))
    )
    with op.batch_alter_table('interest_label_example', schema=None) as batch_op:
        batch_op.create_index('ix_interest_label_example_account', ['account_id', 'source'], unique=False)
        batch_op.create_index('ix_interest_label_example_vertical', ['vertical'], unique=False)

    op.create_table('interest_account_label',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('vertical', sa.String(length=40), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_account_label_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['account.id'], name=op.f('fk_interest_account_label_updated_by_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('account_id', 'vertical', name=op.f('pk_interest_account_label'))
    )
    with op.batch_alter_table('interest_account_label', schema=None) as batch_op:
        batch_op.create_index('ix_interest_account_label_vertical', ['vertical', 'confidence'], unique=False)

    op.create_table('interest_label_declared',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('vertical', sa.String(length=40), nullable=False),
    sa.Column('created_at', shopwindow.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_interest_label_declared_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'vertical', name=op.f('pk_interest_label_declared'))
    )


def downgrade() -> None:
    op.drop_table('interest_label_declared')
    with op.batch_alter_table('interest_account_label', schema=None) as batch_op:
        batch_op.drop_index('ix_interest_account_label_vertical')
    op.drop_table('interest_account_label')
    with op.batch_alter_table('interest_label_example', schema=None) as batch_op:
        batch_op.drop_index('ix_interest_label_example_vertical')
        batch_op.drop_index('ix_interest_label_example_account')
    op.drop_table('interest_label_example')
