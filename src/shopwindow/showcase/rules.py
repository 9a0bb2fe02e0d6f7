"""Showcase policy: titles without keyword stuffing, required reasons, limits, prices.

Pure functions: plain values in, plain values out (or a RuleViolation / Invalid naming the
field and the rule that refused it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

from shopwindow.core.errors import Invalid, RuleViolation
from shopwindow.core.money import Money

MAX_PRODUCTS_PER_POST = 9
MAX_IMAGES = 9
TITLE_MAX = 80
REASON_MIN = 6
REASON_MAX = 1000
QUANTITY_MIN, QUANTITY_MAX = 1, 99
SORTS = ("newest", "price_asc", "price_desc", "popular")
IN_STOCK = ("in_stock", "preorder")

# Thresholds of the stuffing rules (documented in docs/showcase.md).
REPEAT_LIMIT = 3  # a word or a CJK bigram seen this often is stuffing
SEPARATOR_LIMIT = 3  # | / + and friends used as keyword separators
HASHTAG_LIMIT = 2
KEYWORD_LIST_LIMIT = 5  # more comma-separated segments than this is a keyword list
CAPS_MIN_LETTERS = 12

_SEPARATORS = set("|/+｜／＋★☆♥❤※")
_LIST_SPLIT = re.compile(r"[,，、;；]")
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STOP = {"the", "and", "for", "with", "of", "in", "on", "to", "a", "an"}
_PUNCT_RUN = re.compile(r"[!！?？]{3,}")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF
            or 0xF900 <= o <= 0xFAFF)


def _cjk_bigrams(text: str) -> list[str]:
    out: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", text):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a title was refused: the rule's name and an English message."""

    rule: str
    message: str


def stuffing_reason(title: str) -> Refusal | None:
    """The first keyword-stuffing rule a title breaks, or None when it reads as a title."""
    t = unicodedata.normalize("NFKC", title)
    words = [w.lower() for w in _LATIN_WORD.findall(t) if not any(_is_cjk(c) for c in w)]
    counts = Counter(w for w in words if w not in _STOP)
    if counts:
        word, n = counts.most_common(1)[0]
        if n >= REPEAT_LIMIT:
            return Refusal("title_repeated_word",
                           f"The title repeats “{word}” {n} times (keyword stuffing)")
    # Chinese has no spaces: the same two-character word seen again and again is stuffing
    # ("连衣裙女 夏季连衣裙 新款连衣裙"). Bigrams overlap, so a run like 哈哈哈 counts once.
    grams = Counter(_cjk_bigrams(t))
    if grams:
        gram, n = grams.most_common(1)[0]
        if n >= REPEAT_LIMIT and len(set(gram)) > 1:
            return Refusal("title_repeated_word",
                           f"The title repeats “{gram}” {n} times (keyword stuffing)")
    seps = sum(1 for c in t if c in _SEPARATORS)
    if seps >= SEPARATOR_LIMIT:
        return Refusal("title_separators",
                       "The title strings keywords together with separators such as | / +")
    if t.count("#") >= HASHTAG_LIMIT:
        return Refusal("title_hashtags", "Hashtags belong in the reason, not in the title")
    segments = [s for s in _LIST_SPLIT.split(t) if s.strip()]
    if len(segments) > KEYWORD_LIST_LIMIT:
        return Refusal("title_keyword_list", "The title is a list of keywords")
    letters = [c for c in t if c.isalpha() and c.isascii()]
    if len(letters) >= CAPS_MIN_LETTERS and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return Refusal("title_all_caps", "The title is written in capital letters")
    if _PUNCT_RUN.search(t):
        return Refusal("title_punctuation", "The title shouts with repeated ! or ?")
    return None


