"""Job runner built on huey.

Embedded: SqliteHuey (a file next to the database) consumed by threads inside the web
process. Production: RedisHuey with blocking pops, consumed by `shopwindow worker`
processes. Tests: immediate mode (jobs run synchronously after commit). See
docs/adr/0002-job-runner.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shopwindow.config import Settings
from shopwindow.core import gc_tuning
from shopwindow.core.clock import utcnow
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.outbox import events as outbox
from shopwindow.outbox.events import DomainEvent, OutboxEvent

log = logging.getLogger(__name__)


class _Runtime:
    db: Database | None = None
    huey: Huey | None = None
    settings: Settings | None = None
    run_handler: Any = None
    run_handler_batch: Any = None
    consumer: Consumer | None = None


rt = _Runtime()


def get_db() -> Database:
    assert rt.db is not None, "jobs.runtime.configure() was not called"
    return rt.db


def _build_huey(settings: Settings) -> Huey:
    if settings.jobs_mode == "immediate":
        return MemoryHuey(settings.jobs_queue_name, immediate=True)
    if settings.redis_url:
        return RedisHuey(settings.jobs_queue_name, url=settings.redis_url, blocking=True,
                         read_timeout=1)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.jobs_queue_name, filename=str(settings.data_dir / "jobs.db"))


def configure(settings: Settings, db: Database) -> Huey:
    """Build the huey instance, register tasks, and install the outbox publisher."""
    from shopwindow.jobs import handlers  # registers subscribers; refresh_products below

    rt.db, rt.settings = db, settings
    huey = _build_huey(settings)
    rt.huey = huey

    @huey.task(retries=8, retry_delay=1, name="run_handler")
    def run_handler(handler_name: str, event_id: int) -> None:
        _run_handler(handler_name, event_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep_outbox")
    def sweep() -> None:
        sweep_outbox()

    @huey.periodic_task(crontab(minute="17", hour="*"), name="prune_outbox")
    def prune() -> None:
        prune_outbox()

    @huey.periodic_task(crontab(minute="7"), name="settle_commissions")
    def settle() -> None:
        settle_commissions()

    @huey.periodic_task(crontab(minute="*/10"), name="refresh_products")
    def refresh_products() -> None:
        handlers.refresh_products()

    @huey.periodic_task(crontab(minute="41", hour="*/6"), name="train_labels")
    def train_labels() -> None:
        handlers.train_labels()

    @huey.periodic_task(crontab(minute="*/10"), name="train_recs")
    def train_recs() -> None:
        handlers.train_recs()

    @huey.periodic_task(crontab(minute="23"), name="prune_analytics")
    def prune_analytics() -> None:
        handlers.prune_analytics()

    @huey.task(retries=8, retry_delay=1, name="run_handler_batch")
    def run_handler_batch(handler_name: str, event_ids: list[int]) -> None:
        _run_handler_batch(handler_name, event_ids)

    rt.run_handler = run_handler
    rt.run_handler_batch = run_handler_batch
    outbox.set_publisher(publish)
    return huey


def _run_handler(handler_name: str, event_id: int) -> None:
    fn = outbox.all_handlers().get(handler_name)
    if fn is None:
        log.warning("no handler %s", handler_name)
        return
    with unit_of_work(get_db()) as s:
        row = s.get(OutboxEvent, event_id)
        if row is None:
            return  # pruned: treat as done (jobs take ids; a missing row is done)
        fn(s, DomainEvent(row.id, row.type, dict(row.payload)))


BATCH_JOB_SIZE = 200


def _run_handler_batch(handler_name: str, event_ids: list[int]) -> None:
    """Run one handler over several events in one transaction.

    Why: a hot path (clicks, postbacks) commits events in batches; one job per event made
    the queue, not the work, the bottleneck. If the batch fails, each event runs alone in
    its own transaction and the ones that still fail become single-event jobs with their
    own retries, so one bad event never holds up the others.
    """
    fn = outbox.all_handlers().get(handler_name)
    if fn is None:
        log.warning("no handler %s", handler_name)
        return
    many = outbox.batch_handler(handler_name)
    try:
        with unit_of_work(get_db()) as s:
            rows = s.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                             .order_by(OutboxEvent.id)).all()
            evs = [DomainEvent(r.id, r.type, dict(r.payload)) for r in rows]  # missing: done
            if many is not None:
                many(s, evs)
            else:
                for ev in evs:
                    fn(s, ev)
        return
    except Exception:
        log.exception("batch of %d events failed in %s; retrying one by one",
                      len(event_ids), handler_name)
    for event_id in event_ids:
        try:
            _run_handler(handler_name, event_id)
        except Exception:
            log.exception("event %s failed in %s; queued alone", event_id, handler_name)
            rt.run_handler(handler_name, event_id)


def _run_inline(name: str, events: list[DomainEvent], mark: list[int] | None = None) -> bool:
    """Run an inline handler over events here: its reads in a read-only session, its
    writes in one short transaction — which also marks the outbox events `mark`
    dispatched when given (one write transaction fewer per publish round). False if it
    failed: nothing of it was stored, nothing marked (the caller queues the events as a
    job instead, with the job runner's retries)."""
    inline = outbox.inline_handler(name)
    if inline is None:
        return False
    try:
        with unit_of_work(get_db(), write=False) as rs:
            prepared = inline.prepare(rs, events)
        with unit_of_work(get_db()) as s:
            inline.apply(s, prepared)
            if mark:
                _mark_dispatched(s, mark)
    except Exception:
        log.exception("inline handler %s failed on %d events; queued as a job",
                      name, len(events))
        return False
    return True


def _mark_dispatched(s: Session, ids: list[int]) -> None:
    s.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(dispatched_at=utcnow()))


