"""Mastodon API entities (field names and types as in Mastodon's documentation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.models import Account
from shopwindow.config import Settings
from shopwindow.core.clock import as_utc
from shopwindow.media.models import MediaAttachment
from shopwindow.notifications.models import Notification
from shopwindow.social import queries as social_q
from shopwindow.social.queries import PostView, Relationship


def iso(dt: datetime | None) -> str | None:
    """Mastodon's timestamp format: ISO 8601 with milliseconds and Z."""
    if dt is None:
        return None
    return as_utc(dt).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(dt).microsecond // 1000:03d}Z"


def _media_url(settings: Settings, key: str | None, fallback: str) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/media/{key}" if key else f"{base}/static/{fallback}"


def account_entity(acct: Account, stats: Any, settings: Settings, *,
                   source: bool = False) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    avatar = _media_url(settings, acct.avatar_key, "img/avatar.png")
    header = _media_url(settings, acct.header_key, "img/header.png")
    from markupsafe import escape

    note = "" if not acct.bio else "<p>" + str(escape(acct.bio)).replace("\n", "<br>") + "</p>"
    e: dict[str, Any] = {
        "id": str(acct.id),
        "username": acct.username,
        "acct": acct.username,
        "display_name": acct.display_name if acct.deleted_at is None else "",
        "locked": acct.locked,
        "bot": acct.bot,
        "discoverable": acct.discoverable,
        "indexable": acct.discoverable,
        "group": False,
        "created_at": iso(acct.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": note,
        "url": f"{base}/@{acct.username}",
        "uri": f"{base}/users/{acct.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": stats.followers_count if stats else 0,
        "following_count": stats.following_count if stats else 0,
        "statuses_count": stats.statuses_count if stats else 0,
        "last_status_at": (as_utc(stats.last_status_at).date().isoformat()
                           if stats and stats.last_status_at else None),
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
        # shopwindow extensions (extra fields are ignored by Mastodon clients). Not "role":
        # Mastodon's CredentialAccount.role is a Role object and typed clients decode it.
        "shopwindow_role": acct.role,
        "region": acct.region,
        "languages": list(acct.languages or []),
    }
    if acct.deleted_at is not None:
        e["suspended"] = True
    if source:
        e["source"] = {
            "privacy": acct.default_visibility,
            "sensitive": False,
            "language": (acct.languages or ["en"])[0],
            "note": acct.bio,
            "fields": [],
            "follow_requests_count": 0,
        }
        e["locale"] = acct.locale
    return e


def media_entity(m: MediaAttachment, settings: Settings) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    return {
        "id": str(m.id),
        "type": m.kind,
        "url": f"{base}/media/{m.key}",
        "preview_url": f"{base}/media/{m.thumb_key}",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": {"width": m.width, "height": m.height,
                         "size": f"{m.width}x{m.height}", "aspect": m.width / m.height},
            "small": {"width": m.thumb_width, "height": m.thumb_height,
                      "size": f"{m.thumb_width}x{m.thumb_height}",
                      "aspect": m.thumb_width / m.thumb_height},
            "focus": {"x": m.focus_x, "y": m.focus_y},
        },
        "description": m.description or None,
        "blurhash": None,
    }


def relationship_entity(r: Relationship) -> dict[str, Any]:
    return {
        "id": str(r.id), "following": r.following, "showing_reblogs": r.following,
        "notifying": False, "languages": None, "followed_by": r.followed_by,
        "blocking": r.blocking, "blocked_by": r.blocked_by, "muting": r.muting,
        "muting_notifications": r.muting_notifications, "requested": False,
        "requested_by": False, "domain_blocking": False, "endorsed": False, "note": "",
    }


