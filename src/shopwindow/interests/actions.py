"""Interests writes: verticals (operator), picked interests, dismissals, preferences, runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Conflict, Forbidden, Invalid, NotFound
from shopwindow.core.ids import new_id
from shopwindow.db.upsert import insert_ignore
from shopwindow.interests import queries, rules
from shopwindow.interests.models import (
    Dismissal,
    ExplicitInterest,
    Preference,
    TrainingRun,
    Vertical,
)
from shopwindow.outbox import emit

MAX_PICKS = 20


def require_operator(session: Session, account_id: int) -> None:
    """Only operators edit the taxonomy (Forbidden, field `role`)."""
    acct = accounts_q.get_account(session, account_id)
    if acct.role != "operator":
        raise Forbidden("Only operators edit verticals", field="role", rule="role:operator")


# ------------------------------------------------------------------ verticals


def _check_position(position: int) -> int:
    if not -1_000_000 <= position <= 1_000_000:
        raise Invalid("Position must be between -1000000 and 1000000", field="position",
                      rule="range")
    return position


def ensure_default_verticals(session: Session) -> int:
    """Insert the default verticals that are missing (by slug); returns how many were added.

    Idempotent: existing rows (renamed, reordered or deactivated by the operator) are left
    as they are, and concurrent callers are absorbed by the unique slug.
    """
    now = utcnow()
    existing = set(session.scalars(select(Vertical.slug)))
    rows = [dict(id=new_id(), slug=slug, name_en=en, name_zh=zh, position=(i + 1) * 10,
                 active=True, created_at=now, updated_at=now)
            for i, (slug, en, zh) in enumerate(rules.DEFAULT_VERTICALS) if slug not in existing]
    return insert_ignore(session, Vertical.__table__, rows)


def create_vertical(session: Session, actor_id: int, *, slug: str, name_en: str, name_zh: str,
                    position: int | None = None) -> Vertical:
    """Add a vertical (operator only); the slug must be new."""
    require_operator(session, actor_id)
    slug = rules.check_slug(slug)
    en, zh = rules.check_name(name_en, "name_en"), rules.check_name(name_zh, "name_zh")
    if queries.find_vertical_by_slug(session, slug) is not None:
        raise Conflict("A vertical with this slug exists", field="slug", rule="unique")
    if position is None:
        position = (session.scalar(select(func.max(Vertical.position))) or 0) + 10
    _check_position(position)
    now = utcnow()
    v = Vertical(id=new_id(), slug=slug, name_en=en, name_zh=zh, position=position,
                 active=True, created_at=now, updated_at=now)
    session.add(v)
    session.flush()
    emit(session, "interests.vertical_changed", vertical_id=v.id, actor_id=actor_id)
    return v


def update_vertical(session: Session, actor_id: int, vertical_id: int, *,
                    name_en: str | None = None, name_zh: str | None = None,
                    position: int | None = None, active: bool | None = None) -> Vertical:
    """Rename, reorder, deactivate or reactivate a vertical (operator only; slug is fixed)."""
    require_operator(session, actor_id)
    v = queries.get_vertical(session, vertical_id)
    if name_en is not None:
        v.name_en = rules.check_name(name_en, "name_en")
    if name_zh is not None:
        v.name_zh = rules.check_name(name_zh, "name_zh")
    if position is not None:
        v.position = _check_position(position)
    if active is not None:
        v.active = active
    v.updated_at = utcnow()
    session.flush()
    emit(session, "interests.vertical_changed", vertical_id=v.id, actor_id=actor_id)
    return v


def move_vertical(session: Session, actor_id: int, vertical_id: int, direction: int) -> None:
    """Swap a vertical with its neighbour above (-1) or below (+1) in the operator's order."""
    require_operator(session, actor_id)
    vs = queries.list_verticals(session, include_inactive=True)
    idx = next((i for i, v in enumerate(vs) if v.id == vertical_id), None)
    if idx is None:
        queries.get_vertical(session, vertical_id)  # raises NotFound
        return
    j = idx + (1 if direction > 0 else -1)
    if not 0 <= j < len(vs):
        return
    # Renumber everything so equal positions cannot make the swap a no-op.
    vs[idx], vs[j] = vs[j], vs[idx]
    now = utcnow()
    for i, v in enumerate(vs):
        if v.position != (i + 1) * 10:
            v.position = (i + 1) * 10
            v.updated_at = now
    session.flush()
    emit(session, "interests.vertical_changed", vertical_id=vertical_id, actor_id=actor_id)


