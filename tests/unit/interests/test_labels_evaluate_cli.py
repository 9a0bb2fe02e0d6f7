"""`shopwindow labels evaluate` on tiny generated labelled files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopwindow.cli import app
from shopwindow.interests.labels_eval import GRID

runner = CliRunner()
POOLS = {
    "food": ["火锅", "奶茶", "甜品", "recipe", "noodles", "咖啡"],
    "travel": ["机票", "酒店", "签证", "beach", "itinerary", "古镇"],
    "games": ["手游", "电竞", "通关", "console", "esports", "攻略"],
}


def _write(path: Path, per_label: int, seed: int, noise: int = 0) -> None:
    rng = random.Random(seed)
    lines = []
    for label, pool in POOLS.items():
        for _ in range(per_label):
            lines.append(f"{label}\t{' '.join(rng.sample(pool, 3))} 分享 today")
    for _ in range(noise):  # texts whose words belong to another label
        lines.append(f"food\t{' '.join(rng.sample(POOLS['games'], 3))}")
    rng.shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    train, test = tmp_path / "train.tsv", tmp_path / "test.tsv"
    _write(train, 30, seed=1)
    _write(test, 10, seed=2, noise=5)
    return train, test


def test_evaluate_prints_tables_and_writes_the_json_report(files, tmp_path):
    train, test = files
    out = tmp_path / "report.json"
    res = runner.invoke(app, ["labels", "evaluate", "--train", str(train), "--test", str(test),
                              "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "macro-F1" in res.output and "baseline" in res.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["train"] == {"path": str(train), "rows": 90, "classes": 3}
    assert report["test"]["rows"] == 35
    assert len(report["validation"]) == len(GRID)
    assert {"c", "balanced"} <= set(report["params"])
    for key in ("model", "baseline"):
        scores = report[key]
        assert set(scores) >= {"accuracy", "macro_f1", "per_class", "fit_seconds"}
        assert set(scores["per_class"]) == set(POOLS)
        f1s = [c["f1"] for c in scores["per_class"].values()]
        assert scores["macro_f1"] == pytest.approx(sum(f1s) / len(f1s))
        assert sum(c["support"] for c in scores["per_class"].values()) == 35
    # The five noisy "food" rows read as games: the model cannot get those right.
    assert report["model"]["accuracy"] == pytest.approx(30 / 35)
    assert report["model"]["per_class"]["food"]["recall"] == pytest.approx(10 / 15)


def test_evaluate_without_tuning_or_baseline(files, tmp_path):
    train, test = files
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["labels", "evaluate", "--train", str(train), "--test", str(test),
                              "--no-tune", "--no-baseline", "--json", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["validation"] == [] and report["baseline"] is None


def test_evaluate_names_the_bad_line(files, tmp_path):
    train, _ = files
    bad = tmp_path / "bad.tsv"
    bad.write_text("food\t火锅\nno tab here\n", encoding="utf-8")
    res = runner.invoke(app, ["labels", "evaluate", "--train", str(train), "--test", str(bad)])
    assert res.exit_code == 1
    assert "bad.tsv:2" in res.output and "label<TAB>text" in res.output


def test_training_file_needs_two_labels_test_file_one(files, tmp_path):
    train, test = files
    one = tmp_path / "one.tsv"
    one.write_text("food\t火锅 奶茶\nfood\t甜品\n", encoding="utf-8")
    res = runner.invoke(app, ["labels", "evaluate", "--train", str(one), "--test", str(test),
                              "--no-tune"])
    assert res.exit_code == 1 and "at least 2 labels" in res.output
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["labels", "evaluate", "--train", str(train), "--test", str(one),
                              "--no-tune", "--no-baseline", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text(encoding="utf-8"))["model"]["accuracy"] == 1.0
