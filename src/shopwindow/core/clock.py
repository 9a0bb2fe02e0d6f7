"""A clock that tests can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """UTC-aware clock; `advance` shifts it (tests of windows and periods)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def reset(self) -> None:
        self._offset = timedelta(0)


clock = Clock()


def utcnow() -> datetime:
    """Current UTC time from the process clock."""
    return clock.now()


def as_utc(dt: datetime) -> datetime:
    """Treat naive datetimes (SQLite returns them) as UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
