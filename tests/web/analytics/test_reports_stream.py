"""The live report stream (SSE) against the app under uvicorn: authenticated, scoped to
what the viewer may see, an update after ingest (latency is measured by
benchmarks/reports.py, not asserted), heartbeats, clean close."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx
import pytest

from shopwindow.analytics import actions as analytics
from shopwindow.analytics import aggregator, live
from shopwindow.analytics import api as reports_api
from shopwindow.analytics.rules import EventIn
from shopwindow.social import actions as social
from tests.browser.test_social_flow import live_server  # noqa: F401
from tests.helpers import make_account, token_for


def _reader(resp: httpx.Response, out: queue.Queue[tuple[str, Any]]) -> None:
    event = "message"
    try:
        for line in resp.iter_lines():
            if line.startswith(":"):
                out.put(("heartbeat", None))
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.put((event, json.loads(line[6:])))
                event = "message"
    except Exception:  # closed by the test
        pass
    out.put(("closed", None))


def _next(out: queue.Queue[tuple[str, Any]], kinds: set[str], timeout: float) -> tuple[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kinds} event within {timeout}s")
        kind, data = out.get(timeout=left)
        if kind in kinds:
            return kind, data


def test_stream_delivers_updates_only_for_the_viewers_entities(
        live_server: str, db: Any, uow: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(reports_api, "HEARTBEAT_SECONDS", 0.3)
    ada = make_account(uow, "ada", role="creator")
    bea = make_account(uow, "bea", role="creator")
    with uow() as s:
        post = social.create_post(s, ada, text="hello").id
    tok_a, tok_b = token_for(uow, ada, "read"), token_for(uow, bea, "read")
    with httpx.Client(base_url=live_server, timeout=10) as c:
        r = c.get("/reports/stream")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        r = c.get(f"/reports/stream?scope=post:{post}",
                  headers={"Authorization": f"Bearer {tok_b}"})
        assert r.status_code == 404  # another creator's post: as if it did not exist
        r = c.get("/reports/stream?scope=platform", headers={"Authorization": f"Bearer {tok_a}"})
        assert r.status_code == 404
        before = len(live._listeners)
        out: queue.Queue[tuple[str, Any]] = queue.Queue()
        with c.stream("GET", "/reports/stream?scope=account",
                      headers={"Authorization": f"Bearer {tok_a}"}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            threading.Thread(target=_reader, args=(resp, out), daemon=True).start()
            _, data = _next(out, {"ready"}, 5)
            assert data == {"keys": [f"creator:{ada}"]}
            # someone else's event: heartbeats, no update
            analytics.ingest(db, [EventIn(type="click", object_type="account", creator_id=bea)])
            aggregator.drain(db)
            _next(out, {"heartbeat"}, 3)
            _next(out, {"heartbeat"}, 3)
            assert all(k != "update" for k, _ in list(out.queue))
            analytics.ingest(db, [EventIn(type="click", object_type="post", object_id=post,
                                          creator_id=ada, post_id=post)])
            aggregator.drain(db)
            _, data = _next(out, {"update"}, 10)
            assert f"creator:{ada}" in data["keys"] and f"creator:{bea}" not in data["keys"]
            assert len(live._listeners) == before + 1
        # the client went away: the server notices and drops its listener
        deadline = time.monotonic() + 5
        while len(live._listeners) > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(live._listeners) == before
