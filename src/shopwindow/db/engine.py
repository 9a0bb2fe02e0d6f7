"""Engine and session factory from settings; picks the driver from a plain URL."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
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


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, write: bool = True,
                attach: str | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on.

    For SQLite a *write* engine starts every transaction with BEGIN IMMEDIATE so concurrent
    writers queue on the busy timeout instead of failing on a lock upgrade. A read engine
    issues no BEGIN: every SELECT sees the latest commit (like PostgreSQL's READ COMMITTED)
    and readers never hold a lock that writers wait for. `attach` (SQLite read engines
    only) names a second file every connection attaches as ANALYTICS_SCHEMA. A write
    engine never attaches one: BEGIN IMMEDIATE would take the write lock of every
    attached file.
    """
    if attach is not None and write:
        raise ValueError("only a read engine attaches a second SQLite file")
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
        if path and begin_sql:
            # Checkpoints run on the background checkpointer; this is only a safety net.
            cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        if attach is not None:
            cur.execute(f"ATTACH DATABASE ? AS {ANALYTICS_SCHEMA}", (attach,))
        cur.close()

    if begin_sql:
        _serialise_writers(engine, _writer_lock(path or durl))
        if path:
            checkpointer.add(path)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin_sql)

    return engine


_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()
WRITER_LOCK_TIMEOUT = 30.0  # the same patience as SQLite's busy timeout


def _writer_lock(key: str) -> threading.Lock:
    with _writer_locks_guard:
        lock = _writer_locks.get(key)
        if lock is None:
            lock = _writer_locks[key] = threading.Lock()
        return lock


def _serialise_writers(engine: Engine, lock: threading.Lock) -> None:
    """Queue this process's SQLite write transactions on one Python lock.

    Why: SQLite has one write lock, and a connection that finds it taken sleeps in the busy
    handler's back-off steps (up to 100 ms each), so threads of one process taking turns
    (hand-off writer, job workers, request threads, the analytics fold) mostly waited:
    single hand-offs took over a second at the 99th percentile. Waiting on a Python lock
    hands the write lock over the moment it is released. Other processes still meet on
    SQLite's own lock. A plain Lock (not thread-owned): a session may begin in one
    threadpool thread and commit in another.
    """
    holders: set[int] = set()
    dialect = engine.dialect
    orig_commit, orig_rollback = dialect.do_commit, dialect.do_rollback

    @event.listens_for(engine, "begin")
    def _acquire(conn: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        if key in holders:
            return
        if not lock.acquire(timeout=WRITER_LOCK_TIMEOUT):
            raise TimeoutError("database is locked: no write transaction finished in "
                               f"{WRITER_LOCK_TIMEOUT:.0f} s")
        holders.add(key)

    def _release(dbapi_conn: Any) -> None:
        # Called with the pool's proxy (commit) or the raw connection (pool reset).
        key = id(getattr(dbapi_conn, "dbapi_connection", dbapi_conn))
        if key in holders:
            holders.discard(key)
            lock.release()

    def do_commit(dbapi_conn: Any) -> None:
        try:
            orig_commit(dbapi_conn)
        finally:
            _release(dbapi_conn)

    def do_rollback(dbapi_conn: Any) -> None:
        try:
            orig_rollback(dbapi_conn)
        finally:
            _release(dbapi_conn)

    # The dialect is this engine's own instance; wrapping its commit/rollback is the one
    # place that runs after SQLite released its lock (engine events fire before it).
    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]


log = logging.getLogger(__name__)
AUTOCHECKPOINT_PAGES = 10_000  # ≈ 40 MB of WAL: only reached if the checkpointer stalls
CHECKPOINT_INTERVAL = 0.5


