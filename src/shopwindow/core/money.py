"""Money as integer minor units plus an ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass

_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency; arithmetic refuses to mix currencies."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError("currency must be an upper-case ISO 4217 code")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    @property
    def minor_digits(self) -> int:
        return _MINOR_DIGITS.get(self.currency, 2)

    def format(self) -> str:
        d = self.minor_digits
        sign = "-" if self.amount < 0 else ""
        a = abs(self.amount)
        if d == 0:
            return f"{sign}{a} {self.currency}"
        return f"{sign}{a // 10**d}.{a % 10**d:0{d}d} {self.currency}"
