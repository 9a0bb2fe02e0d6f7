"""`shopwindow analytics fold | rebuild | prune` against the configured database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from typer.testing import CliRunner

from shopwindow.analytics import actions, queries
from shopwindow.analytics.models import Rollup
from shopwindow.analytics.rules import EventIn
from shopwindow.cli import app
from shopwindow.core.clock import clock
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work


def test_fold_rebuild_and_prune(db: Database) -> None:
    runner = CliRunner()
    actions.ingest(db, [EventIn(type="impression", object_type="post", post_id=4)] * 3)
    r = runner.invoke(app, ["analytics", "fold"])
    assert r.exit_code == 0 and "folded 3 events" in r.output
    with unit_of_work(db.analytics) as s:
        s.execute(delete(Rollup))  # lose the rollups …
    r = runner.invoke(app, ["analytics", "rebuild"])
    assert r.exit_code == 0 and "3 events" in r.output, r.output
    with db.read_sessions() as s:  # … and get them back from the raw log
        assert queries.rollup_total(s, "post", 4, "impressions") == 3
    r = runner.invoke(app, ["analytics", "rebuild", "--since", "next tuesday"])
    assert r.exit_code == 2 and "--since" in r.output
    clock.advance(timedelta(days=100))
    try:
        r = runner.invoke(app, ["analytics", "prune"])
    finally:
        clock.reset()
    assert r.exit_code == 0 and "pruned 3 raw events" in r.output
    assert "minute rollups older than 7 days" in r.output
    with db.read_sessions() as s:
        assert queries.event_count(s) == 0
        assert queries.rollup_total(s, "post", 4, "impressions") == 3
        assert queries.rollup_total(s, "post", 4, "impressions", grain="m") == 0
