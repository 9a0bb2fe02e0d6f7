"""analytics: find an order's events by order id

`ix_analytics_event_order` on `object_id`, partial (`object_type = 'order'`): the order,
refund and commission events of one order are looked up by order id when later money
events of that order are logged (what the order was credited to, what was refunded
already). Without it those lookups scanned every event of the creator, or the whole raw
log. Only money events carry an index entry; page events pay nothing.

Revision ID: 20261207f6
Revises: 20261206e5
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261207f6'
down_revision: str | None = '20261206e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER_WHERE = sa.text("object_type = 'order'")


def upgrade() -> None:
    op.create_index('ix_analytics_event_order', 'analytics_event', ['object_id'],
                    unique=False, postgresql_where=_ORDER_WHERE, sqlite_where=_ORDER_WHERE)


def downgrade() -> None:
    op.drop_index('ix_analytics_event_order', table_name='analytics_event')
