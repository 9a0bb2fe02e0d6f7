"""Offline evaluation of the ability-label classifier on any `label<TAB>text` files.

Hyper-parameters are chosen on a validation split of the training file only; the test
file is read once, after the choice, for the reported figures. The reference baseline
(TF-IDF over jieba words + LinearSVC, default settings) is trained and scored in the same
run so the two numbers are comparable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shopwindow.interests.labels_model import ModelParams, fit, fit_baseline

GRID: tuple[tuple[float, bool], ...] = tuple(
    (c, balanced) for c in (0.25, 0.5, 1.0) for balanced in (False, True))
VALIDATION_SHARE = 0.15


class DataError(ValueError):
    """A labelled file that cannot be read (names the file, line and rule)."""


@dataclass(slots=True)
class Scores:
    """Accuracy, macro-F1 and per-class figures of one model on one file."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0


@dataclass(slots=True)
class Report:
    """Everything `shopwindow labels evaluate` prints and writes as JSON."""

    train: dict[str, Any]
    test: dict[str, Any]
    params: dict[str, Any]
    validation: list[dict[str, Any]]
    model: Scores
    baseline: Scores | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the report."""
        return asdict(self)


def read_tsv(path: Path, min_labels: int = 2) -> tuple[list[str], list[str]]:
    """(texts, labels) of a `label<TAB>text` file; blank lines are skipped."""
    texts: list[str] = []
    labels: list[str] = []
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        label, tab, text = line.partition("\t")
        if not tab or not label.strip() or not text.strip():
            raise DataError(f"{path}:{n}: expected 'label<TAB>text'")
        labels.append(label.strip())
        texts.append(text.strip())
    if not labels:
        raise DataError(f"{path}: no labelled lines")
    if len(set(labels)) < min_labels:
        raise DataError(f"{path}: needs examples of at least {min_labels} labels")
    return texts, labels


def score(truth: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Accuracy, macro-F1 (over every label in truth or prediction) and per-class figures."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels,
                                                 zero_division=0)
    per = {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                 "support": int(s[i])} for i, lab in enumerate(labels)}
    return Scores(accuracy=float(accuracy_score(truth, predicted)),
                  macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro",
                                          zero_division=0)),
                  per_class=per)


def _split(texts: list[str], labels: list[str], seed: int) -> tuple[list[int], list[int]]:
    from collections import Counter

    from sklearn.model_selection import train_test_split

    idx = list(range(len(texts)))
    counts = Counter(labels)
    strat = labels if min(counts.values()) >= 2 else None
    n_val = max(int(len(idx) * VALIDATION_SHARE), len(counts) if strat else 1)
    if n_val >= len(idx):
        raise DataError("training file too small for a validation split; use --no-tune")
    tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=strat)
    return list(tr), list(va)


def tune(texts: list[str], labels: list[str], base: ModelParams,
         step: Callable[[str], None] = lambda _: None) -> tuple[ModelParams, list[dict[str, Any]]]:
    """Pick C and class weighting by macro-F1 on a validation split of the training data."""
    tr, va = _split(texts, labels, base.seed)
    xt, yt = [texts[i] for i in tr], [labels[i] for i in tr]
    xv, yv = [texts[i] for i in va], [labels[i] for i in va]
    if len(set(yt)) < 2:
        raise DataError("training split has fewer than two labels; use --no-tune")
    rows: list[dict[str, Any]] = []
    best: tuple[float, ModelParams] | None = None
    for c, balanced in GRID:
        step(f"C={c} balanced={balanced}")
        # Confidences do not change the argmax much; skip calibration while searching.
        params = replace(base, c=c, balanced=balanced, calibration_folds=0)
        model, _ = fit(xt, yt, params)
        s = score(yv, model.predict(xv))
        rows.append({"c": c, "balanced": balanced, "accuracy": s.accuracy,
                     "macro_f1": s.macro_f1})
        if best is None or s.macro_f1 > best[0]:
            best = (s.macro_f1, replace(base, c=c, balanced=balanced))
    assert best is not None
    return best[1], rows


def evaluate(train: Path, test: Path, *, tune_params: bool = True, baseline: bool = True,
             params: ModelParams | None = None,
             step: Callable[[str], None] = lambda _: None) -> Report:
    """Train on `train` (tuning on its validation split), score on `test`."""
    xtr, ytr = read_tsv(train)
    xte, yte = read_tsv(test, min_labels=1)
    chosen = params or ModelParams()
    validation: list[dict[str, Any]] = []
    if tune_params:
        chosen, validation = tune(xtr, ytr, chosen, step)
    step("fit")
    t0 = time.perf_counter()
    model, info = fit(xtr, ytr, chosen)
    fit_s = time.perf_counter() - t0
    step("predict")
    t0 = time.perf_counter()
    predicted = model.predict(xte)
    ours = score(yte, predicted)
    ours.fit_seconds, ours.predict_seconds = fit_s, time.perf_counter() - t0
    base: Scores | None = None
    if baseline:
        step("baseline")
        t0 = time.perf_counter()
        predict = fit_baseline(xtr, ytr)
        b_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        base = score(yte, predict(xte))
        base.fit_seconds, base.predict_seconds = b_fit, time.perf_counter() - t0
    return Report(
        train={"path": str(train), "rows": len(ytr), "classes": len(set(ytr))},
        test={"path": str(test), "rows": len(yte), "classes": len(set(yte))},
        params=asdict(chosen), validation=validation, model=ours, baseline=base,
        extra={"features": info.features, "calibrated": info.calibrated})
