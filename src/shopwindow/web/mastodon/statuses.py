"""Statuses: create, get, delete, context, favourite/reblog/bookmark and undo, who did it."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from shopwindow.core.errors import Conflict, Invalid, NotFound
from shopwindow.db.uow import after_commit
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.social.models import Post
from shopwindow.web.deps import AppSettings, DbSession
from shopwindow.web.mastodon import idempotency as idem
from shopwindow.web.mastodon.common import (
    AccountPage,
    Params,
    ViewerAccounts,
    ViewerStatuses,
    WriteBookmarks,
    WriteFavourites,
    WriteStatuses,
    as_bool,
    as_id,
    as_id_list,
    as_str,
    parse_path_id,
    set_link_header,
    viewer_id,
)
from shopwindow.web.mastodon.entities import Serializer

log = logging.getLogger(__name__)
router = APIRouter(tags=["mastodon: statuses"])


@router.post("/api/v1/statuses")
def create_status(
    request: Request, session: DbSession, settings: AppSettings, me: WriteStatuses, p: Params,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Publish a status; a repeated Idempotency-Key (same account, 1 h) returns the first."""
    request.app.state.rate_limits.hit(settings.api_write_rate_limit, "statuses", str(me.id))
    ser = Serializer(session, settings, me.id)
    key = (idempotency_key or "").strip()
    if len(key) > idem.MAX_KEY_LENGTH:
        raise Invalid("Idempotency-Key is too long", field="Idempotency-Key",
                      rule=f"max_length:{idem.MAX_KEY_LENGTH}")
    store: idem.Store | None = None
    skey = ""
    reserved = False
    if key:
        try:
            store = idem.store_for(settings.redis_url, request.app.state)
            skey = idem.storage_key(me.id, key)
            existing, reserved = _claim(store, skey)
        except Exception as exc:  # a cache outage must not block posting
            if isinstance(exc, Conflict):
                raise
            log.warning("idempotency store unavailable, posting without it: %s", exc)
            store = None
        else:
            if existing is not None:
                post = social_q.get_post(session, existing)
                if post is not None and post.deleted_at is None and post.account_id == me.id:
                    return ser.status(post)
    bound: dict[str, int] = {}
    if store is not None:
        _bind_after_commit(session, store, skey, bound, reserved)
    try:
        reply = p.get("in_reply_to_id")
        post = social.create_post(
            session, me.id,
            text=as_str(p.get("status"), "status"),
            visibility=as_str(p.get("visibility"), "visibility") or None,
            media_ids=as_id_list(p.get("media_ids"), "media_ids"),
            in_reply_to_id=as_id(reply, "in_reply_to_id") if reply not in (None, "") else None,
            spoiler_text=as_str(p.get("spoiler_text"), "spoiler_text"),
            sensitive=as_bool(p.get("sensitive"), "sensitive"),
            language=as_str(p.get("language"), "language") or None,
        )
    except BaseException:
        if store is not None and reserved:
            _safe(store.release, skey)
        raise
    bound["id"] = post.id
    return ser.status(post)


def _claim(store: idem.Store, skey: str) -> tuple[int | None, bool]:
    """(status id already bound to the key, whether we reserved the key)."""
    for _ in range(3):
        if store.reserve(skey):
            return None, True
        v = idem.wait_for_binding(store, skey)
        if v == idem.PENDING:
            raise Conflict("A request with this Idempotency-Key is still being processed",
                           field="Idempotency-Key", rule="in_progress")
        if v is not None:
            try:
                return int(v), False
            except ValueError:
                return None, False
        # The holder gave up (rolled back) meanwhile: try to reserve again.
    return None, False


