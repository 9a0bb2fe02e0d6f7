"""Pure policy of the interests domain: default verticals, slugs, weights, decay, reasons."""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shopwindow.core.errors import Invalid

# (slug, English name, Chinese name): inserted once, then owned by the operator.
DEFAULT_VERTICALS: tuple[tuple[str, str, str], ...] = (
    ("fashion", "Fashion", "时尚穿搭"),
    ("beauty", "Beauty", "美妆护肤"),
    ("digital", "Tech", "数码科技"),
    ("home", "Home", "家居生活"),
    ("food", "Food", "美食零食"),
    ("travel", "Travel", "旅行出行"),
    ("parenting", "Parenting", "母婴育儿"),
    ("sports", "Sports", "运动健身"),
    ("games", "Games", "游戏动漫"),
    ("cars", "Cars", "汽车出行"),
    ("finance", "Finance", "理财记账"),
    ("health", "Health", "健康养生"),
    ("books", "Books", "读书阅读"),
    ("pets", "Pets", "萌宠"),
    ("music", "Music", "音乐"),
    ("movies", "Movies", "影视"),
    ("education", "Education", "教育学习"),
    ("outdoors", "Outdoors", "户外露营"),
    ("photography", "Photography", "摄影"),
    ("art", "Art & design", "艺术设计"),
)

# Partner categories that are not spelled like a vertical slug.
CATEGORY_ALIASES: dict[str, str] = {
    "tech": "digital", "electronics": "digital", "digital": "digital", "数码": "digital",
    "clothing": "fashion", "apparel": "fashion", "shoes": "fashion", "服饰": "fashion",
    "cosmetics": "beauty", "skincare": "beauty", "美妆": "beauty",
    "furniture": "home", "kitchen": "home", "家居": "home",
    "grocery": "food", "snacks": "food", "食品": "food",
    "baby": "parenting", "kids": "parenting", "toys": "parenting", "母婴": "parenting",
    "fitness": "sports", "运动": "sports",
    "gaming": "games", "auto": "cars", "automotive": "cars",
    "book": "books", "图书": "books", "pet": "pets", "宠物": "pets",
    "camping": "outdoors", "outdoor": "outdoors",
}

# How much one interaction says about a user's taste (implicit-feedback confidence).
INTERACTION_WEIGHTS: dict[str, float] = {
    "impression": 0.1,
    "read": 0.5,
    "like": 1.0,
    "click": 2.0,
    "bookmark": 3.0,
    "cart": 4.0,
    "order": 6.0,
    "follow": 3.0,
    "picked": 5.0,
}

DISMISS_KINDS = ("product", "account", "vertical")  # vertical: "show less of this topic"
K = TypeVar("K")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


def check_slug(slug: str) -> str:
    """A vertical slug: 2-40 lower-case letters, digits or hyphens, starting with a letter."""
    s = (slug or "").strip().lower()
    if not SLUG_RE.match(s):
        raise Invalid("Slug must be 2-40 lower-case letters, digits or hyphens, starting with "
                      "a letter", field="slug", rule="pattern")
    return s


def check_name(name: str, field: str) -> str:
    """A display name of a vertical: 1-80 characters after trimming."""
    s = (name or "").strip()
    if not s or len(s) > 80:
        raise Invalid("Name must be 1-80 characters", field=field, rule="length:1-80")
    return s


def check_dismiss_kind(kind: str) -> str:
    """Dismissals are for products, accounts or verticals (topics)."""
    if kind not in DISMISS_KINDS:
        raise Invalid("Kind must be product, account or vertical", field="kind", rule="enum")
    return kind


def vertical_for_category(category: str | None, slugs: set[str]) -> str | None:
    """The vertical slug a partner category belongs to, if any."""
    if not category:
        return None
    c = category.strip().lower()
    if c in slugs:
        return c
    alias = CATEGORY_ALIASES.get(c)
    return alias if alias in slugs else None


