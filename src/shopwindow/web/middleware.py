"""Security headers on every response."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
     b"form-action 'self' http: https:"),
]


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on hot paths)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, with_security_headers(send))


def with_security_headers(send: Send) -> Send:
    """`send` adding the security headers a response does not set itself to its start
    message (the middleware, and the front-door answers sent before it)."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            existing = {k.lower() for k, _ in headers}
            message["headers"] = headers + [
                (k, v) for k, v in SECURITY_HEADERS if k not in existing]
        await send(message)

    return send_with_headers


async def send_internal_error(scope: Scope, send: Send) -> None:
    """A 500 problem (+ security headers) for a front door whose handler failed after it
    consumed the request body (it cannot be served again through the app)."""
    body = (b'{"type":"https://shopwindow.dev/problems/internal","title":"Internal error",'
            b'"status":500,"detail":"Retry later","code":"internal"}')
    await send({"type": "http.response.start", "status": 500, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