def _safe(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception as exc:
        log.warning("idempotency store call failed: %s", exc)


def _bind_after_commit(session: Session, store: idem.Store, skey: str, bound: dict[str, int],
                       reserved: bool) -> None:
    # Registered before the post is created so it runs before the event publisher's hook:
    # the key is bound as soon as the status is durable, whatever later hooks do.
    def bind() -> None:
        if "id" in bound:
            _safe(store.bind, skey, str(bound["id"]))

    after_commit(session, bind)
    if reserved:
        # A failed commit must free the key at once rather than after the pending TTL.
        event.listen(session, "after_rollback", lambda _s: _safe(store.release, skey),
                     once=True)


def _visible(session: Session, raw_id: str, viewer: int | None) -> Post:
    return social_q.get_visible_post(session, parse_path_id(raw_id), viewer)


def _original(session: Session, post: Post, viewer: int | None) -> Post:
    if post.reblog_of_id is None:
        return post
    return social_q.get_visible_post(session, post.reblog_of_id, viewer)


@router.get("/api/v1/statuses/{id}")
def get_status(id: str, session: DbSession, settings: AppSettings,
               me: ViewerStatuses) -> dict[str, Any]:
    """A status the caller may see (private ones only for followers and mentioned: else 404)."""
    vid = viewer_id(me)
    return Serializer(session, settings, vid).status(_visible(session, id, vid))


@router.delete("/api/v1/statuses/{id}")
def delete_status(id: str, session: DbSession, settings: AppSettings,
                  me: WriteStatuses) -> dict[str, Any]:
    """Delete an own status; returns it with its source `text` (for delete-and-redraft)."""
    post = social_q.get_post(session, parse_path_id(id))
    if post is None or post.deleted_at is not None or post.account_id != me.id:
        raise NotFound("Record not found", field="id", rule="exists")
    entity = Serializer(session, settings, me.id).status(post)
    entity["text"] = post.text
    social.delete_post(session, me.id, post.id)
    return entity


@router.get("/api/v1/statuses/{id}/context")
def status_context(id: str, session: DbSession, settings: AppSettings,
                   me: ViewerStatuses) -> dict[str, Any]:
    """Ancestors and descendants visible to the caller."""
    vid = viewer_id(me)
    post = _original(session, _visible(session, id, vid), vid)
    ancestors, descendants = social_q.context(session, post, vid)
    ser = Serializer(session, settings, vid)
    return {"ancestors": ser.statuses(ancestors), "descendants": ser.statuses(descendants)}


@router.post("/api/v1/statuses/{id}/favourite")
def favourite(id: str, session: DbSession, settings: AppSettings,
              me: WriteFavourites) -> dict[str, Any]:
    post = social.favourite(session, me.id, parse_path_id(id))
    return Serializer(session, settings, me.id).status(post)


@router.post("/api/v1/statuses/{id}/unfavourite")
def unfavourite(id: str, session: DbSession, settings: AppSettings,
                me: WriteFavourites) -> dict[str, Any]:
    post = social.unfavourite(session, me.id, parse_path_id(id))
    return Serializer(session, settings, me.id).status(post)


@router.post("/api/v1/statuses/{id}/reblog")
def reblog(id: str, session: DbSession, settings: AppSettings, me: WriteStatuses,
           p: Params) -> dict[str, Any]:
    """Boost; returns the reblog wrapper status (the original is in its `reblog`)."""
    visibility = as_str(p.get("visibility"), "visibility") or "public"
    if visibility not in ("public", "unlisted", "private"):
        raise Invalid("visibility must be public, unlisted or private", field="visibility",
                      rule="enum:public,unlisted,private")
    rb = social.reblog(session, me.id, parse_path_id(id), visibility=visibility)
    return Serializer(session, settings, me.id).status(rb)


@router.post("/api/v1/statuses/{id}/unreblog")
def unreblog(id: str, session: DbSession, settings: AppSettings,
             me: WriteStatuses) -> dict[str, Any]:
    post = social.unreblog(session, me.id, parse_path_id(id))
    return Serializer(session, settings, me.id).status(post)


@router.post("/api/v1/statuses/{id}/bookmark")
def bookmark(id: str, session: DbSession, settings: AppSettings,
             me: WriteBookmarks) -> dict[str, Any]:
    post = social.bookmark(session, me.id, parse_path_id(id))
    return Serializer(session, settings, me.id).status(post)


@router.post("/api/v1/statuses/{id}/unbookmark")
def unbookmark(id: str, session: DbSession, settings: AppSettings,
               me: WriteBookmarks) -> dict[str, Any]:
    post = social.unbookmark(session, me.id, parse_path_id(id))
    return Serializer(session, settings, me.id).status(post)


@router.get("/api/v1/statuses/{id}/favourited_by")
def favourited_by(id: str, request: Request, response: Response, session: DbSession,
                  settings: AppSettings, me: ViewerAccounts,
                  page: AccountPage) -> list[dict[str, Any]]:
    """Who favourited a visible status (paged by the favourite's row id)."""
    vid = viewer_id(me)
    post = _original(session, _visible(session, id, vid), vid)
    rows = social_q.favourited_by(session, post.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, vid).account_list([r[1] for r in rows])


@router.get("/api/v1/statuses/{id}/reblogged_by")
def reblogged_by(id: str, request: Request, response: Response, session: DbSession,
                 settings: AppSettings, me: ViewerAccounts,
                 page: AccountPage) -> list[dict[str, Any]]:
    """Who boosted a visible status (paged by the reblog's id)."""
    vid = viewer_id(me)
    post = _original(session, _visible(session, id, vid), vid)
    rows = social_q.reblogged_by(session, post.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, vid).account_list([r[1] for r in rows])
