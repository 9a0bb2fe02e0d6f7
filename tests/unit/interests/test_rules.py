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


def _facets(item: tuple[str, str, str | None]) -> dict[str, str | None]:
    return {"creator": item[0], "shop": item[1], "vertical": item[2]}


def test_diversify_keeps_the_order_when_nothing_repeats() -> None:
    scored = [(5.0, ("a", "s1", "beauty")), (4.0, ("b", "s2", "tech")),
              (3.0, ("c", "s3", None)), (2.0, ("d", "s4", "food"))]
    assert rules.diversify(scored, 3, _facets) == scored[:3]
    assert rules.diversify(scored, 10, _facets) == scored


def test_diversify_spreads_one_creators_products_over_the_page() -> None:
    one = [(10.0 - i * 0.1, ("star", f"s{i}", None)) for i in range(6)]
    others = [(7.0, ("b", "t1", None)), (6.0, ("c", "t2", None))]
    got = rules.diversify(one + others, 5, _facets, {"creator": 0.5})
    creators = [item[0] for _s, item in got]
    # 10 → 9.9·0.5 = 4.95 < 7: the next place goes to b, then c (6 > 4.95), then star again
    assert creators == ["star", "b", "c", "star", "star"]
    assert [s for s, _ in got] == [10.0, 7.0, 6.0, 9.9, 9.8]  # original scores kept


def test_diversify_defaults_keep_a_narrow_interest_ahead_of_unrelated_products() -> None:
    # four products of one creator in the account's only interest (score 1.25) against
    # unrelated popular products (0.25, other creators and verticals)
    mine = [(1.25, ("tess", "shop", "digital")) for _ in range(5)]
    unrelated = [(0.25, (f"x{i}", "shop", f"v{i}")) for i in range(3)]
    got = [item[0] for _s, item in rules.diversify(mine + unrelated, 5, _facets)]
    assert got[:4] == ["tess"] * 4
    assert got[4] == "x0"  # the fifth: 1.25 × 0.7⁴ × 0.95⁴ × 0.9⁴ < 0.25 × 0.95⁴


def test_diversify_penalties_multiply_across_facets_and_ignore_none() -> None:
    scored = [(1.0, ("a", "shop", "beauty")), (0.9, ("b", "shop", "beauty")),
              (0.6, ("c", "other", "tech")), (0.5, ("d", None, None))]
    pens = {"creator": 0.5, "shop": 0.7, "vertical": 0.85}
    got = [item[0] for _s, item in rules.diversify(scored, 4, _facets, pens)]
    # after a: b = 0.9 × 0.7 × 0.85 = 0.5355 < 0.6 (c), and > 0.5 (d: no facets, no penalty)
    assert got == ["a", "c", "b", "d"]
    # without a shop penalty b stays ahead of c: 0.9 × 0.85 = 0.765
    got = [item[0] for _s, item in rules.diversify(scored, 4, _facets, {"vertical": 0.85})]
    assert got == ["a", "b", "c", "d"]
    assert rules.diversify([], 3, _facets) == []


def _diversify_reference(scored: list[tuple[float, tuple[str, str, str | None]]], k: int,
                         pens: dict[str, float]) -> list[tuple[float, tuple[str, str, str | None]]]:
    """The plain O(k·n) greedy that `diversify` must equal."""
    used: dict[tuple[str, str], int] = {}
    left, out = list(range(len(scored))), []
    while left and len(out) < k:
        def eff(i: int) -> float:
            v = scored[i][0]
            for f, val in _facets(scored[i][1]).items():
                if val is not None and f in pens:
                    v *= pens[f] ** used.get((f, val), 0)
            return v
        best = max(left, key=lambda i: (eff(i), -i))
        left.remove(best)
        out.append(scored[best])
        for f, val in _facets(scored[best][1]).items():
            if val is not None and f in pens:
                used[(f, val)] = used.get((f, val), 0) + 1
    return out


def test_diversify_equals_the_plain_greedy_on_random_pages() -> None:
    import random

    rng = random.Random(7)
    for trial in range(200):
        n = rng.randint(0, 60)
        scored = [(float(rng.choice([0.5, 1.0, 1.25, rng.random() * 3])),
                   (f"c{rng.randint(0, 5)}", f"s{rng.randint(0, 2)}",
                    rng.choice([None, "beauty", "tech", "food"]))) for _ in range(n)]
        pens = rng.choice([dict(rules.DIVERSITY_PENALTIES), {"creator": 0.5},
                           {"creator": 0.7, "vertical": 1.0}, {}])
        k = rng.randint(1, 70)
        want = _diversify_reference(scored, k, pens)
        assert rules.diversify(scored, k, _facets, pens) == want, trial
    with pytest.raises(ValueError):
        rules.diversify([(1.0, ("a", "s", None))], 1, _facets, {"creator": 1.5})
