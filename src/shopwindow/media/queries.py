"""Media reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound
from shopwindow.media.models import MediaAttachment


def media_for_posts(session: Session, post_ids: Iterable[int]) -> dict[int, list[MediaAttachment]]:
    ids = list(set(post_ids))
    out: dict[int, list[MediaAttachment]] = defaultdict(list)
    if not ids:
        return out
    for m in session.scalars(
        select(MediaAttachment).where(MediaAttachment.post_id.in_(ids))
        .order_by(MediaAttachment.post_id, MediaAttachment.position)
    ):
        assert m.post_id is not None
        out[m.post_id].append(m)
    return out


def get_media(session: Session, media_id: int) -> MediaAttachment:
    m = session.get(MediaAttachment, media_id)
    if m is None:
        raise NotFound("Media not found", field="id", rule="exists")
    return m


def has_media(post_id_col: Any) -> Any:
    """SQL condition: the post (given by its id column) has at least one attachment."""
    from sqlalchemy import exists

    return exists().where(MediaAttachment.post_id == post_id_col)
