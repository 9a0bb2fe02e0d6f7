"""Timelines: home, public, tag (Link-header pagination)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from shopwindow.accounts.models import Account
from shopwindow.core.pagination import Page
from shopwindow.social import timelines
from shopwindow.web.deps import AppSettings, DbSession, user
from shopwindow.web.mastodon.common import set_link_header
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: timelines"])
ReadStatuses = Annotated[Account, Depends(user("read:statuses"))]


@router.get("/api/v1/timelines/home")
def home(request: Request, response: Response, session: DbSession, settings: AppSettings,
         me: ReadStatuses, max_id: str | None = None, since_id: str | None = None,
         min_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    page = Page.of(max_id, since_id, min_id, limit)
    posts = timelines.home(session, me.id, page)
    set_link_header(request, response, [p.id for p in posts])
    return Serializer(session, settings, me.id).statuses(posts)
