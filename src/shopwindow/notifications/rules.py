"""Which events notify whom (pure)."""

from __future__ import annotations

from typing import Any

TYPES = ("follow", "favourite", "reblog", "mention", "status")
# Our own types: shown on the notifications page, never to Mastodon clients (unknown there).
PRICE_DROP = "price_drop"


def recipients(event_type: str, payload: dict[str, Any]) -> list[tuple[int, str, int, int | None]]:
    """(recipient, type, from_account, post_id) for an event; never notify yourself."""
    out: list[tuple[int, str, int, int | None]] = []
    if event_type == "social.followed":
        out.append((payload["followee_id"], "follow", payload["follower_id"], None))
    elif event_type == "social.liked":
        out.append((payload["author_id"], "favourite", payload["account_id"], payload["post_id"]))
    elif event_type == "social.post_created":
        author = payload["author_id"]
        if payload.get("reblog_of_id"):
            out.append((payload["reblog_of_account_id"], "reblog", author,
                        payload["reblog_of_id"]))
        else:
            # Mastodon reports a reply as a "mention" of the replied-to author.
            targets = list(payload.get("mentions") or [])
            if payload.get("in_reply_to_account_id"):
                targets.append(payload["in_reply_to_account_id"])
            for t in dict.fromkeys(targets):
                out.append((t, "mention", author, payload["post_id"]))
    return [r for r in out if r[0] != r[2]]
