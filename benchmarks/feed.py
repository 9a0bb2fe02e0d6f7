"""Home-feed benchmark: read throughput/latency next to a trivial endpoint, and how long a
new post takes to reach every follower's home feed.

    .venv/bin/python benchmarks/feed.py --db sqlite
    .venv/bin/python benchmarks/feed.py --db postgresql
    .venv/bin/python benchmarks/feed.py --db sqlite --accounts 20000 --follows 100000 \
        --posts 100000 --seconds 5          # quick check

Seeds (bulk, straight into the tables) ≥ 100k accounts, ≥ 1M follows, ≥ 1M posts and one
account with ≥ 100k followers; starts `uvicorn` on loopback with the production app; warms
each reader once; then loads GET /ping and GET /api/v1/timelines/home (bearer tokens of
many different readers, rotated per request) with the same bounded number of connections
(wrk when installed, else a Python load generator); finally posts as the big account and as
an ordinary account with 5k followers and measures when every sampled follower's home feed
shows the post. Prints a table; never asserts on time. Results also go to
benchmarks/results/feed-<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import feed_seed  # noqa: E402
import loadgen  # noqa: E402

console = Console()
HOME = "/api/v1/timelines/home"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}"


class Server:
    """uvicorn with the production app in a child process."""

    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.port = port
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "feed_server:make_app",
               "--app-dir", str(Path(__file__).resolve().parent), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log",
               "--log-level", "warning"]
        self.log = open(env["SHOPWINDOW_DATA_DIR"] + "/server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ping", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


async def _warm(base: str, tokens: list[str], concurrency: int = 8) -> list[float]:
    """Read every reader's home once; returns latencies in ms."""
    host, port = base.split("//", 1)[1].split(":")
    pool = loadgen.Pool(host, int(port), concurrency)
    sem = asyncio.Semaphore(concurrency)
    lat: list[float] = []

    async def one(tok: str) -> None:
        async with sem:
            t0 = time.perf_counter()
            status, body = await pool.request("GET", HOME,
                                              {"Authorization": f"Bearer {tok}"})
            assert status == 200, body[:300]
            lat.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(t) for t in tokens))
    await pool.close()
    return lat


async def _visibility(base: str, author_token: str, reader_tokens: list[str], text: str,
                      store_check: Any = None) -> dict[str, float]:
    """Post as the author; poll each sampled reader's home until the post shows.

    Every reader reads once before the post (open connections, warm caches), so the
    figure is the time to the first read that shows the post, measured from the moment
    the POST returned. `store_check(post_id)`, when given, runs in a thread meanwhile and
    returns the perf_counter() time when the store holds the post for every follower.
    """
    hdrs = [{"Authorization": f"Bearer {t}"} for t in reader_tokens]
    host, port = base.split("//", 1)[1].split(":")
    pool = loadgen.Pool(host, int(port), 32)
    path = HOME + "?limit=5"

    async def read(h: dict[str, str]) -> bytes:
        status, body = await pool.request("GET", path, h)
        assert status == 200, body[:200]
        return body

    await asyncio.gather(*(read(h) for h in hdrs))
    t0 = time.perf_counter()
    status, body = await pool.request(
        "POST", "/api/v1/statuses", {"Authorization": f"Bearer {author_token}",
                                     "Content-Type": "application/json"},
        json.dumps({"status": text}).encode())
    assert status == 200, body[:300]
    pid = json.loads(body)["id"]
    t_posted = time.perf_counter()
    needle = f'"id":"{pid}"'.encode()
    store_task = (asyncio.create_task(asyncio.to_thread(store_check, int(pid)))
                  if store_check else None)
    seen: dict[int, float] = {}

    async def watch(k: int, h: dict[str, str]) -> None:
        while time.perf_counter() - t_posted < 30:
            if needle in await read(h):
                seen[k] = time.perf_counter() - t_posted
                return
            await asyncio.sleep(0.05)

    await asyncio.gather(*(watch(k, h) for k, h in enumerate(hdrs)))
    store_s = (await store_task) - t_posted if store_task else float("nan")
    await pool.close()
    vals = sorted(seen.values())
    return {"post_id": int(pid), "post_ms": (t_posted - t0) * 1000,
            "sampled": len(reader_tokens), "seen": len(vals),
            "all_seen_ms": vals[-1] * 1000 if len(vals) == len(reader_tokens) else float("nan"),
            "median_seen_ms": statistics.median(vals) * 1000 if vals else float("nan"),
            "store_complete_ms": store_s * 1000}


