"""Tracked hand-off throughput: GET /go/{recommendation} next to GET /ping, same server.

Seeds a fresh database (one partner on shop.example.com, one creator, N recommendations
published through showcase actions with a stub product reader), starts the production app
under uvicorn (one worker, jobs on embedded threads), then loads with wrk (required:
`apt-get install -y wrk`; a Python load generator would take much of the CPU the server
needs on a 2-core machine) at 32 connections: /ping, then /go rotating over the
recommendations with a browser user agent. Every /go answer is a 302 whose click is
committed (group commit) before the answer is sent. Prints a table; never asserts on time.

    python benchmarks/click.py [--seconds 16] [--rounds 4] [--connections 32] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

# This file is named like the `click` package that uvicorn and httpx import: take the
# script's own directory off sys.path before importing them.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "src"))

import httpx  # noqa: E402

# Our sibling helper, found after site-packages so `click` stays the real package.
sys.path.append(str(HERE))
from appserver import running_app, running_job_worker  # noqa: E402
from proccpu import cpu_seconds, server_pid  # noqa: E402


def _ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v.strip())
    if not m:
        return float("nan")
    x, unit = float(m.group(1)), m.group(2)
    return {"us": x / 1000, "ms": x, "s": x * 1000, "m": x * 60_000}[unit]


UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
LUA = r"""
local paths = {}
local idx = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
function request()
  idx = idx % #paths + 1
  return wrk.format("GET", paths[idx])
