"""Imports every domain's tables so the metadata is complete (migrations, tests)."""

from sqlalchemy import Engine, Table

from shopwindow.accounts import models as _accounts  # noqa: F401
from shopwindow.analytics import models as _analytics  # noqa: F401
from shopwindow.db.base import Base
from shopwindow.db.engine import Database
from shopwindow.interests import labels_models as _labels  # noqa: F401
from shopwindow.interests import models as _interests  # noqa: F401
from shopwindow.ledger import models as _ledger  # noqa: F401
from shopwindow.media import models as _media  # noqa: F401
from shopwindow.notifications import models as _notifications  # noqa: F401
from shopwindow.outbox import events as _outbox  # noqa: F401
from shopwindow.partners import models as _partners  # noqa: F401
from shopwindow.showcase import models as _showcase  # noqa: F401
from shopwindow.social import models as _social  # noqa: F401
from shopwindow.tracking import models as _tracking  # noqa: F401

metadata = Base.metadata

# The analytics domain's tables: in their own SQLite file when the database is split
# (db.engine.analytics_url); everything else lives in the main database.
ANALYTICS_TABLES = tuple(t for t in metadata.sorted_tables if t.name.startswith("analytics_"))
MAIN_TABLES = tuple(t for t in metadata.sorted_tables if t not in ANALYTICS_TABLES)


def _placement(db: Database) -> list[tuple[Engine, list[Table]]]:
    """Which engine holds which tables: one for all, or the analytics file apart."""
    if db.analytics_split:
        return [(db.engine, list(MAIN_TABLES)), (db.analytics.engine, list(ANALYTICS_TABLES))]
    return [(db.engine, list(metadata.sorted_tables))]


def create_all(db: Database) -> None:
    """Create every table where it belongs (tests, benchmarks; deployments migrate)."""
    for engine, tables in _placement(db):
        metadata.create_all(engine, tables=tables)


def drop_all(db: Database) -> None:
    """Drop every table `create_all` made."""
    for engine, tables in _placement(db):
        metadata.drop_all(engine, tables=tables)
