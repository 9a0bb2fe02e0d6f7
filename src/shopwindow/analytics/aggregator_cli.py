"""`shopwindow analytics …`: rebuild rollups from the raw log, fold, prune, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shopwindow.db.engine import Database

analytics_app = typer.Typer(help="Analytics event log and rollups (docs/analytics.md)",
                            no_args_is_help=True)
console = Console()


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        console.print(f"[red]--since must be a date like 2026-12-01, not {raw!r}[/red]")
        raise typer.Exit(code=2) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _db() -> Database:
    from shopwindow.config import get_settings

    return Database(get_settings().database_url, pool_size=2)


@analytics_app.command("rebuild")
def rebuild_cmd(
    since: str | None = typer.Option(
        None, help="first UTC day to recompute (default: the oldest kept raw event)"),
) -> None:
    """Recompute rollups from the raw event log (one transaction; ingestion waits)."""
    from shopwindow.analytics import aggregator

    start = _since(since)
    db = _db()
    try:
        with Progress(TextColumn("rebuilding rollups"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("events", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            res = aggregator.rebuild(db, start, progress=step)
    finally:
        db.dispose()
    if res.since is None:
        console.print("no raw events: nothing to rebuild")
        return
    if res.clamped:
        console.print(f"[yellow]raw events before {res.since:%Y-%m-%d} were pruned; "
                      "those days were kept as they were[/yellow]")
    console.print(f"[green]rebuilt rollups from {res.since:%Y-%m-%d}[/green]: "
                  f"{res.events} events, {res.keys} rollup increments")


@analytics_app.command("fold")
def fold_cmd() -> None:
    """Fold every pending event into the rollups now and add the closed hours to the day
    counters (what a server's aggregator does; for when no server is running)."""
    from shopwindow.analytics import aggregator

    db = _db()
    try:
        n = aggregator.drain(db)
        days = aggregator.compact(db)
    finally:
        db.dispose()
    console.print(f"folded {n} events; {days or 0} day counters updated")


@analytics_app.command("prune")
def prune_cmd(
    days: int | None = typer.Option(
        None, min=1, help="days of raw events to keep (default: "
        "SHOPWINDOW_ANALYTICS_RAW_RETENTION_DAYS)"),
    minute_days: int | None = typer.Option(
        None, min=3, help="days of minute rollups to keep (default: "
        "SHOPWINDOW_ANALYTICS_MINUTE_RETENTION_DAYS)"),
) -> None:
    """Delete raw events and minute rollups older than their retention periods (hour and
    day rollups are kept)."""
    from shopwindow.analytics import actions
    from shopwindow.config import get_settings

    settings = get_settings()
    keep = timedelta(days=days or settings.analytics_raw_retention_days)
    keep_minutes = timedelta(days=minute_days or settings.analytics_minute_retention_days)
    db = _db()
    try:
        events, minutes = actions.prune(db, keep, keep_minutes)
    finally:
        db.dispose()
    console.print(f"pruned {events} raw events older than {keep.days} days and "
                  f"{minutes} minute rollups older than {keep_minutes.days} days")
