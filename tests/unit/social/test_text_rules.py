from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopwindow.core.errors import Invalid
from shopwindow.social import rules


def test_parse_latin_and_weibo_tags_mentions_links():
    p = rules.parse_text("Love #Skincare and #双十一好物# with @alice_1, see https://shop.example/p/1. #SKINCARE")
    assert p.tags == ["skincare", "双十一好物"]
    assert p.mentions == ["alice_1"]
    assert p.urls == ["https://shop.example/p/1"]


def test_email_is_not_a_mention_and_anchor_is_not_tag():
    p = rules.parse_text("mail me at bob@example.com or see https://x.example/#frag")
    assert p.mentions == [] and p.tags == []


def test_render_links_and_paragraphs():
    html = rules.render_html("Hi @bob\n\nsecond #Tag", base_url="https://sw.example/")
    assert html.startswith("<p>Hi ")
    assert '<a href="https://sw.example/@bob" class="u-url mention">' in html
    assert 'href="https://sw.example/tags/tag"' in html
    assert html.count("<p>") == 2


def test_unknown_mentions_stay_plain_text():
    html = rules.render_html("hi @ghost", base_url="https://sw.example",
                             known_mentions=lambda u: False)
    assert "<a" not in html and "@ghost" in html


def test_javascript_urls_are_not_linked():
    html = rules.render_html("javascript:alert(1) and http://ok.example", base_url="https://x")
    assert 'href="javascript' not in html and 'href="http://ok.example"' in html


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_rendered_html_never_contains_raw_user_markup(text):
    html = rules.render_html(text, base_url="https://sw.example")
    # Only our own tags survive; any '<' from the user is escaped.
    import re

    for tag in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html):
        assert tag in ("p", "br", "a", "span")
    assert "onerror" not in html.replace("&", "") or "onerror=" not in html


def test_check_post_input_rules():
    with pytest.raises(Invalid) as e:
        rules.check_post_input("", media_count=0, max_chars=10, visibility="public")
    assert e.value.field == "status"
    rules.check_post_input("", media_count=1, max_chars=10, visibility="public")
    with pytest.raises(Invalid) as e:
        rules.check_post_input("x", media_count=10, max_chars=10, visibility="public")
    assert e.value.field == "media_ids" and e.value.rule == "max_items:9"


@pytest.mark.parametrize("vis,follows,mentioned,blocked,expected", [
    ("public", False, False, False, True),
    ("unlisted", False, False, False, True),
    ("private", False, False, False, False),
    ("private", True, False, False, True),
    ("private", False, True, False, True),
    ("public", True, False, True, False),
])
def test_can_view(vis, follows, mentioned, blocked, expected):
    assert rules.can_view(visibility=vis, author_id=1, viewer_id=2, viewer_follows_author=follows,
                          viewer_is_mentioned=mentioned, blocked_either_way=blocked) is expected
    assert rules.can_view(visibility=vis, author_id=1, viewer_id=1, viewer_follows_author=False,
                          viewer_is_mentioned=False, blocked_either_way=False)


def test_adjacent_tags_on_one_line_stay_separate():
    assert rules.parse_text("#护肤 #美妆 #tag").tags == ["护肤", "美妆", "tag"]
    assert rules.parse_text("#a #b").tags == ["a", "b"]
    assert rules.parse_text("#双十一 好物# today").tags == ["双十一 好物"]
