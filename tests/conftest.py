"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shopwindow.config import Settings, get_settings
from shopwindow.db.engine import Database, driver_url
from shopwindow.db.uow import unit_of_work
from shopwindow.schema import create_all, metadata

PG_URL = os.environ.get("SHOPWINDOW_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ON_CI = os.environ.get("CI", "").lower() == "true"


def _pg_available() -> str | None:
    try:
        eng = create_engine(driver_url(PG_URL), connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # report why PostgreSQL tests are skipped
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


_PG_PROBLEM = _pg_available()
if ON_CI and _PG_PROBLEM:
    raise RuntimeError(f"CI=true but PostgreSQL at {PG_URL} is unreachable: {_PG_PROBLEM}")

# Each test process gets its own PostgreSQL database (created on the configured server and
# dropped at exit), so parallel runs never truncate each other's tables.
PG_RUN_URL = PG_URL
if not _PG_PROBLEM:
    import atexit
    import secrets

    _dbname = f"sw_test_{os.getpid()}_{secrets.token_hex(3)}"
    _admin = create_engine(driver_url(PG_URL), isolation_level="AUTOCOMMIT")
    with _admin.connect() as _c:
        _c.execute(text(f'CREATE DATABASE "{_dbname}"'))
    PG_RUN_URL = PG_URL.rsplit("/", 1)[0] + "/" + _dbname

    @atexit.register
    def _drop_pg_db() -> None:
        with _admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{_dbname}" WITH (FORCE)'))
        _admin.dispose()


def pytest_report_header(config: Any) -> str:
    return (f"postgresql: {PG_URL} " + ("available" if not _PG_PROBLEM
                                       else f"SKIPPED ({_PG_PROBLEM})"))


def _settings(tmp_path: Path, url: str, **over: Any) -> Settings:
    base: dict[str, Any] = dict(
        database_url=url, data_dir=tmp_path / "data", jobs_mode="immediate",
        password_time_cost=1, password_memory_cost=1024, environment="test",
        base_url="http://testserver", signup_rate_limit="1000/minute",
        signin_rate_limit="1000/minute", redis_url=None,
    )
    base.update(over)
    return Settings(**base)


_pg_schema_ready = False


def _reset_pg(db: Database) -> None:
    global _pg_schema_ready
    with db.engine.begin() as c:
        if not _pg_schema_ready:
            metadata.drop_all(c)
            c.execute(text("DROP TABLE IF EXISTS alembic_version"))
            metadata.create_all(c)
            _pg_schema_ready = True
        else:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if _PG_PROBLEM:
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {_PG_PROBLEM}")
        return PG_RUN_URL
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def settings(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    s = _settings(tmp_path, db_url)
    for k, v in s.model_dump().items():
        if v is not None:
            monkeypatch.setenv(f"SHOPWINDOW_{k.upper()}", str(v))
    get_settings.cache_clear()
    yield s
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url, pool_size=5)
    if database.is_sqlite:
        create_all(database)
    else:
        _reset_pg(database)
    from shopwindow.jobs import runtime as jobs
    from shopwindow.media.storage import FileStorage, configure_storage

    configure_storage(FileStorage(settings.data_dir / "media"))
    jobs.configure(settings, database)
    yield database
    database.dispose()


@pytest.fixture
def uow(db: Database) -> Any:
    """`with uow() as s:` commits and publishes events (jobs run immediately)."""

    def make() -> Any:
        return unit_of_work(db)

    return make


@pytest.fixture
def analytics_uow(db: Database) -> Any:
    """`with analytics_uow() as s:` writes the analytics tables (their own SQLite file)."""

    def make() -> Any:
        return unit_of_work(db.analytics)

    return make


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A read session for checking stored state in assertions."""
    s = db.read_sessions()
    yield s
    s.close()


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    from shopwindow.app import create_app

    return create_app(settings, db=db)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
