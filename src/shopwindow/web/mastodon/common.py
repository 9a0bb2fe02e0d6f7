"""Helpers shared by the Mastodon routes: auth scopes, paging, Link headers, request bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from starlette.datastructures import UploadFile

from shopwindow.accounts import rules as account_rules
from shopwindow.accounts.models import Account
from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.core.pagination import Page
from shopwindow.web.deps import OptionalAuth, user

# ------------------------------------------------------------------ auth


def viewer(scope: str) -> Callable[..., Account | None]:
    """Dependency for routes that also work signed out (public reads).

    No credentials: None. A token must still carry `scope` (403 otherwise), an invalid token
    is a 401 (resolved by OptionalAuth), and an app token reads as signed out.
    """

    def dep(auth: OptionalAuth) -> Account | None:
        if auth is None:
            return None
        if not account_rules.scopes_allow(auth.scopes, scope):
            raise Forbidden(f"This action is outside the token's scope ({scope})",
                            field="scope", rule=f"requires:{scope}")
        return auth.account

    return dep


# Authenticated-user dependencies by Mastodon scope (`follow` covers the graph scopes).
ReadAccounts = Annotated[Account, Depends(user("read:accounts"))]
WriteAccounts = Annotated[Account, Depends(user("write:accounts"))]
ReadStatuses = Annotated[Account, Depends(user("read:statuses"))]
WriteStatuses = Annotated[Account, Depends(user("write:statuses"))]
ReadFollows = Annotated[Account, Depends(user("read:follows"))]
WriteFollows = Annotated[Account, Depends(user("write:follows"))]
ReadBlocks = Annotated[Account, Depends(user("read:blocks"))]
WriteBlocks = Annotated[Account, Depends(user("write:blocks"))]
ReadMutes = Annotated[Account, Depends(user("read:mutes"))]
WriteMutes = Annotated[Account, Depends(user("write:mutes"))]
ReadNotifications = Annotated[Account, Depends(user("read:notifications"))]
WriteNotifications = Annotated[Account, Depends(user("write:notifications"))]
ReadBookmarks = Annotated[Account, Depends(user("read:bookmarks"))]
WriteBookmarks = Annotated[Account, Depends(user("write:bookmarks"))]
ReadFavourites = Annotated[Account, Depends(user("read:favourites"))]
WriteFavourites = Annotated[Account, Depends(user("write:favourites"))]
WriteMedia = Annotated[Account, Depends(user("write:media"))]
ReadLists = Annotated[Account, Depends(user("read:lists"))]
ReadFilters = Annotated[Account, Depends(user("read:filters"))]

ViewerAccounts = Annotated[Account | None, Depends(viewer("read:accounts"))]
ViewerStatuses = Annotated[Account | None, Depends(viewer("read:statuses"))]


def viewer_id(acct: Account | None) -> int | None:
    return acct.id if acct is not None else None


# ------------------------------------------------------------------ paging


def paging(default: int = 20, maximum: int = 40) -> Callable[..., Page]:
    """Dependency: Mastodon's max_id / since_id / min_id / limit as a Page.

    Unparseable cursors are ignored (as Mastodon does); a non-integer limit is a 422.
    """

    def dep(max_id: str | None = None, since_id: str | None = None,
            min_id: str | None = None, limit: int | None = None) -> Page:
        return Page.of(_cursor(max_id), _cursor(since_id), _cursor(min_id),
                       default if limit is None else limit, maximum)

    return dep


_MAX_ID = (1 << 63) - 1


def _cursor(v: str | None) -> int | None:
    """A cursor clamped to the BIGINT range (out-of-range values still mean "before/after
    everything"); unparseable ones are ignored."""
    if v is None or v == "":
        return None
    try:
        i = int(v)
    except ValueError:
        return None
    return max(0, min(i, _MAX_ID))


StatusPage = Annotated[Page, Depends(paging(20, 40))]
AccountPage = Annotated[Page, Depends(paging(40, 80))]
NotificationPage = Annotated[Page, Depends(paging(40, 80))]


def set_link_header(request: Request, response: Response, ids: list[int]) -> None:
    """Mastodon pagination: Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev".

    `ids` are the paging cursors of the page's rows (row ids, not necessarily entity ids).
    URLs are built on the configured base URL so they stay right behind a proxy.
    """
    if not ids:
        return
    base = request.app.state.settings.base_url.rstrip("/") + request.url.path
    keep = [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("max_id", "min_id", "since_id")]

    def url(extra: dict[str, str]) -> str:
        return f"{base}?{urlencode(keep + list(extra.items()))}"

    response.headers["Link"] = (f'<{url({"max_id": str(min(ids))})}>; rel="next", '
                                f'<{url({"min_id": str(max(ids))})}>; rel="prev"')


def query_list(request: Request, name: str) -> list[str]:
    """Array query parameters as clients send them: name[]=a&name[]=b (or name=a)."""
    vals = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    return [v for v in vals if v != ""]


# ------------------------------------------------------------------ bodies


def reject_nul(request: Request) -> None:
    """Router dependency: NUL in a path or query value is never valid (PostgreSQL text
    cannot store it, so it would otherwise surface as a database error)."""
    for k, v in [*request.path_params.items(), *request.query_params.multi_items()]:
        if "\x00" in str(v) or "\x00" in k:
            raise Invalid(f"{k} must not contain NUL characters", field=str(k).rstrip("[]"),
                          rule="no_nul")


async def body_params(request: Request) -> dict[str, Any]:
    """Mastodon accepts JSON, form-encoded and multipart bodies; arrays as key[]."""
    ctype = request.headers.get("content-type", "")
    out: dict[str, Any] = {}
    if ctype.startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as exc:
            raise Invalid("Body is not valid JSON", field="body", rule="json") from exc
        if not isinstance(data, dict):
            raise Invalid("Body must be a JSON object", field="body", rule="object")
        return data
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for k, v in form.multi_items():
            if k.endswith("[]"):
                out.setdefault(k[:-2], []).append(v)
            else:
                out[k] = v
    for k, v in request.query_params.multi_items():
        if k.endswith("[]"):
            out.setdefault(k[:-2], []).append(v)
        else:
            out.setdefault(k, v)
    return out


# Dependency: the parsed body (JSON / form / multipart / query) as a dict.
Params = Annotated[dict[str, Any], Depends(body_params)]


def as_bool(v: Any, field: str, default: bool = False) -> bool:
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    s = str(v).lower() if isinstance(v, str) else ""
    if s in ("1", "true", "on", "yes"):
        return True
    if s in ("0", "false", "off", "no"):
        return False
    raise Invalid(f"{field} must be a boolean", field=field, rule="boolean")


def as_str(v: Any, field: str, default: str = "") -> str:
    if v is None:
        return default
    if isinstance(v, str):
        if "\x00" in v:
            raise Invalid(f"{field} must not contain NUL characters", field=field,
                          rule="no_nul")
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise Invalid(f"{field} must be a string", field=field, rule="string")


def as_id(v: Any, field: str = "id") -> int:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise Invalid(f"{field} must be an id", field=field, rule="id")
    try:
        i = int(str(v))
    except ValueError as exc:
        raise Invalid(f"{field} must be an id", field=field, rule="id") from exc
    if i < 0 or i >= 1 << 63:
        raise Invalid(f"{field} is out of range", field=field, rule="id")
    return i


def as_str_list(v: Any, field: str) -> list[str]:
    if v is None or v == "":
        return []
    if not isinstance(v, list):
        v = [v]
    return [as_str(x, field) for x in v]


def parse_path_id(v: str) -> int:
    """Path ids that are not numbers cannot exist: 404, like Mastodon."""
    try:
        i = int(v)
    except ValueError as exc:
        raise NotFound("Record not found") from exc
    if i < 0 or i >= 1 << 63:
        raise NotFound("Record not found")
    return i


def as_id_list(v: Any, field: str) -> list[int]:
    if v is None or v == "":
        return []
    if not isinstance(v, list):
        v = [v]
    return [as_id(x, field) for x in v]


def as_focus(v: Any, field: str = "focus") -> tuple[float, float] | None:
    """Mastodon focal point "x,y" with both in [-1, 1] (or a JSON {x, y} / [x, y])."""
    if v is None or v == "":
        return None
    try:
        if isinstance(v, dict):
            x, y = float(v["x"]), float(v["y"])
        elif isinstance(v, list) and len(v) == 2:
            x, y = float(v[0]), float(v[1])
        elif isinstance(v, str):
            xs, ys = v.split(",")
            x, y = float(xs), float(ys)
        else:
            raise ValueError(v)
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid("focus must be two numbers \"x,y\"", field=field, rule="focus") from exc
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise Invalid("focus coordinates must be between -1.0 and 1.0", field=field,
                      rule="range:-1,1")
    return (x, y)


def read_upload(v: Any, field: str, max_bytes: int, *, required: bool = True) -> bytes | None:
    """Bytes of a multipart file field, reading at most one byte past the limit."""
    if v is None or v == "":
        if required:
            raise Invalid(f"{field} is required", field=field, rule="required")
        return None
    if not isinstance(v, UploadFile):
        raise Invalid(f"{field} must be a file upload (multipart/form-data)", field=field,
                      rule="file")
    v.file.seek(0)
    return v.file.read(max_bytes + 1)


def check_body_size(request: Request) -> None:
    """Refuse uploads whose declared size is far beyond the limit before parsing them."""
    settings = request.app.state.settings
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        declared = 0
    if declared > settings.max_upload_bytes * 2 + 1024 * 1024:
        raise Invalid(f"File is larger than {settings.max_upload_bytes // (1024 * 1024)} MiB",
                      field="file", rule=f"max_bytes:{settings.max_upload_bytes}")


BodySizeChecked = Depends(check_body_size)
