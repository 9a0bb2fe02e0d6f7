"""The hand-off's own query-string reader (it replaces Starlette's on the hot path)."""

from __future__ import annotations

from shopwindow.tracking.pages import _query


def test_query_reads_surface_and_promotion() -> None:
    assert _query(b"") == ("", "")
    assert _query(b"s=feed") == ("feed", "")
    assert _query(b"p=12&s=middle_page&x=1") == ("middle_page", "12")
    assert _query(b"s&p=") == ("", "")
    # Percent-encoded or '+' values are decoded like any query string.
    assert _query(b"s=mid%64le_page&p=1%32") == ("middle_page", "12")
    assert _query(b"s=a+b") == ("a b", "")
    # The last value wins, as with Starlette's QueryParams.get on a dict of pairs.
    assert _query(b"s=feed&s=cart") == ("cart", "")
