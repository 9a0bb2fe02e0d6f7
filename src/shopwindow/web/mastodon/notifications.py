"""Notifications: list (types[], exclude_types[], Link headers), get, dismiss, clear."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from shopwindow.core.errors import NotFound
from shopwindow.notifications import actions as notifications
from shopwindow.notifications import queries as notifications_q
from shopwindow.notifications import rules as notification_rules
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon.common import (
    NotificationPage,
    Params,
    ReadNotifications,
    WriteNotifications,
    as_id,
    parse_path_id,
    query_list,
    set_link_header,
)
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: notifications"])


@router.get("/api/v1/notifications")
def list_notifications(request: Request, response: Response, session: DbSession,
                       settings: AppSettings, me: ReadNotifications,
                       page: NotificationPage) -> list[dict[str, Any]]:
    """The caller's notifications, newest first; filter with types[] / exclude_types[]."""
    types = [t for t in query_list(request, "types") if t in notification_rules.TYPES]
    if query_list(request, "types") and not types:
        return []  # only unknown types asked for: nothing can match
    exclude = [t for t in query_list(request, "exclude_types") if t in notification_rules.TYPES]
    # Only Mastodon's types: clients do not know ours (e.g. price_drop).
    rows = notifications_q.list_notifications(session, me.id, page,
                                              types=types or list(notification_rules.TYPES),
                                              exclude_types=exclude or None)
    # Cursors are the rows' ids even if some are dropped (their status became invisible).
    set_link_header(request, response, [n.id for n in rows])
    return Serializer(session, settings, me.id).notifications(rows)


@router.get("/api/v1/notifications/unread_count")
def unread_count(session: DbSession, me: ReadNotifications) -> dict[str, int]:
    return {"count": notifications_q.unread_count(session, me.id)}


@router.post("/api/v1/notifications/clear")
def clear(session: DbSession, me: WriteNotifications) -> dict[str, Any]:
    """Delete all of the caller's notifications."""
    notifications.clear(session, me.id)
    return {}


@router.post("/api/v1/notifications/dismiss")
def dismiss_legacy(session: DbSession, me: WriteNotifications, p: Params) -> dict[str, Any]:
    """Pre-2.9.2 form of dismiss (id in the body)."""
    notifications.dismiss(session, me.id, as_id(p.get("id"), "id"))
    return {}



@router.get("/api/v1/notifications/{id}")
def get_notification(id: str, session: DbSession, settings: AppSettings,
                     me: ReadNotifications) -> dict[str, Any]:
    """One of the caller's notifications (others' are 404)."""
    row = notifications_q.get_notification(session, me.id, parse_path_id(id))
    out = Serializer(session, settings, me.id).notifications([row])
    if not out:
        raise NotFound("Record not found", field="id", rule="exists")
    return out[0]


@router.post("/api/v1/notifications/{id}/dismiss")
def dismiss(id: str, session: DbSession, me: WriteNotifications) -> dict[str, Any]:
    """Delete one of the caller's notifications."""
    notifications.dismiss(session, me.id, parse_path_id(id))
    return {}
