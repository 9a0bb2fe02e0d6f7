"""Engine and session factory from settings; picks the driver from a plain URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def driver_url(url: str) -> str:
    """Map `sqlite:///x` / `postgresql://…` to the SQLAlchemy driver URL we use."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+pysqlite://" + url[len("sqlite://") :]
    return url


def _sqlite_path(url: str) -> str | None:
    rest = url.split(":///", 1)
    if len(rest) == 2 and rest[1] and rest[1] != ":memory:":
        return rest[1].split("?", 1)[0]
    return None


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, write: bool = True) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on.

    For SQLite a *write* engine starts every transaction with BEGIN IMMEDIATE so concurrent
    writers queue on the busy timeout instead of failing on a lock upgrade. A read engine
    issues no BEGIN: every SELECT sees the latest commit (like PostgreSQL's READ COMMITTED)
    and readers never hold a lock that writers wait for.
    """
    durl = driver_url(url)
    if not durl.startswith("sqlite"):
        return create_engine(
            durl, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=True
        )
    path = _sqlite_path(durl)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        durl,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        max_overflow=20,
    )
    begin_sql = "BEGIN IMMEDIATE" if write else None

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
        # SQLAlchemy drives transactions: pysqlite's own implicit BEGIN is disabled.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    if begin_sql:

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin_sql)

    return engine


class Database:
    """Engines and session factories: `sessions` for writes, `read_sessions` for reads."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        size = pool_size or int(os.environ.get("SHOPWINDOW_DB_POOL", "10"))
        self.engine = make_engine(url, pool_size=size, write=True)
        self.read_engine = (
            make_engine(url, pool_size=size, write=False)
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, class_=Session)
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False, class_=Session)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
