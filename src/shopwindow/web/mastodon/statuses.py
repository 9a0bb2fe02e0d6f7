"""Statuses: create, get, delete, context, favourite/reblog/bookmark and undo."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from shopwindow.accounts.models import Account
from shopwindow.social import actions as social
from shopwindow.web.deps import AppSettings, DbSession, user
from shopwindow.web.mastodon.common import Params, as_bool, as_id, as_id_list, as_str
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: statuses"])
WriteStatuses = Annotated[Account, Depends(user("write:statuses"))]


@router.post("/api/v1/statuses")
def create_status(session: DbSession, settings: AppSettings, me: WriteStatuses,
                  p: Params) -> dict[str, Any]:
    reply = p.get("in_reply_to_id")
    post = social.create_post(
        session, me.id,
        text=as_str(p.get("status"), "status"),
        visibility=as_str(p.get("visibility"), "visibility") or None,
        media_ids=as_id_list(p.get("media_ids"), "media_ids"),
        in_reply_to_id=as_id(reply, "in_reply_to_id") if reply not in (None, "") else None,
        spoiler_text=as_str(p.get("spoiler_text"), "spoiler_text"),
        sensitive=as_bool(p.get("sensitive"), "sensitive"),
        language=as_str(p.get("language"), "language") or None,
    )
    return Serializer(session, settings, me.id).status(post)
