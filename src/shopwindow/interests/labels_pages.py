"""Operator page for ability labels: look an account up, set or remove its labels, add
training examples. Plain forms that post and redirect; errors shown inline."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import DomainError, Forbidden, NotFound
from shopwindow.interests import labels_actions as actions
from shopwindow.interests import labels_queries as queries
from shopwindow.web.deps import DbSession, OptionalAuth, form_value
from shopwindow.web.pages.common import (
    PageRoute,
    discard,
    form_errors,
    page,
    redirect,
    require_csrf,
    require_viewer,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
EXAMPLES_SHOWN = 20


def _operator(auth: Any) -> int:
    me = require_viewer(auth)
    if me.role != "operator":
        raise Forbidden("Only operators may see this page", field="role", rule="role:operator")
    return int(me.id)


def _render(request: Request, session: Session, *, username: str = "", status: int = 200,
            **ctx: Any) -> Response:
    account = None
    if username:
        try:
            account = accounts_q.get_by_username(session, username.strip().lstrip("@"))
        except NotFound:
            ctx.setdefault("lookup_error", True)
    ctx.setdefault("errors", {})
    ctx.setdefault("example", {"text": "", "vertical": ""})
    ctx.setdefault("saved", None)
    return page(
        request, session, "interests/labels_operator.html", status=status,
        account=account, username=username,
        verticals=queries.vertical_names(session),
        labels=queries.account_labels(session, account.id, include_removed=True)
        if account else [],
        declared=queries.declared_verticals(session, account.id) if account else [],
        examples=queries.list_examples(session, limit=EXAMPLES_SHOWN), **ctx)


@router.get("/operator/labels")
def labels_page(request: Request, session: DbSession, auth: OptionalAuth, u: str = "",
                saved: str | None = None) -> Response:
    """Look up an account's labels; recent training examples."""
    _operator(auth)
    return _render(request, session, username=u[:60], saved=saved)


def _account(session: Session, raw: str) -> Any:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound("No such account", field="account_id", rule="exists")
    return accounts_q.get_account(session, int(raw))


@router.post("/operator/labels/{account_id}/{action}")
async def correct(account_id: str, action: str, request: Request, session: DbSession,
                  auth: OptionalAuth) -> Response:
    """set / remove a vertical on an account."""
    me = _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    acct = _account(session, account_id)
    vertical = form_value(form, "vertical")
    try:
        if action == "set":
            actions.set_label(session, me, acct.id, vertical)
        elif action == "remove":
            actions.remove_label(session, me, acct.id, vertical)
        else:
            raise NotFound("Not found", field="action", rule="exists")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        discard(session)
        return _render(request, session, username=acct.username, status=422,
                       errors=form_errors(exc, ("vertical",)))
    return redirect(f"/operator/labels?u={quote(acct.username)}&saved={action}")


@router.post("/operator/labels/examples")
async def add_example(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Add one labelled training example."""
    me = _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    ex = {"text": form_value(form, "text"), "vertical": form_value(form, "vertical")}
    try:
        actions.add_example(session, me, text=ex["text"], vertical=ex["vertical"])
    except DomainError as exc:
        discard(session)
        return _render(request, session, status=422, example=ex,
                       errors=form_errors(exc, ("text", "vertical")))
    return redirect("/operator/labels?saved=example")