# ------------------------------------------------------------------ picked interests


def set_picked_interests(session: Session, account_id: int, slugs: Iterable[str]) -> list[str]:
    """Replace an account's picked verticals (unknown or inactive slugs are refused)."""
    wanted = list(dict.fromkeys(s.strip().lower() for s in slugs if s and s.strip()))
    if len(wanted) > MAX_PICKS:
        raise Invalid(f"Pick at most {MAX_PICKS} interests", field="verticals",
                      rule=f"max:{MAX_PICKS}")
    known = queries.verticals_by_slug(session, wanted)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise Invalid(f"Unknown interest: {unknown[0]}", field="verticals", rule="known_vertical")
    session.execute(delete(ExplicitInterest).where(ExplicitInterest.account_id == account_id))
    # picking a topic the account had muted ("show less") means it wants it again
    session.execute(delete(Dismissal).where(
        Dismissal.account_id == account_id, Dismissal.kind == "vertical",
        Dismissal.target_id.in_([known[s].id for s in wanted])))
    now = utcnow()
    insert_ignore(session, ExplicitInterest.__table__,
                  [dict(account_id=account_id, vertical_id=known[s].id, created_at=now)
                   for s in wanted])
    mark_onboarded(session, account_id)
    emit(session, "interests.picked", account_id=account_id, verticals=wanted)
    return wanted


def _preference(session: Session, account_id: int) -> Preference:
    p = session.get(Preference, account_id)
    if p is None:
        p = Preference(account_id=account_id, ranked_home=False, onboarded_at=None,
                       updated_at=utcnow())
        session.add(p)
        session.flush()
    return p


def mark_onboarded(session: Session, account_id: int) -> None:
    """Record that the account finished or skipped the onboarding picker."""
    p = _preference(session, account_id)
    if p.onboarded_at is None:
        p.onboarded_at = utcnow()
        p.updated_at = p.onboarded_at
    session.flush()


def set_ranked_home(session: Session, account_id: int, enabled: bool) -> None:
    """Opt into (or out of) the ranked home feed; chronological is the default."""
    p = _preference(session, account_id)
    p.ranked_home = bool(enabled)
    p.updated_at = utcnow()
    session.flush()


# ------------------------------------------------------------------ dismissals


def dismiss(session: Session, account_id: int, kind: str, target_id: int) -> bool:
    """Never recommend this product or account (or anything of this vertical: "show less
    of this topic") to this account again; True if new. An unknown vertical is NotFound."""
    rules.check_dismiss_kind(kind)
    if kind == "vertical":
        if session.get(Vertical, int(target_id)) is None:
            raise NotFound("No such vertical", field="id", rule="exists")
        # seeing less of a topic and having picked it contradict each other: the newer wins
        session.execute(delete(ExplicitInterest).where(
            ExplicitInterest.account_id == account_id,
            ExplicitInterest.vertical_id == int(target_id)))
    added = insert_ignore(session, Dismissal.__table__, [dict(
        id=new_id(), account_id=account_id, kind=kind, target_id=int(target_id),
        created_at=utcnow())])
    if added:
        emit(session, "interests.dismissed", account_id=account_id, kind=kind,
             target_id=int(target_id))
    return bool(added)


def undismiss(session: Session, account_id: int, kind: str, target_id: int) -> None:
    """Allow a dismissed product or account to be recommended again."""
    rules.check_dismiss_kind(kind)
    session.execute(delete(Dismissal).where(Dismissal.account_id == account_id,
                                            Dismissal.kind == kind,
                                            Dismissal.target_id == int(target_id)))


# ------------------------------------------------------------------ training runs


def start_training_run(session: Session) -> TrainingRun:
    """Record a training run that has started."""
    run = TrainingRun(id=new_id(), version=0, status="running", stats={}, error=None,
                      started_at=utcnow(), finished_at=None)
    session.add(run)
    session.flush()
    return run


def finish_training_run(session: Session, run_id: int, *, version: int,
                        stats: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Record the outcome of a training run (done with its version, or failed)."""
    run = session.get(TrainingRun, run_id)
    if run is None:
        return
    run.version = version
    run.status = "failed" if error else "done"
    run.stats = dict(stats or {})
    run.error = (error or None) and error[:500]
    run.finished_at = utcnow()
    session.flush()