end
"""


def seed(url: str, n: int) -> list[int]:
    from shopwindow.accounts import actions as accounts
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.partners import actions as partners
    from shopwindow.partners.fetch import ProductData
    from shopwindow.schema import create_all, drop_all
    from shopwindow.showcase import actions as showcase

    db = Database(url)
    drop_all(db)
    create_all(db)

    def fetch(_target: object, link: str) -> ProductData:
        pid = link.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
        return ProductData(title=f"Product {pid}", price_minor=9900, currency="CNY",
                           availability="in_stock", canonical_url=link,
                           images=["https://shop.example.com/i.png"], category="beauty",
                           external_id=pid)

    with unit_of_work(db) as s:
        partners.register_partner(s, slug="shop", name="Shop", domains=["shop.example.com"],
                                  default_rate_bps=1000)
        creator = accounts.register_account(s, username="maker", email="m@example.com",
                                            password="correct horse battery", role="creator")
        cid = creator.id
    recs: list[int] = []
    for i in range(0, n, 9):
        with unit_of_work(db) as s:
            pub = showcase.publish(s, cid, [
                {"url": f"https://shop.example.com/p/{1000 + j}", "reason": "Really good."}
                for j in range(i, min(n, i + 9))], fetcher=fetch)
            recs += [r.id for r in pub.recommendations]
    db.dispose()
    return recs


def wrk(url: str, paths_file: Path | None, connections: int, seconds: int) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
           "-H", f"User-Agent: {UA}"]
    script = None
    if paths_file is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(LUA)
        script.close()
        cmd += ["-s", script.name, url, "--", str(paths_file)]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "errors": (int(bad.group(1)) if bad else 0)
        + (sum(int(x) for x in sock.groups()) if sock else 0),
    }


def combine(runs: list[dict[str, float]]) -> dict[str, float]:
    """Equal-length slices: mean req/s, the median slice's p50 and p99, summed errors.
    (wrk reports percentiles per run; the slices' medians are the honest summary, and the
    per-slice p99s are printed too.)"""
    med = statistics.median
    return {"rps": sum(r["rps"] for r in runs) / len(runs),
            "p50": med(r["p50"] for r in runs), "p99": med(r["p99"] for r in runs),
            "errors": sum(r["errors"] for r in runs)}


def drain_wait(url: str, timeout: float) -> tuple[int, int, float]:
    """(click analytics events, clicks, seconds waited): poll until the job side has
    turned every stored click into an analytics event, or the timeout passes."""
    from sqlalchemy import func, select

    from shopwindow.analytics.models import Event
    from shopwindow.db.engine import Database
    from shopwindow.tracking.models import Click

    db = Database(url)
    started = time.monotonic()
    try:
        while True:
            with db.read_sessions() as s:
                clicks = int(s.scalar(select(func.count()).select_from(Click)) or 0)
                seen = int(s.scalar(select(func.count()).select_from(Event)
                                    .where(Event.type == "click")) or 0)
            waited = time.monotonic() - started
            if seen >= clicks or waited > timeout:
                return seen, clicks, waited
            time.sleep(0.5)
    finally:
        db.dispose()


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/click.py needs wrk on PATH (Debian: apt-get install -y wrk)")
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=16, help="per route, in all")
    ap.add_argument("--rounds", type=int, default=4,
                    help="alternating /ping and /go slices (the machine's speed drifts)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--recommendations", type=int, default=90)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (default: SQLite)")
    ap.add_argument("--port", type=int, default=8771)
    ap.add_argument("--jobs", choices=["thread", "external"], default="thread",
                    help="thread: job workers inside the web process (embedded default); "
                         "external: the web process only enqueues (`shopwindow worker` "
                         "elsewhere, production shape)")
    ap.add_argument("--redis", default=None, help="Redis URL (job queue, caches)")
    ap.add_argument("--no-worker", action="store_true",
                    help="with --jobs external: run no `shopwindow worker` (the clicks' jobs "
                         "then wait in the queue; not what a deployment does)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sw-click-"))
    url = args.pg or f"sqlite:///{tmp}/click.db"
    env = {**os.environ, "SHOPWINDOW_DATABASE_URL": url, "SHOPWINDOW_DATA_DIR": str(tmp),
           "SHOPWINDOW_JOBS_MODE": args.jobs, "SHOPWINDOW_LOG_LEVEL": "WARNING",
           # The seed publishes every recommendation as one creator: no daily limit here.
           "SHOPWINDOW_RECOMMENDATIONS_PER_DAY": "0",
           "SHOPWINDOW_BASE_URL": f"http://127.0.0.1:{args.port}"}
    if args.redis:
        env["SHOPWINDOW_REDIS_URL"] = args.redis
    os.environ.update(env)
    recs = seed(url, args.recommendations)
    paths = tmp / "paths.txt"
    paths.write_text("".join(f"/go/{r}?s=feed\n" for r in recs))
    worker_cm: Any = (running_job_worker(env, tmp / "worker.log")
                      if args.jobs == "external" and not args.no_worker else nullcontext())
    with worker_cm as worker_proc, running_app(args.port, env, tmp / "server.log") as base:
        wpid = worker_proc.pid if worker_proc is not None else None
        for r in recs:  # warm the target cache
            httpx.get(f"{base}/go/{r}", headers={"user-agent": UA})
        load_before = os.getloadavg()[0]
        pid = server_pid(args.port)
        # Alternating slices: this shared machine's speed drifts by tens of percent within
        # a minute, so one long /ping phase followed by one long /go phase compared two
        # different machines. Each slice is `seconds / rounds` long.
        piece = max(1, round(args.seconds / args.rounds))
        pings: list[dict[str, float]] = []
        gos: list[dict[str, float]] = []
        cpu_ping = cpu_go = 0.0
        worker_ping = worker_go = 0.0
        for _ in range(args.rounds):
            c0, w0 = cpu_seconds(pid), cpu_seconds(wpid)
            pings.append(wrk(base + "/ping", None, args.connections, piece))
            c1, w1 = cpu_seconds(pid), cpu_seconds(wpid)
            gos.append(wrk(base + "/go/0", paths, args.connections, piece))
            c2, w2 = cpu_seconds(pid), cpu_seconds(wpid)
            cpu_ping += c1 - c0
            cpu_go += c2 - c1
            worker_ping += w1 - w0
            worker_go += w2 - w1
        load_after = os.getloadavg()[0]
        # Every click becomes an analytics event through its job: wait until the reports
        # have caught up (the worker's backlog, or the embedded job threads').
        drained = drain_wait(url, timeout=180.0) if not args.no_worker else None
    ping, go = combine(pings), combine(gos)
    total = piece * args.rounds
    # Requests per CPU-second of the server (all its threads, jobs included): steadier
    # than req/s when other work shares the cores.
    ping_eff = ping["rps"] * total / max(cpu_ping, 1e-9)
    go_eff = go["rps"] * total / max(cpu_go, 1e-9)
    c0, c1, c2 = 0.0, cpu_ping, cpu_ping + cpu_go
    from sqlalchemy import func, select

    from shopwindow.db.engine import Database
    from shopwindow.tracking.models import Click

    db = Database(url)
    with db.read_sessions() as s:
        clicks = s.scalar(select(func.count()).select_from(Click))
    db.dispose()
    ratio = go["rps"] / ping["rps"] * 100
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {'PostgreSQL' if args.pg else 'SQLite'}, "
          f"{args.connections} connections, {args.rounds} × ({piece} s /ping, {piece} s /go) "
          f"alternating, wrk, jobs {args.jobs}"
          f"{', Redis' if args.redis else ''}, load average (1 min) {load_before:.2f} before / "
          f"{load_after:.2f} after, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| measure | value | target |\n| --- | --- | --- |")
    print(f"| GET /ping req/s | {ping['rps']:,.0f} | |")
    print(f"| GET /ping p50 / p99 | {ping['p50']:.1f} / {ping['p99']:.1f} ms | |")
    print(f"| GET /go req/s (302 + durable click) | {go['rps']:,.0f} | |")
    print(f"| /go ÷ /ping | {ratio:.0f}% | ≥ 60 % |")
    print(f"| server CPU used (ping, go) | {c1 - c0:.1f} s, {c2 - c1:.1f} s of "
          f"{total} s each | |")
    print(f"| requests per server CPU-second (ping, go) | {ping_eff:,.0f}, {go_eff:,.0f} "
          f"({go_eff / ping_eff * 100:.0f} %) | |")
    print(f"| /go p50 / p99 (median of the slices) | {go['p50']:.1f} / {go['p99']:.1f} ms "
          "| p99 ≤ 20 ms |")
    slice_p99 = ", ".join(f"{g['p99']:.1f}" for g in gos)
    slice_ratio = ", ".join(f"{g['rps'] / q['rps'] * 100:.0f}"
                            for g, q in zip(gos, pings, strict=True))
    print(f"| /go p99 of each slice | {slice_p99} ms | |")
    print(f"| /go ÷ /ping of each slice | {slice_ratio} % | |")
    if args.jobs == "external" and not args.no_worker:
        print(f"| job worker CPU (during ping, go slices) | {worker_ping:.1f} s, "
              f"{worker_go:.1f} s | |")
    if drained is not None:
        print(f"| clicks in analytics after the load | {drained[0]:,} of {drained[1]:,} "
              f"stored, {drained[2]:.1f} s after the last slice | all |")
    print(f"| errors (ping, go) | {ping['errors']:.0f}, {go['errors']:.0f} | 0 |")
    print(f"| clicks stored | {clicks:,} | = /go requests answered |")


if __name__ == "__main__":
    main()
