"""Media uploads: POST /api/v1/media and /api/v2/media, GET/PUT /api/v1/media/:id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from shopwindow.core.errors import NotFound
from shopwindow.media import actions as media
from shopwindow.media import queries as media_q
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon.common import (
    BodySizeChecked,
    Params,
    WriteMedia,
    as_focus,
    as_str,
    parse_path_id,
    read_upload,
)
from shopwindow.web.mastodon.entities import media_entity

router = APIRouter(tags=["mastodon: media"])


def _upload(request: Request, session: Any, settings: Any, me: Any,
            p: dict[str, Any]) -> dict[str, Any]:
    request.app.state.rate_limits.hit(settings.api_write_rate_limit, "media", str(me.id))
    raw = read_upload(p.get("file"), "file", settings.max_upload_bytes)
    assert raw is not None
    m = media.upload_image(
        session, account_id=me.id, raw=raw,
        description=as_str(p.get("description"), "description"),
        focus=as_focus(p.get("focus")) or (0.0, 0.0),
        max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels)
    return media_entity(m, settings)


@router.post("/api/v1/media", dependencies=[BodySizeChecked])
def upload_v1(request: Request, session: DbSession, settings: AppSettings, me: WriteMedia,
              p: Params) -> dict[str, Any]:
    """Upload an image (multipart `file`, optional `description` and `focus` "x,y")."""
    return _upload(request, session, settings, me, p)


@router.post("/api/v2/media", dependencies=[BodySizeChecked])
def upload_v2(request: Request, session: DbSession, settings: AppSettings, me: WriteMedia,
              p: Params) -> dict[str, Any]:
    """Upload an image; processed synchronously, so the answer is 200 with `url` set."""
    return _upload(request, session, settings, me, p)


def _own(session: Any, raw_id: str, account_id: int) -> Any:
    mid = parse_path_id(raw_id)
    try:
        m = media_q.get_media(session, mid)
    except NotFound:
        m = None
    if m is None or m.account_id != account_id:
        raise NotFound("Record not found", field="id", rule="exists")
    return m


@router.get("/api/v1/media/{id}")
def get_media(id: str, session: DbSession, settings: AppSettings,
              me: WriteMedia) -> dict[str, Any]:
    """One of the caller's own uploads (others' are 404)."""
    return media_entity(_own(session, id, me.id), settings)


@router.put("/api/v1/media/{id}")
def update_media(id: str, session: DbSession, settings: AppSettings, me: WriteMedia,
                 p: Params) -> dict[str, Any]:
    """Change an own upload's description and/or focus."""
    m = _own(session, id, me.id)
    description = as_str(p["description"], "description") if "description" in p else None
    m = media.update_media(session, account_id=me.id, media_id=m.id, description=description,
                           focus=as_focus(p.get("focus")))
    return media_entity(m, settings)