class Serializer:
    """Batch serialisation: loads accounts and stats once per response."""

    def __init__(self, session: Session, settings: Settings, viewer_id: int | None) -> None:
        self.s = session
        self.settings = settings
        self.viewer_id = viewer_id

    def accounts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        accts = accounts_q.accounts_by_ids(self.s, ids)
        stats = social_q.stats(self.s, ids)
        return {i: account_entity(a, stats.get(i), self.settings) for i, a in accts.items()}

    def account_list(self, ids: list[int]) -> list[dict[str, Any]]:
        """Accounts in the given order; deleted accounts are left out."""
        accts = {i: a for i, a in accounts_q.accounts_by_ids(self.s, ids).items()
                 if a.deleted_at is None}
        stats = social_q.stats(self.s, list(accts))
        return [account_entity(accts[i], stats.get(i), self.settings) for i in ids
                if i in accts]

    def relationships(self, target_ids: list[int]) -> list[dict[str, Any]]:
        assert self.viewer_id is not None
        return [relationship_entity(r)
                for r in social_q.relationships(self.s, self.viewer_id, target_ids)]

    def relationship(self, target_id: int) -> dict[str, Any]:
        return self.relationships([target_id])[0]

    def account(self, acct: Account, *, source: bool = False) -> dict[str, Any]:
        st = social_q.stats(self.s, [acct.id]).get(acct.id)
        return account_entity(acct, st, self.settings, source=source)

    def statuses(self, posts: list[Any]) -> list[dict[str, Any]]:
        views = social_q.post_views(self.s, posts, self.viewer_id)
        ids: set[int] = set()
        for v in views:
            ids |= v.account_ids()
        accts = self.accounts(list(ids))
        return [self._status(v, accts) for v in views]

    def status(self, post: Any) -> dict[str, Any]:
        return self.statuses([post])[0]

    def _status(self, v: PostView, accts: dict[int, dict[str, Any]]) -> dict[str, Any]:
        p = v.post
        base = self.settings.base_url.rstrip("/")
        author = accts.get(p.account_id) or {}
        reblog = self._status(v.reblog, accts) if v.reblog is not None else None
        mentions = []
        for mid in v.mention_ids:
            a = accts.get(mid)
            if a:
                mentions.append({"id": a["id"], "username": a["username"], "url": a["url"],
                                 "acct": a["acct"]})
        return {
            "id": str(p.id),
            "uri": f"{base}/users/{author.get('username', '')}/statuses/{p.id}",
            "url": f"{base}/@{author.get('username', '')}/{p.id}",
            "created_at": iso(p.created_at),
            "edited_at": iso(p.edited_at),
            "account": author,
            "content": p.html,
            "text": p.text if p.account_id == self.viewer_id else None,
            "visibility": p.visibility,
            "sensitive": p.sensitive,
            "spoiler_text": p.spoiler_text,
            "media_attachments": [media_entity(m, self.settings) for m in v.media],
            "application": None,
            "mentions": mentions,
            "tags": [{"name": t, "url": f"{base}/tags/{t}"} for t in v.tags],
            "emojis": [],
            "reblogs_count": p.reblogs_count,
            "favourites_count": p.favourites_count,
            "replies_count": p.replies_count,
            "in_reply_to_id": str(p.in_reply_to_id) if p.in_reply_to_id else None,
            "in_reply_to_account_id": (str(p.in_reply_to_account_id)
                                       if p.in_reply_to_account_id else None),
            "reblog": reblog,
            "poll": None,
            "card": None,
            "language": p.language,
            "favourited": v.favourited if self.viewer_id else None,
            "reblogged": v.reblogged if self.viewer_id else None,
            "muted": False if self.viewer_id else None,
            "bookmarked": v.bookmarked if self.viewer_id else None,
            "pinned": False if self.viewer_id == p.account_id else None,
            "filtered": [],
        }

    def notifications(self, rows: list[Notification]) -> list[dict[str, Any]]:
        posts = social_q.posts_by_ids(self.s, [n.post_id for n in rows if n.post_id])
        visible = [p for p in posts.values() if social_q.can_view_post(self.s, p, self.viewer_id)]
        statuses = {int(st["id"]): st for st in self.statuses(visible)}
        accts = self.accounts([n.from_account_id for n in rows])
        out = []
        for n in rows:
            if n.from_account_id not in accts:
                continue
            if n.post_id is not None and n.post_id not in statuses:
                continue  # post deleted or no longer visible
            out.append({
                "id": str(n.id),
                "type": n.type,
                "group_key": f"ungrouped-{n.id}",
                "created_at": iso(n.created_at),
                "account": accts[n.from_account_id],
                "status": statuses.get(n.post_id) if n.post_id else None,
            })
        return out
