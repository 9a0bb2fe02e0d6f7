"""Map domain and validation errors to RFC 9457 problem details (Mastodon routes: {"error"})."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopwindow.core.errors import DomainError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def is_mastodon_route(request: Request) -> bool:
    p = request.url.path
    return p.startswith("/api/v1/") or p.startswith("/api/v2/") or p.startswith("/oauth/")


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/oauth/token", "/oauth/revoke")) and \
        "text/html" in request.headers.get("accept", "")


def problem(request: Request, status: int, title: str, detail: str, *, code: str,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """RFC 9457 body, or Mastodon's {"error": …} for Mastodon-compatible routes."""
    if is_mastodon_route(request):
        body: dict[str, Any] = {"error": detail}
        if errors:
            # Mastodon's 422 shape: {"error": "...", "details": {field: [{error, description}]}}
            details: dict[str, list[dict[str, str]]] = {}
            for e in errors:
                details.setdefault(e.get("field") or "base", []).append(
                    {"error": str(e.get("rule") or code).upper(),
                     "description": str(e.get("message") or detail)})
            body["details"] = details
        return JSONResponse(body, status_code=status, headers=headers)
    body = {"type": f"https://shopwindow.dev/problems/{code}", "title": title,
            "status": status, "detail": detail, "instance": request.url.path, "code": code}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Register the exception handlers."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if wants_html(request) and exc.status in (401, 403, 404):
            from shopwindow.web.templating import render_error

            return render_error(request, exc.status, exc.detail)
        return problem(request, exc.status, exc.title, exc.detail, code=exc.code,
                       errors=exc.errors or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path",
                                                                   "header", "form")]
            errors.append({"field": ".".join(loc) or "body", "rule": e.get("type", "invalid"),
                           "message": e.get("msg", "invalid")})
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        detail = f"{first['field']}: {first['message']}"
        return problem(request, 422, "Validation failed", detail, code="invalid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request) and exc.status_code in (401, 403, 404, 405):
            from shopwindow.web.templating import render_error

            return render_error(request, exc.status_code, str(exc.detail))
        return problem(request, exc.status_code, str(exc.detail), str(exc.detail),
                       code={401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
                           exc.status_code, "http_error"),
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # A concurrent duplicate write lost the race: a conflict, never a 500.
        log.info("integrity conflict on %s: %s", request.url.path, exc.orig)
        return problem(request, 409, "Conflict", "The change conflicts with existing data",
                       code="conflict")

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> Response:
        log.warning("database busy on %s: %s", request.url.path, exc.orig)
        return problem(request, 503, "Service busy", "Database is busy, retry shortly",
                       code="unavailable", headers={"Retry-After": "1"})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entry documenting problem+json bodies for these statuses."""
    return {s: {"content": {PROBLEM: {}}} for s in statuses}
