"""Profiles: header, counts, relationship buttons, posts, followers and following."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.models import Account
from shopwindow.core.errors import NotFound
from shopwindow.core.pagination import Page
from shopwindow.interests import labels_queries as labels_q
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.web.deps import DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    PageRoute,
    build_cards,
    older_link,
    page,
    parse_max_id,
    redirect,
    require_csrf,
    require_viewer,
    safe_next,
    viewer,
)

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 20
LIST_SIZE = 40

GRAPH_ACTIONS: dict[str, Callable[[Session, int, int], Any]] = {
    "follow": social.follow,
    "unfollow": social.unfollow,
    "block": social.block,
    "unblock": social.unblock,
    "mute": social.mute,
    "unmute": social.unmute,
}


def _profile_context(session: Session, acct: Account, me: Account | None) -> dict[str, Any]:
    st = social_q.stats(session, [acct.id]).get(acct.id)
    rel = social_q.relationships(session, me.id, [acct.id])[0] if (
        me is not None and me.id != acct.id) else None
    return {"profile": acct, "stats": st, "rel": rel,
            "is_me": me is not None and me.id == acct.id,
            "ability_labels": labels_q.account_labels(session, acct.id)}


@router.get("/@{username}")
def profile(request: Request, session: DbSession, auth: OptionalAuth, username: str,
            max_id: str | None = None, replies: str | None = None) -> Response:
    """A profile and the posts of it the viewer may see."""
    me = viewer(auth)
    acct = accounts_q.get_by_username(session, username)
    posts = social_q.account_posts(session, acct.id, me.id if me else None,
                                   Page(max_id=parse_max_id(max_id), limit=PAGE_SIZE),
                                   exclude_replies=replies != "1")
    return page(request, session, "profile.html", tab="posts",
                cards=build_cards(session, posts, me.id if me else None),
                older=older_link(request, [p.id for p in posts], PAGE_SIZE),
                with_replies=replies == "1", **_profile_context(session, acct, me))


def _people(request: Request, session: DbSession, auth: OptionalAuth, username: str,
            max_id: str | None, tab: str) -> Response:
    me = viewer(auth)
    acct = accounts_q.get_by_username(session, username)
    pg = Page(max_id=parse_max_id(max_id), limit=LIST_SIZE)
    rows = (social_q.followers if tab == "followers" else social_q.following)(
        session, acct.id, pg)
    people = accounts_q.accounts_by_ids(session, [aid for _fid, aid in rows])
    shown = [people[aid] for _fid, aid in rows
             if aid in people and people[aid].deleted_at is None]
    stats = social_q.stats(session, [a.id for a in shown])
    return page(request, session, "people.html", tab=tab, people=shown, people_stats=stats,
                older=older_link(request, [fid for fid, _aid in rows], LIST_SIZE),
                **_profile_context(session, acct, me))


@router.get("/@{username}/followers")
def followers(request: Request, session: DbSession, auth: OptionalAuth, username: str,
              max_id: str | None = None) -> Response:
    return _people(request, session, auth, username, max_id, "followers")


@router.get("/@{username}/following")
def following(request: Request, session: DbSession, auth: OptionalAuth, username: str,
              max_id: str | None = None) -> Response:
    return _people(request, session, auth, username, max_id, "following")


@router.post("/@{username}/{action}")
def graph_action(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    username: str,
    action: str,
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Follow / unfollow / block / unblock / mute / unmute buttons."""
    me = require_viewer(auth)
    require_csrf(request, auth, csrf_token)
    fn = GRAPH_ACTIONS.get(action)
    if fn is None:
        raise NotFound("Unknown action", field="action", rule="exists")
    target = accounts_q.get_by_username(session, username)
    fn(session, me.id, target.id)
    return redirect(safe_next(next, f"/@{target.username}"))
