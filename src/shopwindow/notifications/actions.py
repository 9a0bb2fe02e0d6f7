"""Notification writes (run from event handlers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from shopwindow.core.clock import utcnow
from shopwindow.core.errors import NotFound
from shopwindow.core.ids import new_id
from shopwindow.db.upsert import insert_ignore
from shopwindow.notifications import rules
from shopwindow.notifications.models import Notification
from shopwindow.outbox import emit
from shopwindow.social import queries as social


def notify_for_event(session: Session, event_id: int, event_type: str,
                     payload: dict[str, Any]) -> int:
    """Create the notifications an event implies; idempotent per event."""
    n = 0
    for recipient, ntype, from_id, post_id in rules.recipients(event_type, payload):
        if from_id in social.muted_notification_sources(session, recipient):
            continue
        if social.blocked_either_way(session, recipient, from_id):
            continue
        nid = new_id()
        if insert_ignore(session, Notification.__table__, [{
            "id": nid, "account_id": recipient, "type": ntype, "from_account_id": from_id,
            "post_id": post_id, "source_event_id": event_id, "created_at": utcnow(),
        }]):
            n += 1
            emit(session, "notification.created", notification_id=nid, account_id=recipient,
                 type=ntype)
    return n


def notify_price_drop(session: Session, event_id: int,
                      recipients: list[tuple[int, int, int | None]]) -> int:
    """A bookmarked product got cheaper: notify each (fan, recommending creator, post) once
    per event (idempotent under redelivery); blocks either way are respected."""
    n = 0
    for recipient, from_id, post_id in recipients:
        if recipient == from_id or social.blocked_either_way(session, recipient, from_id):
            continue
        nid = new_id()
        if insert_ignore(session, Notification.__table__, [{
            "id": nid, "account_id": recipient, "type": rules.PRICE_DROP,
            "from_account_id": from_id, "post_id": post_id, "source_event_id": event_id,
            "created_at": utcnow(),
        }]):
            n += 1
            emit(session, "notification.created", notification_id=nid, account_id=recipient,
                 type=rules.PRICE_DROP)
    return n


def dismiss(session: Session, account_id: int, notification_id: int) -> None:
    row = session.get(Notification, notification_id)
    if row is None or row.account_id != account_id:
        raise NotFound("Notification not found", field="id", rule="exists")
    session.delete(row)


def clear(session: Session, account_id: int) -> None:
    session.execute(delete(Notification).where(Notification.account_id == account_id))


def mark_read(session: Session, account_id: int, up_to_id: int | None = None) -> None:
    stmt = update(Notification).where(Notification.account_id == account_id,
                                      Notification.read_at.is_(None))
    if up_to_id is not None:
        stmt = stmt.where(Notification.id <= up_to_id)
    session.execute(stmt.values(read_at=utcnow()))


def remove_for_post(session: Session, post_id: int) -> None:
    session.execute(delete(Notification).where(Notification.post_id == post_id))
