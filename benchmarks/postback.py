"""Postback ingestion: signed partner order events, every event delivered 3× (replays,
many of them concurrent), against the production app under uvicorn.

Seeds a fresh database (one partner, one creator, one click per order), builds N orders'
events (order.placed, order.paid, and order.refunded for every third order: a partial
refund), signs each with Standard Webhooks, and POSTs every event three times from 32
concurrent connections (copies shuffled within windows of 96 requests, so replays often
race each other). Then checks: one commission booking per paid order, no duplicate
entries, trial balance zero. Prints a table; never asserts on time.

    python benchmarks/postback.py [--orders 2000] [--connections 32] [--pg URL]
        [--jobs thread|external] [--workers N [--redis URL]]
        [--batches 1,16,64  (in-process CPU per event instead)]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "src"))

# Our sibling helper, found after site-packages so `click` stays the real package.
sys.path.append(str(HERE))
from appserver import (  # noqa: E402
    app_server_pids,
    running_app,
    running_job_worker,
    running_workers,
)
from proccpu import cpu_seconds  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqr"


def seed(url: str, orders: int) -> tuple[int, list[str]]:
    from shopwindow.accounts import actions as accounts
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.partners import actions as partners
    from shopwindow.schema import create_all, drop_all
    from shopwindow.tracking import actions

    db = Database(url)
    drop_all(db)
    create_all(db)
    with unit_of_work(db) as s:
        pid = partners.register_partner(s, slug="shop", name="Shop", domains=[
            "shop.example.com"], default_rate_bps=1000, category_rates={"beauty": 1500},
            postback_secret=SECRET).id
        cid = accounts.register_account(s, username="maker", email="m@example.com",
                                        password="correct horse battery", role="creator").id
    tokens: list[str] = []
    with unit_of_work(db) as s:
        rows = [actions.click_row(items=[actions.ClickItem(str(1000 + i % 50), 1, cid, 1)],
                                  partner_id=pid, surface="feed", fan_id=None,
                                  promotion_id=None, user_agent="Mozilla/5.0", ip_hash="",
                                  method="GET") for i in range(orders)]
        actions.record_clicks(s, rows)
        tokens = [r["token"] for r in rows]
    db.dispose()
    return pid, tokens


def events(tokens: list[str]) -> list[tuple[str, dict]]:
    from shopwindow.core.clock import utcnow

    now = utcnow().isoformat()
    out: list[tuple[str, dict]] = []
    for n, tok in enumerate(tokens):
        oid = f"BENCH-{n:07d}"
        lines = [{"line_id": "L1", "product_id": str(1000 + n % 50), "category": "beauty",
                  "quantity": 2, "total_minor": 19800, "refunded_minor": 0},
                 {"line_id": "L2", "product_id": "2000", "category": "home", "quantity": 1,
                  "total_minor": 5050, "refunded_minor": 0}]
        base = {"order_id": oid, "currency": "CNY", "tracking_id": tok, "total_minor": 24850,
                "refunded_total_minor": 0, "placed_at": now, "paid_at": None,
                "cancelled_at": None, "lines": lines}
        out.append((f"evt_{n}_1", {"type": "order.placed", "sequence": 1,
                                   "data": {**base, "status": "placed"}}))
        out.append((f"evt_{n}_2", {"type": "order.paid", "sequence": 2,
                                   "data": {**base, "status": "paid", "paid_at": now}}))
        if n % 3 == 0:
            refunded = [dict(lines[0], refunded_minor=9900), lines[1]]
            out.append((f"evt_{n}_3", {"type": "order.refunded", "sequence": 3, "data": {
                **base, "status": "partially_refunded", "paid_at": now,
                "refunded_total_minor": 9900, "lines": refunded}}))
    return out


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"POST {path} HTTP/1.1\r\nhost: {host}\r\n{head}content-length: "
                 f"{len(body)}\r\n\r\n".encode() + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def sign_all(reqs: list[tuple[str, bytes]]) -> list[tuple[bytes, dict[str, str]]]:
    """Standard Webhooks headers for every request (done before the clock starts)."""
    from shopwindow.core.clock import utcnow
    from shopwindow.tracking.rules import sign

    now = utcnow()
    return [(body, sign(SECRET, msg_id, now, body)) for msg_id, body in reqs]


async def send_all(base: str, signed: list[tuple[bytes, dict[str, str]]],
                   connections: int) -> dict:
    """POST every request over `connections` keep-alive connections. A minimal HTTP/1.1
    client on asyncio streams: httpx's per-request cost would make the load generator,
    which shares the 2 cores with the server, the bottleneck."""
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for r in signed:
        queue.put_nowait(r)
    statuses: dict[str, int] = {}
    lat: list[float] = []
    host, port = base.split("//", 1)[1].split(":")

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                body, headers = queue.get_nowait()
                t0 = time.perf_counter()
                status, answer = await _post(reader, writer, host,
                                             "/partners/shop/postbacks", headers, body)
                lat.append(time.perf_counter() - t0)
                key = f"{status} {json.loads(answer).get('status', '')}" if status == 200 \
                    else str(status)
                statuses[key] = statuses.get(key, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    lat.sort()
    return {"statuses": statuses, "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000}


def in_process(url: str, orders: int, sizes: list[int]) -> None:
    """Ingest the events straight through `ingest_postbacks` (no HTTP, no replays) in
    batches of each size: CPU (this thread) and wall time per event."""
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.tracking import actions

    print(f"in-process ingestion, {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}"
          f", {orders} orders, load average {os.getloadavg()[0]:.2f} (1 min)")
    print("| batch size | CPU per event | wall per event |\n| --- | --- | --- |")
    for size in sizes:
        pid, tokens = seed(url, orders)
        evs = events(tokens)
        db = Database(url)
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        for i in range(0, len(evs), size):
            with unit_of_work(db) as s:
                actions.ingest_postbacks(
                    s, [actions.PostbackIn(pid, m, p) for m, p in evs[i:i + size]],
                    take_rate_bps=2000)
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        db.dispose()
        print(f"| {size} | {cpu * 1000 / len(evs):.2f} ms | {wall * 1000 / len(evs):.2f} ms |")


def ledger_kinds(url: str) -> dict[str, int]:
    """Ledger entries by kind (committed before each postback was answered)."""
    from sqlalchemy import func, select

    from shopwindow.db.engine import Database
    from shopwindow.ledger.models import LedgerEntry

    db = Database(url)
    try:
        with db.read_sessions() as s:
            return {str(k): int(n) for k, n in s.execute(select(
                LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()}
    finally:
        db.dispose()


def analytics_caught_up(url: str, expected: dict[str, int], timeout: float = 180.0
                        ) -> tuple[dict[str, int], float]:
    """The reports' side: every order, commission and refund becomes an analytics event
    (in the server, or the worker). Waits until each kind has reached its `expected`
    count (orders, and what the ledger booked), with the server still running; returns
    the counts and how long that took after the load."""
    from sqlalchemy import func, select

    from shopwindow.analytics.models import Event
    from shopwindow.db.engine import Database

    db = Database(url)
    started = time.monotonic()
    try:
        while True:
            with db.read_sessions() as s:
                logged = {str(k): int(v) for k, v in s.execute(
                    select(Event.type, func.count()).where(Event.type.in_(
                        ["order", "commission_booked", "refund"])).group_by(Event.type)).all()}
            waited = time.monotonic() - started
            if all(logged.get(k, 0) >= n for k, n in expected.items()) or waited > timeout:
                return logged, waited
            time.sleep(0.25)
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--replays", type=int, default=3, help="deliveries of every event")
    ap.add_argument("--pg", default=None)
    ap.add_argument("--port", type=int, default=8773)
    ap.add_argument("--jobs", choices=["thread", "external"], default="thread",
                    help="thread: job workers inside the web process (embedded default); "
                         "external: the web process only enqueues (production shape)")
    ap.add_argument("--no-worker", action="store_true",
                    help="with --jobs external: run no `shopwindow worker` (jobs then wait "
                         "in the queue; not what a deployment does)")
    ap.add_argument("--workers", type=int, default=1,
                    help="uvicorn worker processes (the production shape; > 1 uses Redis)")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                    help="Redis URL for --workers > 1 (shared caches, as `serve` requires)")
    ap.add_argument("--batches", default=None,
                    help="e.g. 1,16,64: measure in-process ingestion per batch size instead")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sw-postback-"))
    url = args.pg or f"sqlite:///{tmp}/pb.db"
    if args.batches:
        in_process(url, args.orders, [int(x) for x in args.batches.split(",")])
        return
    env = {**os.environ, "SHOPWINDOW_DATABASE_URL": url, "SHOPWINDOW_DATA_DIR": str(tmp),
           "SHOPWINDOW_JOBS_MODE": args.jobs, "SHOPWINDOW_LOG_LEVEL": "WARNING"}
    if args.workers > 1:
        env["SHOPWINDOW_REDIS_URL"] = args.redis
    os.environ.update(env)
    _pid, tokens = seed(url, args.orders)
    evs = events(tokens)
    reqs = [(mid, json.dumps(p).encode()) for mid, p in evs for _ in range(args.replays)]
    rnd = random.Random(1)
    window = 96
    for i in range(0, len(reqs), window):
        chunk = reqs[i:i + window]
        rnd.shuffle(chunk)
        reqs[i:i + window] = chunk
    server = (running_app(args.port, env, tmp / "server.log") if args.workers == 1 else
              running_workers(args.port, env, tmp / "server.log", args.workers))
    # --jobs external: the jobs the postbacks raise (order and commission analytics) run in
    # a `shopwindow worker` beside the server, on the same cores, as in a deployment.
    worker_cm: Any = (running_job_worker(env, tmp / "worker.log")
                      if args.jobs == "external" and not args.no_worker else nullcontext())
    with worker_cm as worker_proc, server as base:
        wpid = worker_proc.pid if worker_proc is not None else None
        signed = sign_all(reqs)
        load_before = os.getloadavg()
        pids = app_server_pids(base)
        cpu0, wcpu0 = sum(map(cpu_seconds, pids)), cpu_seconds(wpid)
        t0 = time.perf_counter()
        res = asyncio.run(send_all(base, signed, args.connections))
        elapsed = time.perf_counter() - t0
        cpu = sum(map(cpu_seconds, pids)) - cpu0
        wcpu = cpu_seconds(wpid) - wcpu0
        kinds = ledger_kinds(url)
        logged, waited = analytics_caught_up(url, {
            "order": args.orders, "commission_booked": kinds.get("commission_booked", 0),
            "refund": kinds.get("refund_reversal", 0)})
    from sqlalchemy import func, select

    from shopwindow.db.engine import Database
    from shopwindow.ledger import queries as ledger_q
    from shopwindow.ledger.models import LedgerEntry
    from shopwindow.tracking.models import Order

    db = Database(url)
    with db.read_sessions() as s:
        attributed = s.scalar(select(func.count()).select_from(Order).where(
            Order.attribution == "attributed")) or 0
        dup_keys = s.scalar(select(func.count()).select_from(select(
            LedgerEntry.idempotency_key).group_by(LedgerEntry.idempotency_key).having(
            func.count() > 1).subquery())) or 0
        trial = ledger_q.trial_balance(s)
    db.dispose()
    n = len(reqs)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {'PostgreSQL' if args.pg else 'SQLite'}, "
          f"jobs {args.jobs}, {args.workers} worker(s), {args.connections} connections, "
          f"{args.orders} orders, "
          f"{len(evs)} events × "
          f"{args.replays}, load average before {load_before[0]:.2f} / after "
          f"{os.getloadavg()[0]:.2f} (1 min), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| measure | value | target |\n| --- | --- | --- |")
    print(f"| postbacks sent | {n:,} ({len(evs):,} distinct) | |")
    print(f"| postbacks/s (all deliveries) | {n / elapsed:,.0f} | ≥ 1,000 |")
    print(f"| server CPU (all threads) | {cpu:.1f} s in {elapsed:.1f} s: {cpu * 1000 / n:.2f} "
          f"ms per delivery, {cpu * 1000 / len(evs):.2f} ms per distinct event | |")
    if wpid is not None:
        print(f"| job worker CPU during the load | {wcpu:.1f} s | |")
    print(f"| postbacks/s until the reports had every order | {n / (elapsed + waited):,.0f} "
          f"(analytics {waited:.1f} s behind at the end) | |")
    print(f"| postbacks per server CPU-second | {n / max(cpu, 1e-9):,.0f} | |")
    print(f"| latency p50 / p99 | {res['p50']:.1f} / {res['p99']:.1f} ms | |")
    print(f"| answers | {', '.join(f'{k}: {v:,}' for k, v in sorted(res['statuses'].items()))}"
          " | |")
    print(f"| orders attributed | {attributed:,} of {args.orders:,} | all |")
    print(f"| commission bookings | {kinds.get('commission_booked', 0):,} | = orders |")
    print(f"| refund reversals | {kinds.get('refund_reversal', 0):,} | "
          f"{(args.orders + 2) // 3:,} |")
    print(f"| analytics events (orders, commissions, refunds) | {logged.get('order', 0):,}, "
          f"{logged.get('commission_booked', 0):,}, {logged.get('refund', 0):,} "
          f"({waited:.1f} s after the load) | = orders, bookings, reversals |")
    print(f"| duplicate ledger keys | {dup_keys} | 0 |")
    print(f"| trial balance | {trial} | all zero |")


if __name__ == "__main__":
    main()
