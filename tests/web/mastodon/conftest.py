"""Fixtures for the Mastodon API tests: a live uvicorn server and token-carrying clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shopwindow.config import Settings, get_settings
from shopwindow.db.engine import Database
from tests.helpers import make_account, token_for


@dataclass
class Live:
    url: str
    app: Any
    settings: Settings


@pytest.fixture
def live(settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The app served by uvicorn on a free 127.0.0.1 port, base_url set to that address."""
    import uvicorn

    from shopwindow.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    s = settings.model_copy(update={"base_url": url})
    # Domain code reads get_settings() (e.g. links rendered into status HTML): same URL.
    monkeypatch.setenv("SHOPWINDOW_BASE_URL", url)
    get_settings.cache_clear()
    app = create_app(s, db=db)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           http="h11", loop="asyncio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Live(url, app, s)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


class Api:
    """A TestClient wrapper that sends one account's bearer token."""

    def __init__(self, client: Any, token: str | None, account_id: int | None = None) -> None:
        self.c = client
        self.token = token
        self.id = account_id

    def _h(self, kw: dict[str, Any]) -> dict[str, Any]:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        kw["headers"] = headers
        return kw

    def get(self, path: str, **kw: Any) -> Any:
        return self.c.get(path, **self._h(kw))

    def post(self, path: str, **kw: Any) -> Any:
        return self.c.post(path, **self._h(kw))

    def put(self, path: str, **kw: Any) -> Any:
        return self.c.put(path, **self._h(kw))

    def patch(self, path: str, **kw: Any) -> Any:
        return self.c.patch(path, **self._h(kw))

    def delete(self, path: str, **kw: Any) -> Any:
        return self.c.delete(path, **self._h(kw))


@pytest.fixture
def users(uow: Any, client: Any) -> Any:
    """users("alice", scopes=…) -> Api for a new account with a token."""

    def make(username: str, scopes: str = "read write follow", **kw: Any) -> Api:
        aid = make_account(uow, username, **kw)
        return Api(client, token_for(uow, aid, scopes), aid)

    return make
