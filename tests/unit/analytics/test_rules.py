"""Pure analytics rules: device classes, language/region, validation, time clamping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.analytics import rules
from shopwindow.analytics.rules import EventIn
from shopwindow.core.errors import Invalid


@pytest.mark.parametrize(("ua", "device"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile Safari/537.36", "mobile"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X710) Chrome/131.0 Safari/537.36", "tablet"),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Safari/604.1", "tablet"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36", "desktop"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
    ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0 Safari/537.36", "bot"),
    ("curl/8.5.0", "bot"),
    ("", "unknown"),
    ("SomeApp/1.0", "unknown"),
])
def test_device_class(ua: str, device: str) -> None:
    assert rules.device_class(ua) == device


@pytest.mark.parametrize(("header", "lang", "region"), [
    ("zh-CN,zh;q=0.9,en;q=0.5", "zh-CN", "CN"),
    ("en;q=0.4, de-at;q=0.8", "de-AT", "AT"),
    ("fr", "fr", ""),
    ("*, ;q=bad, !!", "", ""),
    ("", "", ""),
])
def test_language_and_region(header: str, lang: str, region: str) -> None:
    assert rules.lang_from_header(header) == lang
    assert rules.region_from_header(header) == region


@pytest.mark.parametrize(("kw", "field", "rule"), [
    ({"type": "teleport"}, "type", "one_of"),
    ({"object_type": "planet"}, "object_type", "one_of"),
    ({"surface": "moon"}, "surface", "one_of"),
    ({"device": "fridge"}, "device", "one_of"),
    ({"post_id": 0}, "post_id", "id"),
    ({"creator_id": 1 << 63}, "creator_id", "id"),
    ({"value": -1}, "value", "range"),
    ({"type": "read", "value": rules.MAX_DWELL_MS + 1}, "value", "max_dwell"),
    ({"type": "order", "value": 100}, "currency", "iso4217"),
    ({"currency": "CNY"}, "currency", "not_money"),
    ({"vertical": "<script>"}, "vertical", "label"),
    ({"lang": "english please"}, "lang", "bcp47"),
    ({"dedup_key": "x" * 65}, "dedup_key", "length"),
])
def test_check_event_names_field_and_rule(kw: dict[str, object], field: str,
                                          rule: str) -> None:
    ev = EventIn(**{"type": "impression", "object_type": "post", **kw})  # type: ignore[arg-type]
    with pytest.raises(Invalid) as exc:
        rules.check_event(ev, prefix="events[2].")
    assert exc.value.field == f"events[2].{field}" and exc.value.rule == rule


def test_money_event_with_currency_is_valid() -> None:
    rules.check_event(EventIn(type="order", object_type="order", value=12_900,
                              currency="CNY"))


@given(offset=st.integers(-10**7, 10**7))
def test_client_time_is_clamped_to_receive_time(offset: int) -> None:
    received = datetime(2026, 12, 6, 12, tzinfo=UTC)
    got = rules.clamp_occurred(received + timedelta(seconds=offset), received)
    assert abs(got - received) <= rules.CLOCK_SKEW
    if abs(offset) <= rules.CLOCK_SKEW.total_seconds():
        assert got == received + timedelta(seconds=offset)


def test_parse_time() -> None:
    assert rules.parse_time(None, "t") is None
    assert rules.parse_time(0, "t") == datetime(1970, 1, 1, tzinfo=UTC)
    assert rules.parse_time("2026-12-06T01:02:03Z", "t") == datetime(2026, 12, 6, 1, 2, 3,
                                                                    tzinfo=UTC)
    for bad in ("soon", True, 10**30, [1]):
        with pytest.raises(Invalid):
            rules.parse_time(bad, "t")


def test_click_surfaces_of_the_hand_off_map_to_report_surfaces() -> None:
    from shopwindow.tracking.rules import SURFACES as HANDOFF_SURFACES

    assert rules.click_surface("feed") == "home"
    assert rules.click_surface("search") == "discover"
    assert rules.click_surface("promotion") == "promoted"
    assert rules.click_surface("middle_page") == "middle_page"
    assert rules.click_surface("cart") == "other"
    assert rules.click_surface(None) == "other" and rules.click_surface("<x>") == "other"
    # every place the hand-off records lands on a report surface
    assert {rules.click_surface(s) for s in HANDOFF_SURFACES} <= rules.SURFACES