def decay(age_seconds: float, half_life_days: float) -> float:
    """Exponential time decay: 1 now, 0.5 after one half-life; never negative ages."""
    if half_life_days <= 0:
        return 1.0
    age = max(0.0, age_seconds)
    return math.pow(0.5, age / (half_life_days * 86400.0))


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something is recommended: a code, a count and a name (rendered per locale)."""

    code: str  # followed_by, popular_in, because_bookmarked, similar, fans_also, picked, …
    count: int = 0
    name: str = ""
    name_zh: str = ""  # the Chinese name where the thing has one (verticals)

    def text(self, zh: bool = False) -> str:
        """A short human sentence for this reason."""
        n, name = self.count, (self.name_zh or self.name) if zh else self.name
        if zh:
            return {
                "followed_by": f"你关注的 {n} 人也关注了",
                "popular_in": f"{name}热门",
                "because_bookmarked": f"因为你收藏了 {name}",
                "because_interacted": f"因为你看过 {name}",
                "similar": f"和 {name} 相似",
                "fans_also": f"{name} 的粉丝也喜欢",
                "picked": f"你关注的领域：{name}",
                "popular": "大家都在看",
            }.get(self.code, "为你推荐")
        return {
            "followed_by": f"Followed by {n} {'person' if n == 1 else 'people'} you follow",
            "popular_in": f"Popular in {name}",
            "because_bookmarked": f"Because you bookmarked {name}",
            "because_interacted": f"Because you looked at {name}",
            "similar": f"Similar to {name}",
            "fans_also": f"Fans of {name} also like",
            "picked": f"In your interests: {name}",
            "popular": "Popular right now",
        }.get(self.code, "Recommended for you")


def ranked_score(interest: float, engagement: int, age_seconds: float,
                 half_life_hours: float = 12.0) -> float:
    """Ranked-home score: (1 + interest) × log-engagement × recency decay."""
    recency = math.pow(0.5, max(0.0, age_seconds) / (half_life_hours * 3600.0))
    return (1.0 + interest) * (1.0 + math.log1p(max(0, engagement))) * recency


# Diversity of a discovery page: every product already placed from the same creator, partner
# shop or vertical multiplies a candidate's score by these factors, so one creator's
# products are spread over the page instead of coming in a block. They are mild on
# purpose: a product in the account's interests (score ≥ 1) still beats an unrelated
# popular one (≤ 0.25) until its creator has about four products on the page, and a page
# may stay inside one vertical when the account's interests are that narrow.
DIVERSITY_PENALTIES: dict[str, float] = {"creator": 0.7, "shop": 0.95, "vertical": 0.9}


def diversify(scored: Sequence[tuple[float, K]], k: int,
              facets: Callable[[K], Mapping[str, Hashable | None]],
              penalties: Mapping[str, float] | None = None) -> list[tuple[float, K]]:
    """The k best of `scored` (score ≥ 0, item), picked greedily with repeat penalties.

    Each pick takes the candidate with the highest score × Π penalty[facet] ** (number of
    items already picked with the same value of that facet); a facet value of None is never
    a repeat. Ties go to the earlier candidate, so with no repeats this is the input order.
    Written here because it is a dozen lines over a page of candidates (MMR-like greedy
    re-ranking); no library offers it without a similarity model we do not have.

    Lazy greedy: penalties ≤ 1 only ever lower a candidate's value, so a heap of stale
    values is a heap of upper bounds; a popped candidate whose fresh value still beats the
    best bound left is the pick (page 8 of /discover: 192 picks from 576 candidates).
    """
    pens = dict(DIVERSITY_PENALTIES if penalties is None else penalties)
    if any(not 0.0 <= v <= 1.0 for v in pens.values()):
        raise ValueError("diversity penalties must be between 0 and 1")
    keys = [[(f, v) for f, v in facets(item).items() if v is not None and f in pens]
            for _s, item in scored]
    used: dict[tuple[str, Hashable], int] = {}

    def value(i: int) -> float:
        eff = float(scored[i][0])
        for f, v in keys[i]:
            eff *= pens[f] ** used.get((f, v), 0)
        return eff

    heap = [(-float(s), i) for i, (s, _item) in enumerate(scored)]
    heapq.heapify(heap)
    out: list[tuple[float, K]] = []
    while heap and len(out) < k:
        _stale, i = heapq.heappop(heap)
        fresh = (-value(i), i)
        if heap and fresh > heap[0]:
            heapq.heappush(heap, fresh)
            continue
        out.append(scored[i])
        for key in keys[i]:
            used[key] = used.get(key, 0) + 1
    return out
