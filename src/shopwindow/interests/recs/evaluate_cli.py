"""`shopwindow recs evaluate`: offline comparison of our recommenders with baselines."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
_COLUMNS = ("Recall@10", "NDCG@10", "Precision@10", "Recall@20", "NDCG@20", "Precision@20")


def evaluate_command(
    dataset: Path = typer.Option(..., "--dataset", exists=True, file_okay=False,
                                 help="directory with sociallgn_split/{train_set,test_set,"
                                      "trust}.txt"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the figures here"),
    task: str = typer.Option("items", help="items (recommendations) or links (who-to-follow)"),
    tune: bool = typer.Option(False, help="first choose hyper-parameters on a validation "
                                          "split carved from the training data"),
    seed: int = typer.Option(0, help="seed for the validation and link hold-out splits"),
) -> None:
    """Evaluate our recommender against popularity and ALS (or link baselines) on DATASET."""
    from shopwindow.interests.recs import evaluation, tuning
    from shopwindow.interests.recs.data import load_dataset

    if task not in ("items", "links"):
        console.print("[red]error:[/red] --task must be 'items' or 'links'")
        raise typer.Exit(2)
    try:
        ds = load_dataset(dataset)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"{dataset}: {ds.n_users} users, {ds.n_items} items, "
                  f"{ds.train.nnz} training and {ds.test.nnz} test interactions, "
                  f"{ds.social.nnz // 2} links")
    with Progress(TextColumn("{task.description:<36}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        handle = bar.add_task("loading", total=1.0)
        started, shown = time.monotonic(), [("", -1)]

        def progress(stage: str, frac: float) -> None:
            bar.update(handle, description=stage, completed=frac)
            # Without a terminal (a log file, CI) the bar is drawn only at the end: one line
            # per stage and tenth instead, so a run of an hour shows where it is.
            tenth = int(frac * 10)
            if not console.is_terminal and (stage, tenth) != shown[0]:
                shown[0] = (stage, tenth)
                console.print(f"{time.monotonic() - started:8.1f} s  {stage} {tenth * 10}%")

        ours: dict[str, Any] | None = None
        als: dict[str, Any] | None = None
        if task == "items":
            if tune:
                ours, als = tuning.tune_items(ds.train, ds.social, seed=seed, progress=progress)
            report = evaluation.evaluate_items(ds, ours, als, progress=progress, seed=seed)
        else:
            if tune:
                ours = tuning.tune_links(ds.social, ds.train, seed=seed, progress=progress)
            report = evaluation.evaluate_links(ds, ours, progress=progress, seed=seed)
    _print(report.as_json())
    if json_out is not None:
        json_out.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        console.print(f"figures written to {json_out}")


def _print(doc: dict[str, Any]) -> None:
    # one column per model keeps the table readable in an 80-column terminal
    names = list(doc["models"])
    table = Table("", *(f"{n} (ours)" if n == doc["ours"] else n for n in names),
                  title=f"{doc['task']}: full ranking, training items excluded")
    for metric in _COLUMNS:
        table.add_row(metric, *(f"{doc['models'][n].get(metric, float('nan')):.4f}"
                                for n in names))
    for key, label in (("fit_seconds", "fit s"), ("latency_p50_ms", "top-20 p50 ms"),
                       ("latency_p99_ms", "top-20 p99 ms")):
        table.add_row(label, *(f"{doc['models'][n][key]:.2f}" for n in names))
    console.print(table)
    for name, params in doc.get("params", {}).items():
        console.print(f"{name}: {json.dumps(params)}")
