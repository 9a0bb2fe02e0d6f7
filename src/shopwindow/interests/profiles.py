"""Interest profiles: weighted verticals, creators and products from what an account does.

Signals come from the other domains' queries (follows, product bookmarks and carts,
hand-off clicks and orders, analytics reads and impressions when that domain is present);
each is weighted by its type (`rules.INTERACTION_WEIGHTS`) and faded by exponential time
decay with the `interest_half_life_days` setting. Picked verticals never fade.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from shopwindow.config import get_settings
from shopwindow.core.clock import as_utc, utcnow
from shopwindow.interests import queries, rules
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q
from shopwindow.tracking import queries as tracking_q

# Raw analytics events considered for profiles (products seen or read).
ANALYTICS_TYPES = ("impression", "read")
ANALYTICS_WINDOW = timedelta(days=90)

Signal = tuple[int, str, datetime]  # (product id, interaction type, when)


def _analytics_q() -> Any:
    """The analytics queries module if it offers per-actor events (it is optional)."""
    try:
        from shopwindow.analytics import queries as analytics_q
    except ImportError:  # pragma: no cover - analytics is part of the tree
        return None
    return analytics_q if hasattr(analytics_q, "list_actor_events") else None


def product_signals(session: Session, account_id: int) -> list[Signal]:
    """Everything one account did with products, from every domain that records it."""
    out: list[Signal] = [(p, kind, t) for _a, p, kind, t in
                         showcase_q.product_interactions(session, account_id)]
    out += [(p, kind, t) for _a, p, kind, t in
            tracking_q.fan_product_events(session, account_id)]
    aq = _analytics_q()
    if aq is not None:
        events = aq.list_actor_events(session, account_id, ANALYTICS_TYPES,
                                      utcnow() - ANALYTICS_WINDOW, limit=2000)
        out += [(int(e.product_id), e.type, e.occurred_at) for e in events if e.product_id]
    return out


# Training reads analytics per account (the domain offers no bulk read); past this many
# accounts it skips them rather than issue unbounded queries (a distributed trainer would
# read the event log directly).
TRAIN_ANALYTICS_MAX_ACCOUNTS = 20_000
# Interaction types that say "this account engaged with the product". The item model
# treats rows as binary, so impressions (seen, maybe scrolled past) stay out of its rows:
# they only nudge profile weights.
ENGAGED_TYPES = frozenset({"read", "like", "click", "bookmark", "cart", "order"})


def all_product_signals(session: Session, account_ids: Iterable[int] = ()
                        ) -> list[tuple[int, int, str, datetime]]:
    """(account, product, type, when) of every account (training); reads from analytics
    for the given accounts (at most TRAIN_ANALYTICS_MAX_ACCOUNTS)."""
    out = list(showcase_q.product_interactions(session))
    out += tracking_q.fan_product_events(session)
    aq = _analytics_q()
    ids = list(account_ids)
    if aq is not None and len(ids) <= TRAIN_ANALYTICS_MAX_ACCOUNTS:
        since = utcnow() - ANALYTICS_WINDOW
        for a in ids:
            out += [(a, int(e.product_id), e.type, e.occurred_at)
                    for e in aq.list_actor_events(session, a, ("read",), since, limit=2000)
                    if e.product_id]
    return out


def weigh(signals: Iterable[tuple[str, datetime]], now: datetime,
          half_life_days: float) -> float:
    """Sum of type weights × time decay of some interactions with one target."""
    total = 0.0
    for kind, at in signals:
        age = (now - as_utc(at)).total_seconds()
        total += rules.INTERACTION_WEIGHTS.get(kind, 0.0) * rules.decay(age, half_life_days)
    return total


@dataclass(slots=True)
class Profile:
    """An account's interests right now: weights per vertical slug, creator and product."""

    account_id: int
    verticals: dict[str, float] = field(default_factory=dict)
    creators: dict[int, float] = field(default_factory=dict)
    products: dict[int, float] = field(default_factory=dict)
    picked: list[str] = field(default_factory=list)
    following: set[int] = field(default_factory=set)
    engaged: set[int] = field(default_factory=set)  # products with more than impressions
    bookmarked: list[int] = field(default_factory=list)  # newest first
    bought: set[int] = field(default_factory=set)
    muted: dict[str, int] = field(default_factory=dict)  # slug → id of topics it sees less of

    def top_verticals(self, n: int = 5) -> list[str]:
        """The n strongest verticals, strongest first."""
        return [s for s, _w in sorted(self.verticals.items(), key=lambda kv: -kv[1])[:n]]


def build_profile(session: Session, account_id: int, *,
                  catalogue: dict[int, showcase_q.CatalogueEntry] | None = None,
                  creator_verticals: dict[int, dict[str, float]] | None = None) -> Profile:
    """The live interest profile of one account (a handful of indexed reads)."""
    settings = get_settings()
    hl = settings.interest_half_life_days
    now = utcnow()
    slugs = set(queries.verticals_by_slug(session))
    prof = Profile(account_id, picked=queries.picked_slugs(session, account_id))
    for s in prof.picked:
        prof.verticals[s] = prof.verticals.get(s, 0.0) + rules.INTERACTION_WEIGHTS["picked"]
    per_product: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    sigs = product_signals(session, account_id)
    for pid, kind, at in sorted(sigs, key=lambda s: as_utc(s[2]), reverse=True):
        per_product[pid].append((kind, at))
        if kind in ENGAGED_TYPES:
            prof.engaged.add(pid)
        if kind == "bookmark" and pid not in prof.bookmarked:
            prof.bookmarked.append(pid)
        if kind == "order":
            prof.bought.add(pid)
    cat = catalogue if catalogue is not None else {}
    for pid, items in per_product.items():
        w = weigh(items, now, hl)
        prof.products[pid] = w
        entry = cat.get(pid)
        if entry is not None:
            v = rules.vertical_for_category(entry.category, slugs)
            if v:
                prof.verticals[v] = prof.verticals.get(v, 0.0) + w
            for c in entry.creator_ids:
                prof.creators[c] = prof.creators.get(c, 0.0) + w / len(entry.creator_ids)
    for _f, followee, at in social_q.follow_edges(session, [account_id]):
        prof.following.add(followee)
        w = weigh([("follow", at)], now, hl)
        prof.creators[followee] = prof.creators.get(followee, 0.0) + w
        for v, share in (creator_verticals or {}).get(followee, {}).items():
            prof.verticals[v] = prof.verticals.get(v, 0.0) + w * share
    # "Show less of this topic" wins over everything the account did or picked
    prof.muted = queries.muted_verticals(session, account_id)
    for v in prof.muted:
        prof.verticals.pop(v, None)
    return prof


def creator_verticals(entries: Iterable[showcase_q.CatalogueEntry], slugs: set[str],
                      declared: dict[int, list[str]] | None = None
                      ) -> dict[int, dict[str, float]]:
    """Each creator's share per vertical: what they recommend, plus what they declared
    (one recommendation's worth per declared vertical, so new creators are placed too)."""
    counts: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for c, verticals in (declared or {}).items():
        for d in verticals:
            if d in slugs:
                counts[c][d] += 1.0
    for e in entries:
        v = rules.vertical_for_category(e.category, slugs)
        if v is None:
            continue
        for c in e.creator_ids:
            counts[c][v] += 1.0
    out: dict[int, dict[str, float]] = {}
    for c, per in counts.items():
        total = sum(per.values())
        out[c] = {v: n / total for v, n in per.items()}
    return out
