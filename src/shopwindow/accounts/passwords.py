"""argon2id password hashing with configurable cost."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shopwindow.config import get_settings

# A valid hash of a random password: verifying against it for unknown users keeps sign-in
# time the same whether or not the account exists.
_DUMMY: str | None = None


@lru_cache
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.password_time_cost, s.password_memory_cost)


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Constant-work verification; False for a missing account."""
    global _DUMMY
    h = hasher()
    if stored is None:
        if _DUMMY is None:
            _DUMMY = h.hash("not-a-real-password-9f8e7d")
        stored = _DUMMY
        try:
            h.verify(stored, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return h.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
