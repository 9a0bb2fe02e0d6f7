"""Durable event handlers: each takes the event (ids inside) and is idempotent."""

from __future__ import annotations

from datetime import timedelta

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


# ------------------------------------------------------------------ showcase


@subscribe("social.post_deleted", name="showcase.withdraw_for_post")
def withdraw_recommendations(session: Session, ev: DomainEvent) -> None:
    from shopwindow.showcase import actions as showcase

    showcase.withdraw_for_post(session, ev.payload["post_id"])


@subscribe("showcase.price_dropped", name="notifications.price_drop")
def notify_price_drop(session: Session, ev: DomainEvent) -> None:
    """Tell the fans who bookmarked the product (the showcase event names the product)."""
    from shopwindow.showcase import queries as showcase_q

    fans = showcase_q.bookmarkers_of_product(session, int(ev.payload["product_id"]))
    notifications.notify_price_drop(session, ev.id, [(f, c, p) for f, c, p in fans])


def refresh_products(older_than: timedelta = timedelta(hours=1),
                     limit: int = 100) -> dict[str, int]:
    """Periodic: re-read stale products from their partners, one transaction per product.

    The partner requests happen outside any long transaction: a slow shop holds one product's
    row, not the whole batch.
    """
    from shopwindow.db.uow import unit_of_work
    from shopwindow.jobs.runtime import get_db
    from shopwindow.showcase import actions as showcase
    from shopwindow.showcase import queries as showcase_q

    with unit_of_work(get_db(), write=False) as s:
        ids = showcase_q.stale_product_ids(s, older_than, limit)
    out: dict[str, int] = {}
    for pid in ids:
        with unit_of_work(get_db()) as s:
            status = showcase.refresh_product(s, pid)
        out[status] = out.get(status, 0) + 1
    return out


# ------------------------------------------------------------------ ability labels


@subscribe("showcase.recommendation_published", name="labels.relabel_creator")
def relabel_creator(session: Session, ev: DomainEvent) -> None:
    """A creator's labels follow a new recommendation at once (with the current model)."""
    from shopwindow.interests import labels_actions, labels_queries
    from shopwindow.jobs.runtime import rt

    model = labels_queries.load_model(rt.settings.data_dir) if rt.settings else None
    if model is not None:
        labels_actions.label_account(session, ev.payload["creator_id"], model)


def train_labels() -> dict[str, object]:
    """Periodic: retrain the ability-label classifier, then relabel creators."""
    from shopwindow.interests import labels_train
    from shopwindow.jobs.runtime import get_db, rt

    assert rt.settings is not None
    return labels_train.train_and_apply(get_db(), rt.settings.data_dir)


# ------------------------------------------------------------------ recommendations


def train_recs(force: bool = False) -> dict[str, object] | None:
    """Periodic: retrain the recommenders when the last run is older than the interval."""
    from shopwindow.core.clock import utcnow
    from shopwindow.db.uow import unit_of_work
    from shopwindow.interests import queries as interests_q
    from shopwindow.interests import training
    from shopwindow.jobs.runtime import get_db, rt

    assert rt.settings is not None
    every = rt.settings.recs_train_interval_minutes
    if not force:
        if every <= 0:
            return None
        with unit_of_work(get_db(), write=False) as s:
            runs = interests_q.latest_training_runs(s, 1)
        if runs and (utcnow() - runs[0].started_at) < timedelta(minutes=every):
            return None
    with unit_of_work(get_db()) as s:
        return training.run_training(s, rt.settings.data_dir)


# ------------------------------------------------------------------ analytics

def _register_analytics() -> None:
    from shopwindow.analytics import ingest_events

    for etype in ingest_events.HANDLERS:
        subscribe(etype, name=f"analytics.{etype}", batch=ingest_events.record_many,
                  inline=ingest_events.INLINE_HANDLER if etype in ingest_events.INLINE
                  else None)(ingest_events.record)


_register_analytics()


def prune_analytics() -> int:
    """Periodic: delete raw analytics events and minute rollups past their retention
    settings (hour and day rollups stay); how many rows went."""
    from shopwindow.analytics import actions as analytics
    from shopwindow.jobs.runtime import get_db, rt

    assert rt.settings is not None
    events, minutes = analytics.prune(
        get_db(), timedelta(days=rt.settings.analytics_raw_retention_days),
        timedelta(days=rt.settings.analytics_minute_retention_days))
    return events + minutes
