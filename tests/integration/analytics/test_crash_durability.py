"""An acknowledged beacon batch survives kill -9 of the server: a real uvicorn process is
killed while two clients are sending; after a restart every acknowledged event is in the
database, and the restarted server's aggregator folds what the dead one left pending."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from shopwindow.analytics import ingest, queries
from shopwindow.analytics.models import Event
from shopwindow.config import Settings
from shopwindow.db.engine import Database
from shopwindow.social import actions as social
from shopwindow.tracking import rules as tracking_rules
from tests.helpers import make_account

ROOT = Path(__file__).resolve().parents[3]
SURFACES = ["home", "showcase", "middle_page", "discover", "hashtag", "profile", "promoted",
            "message", "api", "other"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SHOPWINDOW_JOBS_MODE": "immediate"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "shopwindow.app:create_app",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def _ua(n: int) -> str:
    return f"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36 run/{n}"


def test_acknowledged_events_survive_kill_9(settings: Settings, db: Database, uow: Any,
                                            tmp_path: Path) -> None:
    creator = make_account(uow, "maker", role="creator")
    with uow() as s:
        post = social.create_post(s, creator, text="durable").id
    port = _free_port()
    log = tmp_path / "server.log"
    proc = _start(port, log)
    acked: list[tuple[int, float]] = []
    stop = threading.Event()
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                body = {"events": [{"type": "impression", "object_type": "post",
                                    "object_id": str(post), "surface": sf}
                                   for sf in SURFACES]}
                try:
                    r = c.post("/api/sw/v1/events", json=body,
                               headers={"user-agent": _ua(n)})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 202 and r.json()["accepted"] == len(SURFACES):
                    acked.append((n, time.time()))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) >= 20, log.read_text()[-2000:]

    proc = _start(port, log)  # restart: its aggregator folds what is pending
    try:
        ip = tracking_rules.ip_hash(settings.secret_key, "127.0.0.1")
        with db.read_sessions() as s:
            stored = set(s.scalars(select(Event.dedup_key).where(Event.type == "impression")))
        missing = []
        for n, at in acked:
            viewer = f"v:{ip}:{hashlib.blake2b(_ua(n).encode(), digest_size=6).hexdigest()}"
            # The window is taken when the server received the batch: just before the ack.
            windows = {int(at) // settings.analytics_dedup_window_seconds,
                       int(at - 5) // settings.analytics_dedup_window_seconds}
            for sf in SURFACES:
                keys = {ingest.dedup_key(viewer, "impression", "post", post, sf, w)
                        for w in windows}
                if not keys & stored:
                    missing.append((n, sf))
        assert missing == []
        total = len(stored)
        assert total >= len(acked) * len(SURFACES)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            with db.read_sessions() as s:
                if queries.pending_count(s) == 0:
                    break
            time.sleep(0.1)
        with db.read_sessions() as s:
            assert queries.pending_count(s) == 0
            assert queries.rollup_total(s, "post", post, "impressions") == total
    finally:
        proc.terminate()
        proc.wait(10)

