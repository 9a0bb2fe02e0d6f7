"""Application factory: settings, database, job runner, routers, middleware, errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from shopwindow import __version__
from shopwindow.analytics import beacon
from shopwindow.config import Settings, get_settings
from shopwindow.core import gc_tuning
from shopwindow.db.engine import Database
from shopwindow.jobs import runtime as jobs
from shopwindow.media.storage import FileStorage, configure_storage
from shopwindow.web import errors
from shopwindow.web.deps import RateLimits
from shopwindow.web.middleware import SecurityHeadersMiddleware

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "web" / "static"


FrontDoor = Callable[[Any, Scope, Receive, Send], Awaitable[bool]]


class ShopwindowApp(FastAPI):
    """FastAPI with front doors: the hottest requests are answered before the middleware
    stack (each door returns False for anything it does not answer itself)."""

    front_doors: tuple[FrontDoor, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for door in self.front_doors:
                if await door(self, scope, receive, send):
                    return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the ASGI app for the given settings."""
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    configure_storage(FileStorage(settings.data_dir / "media"))
    jobs.configure(settings, db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.jobs_mode == "thread":
            jobs.start_embedded()
        beacon.start(app)
        gc_tuning.tune_after_startup()
        try:
            yield
        finally:
            beacon.stop(app)
            if settings.jobs_mode == "thread":
                jobs.stop_embedded()

    app = ShopwindowApp(
        title="shopwindow",
        version=__version__,
        description="Interest-driven social commerce platform. Mastodon-compatible client "
        "API under /api/v1 and /api/v2; platform APIs under /api/sw/v1.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.rate_limits = RateLimits(settings.redis_url)
    errors.install(app)
    app.add_middleware(SecurityHeadersMiddleware)

    from shopwindow.accounts import api as accounts_api
    from shopwindow.analytics import api as reports_api
    from shopwindow.analytics import pages as reports_pages
    from shopwindow.interests import api as interests_api
    from shopwindow.interests import labels_api, labels_pages
    from shopwindow.interests import pages as interests_pages
    from shopwindow.partners import api as partners_api
    from shopwindow.partners import pages as partners_pages
    from shopwindow.showcase import api as showcase_api
    from shopwindow.showcase import pages as showcase_pages
    from shopwindow.tracking import api as tracking_api
    from shopwindow.tracking import pages as tracking_pages
    from shopwindow.web import health, media_files
    from shopwindow.web.mastodon import router as mastodon_router
    from shopwindow.web.oauth import router as oauth_router
    from shopwindow.web.pages import router as pages_router

    app.include_router(health.router)
    app.include_router(oauth_router)
    app.include_router(mastodon_router)
    app.include_router(accounts_api.router)
    app.include_router(partners_api.router)
    # Before showcase: /api/sw/v1/recommendations/{id} would swallow /recommendations/products.
    app.include_router(interests_api.router)
    app.include_router(interests_pages.router)
    app.include_router(showcase_api.router)
    app.include_router(tracking_api.router)
    app.include_router(labels_api.router)
    app.include_router(labels_pages.router)
    app.include_router(tracking_pages.router)
    app.include_router(reports_api.router)
    app.include_router(reports_api.stream_router)
    app.include_router(reports_pages.router)
    app.include_router(partners_pages.router)
    # Hot paths as plain Starlette endpoints: the tracked hand-off and partner postbacks.
    tracking_pages.install(app)
    app.front_doors = (tracking_pages.front_door, beacon.front_door)
    beacon.install(app)  # POST /api/sw/v1/events (analytics beacon)
    app.include_router(media_files.router)
    app.include_router(showcase_pages.router)  # before /@{username}/{post_id}
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Hot path: the home timeline served from caches in front of the routers.
    from shopwindow.web import fastfeed

    fastfeed.install(app)
    return app
