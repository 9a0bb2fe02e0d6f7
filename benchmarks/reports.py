"""Report read times over seeded rollups, and live latency: event → SSE update → fresh figures.

Seeds a fresh database with rollups shaped like the aggregator's (one creator with hour
rollups for 30 days, minute rollups for 6 hours and day rollups for a year, every metric
split by the six dimensions; N other creators and products with hour rollups for 7 days),
times `reports.build` in-process per scope and range, then starts the app under uvicorn
(its in-process aggregator running) and measures, for a series of single events written
from this process: the time until the creator's SSE stream says `update`, and until the
refreshed JSON report (what the page fetches) shows the new click. Prints tables; never
asserts on time.

    python benchmarks/reports.py [--creators 500] [--events 20] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# benchmarks/click.py would shadow the `click` package httpx imports: our own directory goes
# after site-packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.append(str(HERE))

import httpx  # noqa: E402
from appserver import running_app  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

DIMS = [("all", "")] + [("surface", s) for s in ("home", "showcase", "middle_page", "profile")] \
    + [("follower", "yes"), ("follower", "no"), ("vertical", "beauty")] \
    + [("region", r) for r in ("CN", "US", "SG", "HK", "TW")] \
    + [("device", d) for d in ("mobile", "desktop", "tablet")] + [("lang", "zh-CN"), ("lang", "en")]
COUNTS = ("impressions", "reads", "dwell_ms", "profile_visits", "follows", "likes", "bookmarks",
          "cart_adds", "clicks", "orders")
MONEY = ("gmv", "commission")


def seed(db: Any, creator: int, others: int) -> int:
    """Bulk-insert rollups; returns how many rows."""
    from shopwindow.analytics.models import Rollup
    from shopwindow.core.clock import utcnow

    table = Rollup.__table__
    now = utcnow().replace(second=0, microsecond=0)
    hour0 = now.replace(minute=0)
    day0 = hour0.replace(hour=0)
    rows: list[dict[str, Any]] = []
    total = 0

    def flush(force: bool = False) -> None:
        nonlocal rows, total
        if rows and (force or len(rows) >= 20_000):
            with db.analytics.engine.begin() as c:  # the analytics file on SQLite
                c.execute(insert(table), rows)
            total += len(rows)
            rows = []

    # Day counters are the sum of their hours, as the aggregator keeps them (reports read
    # the whole UTC days of a window from day rows): summed here, written at the end.
    day_sums: dict[tuple[Any, ...], int] = {}

    def add(grain: str, bucket: Any, et: str, eid: int, metrics: tuple[str, ...],
            dims: list[tuple[str, str]], v: int) -> None:
        for m in metrics:
            cur = "CNY" if m in MONEY else ""
            for dim, dv in dims:
                value = v * (100 if cur else 1)
                rows.append({"grain": grain, "bucket": bucket, "entity_type": et,
                             "entity_id": eid, "metric": m, "dim": dim, "dim_value": dv,
                             "currency": cur, "value": value})
                if grain == "h":
                    key = (bucket.replace(hour=0), et, eid, m, dim, dv, cur)
                    day_sums[key] = day_sums.get(key, 0) + value
        flush()

    for h in range(30 * 24):
        add("h", hour0 - timedelta(hours=h), "creator", creator, COUNTS + MONEY, DIMS, 1 + h % 7)
    for m in range(6 * 60):
        add("m", now - timedelta(minutes=m), "creator", creator, COUNTS + MONEY, DIMS, 1)
    for d in range(31, 365):  # older days than the hour rows: day rows only
        add("d", day0 - timedelta(days=d), "creator", creator, COUNTS + MONEY, DIMS, 24)
    for i in range(1, others + 1):
        for h in range(7 * 24):
            b = hour0 - timedelta(hours=h)
            for et in ("creator", "product", "platform"):
                eid = 0 if et == "platform" else creator + i
                if et == "platform" and i > 1:
                    continue
                add("h", b, et, eid, ("clicks", "orders", "gmv"), [("all", "")], 1 + (i * h) % 5)
    for h in range(7 * 24):
        for p in range(1, 6):
            add("h", hour0 - timedelta(hours=h), "partner", p, ("clicks", "orders", "gmv"),
                [("all", "")], p)
    for (bucket, et, eid, m, dim, dv, cur), value in day_sums.items():
        rows.append({"grain": "d", "bucket": bucket, "entity_type": et, "entity_id": eid,
                     "metric": m, "dim": dim, "dim_value": dv, "currency": cur,
                     "value": value})
        flush()
    flush(force=True)
    with db.analytics.engine.begin() as c:  # planner statistics, as a long-running database has
        c.execute(text("ANALYZE analytics_rollup" if db.engine.dialect.name == "postgresql"
                       else "ANALYZE"))
    return total


def timed(fn: Any, repeat: int = 5) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--creators", type=int, default=500)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--pg", default=None, help="postgresql://… server to create a scratch DB on")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sw-bench-reports-"))
    admin = None
    if args.pg:
        name = f"sw_bench_reports_{os.getpid()}"
        from shopwindow.db.engine import driver_url

        admin = create_engine(driver_url(args.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.pg.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp}/bench.db"
    env = {**os.environ, "SHOPWINDOW_DATABASE_URL": url, "SHOPWINDOW_DATA_DIR": str(tmp / "data"),
           "SHOPWINDOW_PASSWORD_TIME_COST": "1", "SHOPWINDOW_PASSWORD_MEMORY_COST": "1024",
           "SHOPWINDOW_JOBS_MODE": "thread", "SHOPWINDOW_REDIS_URL": "",
           "PYTHONPATH": str(HERE.parent / "src")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("SHOPWINDOW_")})
    try:
        run(args, url, env, tmp)
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "sw_bench_reports_{os.getpid()}" '
                               "WITH (FORCE)"))


def run(args: argparse.Namespace, url: str, env: dict[str, str], tmp: Path) -> None:
    from shopwindow.accounts import actions as accounts
    from shopwindow.analytics import actions as analytics
    from shopwindow.analytics import report_rules as rr
    from shopwindow.analytics import reports
    from shopwindow.analytics.rules import EventIn
    from shopwindow.config import get_settings
    from shopwindow.core.clock import utcnow
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.schema import create_all

    get_settings.cache_clear()
    db = Database(url)
    create_all(db)
    with unit_of_work(db) as s:
        creator = accounts.register_account(s, username="bench_creator", email="c@example.com",
                                            password="bench password 1", role="creator")
        ops = accounts.register_account(s, username="bench_ops", email="o@example.com",
                                        password="bench password 1", role="operator")
        cid, oid = int(creator.id), int(ops.id)
        app = accounts.create_app(s, name="bench", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                  scopes="read")
        token = accounts.token_for_account(s, app_id=app.app.id, account=creator,
                                           scopes="read").access_token
    t = time.perf_counter()
    n = seed(db, cid, args.creators)
    seed_s = time.perf_counter() - t
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"# reports benchmark — {platform.node()}, {os.cpu_count()} CPUs, "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
    print(f"# load: {load}")
    print(f"# seeded {n:,} rollup rows in {seed_s:.1f} s ({args.creators} other creators)\n")

    print("| scope | range | grain (source) | buckets | build ms (median of 5) |")
    print("| --- | --- | --- | ---: | ---: |")
    tz = rr.parse_tz("Asia/Shanghai")
    with db.read_sessions() as s:
        from shopwindow.accounts import queries as accounts_q

        me, op = accounts_q.get_account(s, cid), accounts_q.get_account(s, oid)
        cases = [("creator", reports.account_scope(s, me), r) for r in
                 ("1h", "24h", "7d", "30d", "365d")]
        cases += [("platform", reports.platform_scope(op), r) for r in ("24h", "7d")]
        for name, scope, r in cases:
            now = utcnow()
            w = rr.make_window(start=now - rr.RANGES[r], end=None, grain=None, tz=tz, now=now)
            ms = timed(lambda scope=scope, w=w: reports.build(s, scope, w))
            ms_bd = timed(lambda scope=scope, w=w: reports.build(s, scope, w,
                                                                 breakdown_dim="region"))
            print(f"| {name} | {r} | {w.grain} ({w.source}) | {len(rr.buckets(w))} | "
                  f"{ms:.1f} (with breakdown {ms_bd:.1f}) |")

    print("\n| live path (creator's stream, single click events) | p50 ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    port = int(env.get("BENCH_PORT", "0")) or _free_port()
    hdr = {"Authorization": f"Bearer {token}"}
    with running_app(port, env, tmp / "server.log") as base, \
            httpx.Client(base_url=base, timeout=15) as http:
        to_update: list[float] = []
        to_figures: list[float] = []
        with http.stream("GET", "/reports/stream?scope=account", headers=hdr) as stream:
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("event: ready"):
                    break
            # A fixed start: with a sliding "last hour" the seeded clicks of the minute
            # leaving the window would drop out and the count could go down.
            since = utcnow().replace(second=0, microsecond=0).isoformat()
            before = _clicks(http, hdr, since)
            for i in range(args.events):
                t0 = time.perf_counter()
                analytics.ingest(db, [EventIn(type="click", object_type="account",
                                              creator_id=cid, surface="home")])
                # Bounded waits: a lost update fails with the server's log, not a hang
                # (heartbeats every 15 s would keep the stream's read timeout from firing).
                deadline = time.monotonic() + 60
                for line in lines:
                    if line.startswith("event: update"):
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"no SSE update for event {i} in 60 s; server "
                                           f"log:\n{(tmp / 'server.log').read_text()[-3000:]}")
                to_update.append((time.perf_counter() - t0) * 1000)
                while (seen := _clicks(http, hdr, since)) < before + i + 1:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"report shows {seen} clicks, not {before + i + 1}, "
                                           f"60 s after event {i}; server log:\n"
                                           f"{(tmp / 'server.log').read_text()[-3000:]}")
                    time.sleep(0.005)
                to_figures.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.2)
        for label, xs in (("event committed → SSE `update` received", to_update),
                          ("event committed → refreshed JSON shows it", to_figures)):
            xs.sort()
            p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
            print(f"| {label} | {statistics.median(xs):.0f} | {p95:.0f} | {xs[-1]:.0f} |")
        t = timed(lambda: http.get("/api/sw/v1/reports/me", params={"range": "1h", "top": "0"},
                                   headers=hdr), repeat=10)
        print(f"\nGET /api/sw/v1/reports/me?range=1h&top=0 over HTTP: {t:.1f} ms (median of 10)")
    db.dispose()


def _clicks(http: httpx.Client, hdr: dict[str, str], since: str) -> int:
    r = http.get("/api/sw/v1/reports/me", params={"from": since, "top": "0"}, headers=hdr)
    r.raise_for_status()
    return int(r.json()["totals"]["counts"].get("clicks", 0))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
