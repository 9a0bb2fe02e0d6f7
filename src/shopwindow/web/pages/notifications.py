"""The viewer's notifications; viewing a page marks what it shows as read."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.models import Account
from shopwindow.core.pagination import Page
from shopwindow.db.uow import unit_of_work
from shopwindow.notifications import actions as notifications
from shopwindow.notifications import queries as notifications_q
from shopwindow.notifications.models import Notification
from shopwindow.social import queries as social_q
from shopwindow.social.models import Post
from shopwindow.web.deps import DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    PageRoute,
    older_link,
    page,
    parse_max_id,
    require_viewer,
)

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 30


@dataclass(slots=True)
class Item:
    n: Notification
    sender: Account
    post: Post | None
    post_url: str | None


@router.get("/notifications")
def notifications_page(request: Request, session: DbSession, auth: OptionalAuth,
                       max_id: str | None = None) -> Response:
    """Follows, likes, reposts and mentions, newest first."""
    me = require_viewer(auth)
    rows = notifications_q.list_notifications(session, me.id, Page(
        max_id=parse_max_id(max_id), limit=PAGE_SIZE))
    people = accounts_q.accounts_by_ids(session, [n.from_account_id for n in rows])
    items: list[Item] = []
    for n in rows:
        sender = people.get(n.from_account_id)
        if sender is None or sender.deleted_at is not None:
            continue
        post = social_q.find_visible_post(session, n.post_id, me.id) if n.post_id else None
        if n.post_id and post is None:
            continue  # deleted or no longer visible
        url = None
        if post is not None:
            author = me if post.account_id == me.id else accounts_q.find_account(
                session, post.account_id)
            url = f"/@{author.username}/{post.id}" if author else None
        items.append(Item(n, sender, post, url))
    response = page(request, session, "notifications.html", items=items, unread=0,
                    older=older_link(request, [n.id for n in rows], PAGE_SIZE))
    unread = [n.id for n in rows if n.read_at is None]
    if unread:
        # GET requests run on a read-only session; the read marker is its own small write.
        with unit_of_work(request.app.state.db) as w:
            notifications.mark_read(w, me.id, up_to_id=max(unread))
    return response
