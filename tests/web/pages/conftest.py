"""Page-test fixtures: extra browser-like clients on the same app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def new_client(app: Any) -> Iterator[Callable[[], TestClient]]:
    """Make independent clients (own cookie jars) against the same app."""
    made: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(app)
        c.__enter__()
        made.append(c)
        return c

    yield make
    for c in made:
        c.__exit__(None, None, None)
