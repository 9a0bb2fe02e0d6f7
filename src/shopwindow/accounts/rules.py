"""Pure account policies: plain values in, plain values out."""

from __future__ import annotations

import base64
import hashlib
import re

from shopwindow.core.errors import Invalid

ROLES = ("fan", "creator", "brand", "operator")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
RESERVED_USERNAMES = frozenset(
    {"admin", "root", "operator", "api", "oauth", "settings", "about", "static", "media",
     "auth", "login", "logout", "signup", "signin", "healthz", "tags", "notifications",
     "home", "public", "explore", "shopwindow", "support", "help", "instance"}
)
TOP_SCOPES = ("read", "write", "follow", "push", "profile")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
BIO_MAX = 500
DISPLAY_NAME_MAX = 60


def check_username(username: str) -> str:
    """Return the username if valid, else raise Invalid naming the rule."""
    if not USERNAME_RE.match(username or ""):
        raise Invalid(
            "Username must be 1-30 letters, digits or underscores",
            field="username",
            rule="pattern:^[A-Za-z0-9_]{1,30}$",
        )
    if username.lower() in RESERVED_USERNAMES:
        raise Invalid("This username is reserved", field="username", rule="reserved")
    return username


def check_password(password: str) -> str:
    """Password length policy (NIST 800-63B style: length, no composition rules)."""
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(
            f"Password must be at least {MIN_PASSWORD} characters",
            field="password",
            rule=f"min_length:{MIN_PASSWORD}",
        )
    if len(password) > MAX_PASSWORD:
        raise Invalid(
            f"Password must be at most {MAX_PASSWORD} characters",
            field="password",
            rule=f"max_length:{MAX_PASSWORD}",
        )
    return password


def check_email(email: str) -> str:
    """Syntactic e-mail check (deliverability is not checked offline)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(email or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"E-mail is not valid: {exc}", field="email", rule="email") from exc


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}", field="role", rule="enum")
    return role


def parse_scopes(scopes: str | None, default: str = "read") -> list[str]:
    """Split and validate an OAuth scope string (top-level and Mastodon granular scopes)."""
    raw = (scopes or default).replace("+", " ").split()
    out: list[str] = []
    for s in raw:
        top = s.split(":", 1)[0]
        if top not in TOP_SCOPES and not s.startswith("admin:"):
            raise Invalid(f"Unknown scope {s!r}", field="scope", rule="oauth_scope")
        if s not in out:
            out.append(s)
    return out


def scopes_allow(granted: list[str] | str, needed: str) -> bool:
    """True if the granted scopes cover `needed` (e.g. 'write:statuses' or 'read')."""
    g = granted.split() if isinstance(granted, str) else granted
    if needed in g:
        return True
    top = needed.split(":", 1)[0]
    if top in g:
        return True
    # Mastodon: 'follow' is an alias for read:follows write:follows write:blocks write:mutes
    if "follow" in g and needed in (
        "read:follows", "write:follows", "write:blocks", "write:mutes", "read:blocks",
        "read:mutes",
    ):
        return True
    return False


def scopes_subset(requested: list[str], allowed: list[str]) -> bool:
    """Every requested scope is covered by the app's registered scopes."""
    return all(scopes_allow(allowed, s) for s in requested)


def pkce_verify(verifier: str, challenge: str, method: str | None) -> bool:
    """RFC 7636 check; only S256 is accepted (plain is refused as downgrade-prone)."""
    if method != "S256" or not verifier or not (43 <= len(verifier) <= 128):
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    import hmac

    return hmac.compare_digest(expected, challenge)


def redirect_uri_allowed(uri: str, registered: list[str]) -> bool:
    """Exact match against the registered redirect URIs (no prefix matching)."""
    return uri in registered


def hash_token(token: str) -> str:
    """SHA-256 of a bearer secret: tokens are high-entropy, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
