"""Driver-level bulk inserts for hot paths (SQLite and PostgreSQL).

Why: SQLAlchemy's `conn.execute(insert(T), rows)` binds every value of every row through
the column types' Python processors and re-derives the statement's parameters per row;
for the hand-off's group commit that was a tenth of the process's GIL time on SQLite and
a quarter on PostgreSQL (three writer threads). Here the rows are converted once into
tuples (SQLite: UTC datetimes to SQLAlchemy's SQLite text form, JSON to text) and handed
to the driver: SQLite gets one multi-row INSERT, PostgreSQL one multi-row INSERT for a
few rows and one `COPY … FROM STDIN` (psycopg formats the rows in C) for more.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Connection, Integer, String, Table, Text

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


def _memo(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`conv` remembering its results for one statement's rows: rows written together
    mostly share their timestamps, and formatting one costs ~1.5 µs."""
    seen: dict[Any, Any] = {}

    def f(v: Any) -> Any:
        out = seen.get(v, seen)
        if out is seen:
            out = seen[v] = conv(v)
        return out

    return f


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
    if conn.dialect.name == "sqlite":
        _sqlite_insert(conn, table, rows, "")
        return
    layout = _pg_layout(table) if conn.dialect.driver == "psycopg" else None
    if layout is None:
        conn.execute(table.insert(), list(rows))
        return
    copy_sql, getter, convs = layout
    if not conn.in_transaction():
        conn.begin()  # what SQLAlchemy's autobegin would do: the caller commits or rolls back
    raw = conn.connection.driver_connection  # the psycopg connection, same transaction
    assert raw is not None
    with raw.cursor() as cur:
        if len(rows) < PG_COPY_MIN_ROWS:
            # A few rows: one multi-row INSERT (one round trip; COPY needs two, and setting
            # it up costs more than it saves here).
            params: list[Any] = []
            for row in rows:
                params.extend(_pg_values(row, getter, convs))
            cur.execute(_pg_insert_sql(table, len(rows)), params)
            return
        with cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(_pg_values(row, getter, convs))


PG_COPY_MIN_ROWS = 16  # from here on the rows go in through COPY


@functools.lru_cache(maxsize=64)
def _pg_insert_sql(table: Table, n: int) -> str:
    cols = [c.name for c in table.columns]
    one = f"({', '.join(['%s'] * len(cols))})"
    names = ", ".join(f'"{c}"' for c in cols)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ' + ", ".join([one] * n)


def _pg_values(row: dict[str, Any], getter: Callable[[dict[str, Any]], tuple[Any, ...]],
               convs: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = getter(row)
    if not convs:
        return values
    out = list(values)
    for i, f in convs:
        out[i] = f(out[i])
    return tuple(out)


def _pg_datetime(v: datetime | None) -> datetime | None:
    # As UTCDateTime binds it: a naive value is UTC.
    return v if v is None or v.tzinfo is not None else v.replace(tzinfo=UTC)


# Column types whose Python values psycopg adapts the way SQLAlchemy's Core insert does.
_PG_PLAIN = (BigInteger, Integer, String, Text, Boolean)


@functools.cache
def _pg_layout(table: Table) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]],
                                      list[tuple[int, Callable[[Any], Any]]]] | None:
    """The COPY statement, the row getter and the converters of a table — or None when a
    column's type is not one this path reproduces exactly (the caller then uses
    SQLAlchemy's insert)."""
    convs: list[tuple[int, Callable[[Any], Any]]] = []
    for i, c in enumerate(table.columns):
        if isinstance(c.type, UTCDateTime):
            convs.append((i, _pg_datetime))
        elif isinstance(c.type, JSON):
            if c.type.none_as_null:
                return None
            convs.append((i, json.dumps))  # None → JSON 'null', as SQLAlchemy's JSON binds it
        elif not isinstance(c.type, _PG_PLAIN):
            return None
    cols = [c.name for c in table.columns]
    names = ", ".join(f'"{n}"' for n in cols)
    copy_sql = f'COPY "{table.name}" ({names}) FROM STDIN'
    getter = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    return copy_sql, getter, convs


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
                                   list[tuple[int, Callable[[Any], Any], bool]]]:
    """Column names, a getter of a row's values in column order, and the converters of
    the columns that need one, each with whether to memoise it (per table, once)."""
    cols = [c.name for c in table.columns]
    getter = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    convs = [(i, f, isinstance(c.type, UTCDateTime)) for i, c in enumerate(table.columns)
             if (f := _converter(c.type)) is not None]
    return cols, getter, convs


def sqlite_insert_statements(table: Table, rows: Sequence[dict[str, Any]],
                             tail: str = "") -> list[tuple[str, tuple[Any, ...]]]:
    """The `(sql, parameters)` of `insert_many` on SQLite (`tail`: e.g. " ON CONFLICT DO
    NOTHING"), built without a connection: a caller can build them before it takes the
    write lock and only run them (`run_sqlite_statements`) while holding it."""
    cols, getter, layout_convs = _layout(table)
    convs = [(i, _memo(f) if memo and len(rows) > 1 else f) for i, f, memo in layout_convs]
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
    return [(head + ", ".join([one] * n) + tail,
             tuple(params[start * width:(start + n) * width]))
            for start in range(0, len(rows), per) if (n := min(per, len(rows) - start))]


def run_sqlite_statements(conn: Connection, statements: Sequence[tuple[str, tuple[Any, ...]]],
                          returning: bool = False) -> tuple[int, list[tuple[Any, ...]]]:
    """Run statements of `sqlite_insert_statements` on the driver's connection inside the
    caller's transaction: (rows changed, rows returned if `returning`)."""
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
    changed = 0
    for sql, params in statements:
        cur = raw.execute(sql, params)
        if returning:
            out.extend(tuple(r) for r in cur.fetchall())
        else:
            changed += cur.rowcount
        cur.close()
    return changed, out


def _sqlite_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
                   tail: str) -> list[tuple[Any, ...]]:
    return run_sqlite_statements(conn, sqlite_insert_statements(table, rows, tail),
                                 returning=" RETURNING " in tail)[1]


def sqlite_json_rows(conn: Connection, select_sql: str, params: Sequence[Any],
                     columns: Sequence[str]) -> list[list[Any]]:
    """The rows of `SELECT columns FROM …` (`select_sql` is everything after the column
    list) as lists, read as ONE result row: SQLite packs them into a JSON array.

    Why: the driver releases and re-takes the GIL around every result row it steps, and
    with the event loop busy each re-take waits its turn: a 1,400-row `DELETE …
    RETURNING` took 120–300 ms on a busy process against 5 ms idle (while holding
    SQLite's write lock). One row is one hand-over. Values come back as JSON gives them:
    integers, text, None (datetimes stay text; booleans are 0/1).
    """
    inner = columns[0] if len(columns) == 1 else f"json_array({', '.join(columns)})"
    sql = f"SELECT json_group_array({inner}) FROM (SELECT {', '.join(columns)} {select_sql})"
    raw = conn.exec_driver_sql(sql, tuple(params)).scalar()
    found = json.loads(raw) if raw else []
    return found if len(columns) > 1 else [[v] for v in found]
