"""Cursor pagination over sortable ids (Mastodon's max_id / since_id / min_id)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """A request for one page, newest first unless min_id is given."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    @staticmethod
    def of(
        max_id: str | int | None = None,
        since_id: str | int | None = None,
        min_id: str | int | None = None,
        limit: int | None = 20,
        max_limit: int = 40,
    ) -> Page:
        def parse(v: str | int | None) -> int | None:
            if v is None or v == "":
                return None
            try:
                return int(v)
            except (TypeError, ValueError):
                return None

        lim = 20 if limit is None else max(1, min(int(limit), max_limit))
        return Page(parse(max_id), parse(since_id), parse(min_id), lim)
