"""The benchmarks keep working: each runs in its smallest configuration and its output shows
the correctness checks it makes (nothing lost, nothing counted twice, the ledger balanced).

Speed is not asserted here (benchmarks record it, docs/performance.md). What this guards
is the benchmarks themselves: a storage change (e.g. the analytics tables moving to their
own SQLite file) once left two of them reading tables that were no longer there.
click.py and feed.py need `wrk`, which the test command does not install, so they are
not run here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _PG_PROBLEM, PG_URL

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(BENCH.parent / "src")}
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=240, env=env, cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _row(out: str, backend: str) -> list[str]:
    """The cells of the events table's row for `backend`."""
    for line in out.splitlines():
        if line.startswith(f"| {backend} | 1 |"):
            return [c.strip() for c in line.strip("|").split("|")]
    raise AssertionError(f"no {backend} row in:\n{out}")


@pytest.mark.parametrize("backend", ["SQLite", pytest.param("PostgreSQL", marks=pytest.mark.pg)])
def test_events_benchmark_runs_and_every_event_becomes_visible(backend: str) -> None:
    args = ["--seconds", "1", "--report-events", "50000", "--runs", "3", "--build-runs", "1"]
    if backend == "PostgreSQL":
        if _PG_PROBLEM:
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {_PG_PROBLEM}")
        args += ["--pg", PG_URL]
    out = _run("events.py", *args)
    cells = _row(out, backend)
    events_per_s, p99, not_visible, errors = cells[3], cells[7], cells[9], cells[10]
    assert int(events_per_s.replace(",", "")) > 0
    assert re.fullmatch(r"[\d,]+ ms", p99), out  # freshness was measured (not nan)
    assert (not_visible, errors) == ("0", "0"), out
    accepted = re.search(r"\(([\d,]+) events accepted in [\d.]+ s, (\d+) duplicates", out)
    assert accepted is not None and int(accepted[1].replace(",", "")) > 0, out
    assert accepted[2] == "0"
    assert re.search(r"\(CPU probe: \d+ ms before, \d+ ms after the run", out), out
    # The report part seeded raw events and rollups and timed the series query.
    seeded = re.search(r"seeded ([\d,]+) raw events and ([\d,]+) rollup rows", out)
    assert seeded is not None and int(seeded[1].replace(",", "")) > 0, out
    # ... and built the whole report for a UTC and a UTC+8 viewer (no build error).
    ms = r" [\d.]+ ms \|"
    assert re.search(rf"^\| {backend} \| [\d,]+ \| [\d,]+ \|{ms * 6}$", out, re.M), out


def test_postback_benchmark_runs_with_no_duplicate_and_a_balanced_ledger() -> None:
    out = _run("postback.py", "--orders", "30")
    table: dict[str, Any] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2:
            table[cells[0]] = cells[1]
    assert table["orders attributed"] == "30 of 30", out
    assert table["commission bookings"] == "30", out
    assert table["duplicate ledger keys"] == "0", out
    assert table["trial balance"] == "{'CNY': 0}", out
    assert table["analytics events (orders, commissions, refunds)"].startswith("30, 30, 10 "), out


def test_reports_benchmark_times_builds_and_the_live_path() -> None:
    out = _run("reports.py", "--creators", "1", "--events", "2")
    assert re.search(r"\| creator \| 30d \| day \(h\) \| 31 \| [\d.]+ ", out), out
    assert re.search(r"\| event committed → SSE `update` received \| \d+ \|", out), out
    assert re.search(r"\| event committed → refreshed JSON shows it \| \d+ \|", out), out
