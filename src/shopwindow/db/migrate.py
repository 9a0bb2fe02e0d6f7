"""Run Alembic migrations programmatically (`shopwindow db upgrade`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shopwindow.db.engine import analytics_path, analytics_url, driver_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)


def analytics_file_engine(bind: sa.Connection) -> sa.Engine | None:
    """For revisions after the analytics tables' move (20261207g7): an engine on the
    analytics file of the SQLite database `bind` migrates, or None when the database is
    not split that way (PostgreSQL, in-memory SQLite: the tables are on `bind` itself)."""
    if bind.dialect.name != "sqlite":
        return None
    url = bind.engine.url.render_as_string(hide_password=False)
    if analytics_path(url) is None:
        return None
    engine = sa.create_engine(driver_url(analytics_url(url)), poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def on_analytics_tables(bind: sa.Connection, work: Callable[[sa.Connection], None]) -> None:
    """Run `work` on a connection to where the analytics tables of the database that
    `bind` migrates live: `bind` itself (PostgreSQL, in-memory SQLite), or a transaction
    of the analytics file of a split SQLite database (revisions after 20261207g7)."""
    engine = analytics_file_engine(bind)
    if engine is None:
        work(bind)
        return
    try:
        with engine.begin() as conn:
            work(conn)
    finally:
        engine.dispose()
