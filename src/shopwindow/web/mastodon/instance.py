"""Instance information (v1 and v2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from shopwindow import __version__
from shopwindow.accounts import queries as accounts_q
from shopwindow.social import rules as social_rules
from shopwindow.web.deps import AppSettings, DbSession

router = APIRouter(tags=["mastodon: instance"])
# Clients gate features on the Mastodon version they see; we implement the 4.2 API subset.
COMPAT = f"4.2.0 (compatible; shopwindow {__version__})"


def _config(settings: Any) -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {"max_characters": settings.max_post_chars,
                     "max_media_attachments": social_rules.MAX_MEDIA,
                     "characters_reserved_per_url": 23},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/webp", "image/gif"],
            "image_size_limit": settings.max_upload_bytes,
            "image_matrix_limit": settings.max_image_pixels,
            "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0,
        },
        "polls": {"max_options": 0, "max_characters_per_option": 0,
                  "min_expiration": 0, "max_expiration": 0},
    }


@router.get("/api/v1/instance")
def instance_v1(session: DbSession, settings: AppSettings) -> dict[str, Any]:
    host = settings.base_url.split("://", 1)[-1].rstrip("/")
    return {
        "uri": host,
        "title": settings.instance_title,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": COMPAT,
        "urls": {"streaming_api": settings.base_url.replace("http", "ws", 1)},
        "stats": {"user_count": accounts_q.count_accounts(session), "status_count": 0,
                  "domain_count": 1},
        "thumbnail": None,
        "languages": ["zh", "en"],
        "registrations": settings.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _config(settings),
        "contact_account": None,
        "rules": [],
    }


@router.get("/api/v2/instance")
def instance_v2(session: DbSession, settings: AppSettings) -> dict[str, Any]:
    host = settings.base_url.split("://", 1)[-1].rstrip("/")
    cfg = _config(settings)
    cfg["urls"] = {"streaming": settings.base_url.replace("http", "ws", 1)}
    cfg["translation"] = {"enabled": False}
    return {
        "domain": host,
        "title": settings.instance_title,
        "version": COMPAT,
        "source_url": "https://shopwindow.dev/source",
        "description": settings.instance_description,
        "usage": {"users": {"active_month": accounts_q.count_accounts(session)}},
        "thumbnail": {"url": f"{settings.base_url.rstrip('/')}/static/img/header.png"},
        "languages": ["zh", "en"],
        "configuration": cfg,
        "registrations": {"enabled": settings.registrations_open,
                          "approval_required": False, "message": None},
        "contact": {"email": settings.contact_email, "account": None},
        "rules": [],
    }
