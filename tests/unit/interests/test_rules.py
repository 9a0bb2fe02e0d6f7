"""Pure interest rules: slugs, category mapping, decay, reasons, ranked score."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.core.errors import Invalid
from shopwindow.interests import rules

SLUGS = {s for s, _en, _zh in rules.DEFAULT_VERTICALS}


def test_defaults_are_twenty_unique_valid_slugs_with_both_names() -> None:
    assert len(rules.DEFAULT_VERTICALS) == 20 == len(SLUGS)
    for slug, en, zh in rules.DEFAULT_VERTICALS:
        assert rules.check_slug(slug) == slug and en and zh and en != zh


@pytest.mark.parametrize("bad", ["", "a", "Tea Time", "1tea", "tea_time", "x" * 41, "茶"])
def test_bad_slugs_name_the_field_and_rule(bad: str) -> None:
    with pytest.raises(Invalid) as e:
        rules.check_slug(bad)
    assert (e.value.field, e.value.rule) == ("slug", "pattern")


def test_category_mapping() -> None:
    assert rules.vertical_for_category("Beauty ", SLUGS) == "beauty"
    assert rules.vertical_for_category("electronics", SLUGS) == "digital"
    assert rules.vertical_for_category("camping", SLUGS) == "outdoors"
    assert rules.vertical_for_category("camping", SLUGS - {"outdoors"}) is None
    assert rules.vertical_for_category(None, SLUGS) is None
    assert rules.vertical_for_category("spaceships", SLUGS) is None


def test_decay_halves_every_half_life() -> None:
    day = 86400.0
    assert rules.decay(0, 30) == 1.0
    assert rules.decay(30 * day, 30) == pytest.approx(0.5)
    assert rules.decay(60 * day, 30) == pytest.approx(0.25)
    assert rules.decay(-5 * day, 30) == 1.0  # clock skew never boosts
    assert rules.decay(99 * day, 0) == 1.0  # 0 disables decay


@given(st.floats(0, 1e9), st.floats(0, 1e9), st.floats(0.1, 1000))
def test_decay_is_monotone_and_bounded(a: float, b: float, hl: float) -> None:
    lo, hi = sorted((a, b))
    assert 0.0 <= rules.decay(hi, hl) <= rules.decay(lo, hl) <= 1.0


def test_reasons_in_both_languages() -> None:
    r = rules.Reason("followed_by", count=3)
    assert r.text() == "Followed by 3 people you follow"
    assert r.text(zh=True) == "你关注的 3 人也关注了"
    assert rules.Reason("followed_by", count=1).text() == "Followed by 1 person you follow"
    v = rules.Reason("popular_in", name="Beauty", name_zh="美妆护肤")
    assert (v.text(), v.text(zh=True)) == ("Popular in Beauty", "美妆护肤热门")
    assert rules.Reason("because_bookmarked", name="Serum").text() == \
        "Because you bookmarked Serum"


def test_ranked_score_orders_by_interest_engagement_and_recency() -> None:
    hour = 3600.0
    assert rules.ranked_score(1.0, 0, hour) > rules.ranked_score(0.0, 0, hour)
    assert rules.ranked_score(0.0, 50, hour) > rules.ranked_score(0.0, 0, hour)
    assert rules.ranked_score(0.0, 0, hour) > rules.ranked_score(0.0, 0, 48 * hour)
    assert rules.ranked_score(0.5, 3, 12 * hour) == pytest.approx(
        rules.ranked_score(0.5, 3, 0) / 2)


def test_dismiss_kind() -> None:
    assert rules.check_dismiss_kind("account") == "account"
    with pytest.raises(Invalid) as e:
        rules.check_dismiss_kind("post")
    assert e.value.field == "kind"
