"""Driver-level bulk inserts for hot paths (SQLite).

Why: SQLAlchemy's `conn.execute(insert(T), rows)` binds every value of every row through
the column types' Python processors and re-derives the statement's parameters per row;
for the hand-off's group commit that was a tenth of the process's GIL time. Here the rows
are converted once into tuples (UTC datetimes to SQLAlchemy's SQLite text form, JSON to
text) and handed to the driver's own `executemany`. PostgreSQL keeps the ordinary Core
insert (psycopg adapts the values natively).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table

from shopwindow.db.base import UTCDateTime


def sqlite_datetime(value: datetime) -> str:
    """A datetime as UTCDateTime stores it on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff', UTC)."""
    v = (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
    text = v.isoformat(sep=" ")  # ~5x faster than strftime; add the .000000 it omits
    return text if len(text) > 19 else text + ".000000"


def _converter(col_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(col_type, UTCDateTime):
        return lambda v: None if v is None else sqlite_datetime(v)
    if isinstance(col_type, JSON):
        return lambda v: json.dumps(v)
    return None


MAX_VARIABLES = 32_766  # SQLite's limit on bound parameters per statement (3.32+)


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (dicts keyed by column name; every column present).

    On SQLite the rows go in as ONE multi-row `INSERT … VALUES (…), (…)` per chunk, not
    through `executemany`: the driver releases and re-takes the GIL around every row's
    step, and under load each re-take waits for the busy event loop to hand the GIL over
    (up to the 5 ms switch interval) — a 16-row click batch spent 2.5 ms there at the
    median, 10 ms at the 99th percentile. One statement is one hand-over.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), list(rows))
        return
    _sqlite_insert(conn, table, rows, "")


def sqlite_insert_ignore_returning(conn: Connection, table: Table,
                                   rows: Sequence[dict[str, Any]],
                                   names: Sequence[str]) -> list[tuple[Any, ...]]:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING names` of every row on SQLite, the same
    way as `insert_many` (the returned columns must need no conversion: ids, text)."""
    if not rows:
        return []
    return _sqlite_insert(conn, table, rows,
                          f" ON CONFLICT DO NOTHING RETURNING {', '.join(names)}")


@functools.cache
def _layout(table: Table) -> tuple[list[str], Callable[[dict[str, Any]], tuple[Any, ...]],
                                   list[tuple[int, Callable[[Any], Any]]]]:
    """Column names, a getter of a row's values in column order, and the converters of
    the columns that need one (per table, computed once)."""
    cols = [c.name for c in table.columns]
    getter = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    convs = [(i, f) for i, c in enumerate(table.columns)
             if (f := _converter(c.type)) is not None]
    return cols, getter, convs


def _sqlite_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
                   tail: str) -> list[tuple[Any, ...]]:
    cols, getter, convs = _layout(table)
    params: list[Any] = []
    for r in rows:
        if convs:
            values = list(getter(r))
            for i, f in convs:
                values[i] = f(values[i])
            params.extend(values)
        else:
            params.extend(getter(r))
    one = f"({', '.join('?' * len(cols))})"
    head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
    per = max(1, MAX_VARIABLES // len(cols))
    width = len(cols)
    # Straight on the driver's connection, inside the transaction SQLAlchemy began: its
    # execution context cost ~50 µs per statement, more than a small INSERT itself. A
    # connection not in a transaction yet begins one first, as executing through it would
    # (the engine's BEGIN IMMEDIATE and writer lock); the driver itself runs in
    # autocommit mode and would otherwise commit each statement on its own.
    if not conn.in_transaction():
        conn.begin()
    raw = conn.connection.dbapi_connection
    assert raw is not None
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per):
        n = min(per, len(rows) - start)
        cur = raw.execute(head + ", ".join([one] * n) + tail,
                          tuple(params[start * width:(start + n) * width]))
        if tail:
            out.extend(tuple(r) for r in cur.fetchall())
        cur.close()
    return out
