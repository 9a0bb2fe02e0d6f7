"""Alembic environment: the URL comes from settings (or the caller's config)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from shopwindow.db.base import UTCDateTime  # noqa: F401  (types referenced by revisions)
from shopwindow.db.engine import analytics_path, driver_url
from shopwindow.schema import ANALYTICS_TABLES, metadata

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from shopwindow.config import get_settings

        url = get_settings().database_url
    return driver_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


_ANALYTICS = {t.name for t in ANALYTICS_TABLES}


def _main_file_only(obj: object, name: str | None, type_: str, reflected: bool,
                    compare_to: object) -> bool:
    """Autogenerate filter for a split SQLite database: the analytics tables live in
    their own file (revision 20261207g7), so the main file is compared without them."""
    table = getattr(obj, "table", None)
    owner = name if type_ == "table" else getattr(table, "name", None)
    return owner not in _ANALYTICS


def _run(connection: Any) -> None:
    url = connection.engine.url.render_as_string(hide_password=False)
    split = connection.dialect.name == "sqlite" and analytics_path(url) is not None
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, compare_type=True,
                      include_object=_main_file_only if split else None)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
