"""Serve stored media files (immutable keys: long cache lifetime)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shopwindow.core.errors import NotFound
from shopwindow.media.storage import get_storage

router = APIRouter(include_in_schema=False)


@router.get("/media/{key:path}")
def media_file(key: str) -> FileResponse:
    try:
        p = get_storage().path(key)
    except ValueError:
        p = None
    if p is None:
        raise NotFound("File not found")
    return FileResponse(p, headers={"Cache-Control": "public, max-age=31536000, immutable"})
