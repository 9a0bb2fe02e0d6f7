"""Shared pieces of the HTML pages: error handling, sign-in, CSRF, redirects, post cards."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.models import Account
from shopwindow.config import Settings
from shopwindow.core.errors import DomainError, Forbidden, NotFound, Unauthorized
from shopwindow.db.uow import AFTER_COMMIT_KEY
from shopwindow.notifications import queries as notifications_q
from shopwindow.social import queries as social_q
from shopwindow.social.models import Post
from shopwindow.social.queries import PostView
from shopwindow.web.deps import SESSION_COOKIE, Auth
from shopwindow.web.pages.messages import N_, message_for
from shopwindow.web.templating import check_anon_csrf, render, render_error

CSRF_MESSAGE = N_("This form has expired or did not come from this site. "
                  "Reload the page and try again.")
SIGN_IN_REQUIRED = N_("Please sign in to continue.")


class CsrfFailed(Forbidden):
    """A POST without the right anti-forgery token."""


class PageRoute(APIRoute):
    """Route class of the HTML pages: domain errors become HTML pages, never JSON or a 500.

    The exception has already passed the DbSession dependency (rolled back) when it gets here.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Unauthorized:
                return RedirectResponse(sign_in_url(request), 303)
            except DomainError as exc:
                return render_error(request, exc.status, message_for(exc))

        return handler


def sign_in_url(request: Request) -> str:
    nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        nxt = "/"
    return "/auth/sign_in?" + urlencode({"next": nxt})


def viewer(auth: Auth | None) -> Account | None:
    """The signed-in account for pages: only browser (cookie) sessions count."""
    if auth is None or auth.via != "cookie":
        return None
    return auth.account


def require_viewer(auth: Auth | None) -> Account:
    me = viewer(auth)
    if me is None:
        raise Unauthorized(SIGN_IN_REQUIRED, field="session", rule="required")
    return me


def csrf_ok(request: Request, auth: Auth | None, token: str) -> bool:
    """Signed-in forms echo the session's token; signed-out forms the signed cookie nonce."""
    if auth is not None and auth.via == "cookie" and auth.csrf_token:
        return bool(token) and hmac.compare_digest(auth.csrf_token, token)
    return check_anon_csrf(request, token)


def require_csrf(request: Request, auth: Auth | None, token: str) -> None:
    if not csrf_ok(request, auth, token):
        raise CsrfFailed(CSRF_MESSAGE, field="csrf_token", rule="csrf")


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to redirect to, or `default` (no open redirects).

    Accepts only "/path…": not "//host", not "/\\host" (browsers read "\\" as "/"), no
    scheme or host, and no control characters or whitespace (browsers strip tabs and
    newlines, which would turn "/\\t/evil" into "//evil").
    """
    if not value or not isinstance(value, str) or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return default
    try:
        parts = urlsplit(value)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return value


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_age, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")


def form_errors(exc: DomainError, fields: Iterable[str],
                rename: dict[str, str] | None = None) -> dict[str, str]:
    """Put a domain error next to its form field ("base" when it has no field here)."""
    name = (rename or {}).get(exc.field or "", exc.field or "")
    return {name if name in set(fields) else "base": message_for(exc)}


def discard(session: Session) -> None:
    """Undo a failed form's partial writes, including its after-commit hooks.

    The request's unit of work still commits (it is a POST), so without this a half-applied
    change, or a hook such as "delete the replaced avatar file", would go through.
    """
    session.rollback()
    session.info.pop(AFTER_COMMIT_KEY, None)


def page(request: Request, session: Session, template: str, status: int = 200,
         **ctx: Any) -> HTMLResponse:
    """Render a page with the signed-in chrome (unread notifications badge)."""
    if "unread" not in ctx:
        me = viewer(getattr(request.state, "auth", None))
        ctx["unread"] = notifications_q.unread_count(session, me.id) if me is not None else 0
    return render(request, template, status=status, **ctx)


def parse_max_id(value: str | None) -> int | None:
    if not value:
        return None
    try:
        v = int(value)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 63 else None


def check_id(value: int) -> int:
    if not 0 <= value < 1 << 63:
        raise NotFound("Post not found", field="id", rule="exists")
    return value


# ------------------------------------------------------------------ post cards


@dataclass(slots=True)
class Card:
    """What a post card shows: the post (the original for reposts) and who is involved."""

    entry_id: int  # id of the timeline item (the repost's id for reposts): pagination cursor
    view: PostView
    author: Account
    booster: Account | None
    mentioned: list[Account]

    @property
    def post(self) -> Post:
        return self.view.post

    @property
    def url(self) -> str:
        return f"/@{self.author.username}/{self.view.post.id}"


def build_cards(session: Session, posts: Sequence[Post], viewer_id: int | None) -> list[Card]:
    """Hydrate posts for display in a fixed number of queries."""
    views = social_q.post_views(session, posts, viewer_id)
    ids: set[int] = set()
    for v in views:
        ids |= v.account_ids()
    people = accounts_q.accounts_by_ids(session, ids)
    cards: list[Card] = []
    seen: set[int] = set()
    for v in views:
        shown = v.reblog if v.reblog is not None else v
        if v.post.reblog_of_id is not None and v.reblog is None:
            continue  # original gone
        if shown.post.id in seen:
            continue  # a post and its repost on one page: show it once (the newest entry)
        seen.add(shown.post.id)
        author = people.get(shown.post.account_id)
        if author is None or author.deleted_at is not None:
            continue
        booster = people.get(v.post.account_id) if v.reblog is not None else None
        cards.append(Card(v.post.id, shown, author, booster,
                          [people[i] for i in shown.mention_ids if i in people]))
    return cards


def wants_fragment(request: Request) -> bool:
    """Requests from our own JS (progressive enhancement) get an HTML fragment back."""
    return request.headers.get("x-requested-with") == "fetch"


def older_link(request: Request, ids: Sequence[int], limit: int) -> str | None:
    """'Older' link: the same page with max_id = the oldest id shown (None on the last page)."""
    if len(ids) < limit or not ids:
        return None
    keep = [(k, v) for k, v in request.query_params.multi_items() if k != "max_id"]
    return request.url.path + "?" + urlencode([*keep, ("max_id", str(min(ids)))])
