"""Domain errors with stable codes; the web layer maps them to HTTP problem details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a domain raises on purpose."""

    code = "invalid"
    status = 422
    title = "Invalid request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.rule = rule
        self.errors = errors or (
            [{"field": field, "rule": rule, "message": detail}] if field else []
        )


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    title = "Authentication required"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict"


class RuleViolation(DomainError):
    code = "rule_violation"
    status = 422
    title = "Rule violation"


class Invalid(DomainError):
    code = "invalid"
    status = 422
    title = "Validation failed"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"