def _store_complete(url: str, redis_url: str | None, owners: list[int], post_id: int,
                    timeout: float = 30) -> float:
    """perf_counter() when every owner's stored timeline holds the post (fan-out done)."""
    from sqlalchemy import create_engine, text

    from shopwindow.db.engine import driver_url

    t0 = time.perf_counter()
    if redis_url:
        import redis

        r = redis.Redis.from_url(redis_url)
        while time.perf_counter() - t0 < timeout:
            pipe = r.pipeline(transaction=False)
            for o in owners:
                pipe.zcount(f"sw:home:{o}", post_id, post_id)
            if all(int(x) > 0 for x in pipe.execute()):
                return time.perf_counter()
            time.sleep(0.01)
        return float("nan")
    eng = create_engine(driver_url(url))
    try:
        with eng.connect() as c:
            while time.perf_counter() - t0 < timeout:
                n = c.execute(text(
                    "SELECT count(*) FROM social_home_entry WHERE post_id = :p "
                    "AND owner_id IN (" + ",".join(str(o) for o in owners) + ")"),
                    {"p": post_id}).scalar()
                c.rollback()
                if n == len(owners):
                    return time.perf_counter()
                time.sleep(0.01)
    finally:
        eng.dispose()
    return float("nan")


def _followers(url: str, account_id: int) -> list[int]:
    from sqlalchemy import create_engine, text

    from shopwindow.db.engine import driver_url

    eng = create_engine(driver_url(url))
    with eng.connect() as c:
        rows = c.execute(text("SELECT follower_id FROM social_follow WHERE followee_id = :a "
                              "ORDER BY id"), {"a": account_id}).scalars().all()
    eng.dispose()
    return [int(x) for x in rows]


