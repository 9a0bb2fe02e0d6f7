"""Portable INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopwindow.db.bulk import sqlite_insert_ignore_returning


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
    conn = session.connection()
    names = tuple(str(c.key) for c in columns)
    base = getattr(table, "__table__", table)
    if (conn.dialect.name == "sqlite" and len(rows[0]) == len(base.columns)
            and all(isinstance(base.c[n].type, Integer | String) for n in names)):
        return sqlite_insert_ignore_returning(conn, base, rows, names)
    stmt = _returning_stmt(conn.dialect.name, table, names)
    return list(conn.execute(stmt, rows).all())


@functools.cache
def _returning_stmt(dialect: str, table: Any, names: tuple[str, ...]) -> Any:
    """The INSERT … ON CONFLICT DO NOTHING RETURNING statement, built once per table and
    columns: building it per call cost more than executing it on hot paths (postbacks)."""
    table = getattr(table, "__table__", table)
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_nothing().returning(*(table.c[n] for n in names))