INLINE_CHUNK = 2000  # work units (Inline.size) per inline transaction


def _inline_chunks(name: str, events: list[DomainEvent]) -> list[list[DomainEvent]]:
    """Events in runs of at most BATCH_JOB_SIZE events and INLINE_CHUNK units of work:
    one transaction must not hold SQLite's write lock long, even after a backlog."""
    inline = outbox.inline_handler(name)
    size = inline.size if inline is not None and inline.size is not None else None
    chunks: list[list[DomainEvent]] = [[]]
    work = 0
    for ev in events:
        n = size(ev) if size is not None else 1
        if chunks[-1] and (len(chunks[-1]) >= BATCH_JOB_SIZE or work + n > INLINE_CHUNK):
            chunks.append([])
            work = 0
        chunks[-1].append(ev)
        work += n
    return [c for c in chunks if c]


def publish(events: list[DomainEvent]) -> None:
    """Run the inline handlers, enqueue one job per (other durable handler, batch of
    events), then mark the events dispatched."""
    if rt.run_handler is None:
        return
    by_handler: dict[str, list[int]] = {}
    inline: dict[str, list[DomainEvent]] = {}
    for ev in events:
        for name in outbox.handlers_for(ev.type):
            if outbox.inline_handler(name) is not None:
                inline.setdefault(name, []).append(ev)
            else:
                by_handler.setdefault(name, []).append(ev.id)
    # Jobs first: the last inline transaction marks every event dispatched, and by then
    # each handler must have run or be queued.
    for name, ids in by_handler.items():
        if len(ids) == 1:
            rt.run_handler(name, ids[0])
            continue
        # Bounded batches: one job's transaction must not hold SQLite's write lock long.
        for i in range(0, len(ids), BATCH_JOB_SIZE):
            rt.run_handler_batch(name, ids[i:i + BATCH_JOB_SIZE])
    runs = [(name, chunk) for name, evs in inline.items()
            for chunk in _inline_chunks(name, evs)]
    all_ids = [e.id for e in events]
    marked = False
    for i, (name, chunk) in enumerate(runs):
        last = i == len(runs) - 1
        if _run_inline(name, chunk, all_ids if last else None):
            marked = last
        else:
            rt.run_handler_batch(name, [e.id for e in chunk])
    if not marked:
        with unit_of_work(get_db()) as s:
            _mark_dispatched(s, all_ids)


def sweep_outbox(older_than: timedelta = timedelta(seconds=30)) -> int:
    """Re-publish events committed but never dispatched (process died in between)."""
    with unit_of_work(get_db(), write=False) as s:
        rows = list(s.scalars(select(OutboxEvent).where(
            OutboxEvent.dispatched_at.is_(None),
            OutboxEvent.created_at < utcnow() - older_than).order_by(OutboxEvent.id).limit(1000)))
        evs = [DomainEvent(r.id, r.type, dict(r.payload)) for r in rows]
    if evs:
        publish(evs)
    return len(evs)


def prune_outbox(keep: timedelta = timedelta(days=7)) -> None:
    with unit_of_work(get_db()) as s:
        s.execute(delete(OutboxEvent).where(OutboxEvent.dispatched_at.is_not(None),
                                            OutboxEvent.created_at < utcnow() - keep))


def settle_commissions() -> int:
    """Hourly: move pending commission whose return window closed to available."""
    from shopwindow.tracking import actions as tracking

    with unit_of_work(get_db()) as s:
        return len(tracking.settle_now(s))


class _EmbeddedConsumer(Consumer):
    def _set_signal_handlers(self) -> None:
        # Inside the web process the server owns the signals.
        return None


def start_embedded(workers: int = 2) -> None:
    """Run the consumer on threads inside this process (demo / embedded mode)."""
    assert rt.huey is not None
    rt.consumer = _EmbeddedConsumer(rt.huey, workers=workers, worker_type="thread",
                                    periodic=True, initial_delay=0.02, backoff=1.2,
                                    max_delay=0.1, check_worker_health=False)
    rt.consumer.start()


def stop_embedded() -> None:
    if rt.consumer is not None:
        rt.consumer.stop(graceful=True)
        rt.consumer = None


def run_worker(workers: int = 2) -> None:
    """`shopwindow worker`: a blocking consumer process."""
    assert rt.huey is not None
    gc_tuning.tune_after_startup()
    Consumer(rt.huey, workers=workers, worker_type="thread", periodic=True,
             initial_delay=0.05, backoff=1.2, max_delay=1.0).run()


def enqueue(fn: Callable[..., Any], *args: Any) -> None:
    """Run a registered task (used by CLI maintenance commands)."""
    fn(*args)
