"""Durable event handlers: each takes the event (ids inside) and is idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shopwindow.notifications import actions as notifications
from shopwindow.outbox import DomainEvent, subscribe
from shopwindow.social import actions as social
from shopwindow.social import timelines


@subscribe("social.post_created", name="timeline.fanout")
def fanout(session: Session, ev: DomainEvent) -> None:
    timelines.fanout_post(session, ev.payload["post_id"])


@subscribe("social.post_deleted", name="timeline.remove")
def remove(session: Session, ev: DomainEvent) -> None:
    timelines.remove_post(session, ev.payload["post_id"])
    notifications.remove_for_post(session, ev.payload["post_id"])


@subscribe("social.followed", name="timeline.backfill")
def backfill(session: Session, ev: DomainEvent) -> None:
    timelines.backfill(session, ev.payload["follower_id"], ev.payload["followee_id"])


@subscribe("social.unfollowed", name="timeline.purge_author")
def purge(session: Session, ev: DomainEvent) -> None:
    timelines.purge_author(session, ev.payload["follower_id"], ev.payload["followee_id"])


@subscribe("account.deleted", name="social.purge_account")
def purge_account(session: Session, ev: DomainEvent) -> None:
    social.purge_account_content(session, ev.payload["account_id"])


for _etype in ("social.followed", "social.liked", "social.post_created"):

    def _notify(session: Session, ev: DomainEvent) -> None:
        notifications.notify_for_event(session, ev.id, ev.type, ev.payload)

    subscribe(_etype, name=f"notifications.{_etype}")(_notify)
