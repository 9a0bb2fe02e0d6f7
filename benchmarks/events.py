"""Analytics ingestion and report speed (docs/analytics.md, docs/performance.md).

Part 1 — sustained ingestion: a fresh database with 10 creators × 20 posts, the production
app under uvicorn (one process; the in-process aggregator on), N client connections
POSTing batches of page events (80 % impressions, 20 % reads with dwell; every event
distinct, so nothing is de-duplicated away) to /api/sw/v1/events over loopback for S
seconds. A reader polls the day rollup of one known creator; freshness is the time from a
batch's acknowledgement until everything acknowledged by then is visible in that rollup.
16 connections by default: with 8 every request waits for its commit and the clients'
round trips, not the two cores, set the pace (2026-12-07: 46–49k events/s on PostgreSQL
with 8, 51–52k with 16, the same build, CPU per event unchanged).

Part 2 — a 30-day report for an account with 10M events: raw events (10M rows for the
account) and their day and hour rollups are seeded in bulk (the minute rollups, which
reports read for the last 2 days only, are not), then the report of the last 30 days is
built repeatedly with the reports module (`reports.build`, what /reports serves) and,
separately, the plain rollup query behind its series.

Prints tables; never asserts on time. The machine is shared: load averages are printed.

    python benchmarks/events.py [--seconds 15] [--connections 16] [--batch 200]
                                [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                [--report-events 10000000] [--skip-ingest] [--skip-report]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# benchmarks/click.py is named like the `click` package httpx imports: take this directory
# off the front of sys.path, and append it after site-packages for `appserver`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.append(str(HERE))

from appserver import app_server_pids, running_app, running_workers  # noqa: E402

SURFACES = ["home", "showcase", "middle_page", "discover", "hashtag", "profile", "other"]
CONTENT_LENGTH = re.compile(rb"(?i)content-length:\s*(\d+)")
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile Safari/537.36 bench/{}"


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_probe() -> float:
    """Milliseconds for a fixed pure-Python workload shaped like the server's (tuple keys
    into a dict), best of three. This machine's speed drifts by up to 2× within minutes
    (docs/performance.md); the probe before and after a run says which phase it ran in,
    so runs of different minutes can be told apart from a change in the code."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        d: dict[tuple[int, str, int], int] = {}
        for i in range(300_000):
            k = (i % 997, "surface", i % 13)
            d[k] = d.get(k, 0) + i
        best = min(best, time.perf_counter() - t0)
    return best * 1000


# ------------------------------------------------------------------ databases


class Target:
    """A fresh database: a SQLite file in a temp dir, or a new PostgreSQL database."""

    def __init__(self, pg: str | None, tmp: Path, tag: str) -> None:
        self.pg = pg
        self.name = ""
        if pg:
            from sqlalchemy import create_engine, text

            from shopwindow.db.engine import driver_url

            self.name = f"sw_bench_{tag}_{secrets.token_hex(3)}"
            self._admin = create_engine(driver_url(pg), isolation_level="AUTOCOMMIT")
            with self._admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = pg.rsplit("/", 1)[0] + "/" + self.name
        else:
            self.url = f"sqlite:///{tmp}/{tag}.db"
        from shopwindow.db.migrate import upgrade

        upgrade(self.url)

    @property
    def backend(self) -> str:
        return "PostgreSQL" if self.pg else "SQLite"

    def drop(self) -> None:
        if self.pg:
            from sqlalchemy import text

            with self._admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


def seed_posts(url: str) -> dict[int, list[int]]:
    """10 creators with 20 posts each, through the real actions: {creator: [post ids]}."""
    from shopwindow.accounts import actions as accounts
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.social import actions as social

    db = Database(url)
    out: dict[int, list[int]] = {}
    for c in range(10):
        with unit_of_work(db) as s:
            cid = accounts.register_account(s, username=f"maker{c}", email=f"m{c}@e.com",
                                            password="correct horse battery",
                                            role="creator").id
            out[cid] = [social.create_post(s, cid, text=f"post {i}").id for i in range(20)]
    db.dispose()
    return out


# ------------------------------------------------------------------ part 1: ingestion


