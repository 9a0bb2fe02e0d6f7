"""Liveness/readiness and a trivial endpoint for benchmarks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with request.app.state.db.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"
        return JSONResponse({"status": "unavailable", "detail": type(exc).__name__},
                            status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/ping", include_in_schema=False)
async def ping() -> PlainTextResponse:
    """Trivial endpoint: the baseline that benchmarks compare against."""
    return PlainTextResponse("pong")
