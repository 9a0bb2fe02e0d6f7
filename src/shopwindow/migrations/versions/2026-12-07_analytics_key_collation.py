"""analytics: machine-key text columns compare byte by byte on PostgreSQL

`analytics_event.dedup_key` and the text columns of the rollup key (`grain`,
`entity_type`, `metric`, `dim`, `dim_value`, `currency`) get the collation "C". They
hold identifiers, not prose; under the database's default collation every index
comparison went through strcoll, and the event pipeline's dedup-key inserts and rollup
upserts spent ~12 % more PostgreSQL CPU for it (docs/performance.md).

PostgreSQL only (SQLite compares bytes already). The table data is not rewritten, but the
indexes on these columns are rebuilt, with writes to the two tables waiting meanwhile:
seconds to minutes on a database with tens of millions of rollup rows.

Revision ID: 20261207i9
Revises: 20261207h8
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '20261207i9'
down_revision: str | None = '20261207h8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = {
    'analytics_event': {'dedup_key': 64},
    'analytics_rollup': {'grain': 1, 'entity_type': 20, 'metric': 30, 'dim': 12,
                         'dim_value': 40, 'currency': 3},
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in _COLUMNS.items():
        changes = ', '.join(f'ALTER COLUMN {c} TYPE varchar({n}) COLLATE "{collation}"'
                            for c, n in columns.items())
        op.execute(f'ALTER TABLE {table} {changes}')


def upgrade() -> None:
    _collate('C')


def downgrade() -> None:
    _collate('default')
