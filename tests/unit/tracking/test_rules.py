"""Pure tracking rules: click flags, signatures, attribution reasons, commission math."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.partnersim.signing import generate_secret
from shopwindow.tracking import rules

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("ua", [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A", "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0", "python-requests/2.31", "Wget/1.21",
])
def test_bots_and_previewers_are_flagged(ua: str) -> None:
    assert rules.is_bot(ua) and rules.flag_for("GET", ua) == "bot"


@pytest.mark.parametrize("ua", [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36 "
    "MicroMessenger/8.0.47",
])
def test_browsers_are_not_flagged(ua: str) -> None:
    assert rules.flag_for("GET", ua) is None
    assert rules.flag_for("HEAD", ua) == "head"
    assert rules.flag_for("GET", "") == "no_user_agent"


def test_tokens_are_unguessable_and_partner_safe() -> None:
    toks = {rules.new_click_token() for _ in range(1000)}
    assert len(toks) == 1000 and all(rules.looks_like_token(t) for t in toks)
    assert all(len(t) == 30 for t in toks)
    # 128 random bits after the time prefix: the random parts are all different too.
    assert len({t[rules.TOKEN_PREFIX:] for t in toks}) == 1000
    # Tokens minted before the time prefix existed are still recognised.
    assert rules.looks_like_token("A" * 22) and not rules.looks_like_token("A" * 21)
    assert not rules.looks_like_token("A" * 29) and not rules.looks_like_token("A/" * 15)


def test_token_prefixes_sort_by_time() -> None:
    # The index on tracking_click.token grows at its right edge only if later tokens sort
    # after earlier ones (byte order, as SQLite compares text).
    times = [1_600_000_000_000, 1_600_000_000_001, 1_600_000_000_063, 1_600_000_000_064,
             1_700_000_000_000, 1_800_000_123_456, 4_000_000_000_000]
    toks = [rules.new_click_token(at_ms=ms) for ms in times]
    assert [t[:rules.TOKEN_PREFIX] for t in toks] == sorted(t[:rules.TOKEN_PREFIX] for t in toks)
    assert len({t[:rules.TOKEN_PREFIX] for t in toks}) == len(times)


def test_surfaces() -> None:
    assert rules.surface_of("feed") == "feed" and rules.surface_of("<script>") == "other"
    assert rules.surface_of(None) == "other"


def _signed(secret: str, at: datetime, body: bytes = b'{"a": 1}') -> dict[str, str]:
    return rules.sign(secret, "evt_1", at, body)


def test_signature_accepts_good_and_rotated_keys() -> None:
    secret = generate_secret()
    h = _signed(secret, NOW)
    assert rules.verify_signature(secret, h, b'{"a": 1}', NOW, 300) == "evt_1"
    h["webhook-signature"] = "v1,AAAA " + h["webhook-signature"]
    assert rules.verify_signature(secret, h, b'{"a": 1}', NOW, 300) == "evt_1"


@pytest.mark.parametrize("mutate,reason", [
    (lambda h, b: ({**h, "webhook-signature": "v1,Zm9v"}, b), "bad_signature"),
    (lambda h, b: (h, b + b" "), "bad_signature"),
    (lambda h, b: ({**h, "webhook-id": "evt_2"}, b), "bad_signature"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing_headers"),
    (lambda h, b: ({**h, "webhook-timestamp": "12x"}, b), "bad_timestamp"),
    (lambda h, b: ({**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}, b),
     "bad_signature"),
])
def test_signature_refusals(mutate, reason) -> None:
    secret = generate_secret()
    body = json.dumps({"a": 1}).encode()
    h, b = mutate(_signed(secret, NOW, body), body)
    with pytest.raises(rules.SignatureError) as ei:
        rules.verify_signature(secret, h, b, NOW, 300)
    assert ei.value.reason == reason


def test_timestamp_tolerance_uses_the_given_clock() -> None:
    secret = generate_secret()
    for skew, ok in [(299, True), (-299, True), (301, False), (-301, False)]:
        h = _signed(secret, NOW + timedelta(seconds=skew))
        if ok:
            rules.verify_signature(secret, h, b'{"a": 1}', NOW, 300)
        else:
            with pytest.raises(rules.SignatureError, match="stale_timestamp"):
                rules.verify_signature(secret, h, b'{"a": 1}', NOW, 300)


def test_attribution_reasons() -> None:
    ok = rules.ClickFacts(None, NOW - timedelta(days=1))
    kw = dict(placed_at=NOW, window_days=7, order_currency="CNY", partner_currency="CNY")
    assert rules.attribution_reason(ok, tracking_id="t", **kw) is None
    assert rules.attribution_reason(ok, tracking_id=None, **kw) == "no_tracking_id"
    assert rules.attribution_reason(None, tracking_id="t", **kw) == "unknown_click"
    assert rules.attribution_reason(rules.ClickFacts("bot", NOW), tracking_id="t",
                                    **kw) == "flagged_click"
    assert rules.attribution_reason(rules.ClickFacts(None, NOW - timedelta(days=8)),
                                    tracking_id="t", **kw) == "click_expired"
    assert rules.attribution_reason(rules.ClickFacts(None, NOW + timedelta(hours=1)),
                                    tracking_id="t", **kw) == "click_after_order"
    assert rules.attribution_reason(ok, tracking_id="t", **{**kw, "order_currency": "USD"}) \
        == "foreign_currency"
    assert rules.attribution_reason(rules.ClickFacts(None, NOW, True), tracking_id="t",
                                    **kw) == "creator_deleted"


def test_pick_click() -> None:
    c = [(NOW, 2), (NOW - timedelta(hours=1), 1), (NOW + timedelta(minutes=1), 3)]
    assert rules.pick_click(c, "last_click") == 3
    assert rules.pick_click(c, "first_click") == 1
    assert rules.pick_click([], "last_click") is None


def test_line_commission_rounds_half_even() -> None:
    assert rules.line_commission(10000, 1000) == 1000
    assert rules.line_commission(5, 1000) == 0  # 0.5 → 0
    assert rules.line_commission(15, 1000) == 2  # 1.5 → 2
    assert rules.line_commission(0, 1000) == 0 and rules.line_commission(100, 0) == 0


amounts = st.integers(min_value=1, max_value=10**9)
bps = st.integers(min_value=0, max_value=10_000)


@given(st.lists(st.tuples(amounts, bps), min_size=1, max_size=20))
def test_per_line_commission_is_within_half_a_unit_of_the_exact_value(lines) -> None:
    total = sum(rules.line_commission(a, r) for a, r in lines)
    exact = sum(a * r for a, r in lines) / 10_000
    assert abs(total - exact) <= len(lines) / 2
    assert all(0 <= rules.line_commission(a, r) <= a for a, r in lines)


@given(amounts, bps, st.lists(st.integers(min_value=0, max_value=10**9), max_size=10))
def test_refund_reversals_grow_and_never_exceed_the_commission(amount, rate, refunds) -> None:
    commission = rules.line_commission(amount, rate)
    cumulative, last = 0, 0
    for r in refunds:
        cumulative = min(amount, cumulative + r)
        target = rules.reversal_target(commission, cumulative, amount, False)
        assert last <= target <= commission
        last = target
    assert rules.reversal_target(commission, amount, amount, False) == commission
    assert rules.reversal_target(commission, 0, amount, True) == commission
    assert rules.reversal_target(commission, 10 * amount, amount, False) == commission
