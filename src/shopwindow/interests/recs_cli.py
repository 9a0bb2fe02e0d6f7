"""`shopwindow recs …`: train the recommenders from platform data and show the artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

recs_app = typer.Typer(help="Recommendations: train the models, inspect the artefacts",
                       no_args_is_help=True)
console = Console()


def _database() -> tuple[Any, Path]:
    from shopwindow.config import get_settings
    from shopwindow.db.engine import Database

    get_settings.cache_clear()
    s = get_settings()
    return Database(s.database_url, pool_size=1), Path(s.data_dir)


def train_platform(db: Any, data_dir: Path, *, quiet: bool = False) -> dict[str, Any]:
    """Run one training in its own unit of work, with a rich progress bar unless quiet."""
    from shopwindow.db.uow import unit_of_work
    from shopwindow.interests import actions, training

    with unit_of_work(db) as s:
        actions.ensure_default_verticals(s)
    if quiet:
        with unit_of_work(db) as s:
            return training.run_training(s, data_dir)
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task("training", total=1.0)

        def report(stage: str, frac: float) -> None:
            bar.update(task, completed=frac, description=stage)

        with unit_of_work(db) as s:
            return training.run_training(s, data_dir, progress=report)


@recs_app.command("train")
def train() -> None:
    """Build the interaction and social matrices, fit the models, write a new version."""
    db, data_dir = _database()
    try:
        stats = train_platform(db, data_dir)
    finally:
        db.dispose()
    if "error" in stats:
        console.print(f"[red]training failed[/red]: {stats['error']} (still serving "
                      f"v{stats['version']})")
        raise typer.Exit(code=1)
    t = Table(title=f"recommender artefacts v{stats['version']} in {data_dir / 'recs'}")
    for col in ("accounts", "products", "interactions", "follows", "seconds"):
        t.add_column(col, justify="right")
    t.add_row(str(stats["users"]), str(stats["items"]), str(stats["interactions"]),
              str(stats["follows"]), f"{stats['seconds']:.2f}")
    console.print(t)


@recs_app.command("status")
def status() -> None:
    """Show the served artefact version and the latest training runs."""
    from shopwindow.db.uow import unit_of_work
    from shopwindow.interests import queries, training

    db, data_dir = _database()
    try:
        console.print(f"serving version: {training.current_version(training.recs_dir(data_dir))}")
        t = Table(title="latest training runs")
        for col in ("started", "status", "version", "accounts", "products", "interactions"):
            t.add_column(col)
        with unit_of_work(db, write=False) as s:
            for r in queries.latest_training_runs(s):
                st = r.stats or {}
                t.add_row(r.started_at.strftime("%Y-%m-%d %H:%M:%S"), r.status, str(r.version),
                          str(st.get("users", "")), str(st.get("items", "")),
                          str(st.get("interactions", "")))
        console.print(t)
    finally:
        db.dispose()