class Checkpointer:
    """One daemon thread per process that checkpoints the WAL of each SQLite file in use.

    Why: SQLite checkpoints in the connection whose commit crossed the WAL threshold
    (1,000 pages by default), so every few hundred hand-offs one commit also copied the
    WAL into the database while its requests — and every request queued behind the
    write lock — waited: the hand-off's p99. A PASSIVE checkpoint needs no write lock,
    so here it runs beside the writers; `wal_autocheckpoint` stays as a safety net.
    """

    def __init__(self, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.interval = interval
        self._paths: dict[str, int] = {}
        self._conns: dict[str, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last: dict[str, tuple[int, int, int]] = {}  # path → (busy, log, checkpointed)

    def add(self, path: str) -> None:
        with self._lock:
            self._paths[path] = self._paths.get(path, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer",
                                                daemon=True)
                self._thread.start()

    def remove(self, path: str) -> None:
        with self._lock:
            n = self._paths.get(path, 0) - 1
            if n > 0:
                self._paths[path] = n
                return
            self._paths.pop(path, None)
            self.last.pop(path, None)
            conn = self._conns.pop(path, None)
        if conn is not None:
            conn.close()

    def checkpoint(self, path: str) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint of `path`: (busy, WAL frames, frames checkpointed)."""
        with self._lock:
            if path not in self._paths:
                return None
            conn = self._conns.get(path)
            if conn is None:
                # mode=rw: never create a file that a test has already deleted.
                conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0,
                                       check_same_thread=False)
                self._conns[path] = conn
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.last[path] = (int(row[0]), int(row[1]), int(row[2]))
            return self.last[path]

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                paths = list(self._paths)
            for path in paths:
                try:
                    self.checkpoint(path)
                except sqlite3.Error as exc:  # busy, or the file is gone: try again later
                    log.debug("checkpoint of %s skipped: %s", path, exc)


checkpointer = Checkpointer()


ANALYTICS_SCHEMA = "analytics"  # the analytics file's name on the main read connections


def analytics_url(url: str) -> str:
    """Where the analytics tables live for a database URL: a SQLite file keeps them in a
    sibling file (`shop.db` → `shop-analytics.db`); PostgreSQL and in-memory SQLite keep
    them in the same database (the URL is returned unchanged).

    Why a second file: SQLite has one write lock per file. Analytics writes (thousands of
    events a second, the rollup folds) held the lock that every hand-off's click commit
    needs, which was the largest part of /go's p99 (docs/performance.md). PostgreSQL
    locks rows, so it needs no split.
    """
    durl = driver_url(url)
    path = _sqlite_path(durl) if durl.startswith("sqlite") else None
    if not path:
        return url
    p = Path(path)
    target = p.with_name(f"{p.stem}-analytics{p.suffix or '.db'}")
    head, _, rest = url.partition(":///")
    query = rest.split("?", 1)[1] if "?" in rest else ""
    return f"{head}:///{target}" + (f"?{query}" if query else "")


def analytics_path(url: str) -> str | None:
    """The analytics SQLite file of a database URL, or None when the tables are not split."""
    a = analytics_url(url)
    return _sqlite_path(driver_url(a)) if a != url else None


class Database:
    """Engines and session factories: `sessions` for writes, `read_sessions` for reads.

    `analytics` is the Database that holds the analytics domain's tables: `self` on
    PostgreSQL, a second SQLite file next to the main one on SQLite (`analytics_url`).
    Its writes take that file's write lock only. The main read engine attaches the file,
    so a read session of the main database also reads the analytics tables (SQLite finds
    an unqualified table name in an attached file when the main file has none).
    """

    def __init__(self, url: str, *, pool_size: int | None = None,
                 _analytics_of: Database | None = None) -> None:
        self.url = url
        size = pool_size or int(os.environ.get("SHOPWINDOW_DB_POOL", "10"))
        self.engine = make_engine(url, pool_size=size, write=True)
        a_path = analytics_path(url) if _analytics_of is None else None
        self.analytics: Database = self
        if a_path is not None:
            self.analytics = Database(analytics_url(url), pool_size=size, _analytics_of=self)
            with self.analytics.engine.connect():  # creates the file in WAL mode
                pass
        self.read_engine = (
            make_engine(url, pool_size=size, write=False, attach=a_path)
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        info = {"db": self}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, class_=Session,
                                     info=info)
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False,
                                          class_=Session, info=info)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def analytics_split(self) -> bool:
        """True when the analytics tables live in a database of their own."""
        return self.analytics is not self

    @staticmethod
    def of(session: Session) -> Database | None:
        """The Database a session was made by (None for a session made elsewhere)."""
        db = session.info.get("db")
        return db if isinstance(db, Database) else None

    def dispose(self) -> None:
        path = _sqlite_path(driver_url(self.url)) if self.is_sqlite else None
        if path and not getattr(self, "_disposed", False):
            self._disposed = True
            checkpointer.remove(path)
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
        if self.analytics is not self:
            self.analytics.dispose()
