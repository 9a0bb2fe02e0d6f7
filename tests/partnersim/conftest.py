"""Fixtures: the simulator and a postback receiver, each a real uvicorn server in a thread."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopwindow.partnersim import SimConfig, build_app
from shopwindow.partnersim.signing import generate_secret

ADMIN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def verify_manual(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the spec (independent of the library)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    if abs(time.time() - int(headers["webhook-timestamp"])) > 300:
        return False
    return any(hmac.compare_digest(part, f"v1,{expected}")
               for part in headers["webhook-signature"].split(" "))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A platform stand-in: verifies signatures, can be told to fail."""

    secret: str
    fail_next: int = 0
    fail_status: int = 503
    all: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ServerThread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/partners/sim/postbacks"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                status = self.fail_status
            elif not verify_manual(self.secret, headers, body):
                status = 401
            else:
                status = 204
            self.all.append(Received(headers, body, status, time.monotonic()))
        return Response(status_code=status)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.json for r in self.all if r.status == 204]

    def types(self, order_id: str | None = None) -> list[str]:
        return [e["type"] for e in self.accepted
                if order_id is None or e["data"]["order_id"] == order_id]


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def secret() -> str:
    return generate_secret()


@pytest.fixture
def receiver(secret: str) -> Iterator[Receiver]:
    rec = Receiver(secret=secret)
    app = Starlette(routes=[Route("/partners/sim/postbacks", rec.handle, methods=["POST"])])
    rec.server = ServerThread(app).start()
    yield rec
    rec.server.stop()


@dataclass
class Sim:
    server: ServerThread
    config: SimConfig
    client: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, self.url + path,
                                   headers={"authorization": f"Bearer {ADMIN}"}, **kw)

    def first_products(self, n: int, in_stock: bool = True) -> list[dict[str, Any]]:
        items = self.client.get(self.url + "/api/products?per_page=100").json()["items"]
        return [p for p in items if p["availability"] == "InStock" or not in_stock][:n]

    def checkout(self, items: list[tuple[str, int]], tracking_id: str | None = "clk_1",
                 **kw: Any) -> dict[str, Any]:
        r = self.admin("POST", "/_admin/checkout", json={
            "items": [{"product_id": p, "quantity": q} for p, q in items],
            "tracking_id": tracking_id, **kw})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/_admin/deliveries", params=params).json()["items"])


BASE_CONFIG = SimConfig(name="Test Mall", seed=7, products=60, admin_token=ADMIN,
                        retry_base=0.05, retry_cap=0.5, retry_jitter=0.2, max_attempts=6,
                        timeout=2.0)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Sim]]:
    started: list[Sim] = []

    def make(**overrides: Any) -> Sim:
        cfg = replace(BASE_CONFIG, **overrides)
        sim = Sim(ServerThread(build_app(cfg)).start(), cfg, httpx.Client(timeout=10))
        started.append(sim)
        return sim

    yield make
    for s in started:
        s.client.close()
        s.server.stop()


@pytest.fixture
def sim(make_sim: Callable[..., Sim], receiver: Receiver, secret: str) -> Sim:
    return make_sim(postback_url=receiver.url, secret=secret)
