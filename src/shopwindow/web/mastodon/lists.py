"""The caller's bookmarks and favourites (paged by the bookmark / favourite row id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from shopwindow.social import queries as social_q
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon.common import (
    ReadBookmarks,
    ReadFavourites,
    StatusPage,
    set_link_header,
)
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: bookmarks and favourites"])


def _statuses(session: Any, settings: Any, me_id: int, rows: list[Any]) -> list[dict[str, Any]]:
    # A bookmarked status can become invisible (unfollowed a followers-only author, block).
    posts = [p for _, p in rows if social_q.can_view_post(session, p, me_id)]
    return Serializer(session, settings, me_id).statuses(posts)


@router.get("/api/v1/bookmarks")
def bookmarks(request: Request, response: Response, session: DbSession, settings: AppSettings,
              me: ReadBookmarks, page: StatusPage) -> list[dict[str, Any]]:
    """Statuses the caller bookmarked, newest bookmark first."""
    rows = social_q.bookmarks(session, me.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return _statuses(session, settings, me.id, rows)


@router.get("/api/v1/favourites")
def favourites(request: Request, response: Response, session: DbSession,
               settings: AppSettings, me: ReadFavourites,
               page: StatusPage) -> list[dict[str, Any]]:
    """Statuses the caller favourited, newest favourite first."""
    rows = social_q.favourites(session, me.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return _statuses(session, settings, me.id, rows)
