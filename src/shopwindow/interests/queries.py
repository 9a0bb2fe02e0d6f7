"""Interests reads: verticals, picked interests, dismissals, preferences, training runs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound
from shopwindow.interests.models import (
    Dismissal,
    ExplicitInterest,
    Preference,
    TrainingRun,
    Vertical,
)


def list_verticals(session: Session, *, include_inactive: bool = False) -> list[Vertical]:
    """Verticals in the operator's order (active ones only unless asked)."""
    stmt = select(Vertical).order_by(Vertical.position, Vertical.id)
    if not include_inactive:
        stmt = stmt.where(Vertical.active.is_(True))
    return list(session.scalars(stmt))


def get_vertical(session: Session, vertical_id: int) -> Vertical:
    """One vertical by id (NotFound otherwise)."""
    v = session.get(Vertical, vertical_id)
    if v is None:
        raise NotFound("No such vertical", field="vertical_id")
    return v


def find_vertical_by_slug(session: Session, slug: str) -> Vertical | None:
    """One vertical by slug, or None."""
    return session.scalars(select(Vertical).where(Vertical.slug == slug)).first()


def picked_vertical_ids(session: Session, account_id: int) -> list[int]:
    """Ids of the verticals an account picked itself (active ones)."""
    stmt = (select(ExplicitInterest.vertical_id)
            .join(Vertical, Vertical.id == ExplicitInterest.vertical_id)
            .where(ExplicitInterest.account_id == account_id, Vertical.active.is_(True))
            .order_by(Vertical.position))
    return list(session.scalars(stmt))


def picked_slugs(session: Session, account_id: int) -> list[str]:
    """Slugs of the active verticals an account picked."""
    stmt = (select(Vertical.slug)
            .join(ExplicitInterest, Vertical.id == ExplicitInterest.vertical_id)
            .where(ExplicitInterest.account_id == account_id, Vertical.active.is_(True))
            .order_by(Vertical.position))
    return list(session.scalars(stmt))


def all_picked(session: Session) -> list[tuple[int, str]]:
    """Every (account id, vertical slug) pick, for training."""
    stmt = (select(ExplicitInterest.account_id, Vertical.slug)
            .join(Vertical, Vertical.id == ExplicitInterest.vertical_id)
            .where(Vertical.active.is_(True)))
    return [(a, s) for a, s in session.execute(stmt)]


def dismissed_ids(session: Session, account_id: int, kind: str) -> set[int]:
    """Ids of products or accounts this account dismissed."""
    stmt = select(Dismissal.target_id).where(Dismissal.account_id == account_id,
                                             Dismissal.kind == kind)
    return set(session.scalars(stmt))


def muted_verticals(session: Session, account_id: int) -> dict[str, int]:
    """Slug → id of the verticals (topics) this account asked to see less of."""
    stmt = (select(Vertical.slug, Vertical.id)
            .join(Dismissal, Dismissal.target_id == Vertical.id)
            .where(Dismissal.account_id == account_id, Dismissal.kind == "vertical"))
    return {str(slug): int(vid) for slug, vid in session.execute(stmt)}


def preference(session: Session, account_id: int) -> Preference | None:
    """The account's recommendation settings row, if any."""
    return session.get(Preference, account_id)


def ranked_home_enabled(session: Session, account_id: int) -> bool:
    """Whether the account opted into the ranked home feed (chronological by default)."""
    p = session.get(Preference, account_id)
    return bool(p and p.ranked_home)


def needs_onboarding(session: Session, account_id: int) -> bool:
    """True until the account has finished (or skipped) the interest picker."""
    p = session.get(Preference, account_id)
    return p is None or p.onboarded_at is None


def latest_training_runs(session: Session, limit: int = 10) -> list[TrainingRun]:
    """The most recent training runs, newest first."""
    stmt = select(TrainingRun).order_by(TrainingRun.started_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def verticals_by_slug(session: Session, slugs: Iterable[str] | None = None) -> dict[str, Vertical]:
    """Active verticals keyed by slug (optionally only the given slugs)."""
    vs = list_verticals(session)
    if slugs is None:
        return {v.slug: v for v in vs}
    want = set(slugs)
    return {v.slug: v for v in vs if v.slug in want}
