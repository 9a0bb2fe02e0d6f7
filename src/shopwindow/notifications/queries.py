"""Notification reads."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound
from shopwindow.core.pagination import Page
from shopwindow.notifications.models import Notification


def list_notifications(session: Session, account_id: int, page: Page,
                       types: list[str] | None = None,
                       exclude_types: list[str] | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.account_id == account_id)
    if types:
        stmt = stmt.where(Notification.type.in_(types))
    if exclude_types:
        stmt = stmt.where(Notification.type.not_in(exclude_types))
    if page.max_id is not None:
        stmt = stmt.where(Notification.id < page.max_id)
    if page.since_id is not None:
        stmt = stmt.where(Notification.id > page.since_id)
    if page.min_id is not None:
        rows = list(session.scalars(stmt.where(Notification.id > page.min_id)
                                    .order_by(Notification.id.asc()).limit(page.limit)))
        return sorted(rows, key=lambda n: n.id, reverse=True)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(page.limit)))


def get_notification(session: Session, account_id: int, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.account_id != account_id:
        raise NotFound("Notification not found", field="id", rule="exists")
    return row


def unread_count(session: Session, account_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.account_id == account_id, Notification.read_at.is_(None))) or 0)
