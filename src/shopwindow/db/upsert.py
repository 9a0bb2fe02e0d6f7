"""Portable INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping ones that violate a unique/PK constraint; returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    total = 0
    # One multi-VALUES statement per chunk keeps under SQLite's and PostgreSQL's parameter
    # limits.
    cols = max(1, len(rows[0]))
    chunk = max(1, 30000 // cols)
    for i in range(0, len(rows), chunk):
        stmt = ins.values(rows[i : i + chunk]).on_conflict_do_nothing()
        # RETURNING counts exactly what was inserted (rowcount is -1 through the ORM on psycopg).
        first = next(iter(table.primary_key.columns))
        total += len(session.execute(stmt.returning(first)).all())
    return total


def insert_ignore_returning(session: Session, table: Any, rows: list[dict[str, Any]],
                            *columns: Any) -> list[Any]:
    """Like `insert_ignore`, returning `columns` of the rows actually inserted (a row that
    hit a unique key, e.g. one inserted by a concurrent transaction, is not returned).

    Executed as one executemany: SQLAlchemy batches it into multi-row INSERTs
    ("insertmanyvalues") from one cached compiled statement, whatever the row count.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = ins.on_conflict_do_nothing().returning(*columns)
    return list(session.connection().execute(stmt, rows).all())
