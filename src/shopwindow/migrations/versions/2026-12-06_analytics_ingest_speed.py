"""analytics: cheaper event inserts and rollup upserts

- `ix_analytics_event_actor` becomes partial (`actor_id IS NOT NULL`): most page events
  are anonymous, and every insert paid for an index entry no query reads (queries ask
  for one actor's events). Rebuilding it reads the whole raw log once.
- PostgreSQL only: `analytics_rollup` keeps 30 % of each page free. Folds update the
  counters of the current minute, hour and day over and over; with room in the page
  PostgreSQL updates them in place (heap-only tuples, no new index entry). Existing pages
  keep their layout until rewritten.

Revision ID: 20261206e5
Revises: 20261206d4
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261206e5'
down_revision: str | None = '20261206d4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTOR_WHERE = sa.text('actor_id IS NOT NULL')


def upgrade() -> None:
    op.drop_index('ix_analytics_event_actor', table_name='analytics_event')
    op.create_index('ix_analytics_event_actor', 'analytics_event', ['actor_id', 'occurred_at'],
                    unique=False, postgresql_where=_ACTOR_WHERE, sqlite_where=_ACTOR_WHERE)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE analytics_rollup SET (fillfactor = 70)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE analytics_rollup RESET (fillfactor)')
    op.drop_index('ix_analytics_event_actor', table_name='analytics_event')
    op.create_index('ix_analytics_event_actor', 'analytics_event', ['actor_id', 'occurred_at'],
                    unique=False)
