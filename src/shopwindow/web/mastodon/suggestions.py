"""Mastodon follow suggestions: GET /api/v2/suggestions (and v1), DELETE /api/v1/suggestions/:id.

Backed by the interests recommender (`interests.serving.suggest_accounts`); dismissing a
suggestion stores an account dismissal so it is never suggested again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from shopwindow.interests import actions as interests
from shopwindow.interests import serving
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon.common import ReadAccounts, WriteAccounts, parse_path_id
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: suggestions"])

# Mastodon's `sources` vocabulary: why an account is suggested.
SOURCES = {"followed_by": "friends_of_friends", "picked": "similar_to_recently_followed",
           "popular_in": "most_interactions", "popular": "global"}
LEGACY = {"friends_of_friends": "past_interactions",
          "similar_to_recently_followed": "past_interactions",
          "most_interactions": "global", "global": "global"}


@router.get("/api/v2/suggestions")
def suggestions(session: DbSession, settings: AppSettings, me: ReadAccounts,
                limit: int = Query(40, ge=1, le=80)) -> list[dict[str, Any]]:
    """Accounts to follow as Mastodon Suggestion entities ({source, sources, account})."""
    items = serving.suggest_accounts(session, me.id, limit, data_dir=settings.data_dir)
    ser = Serializer(session, settings, me.id)
    entities = ser.accounts([s.account.id for s in items])
    out = []
    for s in items:
        if s.account.id not in entities:
            continue
        src = SOURCES.get(s.reason.code, "global")
        out.append({"source": LEGACY[src], "sources": [src], "account": entities[s.account.id],
                    "shopwindow_reason": s.reason.text()})
    return out


@router.get("/api/v1/suggestions")
def suggestions_v1(session: DbSession, settings: AppSettings, me: ReadAccounts,
                   limit: int = Query(40, ge=1, le=80)) -> list[dict[str, Any]]:
    """The deprecated v1 form: the suggested accounts only."""
    return [e["account"] for e in suggestions(session, settings, me, limit)]


@router.delete("/api/v1/suggestions/{account_id}")
def remove_suggestion(account_id: str, session: DbSession, me: WriteAccounts) -> Response:
    """Never suggest this account again (an empty 200, like Mastodon)."""
    interests.dismiss(session, me.id, "account", parse_path_id(account_id))
    return Response(content="{}", media_type="application/json")
