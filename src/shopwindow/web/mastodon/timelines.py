"""Timelines: home, public, tag (Link-header pagination)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from shopwindow.social import queries as social_q
from shopwindow.social import timelines
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon.common import (
    ReadStatuses,
    StatusPage,
    ViewerStatuses,
    set_link_header,
    viewer_id,
)
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: timelines"])


@router.get("/api/v1/timelines/home")
def home(request: Request, response: Response, session: DbSession, settings: AppSettings,
         me: ReadStatuses, page: StatusPage) -> list[dict[str, Any]]:
    """Statuses from the caller and the accounts they follow, newest first."""
    posts = timelines.home(session, me.id, page)
    set_link_header(request, response, [p.id for p in posts])
    return Serializer(session, settings, me.id).statuses(posts)


@router.get("/api/v1/timelines/public")
def public(request: Request, response: Response, session: DbSession, settings: AppSettings,
           me: ViewerStatuses, page: StatusPage, local: bool = False, remote: bool = False,
           only_media: bool = False) -> list[dict[str, Any]]:
    """Public statuses; every account is local here, so remote=true is empty."""
    if remote and not local:
        return []
    vid = viewer_id(me)
    posts = social_q.public_timeline(session, vid, page, only_media=only_media)
    set_link_header(request, response, [p.id for p in posts])
    return Serializer(session, settings, vid).statuses(posts)


@router.get("/api/v1/timelines/tag/{hashtag}")
def tag(hashtag: str, request: Request, response: Response, session: DbSession,
        settings: AppSettings, me: ViewerStatuses, page: StatusPage, local: bool = False,
        remote: bool = False) -> list[dict[str, Any]]:
    """Public statuses with the hashtag (case-insensitive; Weibo-style #话题# too)."""
    if (remote and not local) or not hashtag.strip() or len(hashtag) > 100:
        return []
    vid = viewer_id(me)
    posts = social_q.tag_timeline(session, hashtag, vid, page)
    set_link_header(request, response, [p.id for p in posts])
    return Serializer(session, settings, vid).statuses(posts)
