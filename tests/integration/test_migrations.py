"""Alembic migrations create exactly the tables the models declare, and reverse cleanly."""

from __future__ import annotations

import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from shopwindow.db.engine import driver_url
from shopwindow.db.migrate import downgrade, upgrade
from shopwindow.schema import metadata
from tests.conftest import _PG_PROBLEM, PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mig.db"
        return
    if _PG_PROBLEM:
        pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")
    name = f"sw_mig_{secrets.token_hex(4)}"
    admin = create_engine(driver_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_matches_models_and_downgrade_is_clean(fresh_url):
    upgrade(fresh_url)
    eng = create_engine(driver_url(fresh_url))
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"migration out of date with models: {diff}"
    downgrade(fresh_url, "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_url)
    assert set(metadata.tables) <= set(inspect(eng).get_table_names())
    eng.dispose()
