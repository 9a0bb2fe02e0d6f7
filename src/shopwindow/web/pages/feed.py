"""Timelines (home, public, tag), bookmarks and the compose form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from shopwindow.core.errors import DomainError, Invalid, NotFound
from shopwindow.core.pagination import Page
from shopwindow.interests import queries as interests_q
from shopwindow.interests import serving as interest_serving
from shopwindow.media import actions as media
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.social import rules as social_rules
from shopwindow.social import timelines
from shopwindow.web.deps import AppSettings, DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    CSRF_MESSAGE,
    PageRoute,
    build_cards,
    check_id,
    csrf_ok,
    discard,
    form_errors,
    older_link,
    page,
    parse_max_id,
    redirect,
    require_viewer,
    safe_next,
    viewer,
)

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 20
COMPOSE_FIELDS = ("text", "visibility", "images", "in_reply_to_id")
COMPOSE_RENAME = {"status": "text", "media_ids": "images", "file": "images",
                  "description": "images", "spoiler_text": "text"}


@router.get("/")
def home(request: Request, session: DbSession, auth: OptionalAuth,
         max_id: str | None = None) -> Response:
    """Signed in: the home timeline with the compose form. Signed out: the public timeline."""
    me = viewer(auth)
    pg = Page(max_id=parse_max_id(max_id), limit=PAGE_SIZE)
    if me is None:
        posts = social_q.public_timeline(session, None, pg)
        return page(request, session, "feed.html", kind="welcome",
                    cards=build_cards(session, posts, None),
                    older=older_link(request, [p.id for p in posts], PAGE_SIZE))
    posts = timelines.home(session, me.id, pg)
    if interests_q.ranked_home_enabled(session, me.id):
        # Opt-in ranking within each page; pages still step back in time (docs/interests.md).
        posts = interest_serving.rank_posts(
            posts, interest_serving.interest_by_author(session, me.id))
    return page(request, session, "feed.html", kind="home",
                cards=build_cards(session, posts, me.id),
                older=older_link(request, [p.id for p in posts], PAGE_SIZE),
                compose={"visibility": me.default_visibility}, errors={},
                posted=request.query_params.get("posted") == "1",
                current_url=request.url.path if request.query_params.get("posted") else None)


@router.get("/public")
def public(request: Request, session: DbSession, auth: OptionalAuth,
           max_id: str | None = None) -> Response:
    me = viewer(auth)
    pg = Page(max_id=parse_max_id(max_id), limit=PAGE_SIZE)
    posts = social_q.public_timeline(session, me.id if me else None, pg)
    return page(request, session, "feed.html", kind="public",
                cards=build_cards(session, posts, me.id if me else None),
                older=older_link(request, [p.id for p in posts], PAGE_SIZE))


@router.get("/tags/{tag}")
def tag(request: Request, session: DbSession, auth: OptionalAuth, tag: str,
        max_id: str | None = None) -> Response:
    me = viewer(auth)
    pg = Page(max_id=parse_max_id(max_id), limit=PAGE_SIZE)
    posts = social_q.tag_timeline(session, tag[:100], me.id if me else None, pg)
    return page(request, session, "feed.html", kind="tag", tag=social_rules.normalise_tag(tag),
                cards=build_cards(session, posts, me.id if me else None),
                older=older_link(request, [p.id for p in posts], PAGE_SIZE))


@router.get("/bookmarks")
def bookmarks(request: Request, session: DbSession, auth: OptionalAuth,
              max_id: str | None = None) -> Response:
    """The viewer's own bookmarks (posts that became invisible to them are left out)."""
    me = require_viewer(auth)
    rows = social_q.bookmarks(session, me.id, Page(max_id=parse_max_id(max_id),
                                                   limit=PAGE_SIZE))
    visible = [p for _bid, p in rows if social_q.can_view_post(session, p, me.id)]
    return page(request, session, "feed.html", kind="bookmarks",
                cards=build_cards(session, visible, me.id),
                older=older_link(request, [bid for bid, _p in rows], PAGE_SIZE))


@router.post("/compose")
def compose(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    text: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "",
    in_reply_to_id: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
    # Browsers send an empty file input as a part with filename="", which arrives as "".
    images: Annotated[list[UploadFile | str] | None, File()] = None,
) -> Response:
    """Publish a post (or a reply) with up to 9 images, then go back to `next`."""
    me = require_viewer(auth)
    files = [f for f in (images or []) if isinstance(f, StarletteUpload) and f.filename]
    form = {"text": text, "visibility": visibility or me.default_visibility,
            "in_reply_to_id": in_reply_to_id}
    nxt = safe_next(next)

    def again(status: int, errors: dict[str, str]) -> Response:
        return page(request, session, "compose.html", status=status, compose=form,
                    errors=errors, next=nxt)

    if not csrf_ok(request, auth, csrf_token):
        return again(403, {"base": CSRF_MESSAGE})
    try:
        reply_to: int | None = None
        if in_reply_to_id:
            try:
                reply_to = check_id(int(in_reply_to_id))
            except (ValueError, NotFound) as exc:
                raise Invalid("The post you reply to does not exist or is not visible to you",
                              field="in_reply_to_id", rule="exists") from exc
        if reply_to is not None and social_q.find_visible_post(session, reply_to, me.id) is None:
            raise Invalid("The post you reply to does not exist or is not visible to you",
                          field="in_reply_to_id", rule="exists")
        vis = visibility or me.default_visibility or "public"
        # Validate text and counts before storing any file, so a refused post leaves none.
        social_rules.check_post_input(text.replace("\r\n", "\n"), media_count=len(files),
                                      max_chars=settings.max_post_chars, visibility=vis)
        media_ids = []
        for f in files:
            raw = f.file.read(settings.max_upload_bytes + 1)
            m = media.upload_image(session, account_id=me.id, raw=raw,
                                   max_bytes=settings.max_upload_bytes,
                                   max_pixels=settings.max_image_pixels)
            media_ids.append(m.id)
        social.create_post(session, me.id, text=text, visibility=vis, media_ids=media_ids,
                           in_reply_to_id=reply_to)
    except DomainError as exc:
        discard(session)
        return again(422, form_errors(exc, COMPOSE_FIELDS, COMPOSE_RENAME))
    if nxt == "/":
        return redirect("/?posted=1")
    return redirect(nxt)