def clean_text(value: str) -> str:
    """Collapse whitespace runs and strip control characters."""
    value = "".join(c for c in (value or "") if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return re.sub(r"[ \t\u3000]+", " ", value).strip()


def check_title(title: str, *, field: str = "title") -> str:
    """A clean title, or RuleViolation naming the stuffing rule it breaks."""
    t = " ".join(clean_text(title).split())
    if not t:
        raise Invalid("A title is required", field=field, rule="title_required")
    if len(t) > TITLE_MAX:
        raise RuleViolation(f"The title is longer than {TITLE_MAX} characters", field=field,
                            rule="title_length")
    refusal = stuffing_reason(t)
    if refusal is not None:
        raise RuleViolation(refusal.message, field=field, rule=refusal.rule)
    return t


def check_reason(reason: str, *, field: str = "reason") -> str:
    """A recommendation reason of REASON_MIN..REASON_MAX characters (required)."""
    r = clean_text(reason)
    if not r:
        raise Invalid("A recommendation reason is required", field=field,
                      rule="reason_required")
    if len(r) < REASON_MIN:
        raise Invalid(f"The reason needs at least {REASON_MIN} characters", field=field,
                      rule="reason_length")
    if len(r) > REASON_MAX:
        raise Invalid(f"The reason is longer than {REASON_MAX} characters", field=field,
                      rule="reason_length")
    return r


def check_item_count(n: int, *, field: str = "items") -> None:
    """One post carries 1..MAX_PRODUCTS_PER_POST products."""
    if n < 1:
        raise Invalid("Add at least one product", field=field, rule="items_required")
    if n > MAX_PRODUCTS_PER_POST:
        raise RuleViolation(f"At most {MAX_PRODUCTS_PER_POST} products per post", field=field,
                            rule="max_products")


def check_publish_quota(published_24h: int, adding: int, limit: int, *,
                        field: str = "items") -> None:
    """No screen flooding: at most `limit` recommendations per creator in 24 hours
    (0 = unlimited)."""
    if limit > 0 and published_24h + adding > limit:
        left = max(0, limit - published_24h)
        raise RuleViolation(
            f"You can publish at most {limit} recommendations in 24 hours; "
            f"{published_24h} already published, {left} left", field=field,
            rule="max_recommendations_per_day")


def pick_images(chosen: list[str] | None, available: list[str], *,
                field: str = "images") -> list[str]:
    """The chosen images (a subset of the product's, in order), default the first ones."""
    if not chosen:
        return list(available[:MAX_IMAGES])
    allowed = set(available)
    out: list[str] = []
    for url in chosen:
        if url not in allowed:
            raise Invalid("Pick images of the product itself", field=field, rule="image_of_product")
        if url not in out:
            out.append(url)
    if len(out) > MAX_IMAGES:
        raise Invalid(f"At most {MAX_IMAGES} images", field=field, rule="max_images")
    return out


def check_quantity(quantity: int, *, field: str = "quantity") -> int:
    """A cart quantity between QUANTITY_MIN and QUANTITY_MAX."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or \
            not QUANTITY_MIN <= quantity <= QUANTITY_MAX:
        raise Invalid(f"Quantity must be {QUANTITY_MIN} to {QUANTITY_MAX}", field=field,
                      rule="quantity_range")
    return quantity


def check_sort(sort: str | None) -> str:
    """A known showcase sort (default newest)."""
    if not sort:
        return "newest"
    if sort not in SORTS:
        raise Invalid("Sort must be newest, price_asc, price_desc or popular", field="sort",
                      rule="enum")
    return sort


def is_available(availability: str) -> bool:
    """Whether a partner availability means the product can be bought."""
    return availability in IN_STOCK or availability == "unknown"


def price_dropped(old_minor: int, old_currency: str, new_minor: int, new_currency: str) -> bool:
    """A drop is a lower price in the same currency."""
    return old_currency == new_currency and new_minor < old_minor


def format_price(amount_minor: int, currency: str, locale: str = "en") -> str:
    """Localised price ('¥166.90' in zh-CN, 'CN¥166.90' in en) via Money's minor digits."""
    m = Money(amount_minor, currency)
    value = Decimal(m.amount).scaleb(-m.minor_digits)
    try:
        return format_currency(value, currency, locale=locale.replace("-", "_"))
    except Exception:  # unknown locale data: fall back to the plain form
        return m.format()


def post_text(intro: str, items: list[tuple[str, str, str]], max_chars: int) -> str:
    """The social post carrying a recommendation set: intro, then title, reason and link.

    Reasons are shortened (never titles or links) so the whole text fits `max_chars`.
    """
    intro = clean_text(intro)
    fixed = len(intro) + (2 if intro else 0)
    blocks = [(f"🛍 {title}", reason, url) for title, reason, url in items]
    fixed += sum(len(h) + len(u) + 4 for h, _r, u in blocks)
    budget = max(0, max_chars - fixed)
    per = budget // max(1, len(blocks))
    parts = [intro] if intro else []
    for head, reason, url in blocks:
        r = reason.replace("\n", " ")
        if len(r) > per:
            r = (r[: max(0, per - 1)] + "…") if per > 1 else ""
        parts.append("\n".join(x for x in (head, r, url) if x))
    return "\n\n".join(parts)[:max_chars]
