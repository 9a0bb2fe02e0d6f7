"""Small endpoints clients call on start-up: preferences, markers, emojis, empty features.

Features shopwindow does not have (custom emojis, lists, filters, announcements) answer
with an empty list rather than 404, which is what Mastodon answers when there are none.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from shopwindow.web.mastodon.common import ReadAccounts, ReadFilters, ReadLists, ReadStatuses

router = APIRouter(tags=["mastodon: misc"])


@router.get("/api/v1/preferences")
def preferences(me: ReadAccounts) -> dict[str, Any]:
    """Posting and reading defaults (posting ones come from the profile)."""
    langs = list(me.languages or [])
    return {
        "posting:default:visibility": me.default_visibility,
        "posting:default:sensitive": False,
        "posting:default:language": langs[0] if langs else None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }


@router.get("/api/v1/markers")
def markers(me: ReadStatuses) -> dict[str, Any]:
    """No read positions are stored: an empty set of markers."""
    return {}


@router.get("/api/v1/custom_emojis")
def custom_emojis() -> list[dict[str, Any]]:
    return []


@router.get("/api/v1/lists")
def lists(me: ReadLists) -> list[dict[str, Any]]:
    return []


@router.get("/api/v1/filters")
def filters_v1(me: ReadFilters) -> list[dict[str, Any]]:
    return []


@router.get("/api/v2/filters")
def filters_v2(me: ReadFilters) -> list[dict[str, Any]]:
    return []


@router.get("/api/v1/announcements")
def announcements(me: ReadAccounts) -> list[dict[str, Any]]:
    return []
