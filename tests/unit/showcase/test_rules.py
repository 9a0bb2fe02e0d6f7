"""Showcase rules: keyword stuffing (zh and en), reasons, limits, prices, post text."""

from __future__ import annotations

import pytest

from shopwindow.core.errors import Invalid, RuleViolation
from shopwindow.showcase import rules


@pytest.mark.parametrize("title", [
    "Maple & Moss Linen Summer Dress – Oat",
    "无线降噪耳机 Pro",
    "北欧风陶瓷马克杯 350ml",
    "The Art of the Deal",  # stop words may repeat
    "哈哈哈哈 开心果",  # a run of one character is not a repeated word
    "iPhone 15 Case, Clear",
])
def test_ordinary_titles_pass(title):
    assert rules.stuffing_reason(title) is None
    assert rules.check_title(title) == title


@pytest.mark.parametrize(("title", "rule"), [
    ("Dress dress DRESS summer dress", "title_repeated_word"),
    ("连衣裙女 夏季连衣裙 新款连衣裙", "title_repeated_word"),
    ("爆款连衣裙 韩版连衣裙 显瘦连衣裙 网红", "title_repeated_word"),
    ("Dress | Summer | Beach | Party", "title_separators"),
    ("连衣裙/女装/夏季/新款", "title_separators"),
    ("Dress + Skirt + Top + Hat", "title_separators"),
    ("Summer dress #fashion #ootd", "title_hashtags"),
    ("dress, skirt, top, summer, beach, party, cheap", "title_keyword_list"),
    ("连衣裙，女装，夏季，新款，韩版，显瘦", "title_keyword_list"),
    ("BEST SUMMER DRESS EVER", "title_all_caps"),
    ("Amazing dress!!!", "title_punctuation"),
    ("超值好物！！！", "title_punctuation"),
])
def test_stuffed_titles_are_refused_with_the_rule(title, rule):
    refusal = rules.stuffing_reason(title)
    assert refusal is not None and refusal.rule == rule
    with pytest.raises(RuleViolation) as ei:
        rules.check_title(title, field="items.0.title")
    assert (ei.value.field, ei.value.rule) == ("items.0.title", rule)
    assert ei.value.detail


def test_title_required_and_length():
    with pytest.raises(Invalid) as ei:
        rules.check_title("   ")
    assert ei.value.rule == "title_required"
    with pytest.raises(RuleViolation) as ei:
        rules.check_title("x" * (rules.TITLE_MAX + 1))
    assert ei.value.rule == "title_length"
    assert rules.check_title("  Linen\n dress  ") == "Linen dress"


def test_reason_is_required_with_bounds():
    for bad, rule in [("", "reason_required"), ("   ", "reason_required"),
                      ("nice", "reason_length"), ("x" * (rules.REASON_MAX + 1), "reason_length")]:
        with pytest.raises(Invalid) as ei:
            rules.check_reason(bad)
        assert (ei.value.field, ei.value.rule) == ("reason", rule)
    assert rules.check_reason("穿了一夏天，不起球") == "穿了一夏天，不起球"


def test_item_count_and_quantity():
    rules.check_item_count(1)
    rules.check_item_count(9)
    with pytest.raises(RuleViolation):
        rules.check_item_count(10)
    with pytest.raises(Invalid):
        rules.check_item_count(0)
    for q in (0, 100, -1, True):
        with pytest.raises(Invalid):
            rules.check_quantity(q)  # type: ignore[arg-type]
    assert rules.check_quantity(99) == 99


def test_pick_images_subset_only():
    imgs = ["a", "b", "c"]
    assert rules.pick_images(None, imgs) == imgs
    assert rules.pick_images(["c", "a", "c"], imgs) == ["c", "a"]
    with pytest.raises(Invalid):
        rules.pick_images(["http://evil.example/x.png"], imgs)


def test_price_formatting_and_drops():
    assert rules.format_price(16690, "CNY", "zh-CN") == "¥166.90"
    assert "166.90" in rules.format_price(16690, "CNY", "en")
    assert rules.format_price(500, "JPY", "en").endswith("500")
    assert rules.price_dropped(1000, "CNY", 900, "CNY")
    assert not rules.price_dropped(1000, "CNY", 1000, "CNY")
    assert not rules.price_dropped(1000, "CNY", 900, "USD")


def test_post_text_fits_and_keeps_links():
    items = [(f"Title {i}", "r" * 900, f"http://t/r/{i}") for i in range(9)]
    text = rules.post_text("My picks", items, 2000)
    assert len(text) <= 2000
    for i in range(9):
        assert f"http://t/r/{i}" in text and f"Title {i}" in text
    assert rules.post_text("", [("T", "short reason", "http://t/r/1")], 2000) == \
        "🛍 T\nshort reason\nhttp://t/r/1"
