"""A post with its thread, and the post buttons (like, repost, bookmark, delete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import NotFound
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.web.deps import DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    PageRoute,
    build_cards,
    check_id,
    page,
    redirect,
    require_csrf,
    require_viewer,
    safe_next,
    viewer,
    wants_fragment,
)
from shopwindow.web.templating import render

router = APIRouter(route_class=PageRoute)

ACTIONS: dict[str, Callable[[Session, int, int], Any]] = {
    "favourite": social.favourite,
    "unfavourite": social.unfavourite,
    "reblog": social.reblog,
    "unreblog": social.unreblog,
    "bookmark": social.bookmark,
    "unbookmark": social.unbookmark,
}


@router.get("/@{username}/{post_id:int}")
def thread(request: Request, session: DbSession, auth: OptionalAuth, username: str,
           post_id: int) -> Response:
    """The post, its visible ancestors and replies, and a reply form."""
    me = viewer(auth)
    me_id = me.id if me else None
    author = accounts_q.get_by_username(session, username)
    post = social_q.get_visible_post(session, check_id(post_id), me_id)
    if post.account_id != author.id:
        raise NotFound("Post not found", field="id", rule="exists")
    if post.reblog_of_id is not None:
        original = social_q.get_visible_post(session, post.reblog_of_id, me_id)
        orig_author = accounts_q.get_account(session, original.account_id)
        return redirect(f"/@{orig_author.username}/{original.id}")
    ancestors, descendants = social_q.context(session, post, me_id)
    cards = build_cards(session, [*ancestors, post, *descendants], me_id)
    n = len(ancestors)
    main = next((c for c in cards if c.post.id == post.id), None)
    if main is None:
        raise NotFound("Post not found", field="id", rule="exists")
    reply_text = f"@{author.username} " if me is not None and me.id != author.id else ""
    reply_vis = "private" if post.visibility == "private" else (
        me.default_visibility if me else "public")
    return page(request, session, "thread.html", main=main,
                ancestors=[c for c in cards[:n] if c.post.id != post.id],
                descendants=[c for c in cards[n:] if c.post.id != post.id],
                compose={"text": reply_text, "visibility": reply_vis,
                         "in_reply_to_id": str(post.id)}, errors={})


@router.post("/posts/{post_id:int}/{action}")
def post_action(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    post_id: int,
    action: str,
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """One of the card buttons; JS callers get the updated card, others a redirect."""
    me = require_viewer(auth)
    require_csrf(request, auth, csrf_token)
    pid = check_id(post_id)
    # Visibility first: a post the viewer may not see is "not found" for every action.
    post = social_q.get_visible_post(session, pid, me.id)
    if action == "delete":
        social.delete_post(session, me.id, post.id)
        author_page = f"/@{me.username}"
        nxt = safe_next(next, author_page)
        return redirect(author_page if f"/{post.id}" in nxt else nxt)
    fn = ACTIONS.get(action)
    if fn is None:
        raise NotFound("Unknown action", field="action", rule="exists")
    fn(session, me.id, post.id)
    session.flush()
    original_id = post.reblog_of_id or post.id
    if wants_fragment(request):
        shown = social_q.get_visible_post(session, original_id, me.id)
        cards = build_cards(session, [shown], me.id)
        if not cards:
            raise NotFound("Post not found", field="id", rule="exists")
        return render(request, "fragments/card.html", card=cards[0])
    author = accounts_q.get_account(session, post.account_id, include_deleted=True)
    return redirect(safe_next(next, f"/@{author.username}/{post.id}"))
