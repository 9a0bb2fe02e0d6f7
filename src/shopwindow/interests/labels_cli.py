"""`shopwindow labels …`: evaluate the classifier offline, train and apply it in the platform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

labels_app = typer.Typer(help="Ability labels: evaluate, train and apply the classifier",
                         no_args_is_help=True)
console = Console()


def _pct(x: float) -> str:
    return f"{x:.4f}"


def _print_report(report: Any) -> None:
    from shopwindow.interests.labels_eval import Report

    assert isinstance(report, Report)
    console.print(f"train: {report.train['path']} ({report.train['rows']} rows, "
                  f"{report.train['classes']} labels); test: {report.test['path']} "
                  f"({report.test['rows']} rows, {report.test['classes']} labels)")
    if report.validation:
        v = Table(title="validation split of the training file (hyper-parameter choice)")
        for col in ("C", "balanced", "accuracy", "macro-F1"):
            v.add_column(col, justify="right")
        for row in report.validation:
            v.add_row(str(row["c"]), str(row["balanced"]), _pct(row["accuracy"]),
                      _pct(row["macro_f1"]))
        console.print(v)
    t = Table(title="test file")
    for col in ("model", "accuracy", "macro-F1", "fit s", "predict s"):
        t.add_column(col, justify="right")
    p = report.params
    rows = [(f"ours (C={p['c']}, balanced={p['balanced']})", report.model)]
    if report.baseline is not None:
        rows.append(("baseline: TF-IDF words + LinearSVC", report.baseline))
    for name, s in rows:
        t.add_row(name, _pct(s.accuracy), _pct(s.macro_f1), f"{s.fit_seconds:.1f}",
                  f"{s.predict_seconds:.1f}")
    console.print(t)
    pc = Table(title="per-class F1 on the test file")
    for col in ("label", "support", "ours F1", "baseline F1"):
        pc.add_column(col, justify="right")
    for label, m in sorted(report.model.per_class.items()):
        b = report.baseline.per_class.get(label) if report.baseline else None
        pc.add_row(label, str(m["support"]), _pct(m["f1"]), _pct(b["f1"]) if b else "-")
    console.print(pc)


@labels_app.command("evaluate")
def evaluate(
    train: Path = typer.Option(..., "--train", help="labelled training file: label<TAB>text"),
    test: Path = typer.Option(..., "--test", help="labelled test file: label<TAB>text"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the report as JSON"),
    tune: bool = typer.Option(True, "--tune/--no-tune",
                              help="choose C and class weights on a validation split"),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                  help="also train and score the plain baseline"),
) -> None:
    """Train on TRAIN, report accuracy, macro-F1 and per-class F1 on TEST."""
    from shopwindow.interests.labels_eval import DataError
    from shopwindow.interests.labels_eval import evaluate as run

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("reading", total=None)
        try:
            report = run(train, test, tune_params=tune, baseline=baseline,
                         step=lambda d: progress.update(task, description=d))
        except DataError as e:
            console.print(f"[red]error:[/red] {e}")
            raise typer.Exit(code=1) from None
    _print_report(report)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        console.print(f"report written to {json_out}")


def _database() -> tuple[Any, Path]:
    from shopwindow.config import get_settings
    from shopwindow.db.engine import Database

    get_settings.cache_clear()
    s = get_settings()
    return Database(s.database_url, pool_size=1), Path(s.data_dir)


@labels_app.command("train")
def train(
    apply: bool = typer.Option(True, "--apply/--no-apply",
                               help="relabel creators with the new model afterwards"),
) -> None:
    """Train on operator examples, corrections and declared verticals (+ seed vocabulary)."""
    from shopwindow.core.errors import DomainError
    from shopwindow.interests import labels_train

    db, data_dir = _database()
    try:
        with console.status("training"):
            try:
                info = labels_train.train(db, data_dir)
            except DomainError as e:
                console.print(f"[red]error:[/red] {e.detail}")
                raise typer.Exit(code=1) from None
        console.print(f"[green]model written[/green] ({info['rows']} examples, "
                      f"{info['classes']} verticals, sources {info['by_source']}; "
                      f"seeded: {', '.join(info['seeded']) or 'none'})")
        if apply:
            _apply(db, data_dir, None)
    finally:
        db.dispose()


def _apply(db: Any, data_dir: Path, ids: list[int] | None) -> None:
    from shopwindow.interests import labels_train

    with Progress(TextColumn("labelling"), *Progress.get_default_columns()[1:],
                  console=console, transient=True) as progress:
        task = progress.add_task("labelling", total=None)
        out = labels_train.apply(db, data_dir, ids,
                                 lambda i, n: progress.update(task, completed=i, total=n))
    console.print(f"[green]labelled {len(out)} accounts[/green]")


@labels_app.command("apply")
def apply_cmd(
    username: str | None = typer.Option(None, "--username", help="only this account"),
) -> None:
    """Relabel creators (or one account) with the current model."""
    from shopwindow.accounts import queries as accounts_q
    from shopwindow.core.errors import NotFound
    from shopwindow.db.uow import unit_of_work
    from shopwindow.interests import labels_queries

    db, data_dir = _database()
    try:
        if labels_queries.load_model(data_dir) is None:
            console.print("[red]error:[/red] no model yet: run `shopwindow labels train`")
            raise typer.Exit(code=1)
        ids = None
        if username:
            with unit_of_work(db, write=False) as s:
                try:
                    ids = [accounts_q.get_by_username(s, username).id]
                except NotFound:
                    console.print(f"[red]error:[/red] no account @{username}")
                    raise typer.Exit(code=1) from None
        _apply(db, data_dir, ids)
    finally:
        db.dispose()