def _markdown(r: dict[str, Any]) -> str:
    """The figures as a Markdown table for docs/performance.md."""
    p, h, sh = r["ping"], r["home"], r["shape"]
    bv = [x["all_seen_ms"] for x in r["big_visibility"]]
    mv = [x["all_seen_ms"] for x in r["mid_visibility"]]
    ms = [x["store_complete_ms"] for x in r["mid_visibility"]]

    def runs(v: list[float]) -> str:
        return " / ".join(f"{x:.0f}" for x in v)

    rows = [
        ("GET /ping req/s", f"{p['rps']:,.0f}", ""),
        ("GET /ping p50 / p99", f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} ms", ""),
        ("GET /api/v1/timelines/home req/s", f"{h['rps']:,.0f}", ""),
        ("home ÷ ping", f"{r['ratio']:.0%}", "≥ 40 %"),
        ("home p50 / p99", f"{h['p50_ms']:.1f} / {h['p99_ms']:.1f} ms", "p99 ≤ 50 ms"),
        ("errors (home, ping)", f"{h['errors']}, {p['errors']}", "0"),
        ("home response", f"{h['bytes_per_response'] / 1024:.1f} KiB (20 statuses)", ""),
        ("cold first page p50 / p99", f"{r['cold_p50_ms']:.0f} / {r['cold_p99_ms']:.0f} ms",
         ""),
        (f"big account ({sh['big_followers']:,} followers): post → in every sampled "
         "follower's home, per run", f"{runs(bv)} ms", "≤ 1,000 ms"),
        (f"ordinary account ({r['mid_followers']:,} followers): post → fan-out stored for "
         "every follower, per run", f"{runs(ms)} ms", ""),
        ("ordinary account: post → in every sampled follower's home, per run",
         f"{runs(mv)} ms", ""),
    ]
    head = (f"{r['db']}{' + Redis' if r['redis'] else ''}, {r['workers']} uvicorn worker(s), "
            f"{h['connections']} connections × {h['seconds']:.0f} s, {r['tool']}")
    lines = [f"**{head}**", "", "| measure | value | target |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    st = r["seed_timings"]
    lines += ["", f"Seed: {sh['accounts']:,} accounts, {sh['follows']:,} follows, "
              f"{sh['posts']:,} posts, {r['home_rows']:,} stored home entries for "
              f"{sh['users']:,} readers, in {st['total']:.0f} s. "
              f"Date: {r['date']}. Command: `{r['command']}`.", "", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--accounts", type=int, default=101_000)
    ap.add_argument("--follows", type=int, default=1_000_000)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--big-followers", type=int, default=100_000)
    ap.add_argument("--mid-followers", type=int, default=5_000)
    ap.add_argument("--readers", type=int, default=2_000, help="accounts whose tokens load")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers (>1 needs --redis)")
    ap.add_argument("--redis", action="store_true", help="timelines + cache bus in Redis")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    ap.add_argument("--pg-url", default=None,
                    help="default: postgresql://postgres@127.0.0.1:5432/sw_bench_feed[_redis]")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/shopwindow-bench-feed"))
    ap.add_argument("--reuse", action="store_true", help="skip seeding if the same shape exists")
    ap.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--visibility-runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=200, help="followers polled per post")
    args = ap.parse_args()
    if args.workers > 1 and not args.redis:
        ap.error("several workers share caches only through Redis: add --redis")
    if args.tool == "wrk" and not loadgen.wrk_available():
        ap.error("wrk is not installed (apt-get install -y wrk), use --tool python")

    work = args.dir / f"{args.db}{'-redis' if args.redis else ''}"
    work.mkdir(parents=True, exist_ok=True)
    pg_url = args.pg_url or ("postgresql://postgres@127.0.0.1:5432/sw_bench_feed"
                             + ("_redis" if args.redis else ""))
    url = (f"sqlite:///{work}/feed.db" if args.db == "sqlite" else pg_url)
    shape = feed_seed.Shape(args.accounts, args.follows, args.posts, args.big_followers,
                            args.mid_followers, args.readers)
    shape.check()
    marker = work / "seeded.json"
    seeded: dict[str, Any]
    redis_url = args.redis_url if args.redis else None
    if args.reuse and marker.exists() and json.loads(marker.read_text())["shape"] == vars(shape):
        seeded = json.loads(marker.read_text())
        console.print(f"[dim]reusing seeded database {url}[/dim]")
    else:
        console.rule(f"seeding {args.db}")
        feed_seed.reset_database(url)
        store = None
        if redis_url:
            from shopwindow.social.timeline_redis import RedisTimelineStore

            store = RedisTimelineStore(redis_url, 800, "sw:")
            store.r.flushdb()
        s = feed_seed.seed(url, shape, redis_store=store)
        seeded = {"shape": vars(shape), "tokens": {str(k): v for k, v in s.tokens.items()},
                  "big": s.big, "mid": s.mid, "users": s.users, "home_rows": s.home_rows,
                  "timings": s.timings}
        marker.write_text(json.dumps(seeded))
    for k, v in seeded["timings"].items():
        console.print(f"  seed {k}: {v:.1f} s")
    tokens: dict[int, str] = {int(k): v for k, v in seeded["tokens"].items()}
    readers = [int(u) for u in seeded["users"]]
    tokens_file = work / "tokens.txt"
    tokens_file.write_text("\n".join(tokens[u] for u in readers) + "\n")

    port = _free_port()
    env = dict(os.environ)
    env.update({
        "SHOPWINDOW_DATABASE_URL": url, "SHOPWINDOW_DATA_DIR": str(work),
        "SHOPWINDOW_JOBS_MODE": "thread", "SHOPWINDOW_ENVIRONMENT": "production",
        "SHOPWINDOW_BASE_URL": f"http://127.0.0.1:{port}",
        "SHOPWINDOW_API_WRITE_RATE_LIMIT": "100000/minute",
        "SHOPWINDOW_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    })
    env.pop("SHOPWINDOW_REDIS_URL", None)
    if redis_url:
        env["SHOPWINDOW_REDIS_URL"] = redis_url
    server = Server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        server.wait()
        console.rule("warm-up: every reader's home once (cold caches)")
        cold = asyncio.run(_warm(base, [tokens[u] for u in readers]))
        cold.sort()
        results["cold_p50_ms"] = cold[len(cold) // 2]
        results["cold_p99_ms"] = cold[int(len(cold) * 0.99)]
        # Each worker process has its own caches and the kernel picks the process per
        # connection: read again until a whole pass is served warm.
        for k in range(8 if args.workers > 1 else 1):
            again = sorted(asyncio.run(_warm(base, [tokens[u] for u in readers])))
            p99 = again[int(len(again) * 0.99)]
            console.print(f"  warm pass {k + 1}: p99 {p99:.1f} ms")
            if p99 < 20:
                break
        # short runs to settle the server before measuring
        loadgen.run(f"{base}/ping", connections=args.connections, seconds=2, tool=args.tool)
        loadgen.run(f"{base}{HOME}", path=HOME, connections=args.connections, seconds=2,
                    tokens_file=tokens_file, tool=args.tool)
        console.rule(f"load: {args.connections} connections, {args.seconds} s each")
        # Home first, straight after its settle run: tokens idle for longer than the token
        # cache's TTL are re-checked against the database on their next use.
        home = loadgen.run(f"{base}{HOME}", path=HOME, connections=args.connections,
                           seconds=args.seconds, tokens_file=tokens_file, tool=args.tool)
        console.print(f"  home  {home.rps:,.0f} req/s")
        ping = loadgen.run(f"{base}/ping", connections=args.connections, seconds=args.seconds,
                           tool=args.tool)
        console.print(f"  /ping {ping.rps:,.0f} req/s")
        results["ping"] = vars(ping)
        results["home"] = vars(home)

        console.rule("visibility: post -> every sampled follower's home")
        rnd = random.Random(1)
        big_runs, mid_runs = [], []
        mid_followers = _followers(url, seeded["mid"])
        mid_reader_set = set(mid_followers) & set(readers)
        # Fan-out writes followers in follow-id order (one transaction on SQL, batches on
        # Redis): the last follower plus a random sample tells when every follower has it.
        probe = list(dict.fromkeys(
            [mid_followers[-1], *rnd.sample(mid_followers, min(50, len(mid_followers)))]))
        for i in range(args.visibility_runs):
            sample = rnd.sample(readers, min(args.sample, len(readers)))
            v = asyncio.run(_visibility(base, tokens[seeded["big"]], [tokens[u] for u in sample],
                                        f"big account post {i} #launch"))
            big_runs.append(v)
            console.print(f"  big  run {i}: {v}")
            sample = rnd.sample(sorted(mid_reader_set), min(args.sample, len(mid_reader_set)))
            v = asyncio.run(_visibility(
                base, tokens[seeded["mid"]], [tokens[u] for u in sample],
                f"ordinary account post {i}",
                lambda pid: _store_complete(url, redis_url, probe, pid)))
            mid_runs.append(v)
            console.print(f"  mid  run {i}: {v}")
            time.sleep(1)
        results["big_visibility"] = big_runs
        results["mid_visibility"] = mid_runs
        results["mid_followers"] = len(mid_followers)
    finally:
        server.stop()

    ratio = results["home"]["rps"] / results["ping"]["rps"]
    results.update({
        "db": args.db, "redis": bool(redis_url), "workers": args.workers,
        "shape": seeded["shape"], "home_rows": seeded["home_rows"],
        "seed_timings": seeded["timings"], "ratio": ratio,
        "machine": _machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/feed.py " + " ".join(sys.argv[1:]),
        "tool": results["home"]["tool"], "python": platform.python_version(),
    })
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    name = f"feed-{args.db}{'-redis' if redis_url else ''}"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
    (out / f"{name}.md").write_text(_markdown(results))

    t = Table(title=f"home feed — {args.db}{' + Redis' if redis_url else ''}, "
              f"{args.workers} worker(s), {args.connections} connections, {results['tool']}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")
    p, h = results["ping"], results["home"]
    t.add_row("GET /ping req/s", f"{p['rps']:,.0f}", "")
    t.add_row("GET /ping p50 / p99 ms", f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f}", "")
    t.add_row("GET home req/s", f"{h['rps']:,.0f}", "")
    t.add_row("home / ping", f"{ratio:.0%}", "≥ 40 %")
    t.add_row("GET home p50 / p99 ms", f"{h['p50_ms']:.1f} / {h['p99_ms']:.1f}", "p99 ≤ 50")
    t.add_row("errors (home, ping)", f"{h['errors']}, {p['errors']}", "0")
    t.add_row("home response size (bytes)", f"{h['bytes_per_response']:,.0f}", "")
    t.add_row("cold home p50 / p99 ms", f"{results['cold_p50_ms']:.0f} / "
              f"{results['cold_p99_ms']:.0f}", "")
    bv = max(r["all_seen_ms"] for r in results["big_visibility"])
    t.add_row(f"big post ({seeded['shape']['big_followers']:,} followers) -> all sampled "
              "homes, worst ms", f"{bv:.0f}", "≤ 1000")
    mv = max(r["all_seen_ms"] for r in results["mid_visibility"])
    ms = max(r["store_complete_ms"] for r in results["mid_visibility"])
    t.add_row(f"ordinary post ({results['mid_followers']:,} followers) -> all sampled homes, "
              "worst ms", f"{mv:.0f}", "")
    t.add_row("ordinary post: fan-out stored for all followers, worst ms", f"{ms:.0f}", "")
    console.print(t)


if __name__ == "__main__":
    main()
