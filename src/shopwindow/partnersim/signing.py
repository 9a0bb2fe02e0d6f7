"""Standard Webhooks signatures (https://www.standardwebhooks.com/), via `standardwebhooks`.

    webhook-id:        the event id (stable across retries and replays: the idempotency key)
    webhook-timestamp: unix seconds of this delivery attempt
    webhook-signature: "v1," + base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}"))

The secret is "whsec_" + base64(key bytes); the HMAC key is the decoded bytes.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "generate_secret", "sign_headers", "verify"]


def generate_secret(nbytes: int = 24) -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def validate_secret(secret: str) -> None:
    """Raise ValueError unless `secret` is a usable whsec_<base64> secret."""
    try:
        Webhook(secret)
    except Exception as exc:
        raise ValueError(f"invalid webhook secret: {exc}") from exc


def sign_headers(secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    when = at or datetime.now(UTC)
    ts = int(when.timestamp())
    sig = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def verify(secret: str, body: bytes | str, headers: dict[str, str]) -> object:
    """Verify and return the parsed JSON; raises WebhookVerificationError."""
    return Webhook(secret).verify(body, headers)
