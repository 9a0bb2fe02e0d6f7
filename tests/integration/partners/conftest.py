"""Fixtures: the partner-shop simulator and a misbehaving shop, as real servers in threads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from shopwindow.partnersim import SimConfig, build_app
from tests.partnersim.conftest import ServerThread

SIM_CONFIG = SimConfig(name="Test Mall", seed=7, products=30, admin_token="adm")


@dataclass
class Sim:
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def products(self) -> list[dict[str, Any]]:
        return list(httpx.get(self.url + "/api/products?per_page=100").json()["items"])


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    server = ServerThread(build_app(SIM_CONFIG)).start()
    yield Sim(server)
    server.stop()


def product_page(title: str, price: str, extra_head: str = "") -> str:
    ld = {"@context": "https://schema.org", "@type": "Product", "name": title,
          "image": "/img/1.png", "sku": "SKU-1", "gtin13": "6914039610571",
          "offers": {"@type": "Offer", "price": price, "priceCurrency": "CNY",
                     "availability": "https://schema.org/InStock"}}
    return (f"<html><head><script type='application/ld+json'>{json.dumps(ld)}</script>"
            f"{extra_head}</head><body>{title}</body></html>")


@dataclass
class Shop:
    """A partner shop that redirects, stalls, floods and errs on purpose."""

    foreign: str = "http://evil.example"
    server: ServerThread | None = None
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    async def handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.hits.append(name)
        redirects = {
            "local": "/p/real",
            "absolute": f"{self.url}/p/real",
            "chain1": "/p/chain2", "chain2": "/p/chain3", "chain3": "/p/real",
            "chain-too-long": "/p/chain1",
            "loop": "/p/loop",
            "away": self.foreign + "/p/1",
            "evil": "http://evil.example/p/1",
            "scheme-relative": "//evil.example/p/1",
            "backslash": "/\\evil.example/p/1",
            "userinfo": f"http://127.0.0.1:{self.port}@evil.example/p/1",
            "file": "file:///etc/passwd",
        }
        if name in redirects:
            return Response(status_code=302, headers={"location": redirects[name]})
        if name == "no-location":
            return Response(status_code=302)
        if name == "real":
            return HTMLResponse(product_page("Real thing", "99.50"))
        if name == "og":
            return HTMLResponse(
                "<html><head><meta property='og:title' content='OG thing'>"
                "<meta property='og:image' content='https://cdn.example/og.png'>"
                "<meta property='product:price:amount' content='12.30'>"
                "<meta property='product:price:currency' content='CNY'>"
                "<meta property='product:availability' content='out of stock'>"
                "</head></html>")
        if name == "nothing":
            return HTMLResponse("<html><head><title>hi</title></head></html>")
        if name == "big":
            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(40):
                    yield b"x" * 100_000
            return StreamingResponse(chunks(), media_type="text/html")
        if name == "big-declared":
            return HTMLResponse("x" * 3_000_000)
        if name == "slow":
            await asyncio.sleep(3)
            return HTMLResponse(product_page("Slow", "1.00"))
        if name == "trickle":
            async def trickle() -> AsyncIterator[bytes]:
                for _ in range(30):
                    await asyncio.sleep(0.1)
                    yield b" "
            return StreamingResponse(trickle(), media_type="text/html")
        if name == "gone":
            return HTMLResponse("gone", status_code=404)
        if name == "broken":
            return HTMLResponse("oops", status_code=500)
        return HTMLResponse("?", status_code=400)


@pytest.fixture(scope="module")
def shop(sim: Sim) -> Iterator[Shop]:
    s = Shop(foreign=sim.url)
    s.server = ServerThread(Starlette(routes=[Route("/p/{name}", s.handle)])).start()
    yield s
    s.server.stop()