def ingest(target: Target, seconds: int, connections: int, batch: int,
           tmp: Path, workers: int = 1) -> dict[str, Any]:
    posts = seed_posts(target.url)
    known = next(iter(posts))
    all_posts = [(c, p) for c, ps in posts.items() for p in ps]
    env = {**os.environ, "SHOPWINDOW_DATABASE_URL": target.url,
           "SHOPWINDOW_DATA_DIR": str(tmp / "data"), "SHOPWINDOW_JOBS_MODE": "immediate",
           "SHOPWINDOW_SECRET_KEY": "bench", "SHOPWINDOW_ENVIRONMENT": "production"}
    acks: list[tuple[float, float]] = []
    lock = threading.Lock()
    state: dict[str, float] = {"cum": 0, "events": 0, "requests": 0, "dups": 0, "errors": 0, "n": 0}
    fresh: list[float] = []
    done = threading.Event()

    def reader() -> None:
        from sqlalchemy import create_engine

        from shopwindow.db.engine import analytics_url, driver_url

        # The rollups live in the analytics database (its own file on SQLite).
        eng = create_engine(driver_url(analytics_url(target.url)))
        # A plain DB-API cursor: SQLAlchemy's per-execute overhead made this poll (every
        # 10 ms) the benchmark process's largest CPU cost. What a day report reads
        # (`analytics.queries.rollups`): the day counters plus the hour counters of the
        # hours not yet added to them (from analytics_state.day_from_ms on).
        since = ("strftime('%Y-%m-%d %H:%M:%f', value / 1000.0, 'unixepoch')"
                 if target.url.startswith("sqlite") else "to_timestamp(value / 1000.0)")
        sql = ("SELECT COALESCE(SUM(value), 0) FROM analytics_rollup WHERE entity_type = "
               f"'creator' AND entity_id = {int(known)} AND dim = 'all' AND "
               "metric IN ('impressions', 'reads') AND (grain = 'd' OR grain = 'h' AND "
               f"bucket >= (SELECT {since} FROM analytics_state WHERE name = 'day_from_ms'))")
        ptr = 0
        cpu0 = time.thread_time()
        raw = eng.raw_connection()
        try:
            cur = raw.cursor()
            while True:
                cur.execute(sql)
                value = int(cur.fetchone()[0] or 0)
                raw.commit()
                now = time.time()
                with lock:
                    while ptr < len(acks) and value >= acks[ptr][1]:
                        fresh.append(now - acks[ptr][0])
                        ptr += 1
                    caught_up = ptr == len(acks)
                if done.is_set() and caught_up:
                    break
                if done.is_set() and time.time() > state["deadline"]:
                    break
                time.sleep(0.01)
        finally:
            raw.close()
        state["reader_cpu"] = time.thread_time() - cpu0
        eng.dispose()

    # The load generator must cost far less than the server, or it, not the server, sets
    # the rate on two shared cores: bodies are encoded before the clock starts (every
    # request gets its own user agent, i.e. another anonymous viewer, so no event repeats)
    # and requests go over a raw keep-alive HTTP/1.1 connection (httpx cost ~6 µs of
    # client CPU per event here, a sixth of the whole run's CPU on PostgreSQL).
    bodies: list[tuple[bytes, int]] = []
    rng = random.Random(0)
    for _ in range(64):
        picks = rng.sample(all_posts, min(batch, len(all_posts)))
        events = []
        for i, (_cid, pid) in enumerate(picks):
            read = i % 5 == 0
            events.append({"type": "read" if read else "impression",
                           "object_type": "post", "object_id": str(pid),
                           "surface": SURFACES[i % len(SURFACES)],
                           **({"dwell_ms": 1000 + i} if read else {})})
        bodies.append((json.dumps({"events": events}).encode(),
                       sum(1 for cid, _ in picks if cid == known)))

    async def client(base: str, stop_at: float) -> None:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.time() < stop_at:
                with lock:
                    state["n"] += 1
                    n = state["n"]
                body, mine = bodies[n % len(bodies)]
                writer.write(
                    f"POST /api/sw/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"User-Agent: {UA.format(n)}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                    m = CONTENT_LENGTH.search(head)
                    data = await reader.readexactly(int(m.group(1))) if m else b""
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    state["errors"] += 1
                    return
                t = time.time()
                if head[9:12] != b"202":
                    state["errors"] += 1
                    continue
                answer = json.loads(data)
                with lock:
                    state["events"] += answer["accepted"]
                    state["dups"] += answer["duplicates"]
                    state["requests"] += 1
                    state["cum"] += mine
                    acks.append((t, state["cum"]))
        finally:
            writer.close()

    app: Any = running_app(_free_port(), env, tmp / "server.log") if workers == 1 else \
        running_workers(_free_port(), env, tmp / "server.log", workers)
    with app as base:
        load_before = _load()
        server_pids = app_server_pids(base)
        cpu0 = sum(map(_cpu_seconds, server_pids))
        db_cpu0 = _postgres_cpu()
        th = threading.Thread(target=reader, daemon=True)
        state["deadline"] = float("inf")
        th.start()
        t0 = time.time()
        client_cpu0 = sum(os.times()[:2])

        async def run() -> None:
            await asyncio.gather(*(client(base, t0 + seconds) for _ in range(connections)))

        asyncio.run(run())
        elapsed = time.time() - t0
        client_cpu = sum(os.times()[:2]) - client_cpu0
        state["deadline"] = time.time() + 15
        done.set()
        th.join(20)
        # Includes folding what was still pending.
        cpu = sum(map(_cpu_seconds, server_pids)) - cpu0
        db_cpu1 = _postgres_cpu()
        # Backends that ended during the run are missed; new ones count from zero.
        db_cpu = sum(v - db_cpu0.get(k, 0.0) for k, v in db_cpu1.items())
        load_after = _load()
    return {"backend": target.backend, "connections": connections, "batch": batch,
            "workers": workers,
            "seconds": elapsed, "events": state["events"], "requests": state["requests"],
            "dups": state["dups"], "errors": state["errors"],
            "eps": state["events"] / elapsed, "rps": state["requests"] / elapsed,
            "p50": _pct(fresh, 50) * 1000, "p99": _pct(fresh, 99) * 1000,
            "max": max(fresh) * 1000 if fresh else float("nan"),
            "unseen": len(acks) - len(fresh), "load": f"{load_before} → {load_after}",
            "cpu_us": cpu / max(1, state["events"]) * 1e6,
            "client_cpu_us": client_cpu / max(1, state["events"]) * 1e6,
            "reader_cpu_s": state.get("reader_cpu", 0.0),
            "db_cpu_us": db_cpu / max(1, state["events"]) * 1e6 if target.pg else None}


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every local `postgres` process (the database server's share, when
    it runs on this machine)."""
    out: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if Path(f"/proc/{d}/comm").read_text().strip() == "postgres":
                    out[int(d)] = _cpu_seconds(int(d))
            except OSError:
                continue
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ part 2: report


BUILD_ZONES = ("UTC", "Asia/Shanghai")
TYPES = [("impression", 70, False), ("read", 20, False), ("click", 8, False),
         ("order", 2, True)]
METRIC = {"impression": ["impressions"], "read": ["reads", "dwell_ms"], "click": ["clicks"],
          "order": ["orders", "gmv"]}
DIMV = {"surface": SURFACES, "follower": ["yes", "no"], "vertical": ["beauty"],
        "region": ["CN", "US", ""], "device": ["mobile", "desktop", "tablet"],
        "lang": ["zh-CN", "en"]}


def seed_report(target: Target, n_events: int) -> tuple[int, int, int]:
    """Raw events and day+hour rollups for one creator: (creator id, raw rows, rollup rows)."""
    from shopwindow.accounts import actions as accounts
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.social import actions as social

    db = Database(target.url)
    with unit_of_work(db) as s:
        cid = accounts.register_account(s, username="bigmaker", email="big@e.com",
                                        password="correct horse battery", role="creator").id
        posts = [social.create_post(s, cid, text=f"p{i}").id for i in range(30)]
    db.dispose()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = 30 * 24
    per_hour_post = max(1, n_events // (hours * len(posts)))
    rng = random.Random(7)
    rollup: dict[tuple[Any, ...], int] = {}
    raw_rows = 0

    def bump(key: tuple[Any, ...], v: int) -> None:
        rollup[key] = rollup.get(key, 0) + v

    def rows() -> Any:
        nonlocal raw_rows
        for h in range(hours):
            hour = now - timedelta(hours=hours - h)
            day = hour.replace(hour=0)
            for pi, pid in enumerate(posts):
                rec = 10_000_000 + pi
                for etype, share, money in TYPES:
                    k = per_hour_post * share // 100
                    if k == 0:
                        continue
                    for metric in METRIC[etype]:
                        if metric == "dwell_ms":
                            v = k * 1500
                        elif metric == "gmv":
                            v = k * 9900
                        else:
                            v = k
                        cur = "CNY" if metric == "gmv" else ""
                        for ent, eid in (("post", pid), ("creator", cid), ("platform", 0),
                                         ("recommendation", rec)):
                            for grain, b in (("h", hour), ("d", day)):
                                bump((ent, eid, grain, b, metric, "all", "", cur), v)
                                for dim, vals in DIMV.items():
                                    for j, dv in enumerate(vals):
                                        # event i of this kind has value vals[i % len]
                                        share_j = k // len(vals) + (1 if j < k % len(vals)
                                                                    else 0)
                                        if share_j:
                                            bump((ent, eid, grain, b, metric, dim, dv, cur),
                                                 v * share_j // k)
                    for i in range(k):
                        raw_rows += 1
                        yield (_rid(hour, raw_rows), hour + timedelta(seconds=i % 3600),
                               hour + timedelta(seconds=i % 3600), etype,
                               rng.randrange(1, 10**9), "post", pid, cid, pid,
                               rec if etype in ("click", "order") else None,
                               None, None, None, SURFACES[i % 7], i % 2 == 0, "beauty",
                               ["CN", "US", ""][i % 3], ["mobile", "desktop", "tablet"][i % 3],
                               ["zh-CN", "en"][i % 2],
                               1500 if etype == "read" else (9900 if money else 0),
                               "CNY" if money else "", None)

    cols = ("id", "occurred_at", "received_at", "type", "actor_id", "object_type", "object_id",
            "creator_id", "post_id", "recommendation_id", "product_id", "partner_id",
            "promotion_id", "surface", "is_follower", "vertical", "region", "device", "lang",
            "value", "currency", "dedup_key")
    t0 = time.time()
    if target.pg:
        import psycopg

        with psycopg.connect(target.url) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY analytics_event ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows():
                    cp.write_row(r)
            with cur.copy("COPY analytics_rollup (entity_type, entity_id, grain, bucket, "
                          "metric, dim, dim_value, currency, value) FROM STDIN") as cp:
                for k, v in rollup.items():
                    cp.write_row((*k, v))
            cur.execute("ANALYZE")
    else:
        import sqlite3

        from shopwindow.db.engine import analytics_path

        path = analytics_path(target.url)  # the analytics tables' own SQLite file
        assert path is not None
        lite: Any = sqlite3.connect(path)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("PRAGMA synchronous=OFF")
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        it = rows()
        while True:
            chunk = []
            for r in it:
                chunk.append((*r[:1], r[1].strftime(fmt), r[2].strftime(fmt), *r[3:]))
                if len(chunk) >= 50_000:
                    break
            if not chunk:
                break
            lite.executemany(f"INSERT INTO analytics_event ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' * len(cols))})", chunk)
            lite.commit()
        lite.executemany("INSERT INTO analytics_rollup (entity_type, entity_id, grain, bucket, "
                         "metric, dim, dim_value, currency, value) VALUES (?,?,?,?,?,?,?,?,?)",
                         [(*k[:3], k[3].strftime(fmt), *k[4:], v)
                          for k, v in rollup.items()])
        lite.commit()
        lite.execute("ANALYZE")
        lite.close()
    print(f"  seeded {raw_rows:,} raw events and {len(rollup):,} rollup rows in "
          f"{time.time() - t0:.0f} s ({target.backend})", flush=True)
    return cid, raw_rows, len(rollup)


def _rid(hour: datetime, n: int) -> int:
    """Time-sortable, unique: the hour's smallest id plus a running number (< 10⁸ ≪ 2⁴⁰)."""
    from shopwindow.core.ids import id_floor_for_ms

    return id_floor_for_ms(int(hour.timestamp() * 1000)) + n


def report(target: Target, n_events: int, runs: int, build_runs: int) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from sqlalchemy import text

    from shopwindow.db.engine import Database

    cid, raw, keys = seed_report(target, n_events)
    db = Database(target.url)
    out: dict[str, Any] = {"backend": target.backend, "raw": raw, "rollups": keys}
    now = datetime.now(UTC)
    series_sql = text(
        "SELECT bucket, metric, currency, SUM(value) FROM analytics_rollup WHERE "
        "entity_type = 'creator' AND entity_id = :c AND grain = 'd' AND bucket >= :a AND "
        "bucket < :b AND dim = 'all' GROUP BY bucket, metric, currency")
    start = (now - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
    bind_start: Any = start if target.pg else start.strftime("%Y-%m-%d %H:%M:%S.%f")
    bind_end: Any = now if target.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    times = []
    with db.read_sessions() as s:
        for _ in range(runs):
            t = time.perf_counter()
            s.execute(series_sql, {"c": cid, "a": bind_start, "b": bind_end}).all()
            times.append((time.perf_counter() - t) * 1000)
    out["series_p50"], out["series_p99"] = _pct(times, 50), _pct(times, 99)
    try:
        from shopwindow.analytics import report_rules as rr
        from shopwindow.analytics import reports

        scope = reports.Scope("account", "creator", (cid,), "@bigmaker", cid, cid)
        # The whole report (series, totals, top posts and recommendations) as the API
        # builds it for "the last 30 days" by day: for a UTC viewer, whose days are the
        # day rollups' days, and a UTC+8 one, whose days are read from hour rollups. The
        # collector is set up as in a web process after start-up (otherwise a full
        # collection over this process's objects is a ~40 ms pause every few dozen builds),
        # and one untimed build per zone warms the statement caches, as earlier requests
        # have in a running server.
        from shopwindow.core import gc_tuning

        gc_tuning.tune_after_startup()
        # The seeded creator has no showcase, so build() finds no recommendations to
        # rank; the top-recommendations query over the seeded ones is timed with it.
        recs = [10_000_000 + i for i in range(30)]
        for zone in BUILD_ZONES:
            w = rr.make_window(start=now - timedelta(days=30), end=now, grain="day",
                               tz=ZoneInfo(zone), now=now)
            times = []
            def whole(s: Any, w: Any = w) -> None:
                reports.build(s, scope, w)
                reports.top_entities(s, "recommendation", recs, w, "clicks",
                                     reports.TOP_METRICS)

            with db.read_sessions() as s:
                whole(s)
                for _ in range(build_runs):
                    t = time.perf_counter()
                    whole(s)
                    times.append((time.perf_counter() - t) * 1000)
            out[f"build_p50_{zone}"], out[f"build_p99_{zone}"] = (_pct(times, 50),
                                                                  _pct(times, 99))
    except Exception as exc:  # the reports module is another stream's work in progress
        out["build_error"] = f"{type(exc).__name__}: {exc}"
    db.dispose()
    return out


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1,
                    help="uvicorn worker processes (PostgreSQL; SQLite has one writer)")
    ap.add_argument("--pg", default=None, help="PostgreSQL server URL (a database is created)")
    ap.add_argument("--report-events", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=100, help="timed series queries")
    ap.add_argument("--build-runs", type=int, default=100,
                    help="timed reports.build calls per viewer zone")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-report", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("SHOPWINDOW_PASSWORD_TIME_COST", "1")
    os.environ.setdefault("SHOPWINDOW_PASSWORD_MEMORY_COST", "1024")
    print(f"load average before: {_load()}  (2 cores shared with other work: noisy)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_ingest:
            probe_before = cpu_probe()  # before CREATE DATABASE, whose checkpoint competes
            t = Target(args.pg, tmp, "ingest")
            try:
                r = ingest(t, args.seconds, args.connections, args.batch, tmp, args.workers)
                probe_after = cpu_probe()  # before DROP DATABASE (another checkpoint)
            finally:
                t.drop()
            print("\n| backend | workers | connections × batch | events/s | requests/s "
                  "| server CPU per event | freshness p50 | p99 | max | not visible | errors "
                  "| load avg (1/5/15) |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            print(f"| {r['backend']} | {r['workers']} | {r['connections']} × {r['batch']} "
                  f"| {r['eps']:,.0f} | {r['rps']:,.0f} | {r['cpu_us']:.0f} µs "
                  f"| {r['p50']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms "
                  f"| {r['unseen']} | {r['errors']} | {r['load']} |")
            print(f"({r['events']:,} events accepted in {r['seconds']:.1f} s, "
                  f"{r['dups']} duplicates; the clients used {r['client_cpu_us']:.0f} µs "
                  f"of CPU per event, the reader {r['reader_cpu_s']:.2f} s in all)", flush=True)
            if r["db_cpu_us"] is not None:
                print(f"(local PostgreSQL processes: {r['db_cpu_us']:.0f} µs of CPU per "
                      "event)", flush=True)
            print(f"(CPU probe: {probe_before:.0f} ms before, {probe_after:.0f} ms after the "
                  "run; a fixed pure-Python workload, so twice the time means a machine at "
                  "half speed)", flush=True)
        if not args.skip_report:
            t = Target(args.pg, tmp, "report")
            try:
                r = report(t, args.report_events, args.runs, args.build_runs)
            finally:
                t.drop()
            zones = " | ".join(f"reports.build {z} p50 | p99" for z in BUILD_ZONES)
            print(f"\n| backend | raw events | rollup rows | 30-day series query p50 | p99 "
                  f"({args.runs} runs) | {zones} ({args.build_runs} runs each) |")
            print("| --- " * (5 + 2 * len(BUILD_ZONES)) + "|")
            builds = " | ".join(
                f"{r[f'build_p50_{z}']:.1f} ms | {r[f'build_p99_{z}']:.1f} ms"
                if f"build_p50_{z}" in r else f"{r.get('build_error', '')} | "
                for z in BUILD_ZONES)
            print(f"| {r['backend']} | {r['raw']:,} | {r['rollups']:,} | "
                  f"{r['series_p50']:.1f} ms | {r['series_p99']:.1f} ms | {builds} |")
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
