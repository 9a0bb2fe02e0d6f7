"""Media writes."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.core.ids import new_id, new_token
from shopwindow.db.uow import after_commit
from shopwindow.media.models import MediaAttachment
from shopwindow.media.rules import process_image
from shopwindow.media.storage import get_storage


def upload_image(
    session: Session, *, account_id: int, raw: bytes, description: str = "",
    max_bytes: int, max_pixels: int, focus: tuple[float, float] = (0.0, 0.0),
) -> MediaAttachment:
    """Validate and store an image; unattached until a post uses it."""
    if len(description) > 1500:
        raise Invalid("Description is longer than 1500 characters", field="description",
                      rule="max_length:1500")
    img = process_image(raw, max_bytes=max_bytes, max_pixels=max_pixels)
    mid = new_id()
    stem = f"{account_id % 1000:03d}/{mid}-{new_token(6)}"
    key, thumb_key = f"{stem}.{img.ext}", f"{stem}.small.{img.ext}"
    storage = get_storage()
    storage.put(key, img.data)
    storage.put(thumb_key, img.thumb)
    m = MediaAttachment(
        id=mid, account_id=account_id, key=key, thumb_key=thumb_key, mime=img.mime,
        width=img.width, height=img.height, thumb_width=img.thumb_width,
        thumb_height=img.thumb_height, size_bytes=len(img.data), description=description,
        focus_x=focus[0], focus_y=focus[1], created_at=utcnow(),
    )
    session.add(m)
    try:
        session.flush()
    except Exception:
        storage.delete(key)
        storage.delete(thumb_key)
        raise
    return m


def update_description(session: Session, *, account_id: int, media_id: int,
                       description: str) -> MediaAttachment:
    m = session.get(MediaAttachment, media_id)
    if m is None:
        raise NotFound("Media not found", field="id", rule="exists")
    if m.account_id != account_id:
        raise Forbidden("Not your media", field="id", rule="owner")
    if len(description) > 1500:
        raise Invalid("Description is longer than 1500 characters", field="description",
                      rule="max_length:1500")
    m.description = description
    session.flush()
    return m


def attach_to_post(session: Session, *, account_id: int, media_ids: list[int],
                   post_id: int) -> list[MediaAttachment]:
    """Attach the author's own unattached uploads, in the given order."""
    if not media_ids:
        return []
    if len(set(media_ids)) != len(media_ids):
        raise Invalid("The same media id is listed twice", field="media_ids", rule="unique")
    rows = {m.id: m for m in session.scalars(
        select(MediaAttachment).where(MediaAttachment.id.in_(media_ids)))}
    out = []
    for pos, mid in enumerate(media_ids):
        m = rows.get(mid)
        if m is None or m.account_id != account_id:
            # Someone else's media is reported as missing, not as "forbidden" (no IDOR oracle).
            raise Invalid(f"Media {mid} not found", field="media_ids", rule="exists")
        if m.post_id is not None:
            raise Invalid(f"Media {mid} is already attached to a post", field="media_ids",
                          rule="unattached")
        m.post_id = post_id
        m.position = pos
        out.append(m)
    session.flush()
    return out


def delete_for_post(session: Session, post_id: int) -> None:
    """Remove a deleted post's media rows and files (files after commit)."""
    rows = list(session.scalars(select(MediaAttachment).where(MediaAttachment.post_id == post_id)))
    keys = [k for m in rows for k in (m.key, m.thumb_key)]
    for m in rows:
        session.delete(m)
    session.flush()

    def _rm() -> None:
        st = get_storage()
        for k in keys:
            st.delete(k)

    if keys:
        after_commit(session, _rm)


def detach_all(session: Session, post_id: int) -> None:
    session.execute(update(MediaAttachment).where(MediaAttachment.post_id == post_id)
                    .values(post_id=None))


def update_media(session: Session, *, account_id: int, media_id: int,
                 description: str | None = None,
                 focus: tuple[float, float] | None = None) -> MediaAttachment:
    """Change an own upload's description and/or focal point; others' media is NotFound."""
    m = session.get(MediaAttachment, media_id)
    if m is None or m.account_id != account_id:
        # Not "forbidden": whether someone else's media id exists is not revealed.
        raise NotFound("Media not found", field="id", rule="exists")
    if description is not None:
        if len(description) > 1500:
            raise Invalid("Description is longer than 1500 characters", field="description",
                          rule="max_length:1500")
        m.description = description
    if focus is not None:
        x, y = focus
        if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
            raise Invalid("Focus coordinates must be between -1.0 and 1.0", field="focus",
                          rule="range:-1,1")
        m.focus_x, m.focus_y = x, y
    session.flush()
    return m


PROFILE_IMAGE_PREFIX = "profile/"


def store_profile_image(session: Session, *, account_id: int, raw: bytes, kind: str,
                        max_bytes: int, max_pixels: int, replaces: str | None = None) -> str:
    """Validate and store an avatar (400px square-ish) or header image; returns its key.

    The image replaced (`replaces`, a key made here earlier) is deleted after commit.
    """
    if kind not in ("avatar", "header"):
        raise Invalid("Profile image kind must be avatar or header", field="kind", rule="enum")
    try:
        img = process_image(raw, max_bytes=max_bytes, max_pixels=max_pixels)
    except Invalid as exc:
        raise Invalid(exc.detail, field=kind, rule=exc.rule) from exc
    data = img.thumb if kind == "avatar" else img.data
    key = f"{PROFILE_IMAGE_PREFIX}{account_id % 1000:03d}/{account_id}-{kind}-{new_token(6)}" \
          f".{img.ext}"
    storage = get_storage()
    storage.put(key, data)
    if replaces and replaces.startswith(PROFILE_IMAGE_PREFIX) and replaces != key:
        after_commit(session, lambda: storage.delete(replaces))
    return key

