"""Pure rules of the social domain: text parsing/rendering and visibility."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from markupsafe import escape

from shopwindow.core.errors import Invalid

VISIBILITIES = ("public", "unlisted", "private")
MAX_MEDIA = 9

# Latin-style #tag, and Weibo-style #话题# (closed by a second #; must contain a CJK
# character and may not start or end with a space, so "#a and #b" and "#护肤 #美妆" stay
# two separate tags).
_WEIBO_TAG = r"#(?P<wtag>(?=[^#\n]*[\u4e00-\u9fff])[^#\s](?:[^#\n]{0,58}?[^#\s])?)#"
_LATIN_TAG = r"(?<![\w/&])#(?P<tag>[\w\u4e00-\u9fff]{1,100})"
_MENTION = r"(?<![\w/])@(?P<mention>[A-Za-z0-9_]{1,30})(?![\w@])"
_URL = r"(?P<url>https?://[^\s<>\"'\u3000-\u303f\uff00-\uffef]{1,2000})"
TOKEN_RE = re.compile(f"{_URL}|{_WEIBO_TAG}|{_LATIN_TAG}|{_MENTION}")
_TRAILING_PUNCT = ".,;:!?)]}'\""


def normalise_tag(tag: str) -> str:
    """Tags compare case-insensitively; inner whitespace collapses."""
    return " ".join(tag.strip().split()).lower()[:100]


@dataclass(frozen=True, slots=True)
class ParsedText:
    tags: list[str]
    mentions: list[str]
    urls: list[str]


def parse_text(text: str) -> ParsedText:
    """Hashtags, mentioned usernames and links, in order of first appearance."""
    tags: list[str] = []
    mentions: list[str] = []
    urls: list[str] = []
    for m in TOKEN_RE.finditer(text):
        if m.group("url"):
            u = m.group("url").rstrip(_TRAILING_PUNCT)
            if u not in urls:
                urls.append(u)
        elif m.group("wtag") or m.group("tag"):
            raw = m.group("wtag") or m.group("tag")
            if raw.strip() and (t := normalise_tag(raw)) not in tags:
                tags.append(t)
        elif m.group("mention"):
            u = m.group("mention")
            if u.lower() not in [x.lower() for x in mentions]:
                mentions.append(u)
    return ParsedText(tags, mentions, urls)


def render_html(
    text: str,
    *,
    base_url: str,
    known_mentions: Callable[[str], bool] = lambda _u: True,
) -> str:
    """Render plain text as safe HTML: escaped text, linkified tags/mentions/URLs, <p>/<br>."""
    base = base_url.rstrip("/")

    def token_html(m: re.Match[str]) -> tuple[str, str]:
        if m.group("url"):
            full = m.group("url")
            u = full.rstrip(_TRAILING_PUNCT)
            tail = full[len(u):]
            shown = u.split("://", 1)[1]
            if len(shown) > 40:
                shown = shown[:39] + "…"
            a = (f'<a href="{escape(u)}" rel="nofollow noopener noreferrer ugc" '
                 f'target="_blank">{escape(shown)}</a>')
            return a, tail
        if m.group("wtag") or m.group("tag"):
            raw = m.group("wtag") or m.group("tag")
            if not raw.strip():
                return str(escape(m.group(0))), ""
            t = normalise_tag(raw)
            from urllib.parse import quote

            shown = f"#{raw}#" if m.group("wtag") else f"#{raw}"
            return (f'<a href="{base}/tags/{quote(t)}" class="mention hashtag" rel="tag">'
                    f"{escape(shown)}</a>"), ""
        u = m.group("mention")
        if not known_mentions(u):
            return str(escape(m.group(0))), ""
        return (f'<span class="h-card"><a href="{base}/@{escape(u)}" class="u-url mention">'
                f"@<span>{escape(u)}</span></a></span>"), ""

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out: list[str] = []
    for p in paragraphs:
        pieces: list[str] = []
        pos = 0
        for m in TOKEN_RE.finditer(p):
            pieces.append(str(escape(p[pos:m.start()])))
            h, tail = token_html(m)
            pieces.append(h + str(escape(tail)))
            pos = m.end()
        pieces.append(str(escape(p[pos:])))
        out.append("<p>" + "".join(pieces).replace("\n", "<br>") + "</p>")
    # Defence in depth: whatever we built passes the same allow-list as any user HTML.
    return nh3.clean(
        "".join(out),
        tags={"p", "br", "a", "span"},
        attributes={"a": {"href", "class", "rel", "target"}, "span": {"class"}},
        url_schemes={"http", "https"},
        link_rel=None,
    )


def check_post_input(text: str, *, media_count: int, max_chars: int, visibility: str,
                     spoiler_text: str = "") -> None:
    """Validate a new post's fields; raise Invalid naming the field and the rule."""
    if visibility not in VISIBILITIES:
        raise Invalid(
            "Visibility must be public, unlisted or private (followers only)",
            field="visibility", rule="enum:public,unlisted,private",
        )
    if not text.strip() and media_count == 0:
        raise Invalid("A post needs text or at least one image", field="status",
                      rule="required_unless_media")
    if len(text) > max_chars:
        raise Invalid(f"Text is longer than {max_chars} characters", field="status",
                      rule=f"max_length:{max_chars}")
    if media_count > MAX_MEDIA:
        raise Invalid(f"At most {MAX_MEDIA} images per post", field="media_ids",
                      rule=f"max_items:{MAX_MEDIA}")
    if len(spoiler_text) > 200:
        raise Invalid("Content warning is longer than 200 characters", field="spoiler_text",
                      rule="max_length:200")


def can_view(
    *,
    visibility: str,
    author_id: int,
    viewer_id: int | None,
    viewer_follows_author: bool,
    viewer_is_mentioned: bool,
    blocked_either_way: bool,
) -> bool:
    """Whether a viewer may see a post."""
    if viewer_id == author_id:
        return True
    if blocked_either_way:
        return False
    if visibility in ("public", "unlisted"):
        return True
    if visibility == "private":
        return viewer_follows_author or viewer_is_mentioned
    return viewer_is_mentioned
