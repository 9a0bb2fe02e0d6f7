"""ASGI factory for benchmarks/feed.py: the production app with the fast home route.

`fastfeed.install` is idempotent, so this keeps working once `create_app` mounts it.
"""

from __future__ import annotations

from typing import Any

from shopwindow.app import create_app
from shopwindow.web import fastfeed


def make_app() -> Any:
    app = create_app()
    fastfeed.install(app)
    return app
