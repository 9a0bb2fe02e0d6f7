"""Seed a believable demo platform (filled in by the demo seeding work)."""

from __future__ import annotations

from typing import Any

from shopwindow.config import Settings


def seed_if_empty(settings: Settings, console: Any = None) -> dict[str, tuple[str, str]]:
    """Seed when the database has no accounts; return demo logins by persona."""
    return {}
