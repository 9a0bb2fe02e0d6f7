"""Helpers shared by the Mastodon routes: pagination Link headers, request bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response

from shopwindow.core.errors import Invalid


def set_link_header(request: Request, response: Response, ids: list[int]) -> None:
    """Mastodon pagination: Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev"."""
    if not ids:
        return
    base = str(request.base_url).rstrip("/") + request.url.path
    keep = {k: v for k, v in request.query_params.multi_items()
            if k not in ("max_id", "min_id", "since_id")}

    def url(extra: dict[str, str]) -> str:
        q = list(keep.items()) + list(extra.items())
        return f"{base}?{urlencode(q)}"

    response.headers["Link"] = (f'<{url({"max_id": str(min(ids))})}>; rel="next", '
                                f'<{url({"min_id": str(max(ids))})}>; rel="prev"')


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


def as_bool(v: Any, field: str, default: bool = False) -> bool:
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    s = str(v).lower()
    if s in ("1", "true", "on", "yes"):
        return True
    if s in ("0", "false", "off", "no"):
        return False
    raise Invalid(f"{field} must be a boolean", field=field, rule="boolean")


def as_str(v: Any, field: str, default: str = "") -> str:
    if v is None:
        return default
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise Invalid(f"{field} must be a string", field=field, rule="string")


def as_id(v: Any, field: str = "id") -> int:
    try:
        i = int(str(v))
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{field} must be an id", field=field, rule="id") from exc
    if i < 0 or i >= 1 << 63:
        raise Invalid(f"{field} is out of range", field=field, rule="id")
    return i


def parse_path_id(v: str) -> int:
    """Path ids that are not numbers cannot exist: 404, like Mastodon."""
    from shopwindow.core.errors import NotFound

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


# Dependency: the parsed body (JSON / form / multipart / query) as a dict.
from typing import Annotated  # noqa: E402

from fastapi import Depends  # noqa: E402

Params = Annotated[dict[str, Any], Depends(body_params)]
