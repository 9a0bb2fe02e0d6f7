"""`shopwindow recs evaluate` on a tiny generated data set directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shopwindow.cli import app

runner = CliRunner()


def _write(path: Path, header: str, pairs: list[tuple[int, int]]) -> None:
    path.write_text(header + "\n" + "".join(f"{a},{b}\n" for a, b in pairs))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """60 users in two taste communities over 40 items, friends within communities."""
    rng = np.random.default_rng(7)
    train, test, trust = [], [], []
    for u in range(60):
        base = 0 if u < 30 else 20
        items = rng.choice(20, 8, replace=False) + base
        train += [(u, int(i)) for i in items[:6]]
        test += [(u, int(i)) for i in items[6:]]
        lo = 0 if u < 30 else 30
        trust += [(u, int(v)) for v in rng.choice(np.arange(lo, lo + 30), 4, replace=False)
                  if v != u]
    split = tmp_path / "tiny" / "sociallgn_split"
    split.mkdir(parents=True)
    _write(split / "train_set.txt", "user,item", train)
    _write(split / "test_set.txt", "user,item", test)
    _write(split / "trust.txt", "user,friend", trust)
    return tmp_path / "tiny"


def test_evaluate_items_writes_the_json_shape(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.json"
    result = runner.invoke(app, ["recs", "evaluate", "--dataset", str(dataset),
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["ours"] in doc["models"]
    assert {"popularity", "implicit-als", doc["ours"]} == set(doc["models"])
    for figures in doc["models"].values():
        for key in ("Recall@20", "NDCG@20", "Recall@10", "NDCG@10", "Precision@20",
                    "fit_seconds", "latency_p50_ms", "latency_p99_ms"):
            assert figures[key] >= 0.0
        assert figures["Recall@20"] <= 1.0
    # the communities are easy: personalised ranking must beat the global popularity list
    assert doc["models"][doc["ours"]]["Recall@20"] > doc["models"]["popularity"]["Recall@20"]
    assert "popularity" in result.output
    # not a terminal: progress comes as plain lines per stage and tenth
    assert re.search(r"^\s*\d+\.\d s  fit social-ease 0%$", result.output, re.M)
    assert re.search(r"^\s*\d+\.\d s  evaluate implicit-als 100%$", result.output, re.M)


def test_evaluate_links_and_tune(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "links.json"
    result = runner.invoke(app, ["recs", "evaluate", "--dataset", str(dataset), "--task",
                                 "links", "--tune", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc["models"]) == {doc["ours"], "adamic-adar", "common-neighbours"}
    assert 0.0 <= doc["models"][doc["ours"]]["Recall@20"] <= 1.0


def test_evaluate_rejects_a_directory_without_the_layout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["recs", "evaluate", "--dataset", str(tmp_path)])
    assert result.exit_code == 1
    assert "sociallgn_split" in result.output
    bad = runner.invoke(app, ["recs", "evaluate", "--dataset", str(tmp_path), "--task", "x"])
    assert bad.exit_code == 2
