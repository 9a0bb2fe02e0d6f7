"""Serving recommendations: lazily loaded artefacts, fold-in, exclusions and reasons.

Web processes load the newest artefact version on first use and look at `CURRENT` again at
most every `CHECK_SECONDS`; a new version is loaded beside the old one and swapped in. Live
data always has the last word: the user's current interactions and follows are folded in
at request time (no retrain needed), and exclusions (followed, blocked, muted, self,
suspended, bought, dismissed, withdrawn) are checked against the database, never against
the artefacts. Users the models have never seen, or installs without artefacts, fall back
to their picked interests plus popularity.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.config import get_settings
from shopwindow.core.clock import as_utc, utcnow
from shopwindow.interests import profiles, queries, rules
from shopwindow.interests.recs import LinkPredictor, SocialRecommender
from shopwindow.interests.rules import Reason
from shopwindow.interests.training import current_version, recs_dir
from shopwindow.outbox import subscribe_live
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

CHECK_SECONDS = 2.0
CANDIDATES = 200
CREATOR_LIFT = 0.3


@dataclass(slots=True)
class Artefacts:
    """One loaded artefact version."""

    version: int
    user_index: dict[int, int]
    item_ids: np.ndarray
    item_index: dict[int, int]
    item_verticals: np.ndarray
    nb_idx: np.ndarray
    nb_sc: np.ndarray
    R: sp.csr_matrix
    model: SocialRecommender | None
    links: LinkPredictor | None
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path, version: int) -> Artefacts:
        """Read `v<N>/` (npz arrays only; nothing pickled is executed)."""
        with np.load(path / "data.npz", allow_pickle=False) as z:
            user_ids, item_ids = z["user_ids"], z["item_ids"]
            R = sp.csr_matrix((z["R_data"], z["R_indices"], z["R_indptr"]),
                              shape=tuple(int(x) for x in z["R_shape"]))
            verts, nb_idx, nb_sc = z["item_verticals"], z["nb_idx"], z["nb_sc"]
        model = SocialRecommender.load(path / "model.npz") \
            if (path / "model.npz").exists() else None
        links = LinkPredictor.load(path / "links.npz") if (path / "links.npz").exists() else None
        B = getattr(model, "_B", None)
        if model is not None and isinstance(B, np.ndarray) and not B.flags["C_CONTIGUOUS"]:
            # scipy's sparse @ dense copies a Fortran-ordered dense operand on every call
            # (≈10 ms for 2,000 items); one C-ordered copy at load time makes requests ~10x
            # cheaper. Reported to the recs owner; harmless once _ease returns C order.
            model._B = np.ascontiguousarray(B)
        meta = json.loads((path / "meta.json").read_text())
        return cls(version, {int(u): i for i, u in enumerate(user_ids)}, item_ids,
                   {int(p): i for i, p in enumerate(item_ids)}, verts, nb_idx, nb_sc, R,
                   model, links, meta)


class Store:
    """The artefacts of one data directory, reloaded when `CURRENT` changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._art: Artefacts | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self) -> Artefacts | None:
        """The newest loaded artefacts (None before the first training)."""
        now = time.monotonic()
        if now - self._checked < CHECK_SECONDS and self._art is not None:
            return self._art
        with self._lock:
            self._checked = now
            v = current_version(self.root)
            if v and (self._art is None or self._art.version != v):
                try:
                    self._art = Artefacts.load(self.root / f"v{v}", v)
                except (OSError, ValueError, KeyError):
                    pass  # keep serving the previous version; the next check retries
        return self._art

    def invalidate(self) -> None:
        """Look at CURRENT again on the next call (after training in this process)."""
        self._checked = 0.0


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def store(data_dir: Path | None = None) -> Store:
    """The process-wide store of a data directory."""
    root = recs_dir(data_dir).resolve()
    with _stores_lock:
        if root not in _stores:
            _stores[root] = Store(root)
        return _stores[root]


# ------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class ProductSuggestion:
    """A product to show (through one of its recommendations) and why."""

    product_id: int
    view: showcase_q.RecView
    score: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class AccountSuggestion:
    """An account to follow and why."""

    account: Any
    score: float
    reason: Reason


@dataclass(slots=True)
class _Context:
    catalogue: dict[int, showcase_q.CatalogueEntry]
    slugs: dict[str, tuple[str, str]]  # slug -> (English name, Chinese name)
    creator_verticals: dict[int, dict[str, float]]
    vertical_of: dict[int, str | None] = field(default_factory=dict)
    pop: dict[int, float] = field(default_factory=dict)  # popularity, max-scaled to 1
    popular: list[int] = field(default_factory=list)  # available products, most popular first
    by_vertical: dict[str, list[int]] = field(default_factory=dict)  # same, per vertical

    @classmethod
    def build(cls, entries: list[showcase_q.CatalogueEntry], slugs: dict[str, tuple[str, str]],
              creator_verticals: dict[int, dict[str, float]]) -> _Context:
        """Index the catalogue once: verticals, popularity and candidate lists."""
        now = utcnow()
        slug_set = set(slugs)
        ctx = cls({e.product_id: e for e in entries}, slugs, creator_verticals)
        raw = {e.product_id: _popularity(e, now) for e in entries}
        top = max(raw.values(), default=0.0) or 1.0
        ctx.pop = {pid: p / top for pid, p in raw.items()}
        ctx.vertical_of = {e.product_id: rules.vertical_for_category(e.category, slug_set)
                           for e in entries}
        ctx.popular = sorted((e.product_id for e in entries if e.available),
                             key=lambda pid: (-ctx.pop[pid], -pid))
        for pid in ctx.popular:
            v = ctx.vertical_of[pid]
            if v:
                ctx.by_vertical.setdefault(v, []).append(pid)
        return ctx


CONTEXT_TTL = 30.0
# Per database engine (weakly: a disposed engine takes its entry with it): the catalogue
# and taxonomy change rarely and every recommender needs them, so they are read once per
# CONTEXT_TTL and dropped at once when this process commits a catalogue change.
_contexts: weakref.WeakKeyDictionary[Any, tuple[float, _Context]] = weakref.WeakKeyDictionary()
_contexts_lock = threading.Lock()
CATALOGUE_EVENTS = ("showcase.recommendation_published", "showcase.recommendation_deleted",
                    "showcase.product_availability_changed", "interests.vertical_changed")


def _forget_contexts(_event: Any = None) -> None:
    with _contexts_lock:
        _contexts.clear()


for _etype in CATALOGUE_EVENTS:
    subscribe_live(_etype, _forget_contexts)


def _declared(session: Session) -> dict[int, list[str]]:
    """Creators' declared verticals (ability-label side of this domain), if available."""
    from shopwindow.interests import labels_queries

    fn = getattr(labels_queries, "declared_accounts", None)
    return dict(fn(session)) if fn is not None else {}


def _context(session: Session) -> _Context:
    engine = session.get_bind()
    now = time.monotonic()
    with _contexts_lock:
        hit = _contexts.get(engine)
    if hit is not None and now - hit[0] < CONTEXT_TTL:
        return hit[1]
    entries = showcase_q.catalogue(session)
    slugs = {slug: (str(v.name_en), str(v.name_zh))
             for slug, v in queries.verticals_by_slug(session).items()}
    ctx = _Context.build(entries, slugs,
                         profiles.creator_verticals(entries, set(slugs), _declared(session)))
    with _contexts_lock:
        _contexts[engine] = (now, ctx)
    return ctx


def _vreason(ctx: _Context, code: str, slug: str) -> Reason:
    names = ctx.slugs.get(slug)
    if names is None:
        return Reason(code, name=slug)
    return Reason(code, name=names[0], name_zh=names[1])


def _popularity(e: showcase_q.CatalogueEntry, now: Any) -> float:
    """Engagement with a gentle freshness boost (cold start and tie-breaks)."""
    age_days = max(0.0, (now - as_utc(e.newest_at)).total_seconds() / 86400.0)
    return (1.0 + e.engagement) * (0.5 ** (age_days / 14.0))


# ------------------------------------------------------------------ products


def _shown(session: Session, ctx: _Context, ranked: list[tuple[float, int]], k: int,
           hidden: set[int], reason: Callable[[int], Reason], *, offset: int = 0,
           prefer: Iterable[int] = (),
           penalties: dict[str, float] | None = None) -> list[ProductSuggestion]:
    """Places offset … offset + k of `ranked` (score, product id; best first) as shown
    products: one public recommendation each (a `prefer`red creator's if any), never one by
    a `hidden` creator, spread over creators, shops and verticals by `penalties`
    (`rules.diversify`; None: its defaults, {}: the order of `ranked`). Three candidates
    are read per place, room for the spreading."""
    places = offset + k
    top = ranked[: places * 3]
    views = showcase_q.product_views(session, [pid for _s, pid in top], prefer_creators=prefer)
    shown = [(s, (pid, view)) for s, pid in top
             if (view := views.get(pid)) is not None and view.rec.creator_id not in hidden]

    def facets(item: tuple[int, showcase_q.RecView]) -> dict[str, int | str | None]:
        pid, view = item
        return {"creator": view.rec.creator_id, "shop": view.product.partner_id,
                "vertical": ctx.vertical_of.get(pid)}

    picked = rules.diversify(shown, places, facets, penalties)
    return [ProductSuggestion(pid, view, s, reason(pid)) for s, (pid, view) in picked[offset:]]


def discover_products(session: Session, account_id: int | None, k: int = 20, *,
                      offset: int = 0, data_dir: Path | None = None
                      ) -> list[ProductSuggestion]:
    """Personalised product discovery: model scores with fold-in, else interests + popularity.

    Never returns products the account bought or dismissed, products it already bookmarked,
    or products only recommended by accounts it blocked, was blocked by or muted. `offset`
    skips the first places of the same ranking (the next pages of the feed).
    """
    if k < 1 or offset < 0:
        raise ValueError("k must be >= 1 and offset >= 0")
    places = offset + k
    ctx = _context(session)
    slug_set = set(ctx.slugs)
    if account_id is not None:
        prof = profiles.build_profile(session, account_id, catalogue=ctx.catalogue,
                                      creator_verticals=ctx.creator_verticals)
        hidden = social_q.hidden_authors(session, account_id)
        dismissed = queries.dismissed_ids(session, account_id, "product")
    else:
        prof = profiles.Profile(0)
        hidden, dismissed = set(), set()
    excluded = prof.bought | dismissed | set(prof.bookmarked)
    scores: dict[int, float] = {}
    art = store(data_dir).get()
    if art is not None and art.model is not None and account_id is not None and \
            (prof.products or prof.following):
        scores = _model_scores(art, account_id, prof)
    vweights = prof.verticals
    vmax = max(vweights.values(), default=0.0) or 1.0
    smax = max(scores.values(), default=0.0) or 1.0
    # Candidates, not the whole catalogue: the model's, the most popular of the account's
    # strongest verticals, and the most popular overall. Anything else has a lower score
    # than enough of these (same interest or none, less popularity, no model score).
    depth = max(100, 5 * places) + len(excluded)
    cands = set(scores) | set(ctx.popular[:depth])
    for top_v in prof.top_verticals(8):
        cands.update(ctx.by_vertical.get(top_v, [])[:depth])
    ranked: list[tuple[float, int]] = []
    for pid in cands:
        e = ctx.catalogue.get(pid)
        if e is None or pid in excluded or not e.available:
            continue
        if hidden and all(c in hidden for c in e.creator_ids):
            continue
        v = ctx.vertical_of.get(pid)
        if v in prof.muted:  # "show less of this topic": none of it in discovery
            continue
        interest = vweights.get(v, 0.0) / vmax if v else 0.0
        s = 2.0 * max(0.0, scores.get(pid, 0.0)) / smax + interest + 0.25 * ctx.pop[pid]
        ranked.append((s, pid))
    ranked.sort(key=lambda t: (-t[0], -t[1]))
    return _shown(session, ctx, ranked, k, hidden,
                  lambda pid: _product_reason(ctx, art, prof, pid, slug_set),
                  offset=offset, prefer=prof.following, penalties=None)


def _model_scores(art: Artefacts, account_id: int, prof: profiles.Profile) -> dict[int, float]:
    """SocialRecommender scores with the user's live row and follows (fold-in)."""
    assert art.model is not None
    # Only engaged products form the row: the model treats rows as binary and never
    # recommends a row's own items, so a mere impression must not hide a product.
    row = [p for p in prof.products if p in art.item_index and p in prof.engaged]
    cols = [art.item_index[p] for p in row]
    vals = [prof.products[p] for p in row]
    R_row = sp.csr_matrix((np.asarray(vals, dtype=np.float32),
                           (np.zeros(len(cols), dtype=np.int64), cols)),
                          shape=(1, len(art.item_ids)))
    friends = [art.user_index[f] for f in prof.following if f in art.user_index]
    S_row = sp.csr_matrix((np.ones(len(friends), dtype=np.float32),
                           (np.zeros(len(friends), dtype=np.int64), friends)),
                          shape=(1, art.model.n_users))
    # Users not in the artefacts get index 0 but always with explicit rows, so nothing of
    # account 0's stored data leaks into their scores.
    user = art.user_index.get(account_id, 0)
    try:
        idx, sc = art.model.recommend(user, CANDIDATES, R_row=R_row, S_row=S_row)
    except (ValueError, IndexError):
        # A degenerate model (e.g. no product with enough interactions for the item-item
        # core) must not take the page down: interests + popularity still rank.
        return {}
    return {int(art.item_ids[i]): float(s) for i, s in zip(idx, sc, strict=True)
            if np.isfinite(s) and s > 1e-5}


def _product_reason(ctx: _Context, art: Artefacts | None, prof: profiles.Profile, pid: int,
                    slugs: set[str]) -> Reason:
    if art is not None and prof.bookmarked and pid in art.item_index:
        j = art.item_index[pid]
        for b in prof.bookmarked[:20]:
            i = art.item_index.get(b)
            if i is not None and j in set(int(x) for x in art.nb_idx[i] if x >= 0):
                entry = ctx.catalogue.get(b)
                if entry is not None:
                    return Reason("because_bookmarked", name=entry.title)
    e = ctx.catalogue.get(pid)
    v = rules.vertical_for_category(e.category if e else None, slugs)
    if v and v in prof.picked:
        return _vreason(ctx, "picked", v)
    if v:
        return _vreason(ctx, "popular_in", v)
    return Reason("popular")


def similar_products(session: Session, product_id: int, viewer_id: int | None, k: int = 6, *,
                     data_dir: Path | None = None
                     ) -> list[ProductSuggestion]:
    """Products people interact with together with this one, else the same vertical's best."""
    ctx = _context(session)
    hidden = social_q.hidden_authors(session, viewer_id) if viewer_id else set()
    dismissed = queries.dismissed_ids(session, viewer_id, "product") if viewer_id else set()
    base = ctx.catalogue.get(product_id)
    title = base.title if base else ""
    cands: list[tuple[float, int]] = []
    art = store(data_dir).get()
    if art is not None and product_id in art.item_index:
        i = art.item_index[product_id]
        cands = [(2.0 + float(s), int(art.item_ids[j]))
                 for j, s in zip(art.nb_idx[i], art.nb_sc[i], strict=True) if j >= 0]
    seen = {pid for _s, pid in cands}
    v = ctx.vertical_of.get(product_id)
    if v:
        for pid in ctx.by_vertical.get(v, [])[: 4 * k + len(dismissed) + 1]:
            if pid not in seen:
                cands.append((ctx.pop[pid] / 1000.0, pid))
    cands = [(s, pid) for s, pid in cands if pid != product_id and pid not in dismissed
             and pid in ctx.catalogue and ctx.catalogue[pid].available]
    cands.sort(key=lambda t: (-t[0], -t[1]))
    # the most similar first, whoever recommends them: no spreading here
    return _shown(session, ctx, cands, k, hidden, lambda _pid: Reason("similar", name=title),
                  penalties={})


def fans_also_like(session: Session, creator_id: int, viewer_id: int | None, k: int = 6, *,
                   data_dir: Path | None = None) -> list[ProductSuggestion]:
    """Products the creator's followers interact with, other creators' recommendations."""
    ctx = _context(session)
    creator = accounts_q.find_account(session, creator_id)
    name = (creator.display_name or creator.username) if creator is not None else ""
    hidden = social_q.hidden_authors(session, viewer_id) if viewer_id else set()
    dismissed = queries.dismissed_ids(session, viewer_id, "product") if viewer_id else set()
    totals: dict[int, float] = defaultdict(float)
    art = store(data_dir).get()
    fans = social_q.follower_ids(session, creator_id)
    if art is not None:
        rows = [art.user_index[f] for f in fans if f in art.user_index]
        if rows:
            summed = np.asarray(art.R[rows].sum(axis=0)).ravel()
            for j in np.flatnonzero(summed > 0):
                totals[int(art.item_ids[j])] += float(summed[j])
    if not totals:
        # Before any training: the fans' live bookmarks and carts (bounded sample).
        for f in fans[:200]:
            for _a, pid, kind, _t in showcase_q.product_interactions(session, f):
                totals[pid] += rules.INTERACTION_WEIGHTS.get(kind, 0.0)
    cands = [(s, pid) for pid, s in totals.items()
             if pid in ctx.catalogue and creator_id not in ctx.catalogue[pid].creator_ids
             and pid not in dismissed and ctx.catalogue[pid].available]
    cands.sort(key=lambda t: (-t[0], -t[1]))
    # a block of six should not be one other creator's whole showcase
    return _shown(session, ctx, cands, k, hidden, lambda _pid: Reason("fans_also", name=name),
                  penalties={"creator": rules.DIVERSITY_PENALTIES["creator"]})


# ------------------------------------------------------------------ accounts


def suggest_accounts(session: Session, account_id: int, k: int = 20, *,
                     data_dir: Path | None = None) -> list[AccountSuggestion]:
    """Who to follow: graph proximity + shared interests + popularity, with a reason.

    Never suggests the account itself, accounts it follows, blocked/blocking/muted
    accounts, dismissed suggestions or suspended (deleted) accounts.
    """
    ctx = _context(session)
    prof = profiles.build_profile(session, account_id, catalogue=ctx.catalogue,
                                  creator_verticals=ctx.creator_verticals)
    excluded = ({account_id} | prof.following | social_q.hidden_authors(session, account_id)
                | queries.dismissed_ids(session, account_id, "account"))
    # Friends of friends, live: also the "followed by N people you follow" reason.
    fof: Counter[int] = Counter(b for _a, b, _t in social_q.follow_edges(session, prof.following))
    scores: dict[int, float] = {}
    art = store(data_dir).get()
    if art is not None and art.links is not None and account_id in art.user_index:
        user_ids = np.fromiter(art.user_index.keys(), dtype=np.int64,
                               count=len(art.user_index))
        idx, sc = art.links.recommend(art.user_index[account_id], CANDIDATES)
        smax = float(sc.max()) if len(sc) else 1.0
        for i, s in zip(idx, sc, strict=True):
            if np.isfinite(s):
                scores[int(user_ids[i])] = float(s) / (smax or 1.0)
    fmax = max(fof.values(), default=0) or 1
    for c, n in fof.items():
        scores[c] = scores.get(c, 0.0) + n / fmax
    vmax = max(prof.verticals.values(), default=0.0) or 1.0
    stats_ids = set(ctx.creator_verticals) | set(scores)
    stats = social_q.stats(session, stats_ids)
    fol_max = max((s.followers_count for s in stats.values()), default=0) or 1
    for c in stats_ids:
        share = ctx.creator_verticals.get(c, {})
        interest = sum(prof.verticals.get(v, 0.0) * w for v, w in share.items()) / vmax
        st = stats.get(c)
        pop = (st.followers_count / fol_max) if st else 0.0
        scores[c] = scores.get(c, 0.0) + interest + 0.2 * pop
    ranked = sorted(((s, c) for c, s in scores.items() if c not in excluded and s > 0),
                    key=lambda t: (-t[0], -t[1]))[: k * 3]
    people = accounts_q.accounts_by_ids(session, [c for _s, c in ranked])
    # Recommendation instead of selling: people who recommend products (creators, brands)
    # are the accounts worth following here, so they get a small lift over other fans.
    ranked = sorted(((s + (CREATOR_LIFT if c in people and people[c].role in
                                ("creator", "brand") else 0.0), c) for s, c in ranked),
                    key=lambda t: (-t[0], -t[1]))
    out: list[AccountSuggestion] = []
    for s, c in ranked:
        acct = people.get(c)
        if acct is None or acct.deleted_at is not None or not getattr(acct, "discoverable", True):
            continue
        out.append(AccountSuggestion(acct, s, _account_reason(ctx, prof, c, fof[c])))
        if len(out) >= k:
            break
    return out


def _account_reason(ctx: _Context, prof: profiles.Profile, c: int, n_fof: int) -> Reason:
    if n_fof > 0:
        return Reason("followed_by", count=n_fof)
    share = ctx.creator_verticals.get(c, {})
    if share:
        best = max(share, key=lambda v: (v in prof.picked, prof.verticals.get(v, 0.0),
                                         share[v]))
        if best in prof.picked:
            return _vreason(ctx, "picked", best)
        return _vreason(ctx, "popular_in", best)
    return Reason("popular")


# ------------------------------------------------------------------ ranked home


def interest_by_author(session: Session, account_id: int) -> dict[int, float]:
    """How much the account cares about each author (0-1), for the ranked home feed."""
    ctx = _context(session)
    prof = profiles.build_profile(session, account_id, catalogue=ctx.catalogue,
                                  creator_verticals=ctx.creator_verticals)
    out = dict(prof.creators)
    for c, share in ctx.creator_verticals.items():
        out[c] = out.get(c, 0.0) + sum(prof.verticals.get(v, 0.0) * w
                                       for v, w in share.items()) * 0.2
    top = max(out.values(), default=0.0) or 1.0
    return {c: w / top for c, w in out.items()}


def rank_posts(posts: list[Any], interest: dict[int, float], now: Any | None = None) -> list[Any]:
    """Order posts by interest in the author × engagement × recency (stable for ties)."""
    now = now or utcnow()

    def key(p: Any) -> float:
        eng = int(p.favourites_count or 0) + 2 * int(p.reblogs_count or 0) + \
            int(p.replies_count or 0)
        age = (now - as_utc(p.created_at)).total_seconds()
        return rules.ranked_score(interest.get(p.account_id, 0.0), eng, age)

    return sorted(posts, key=key, reverse=True)


def settings_half_life() -> float:
    """The configured interest half-life in days (for pages and docs)."""
    return float(get_settings().interest_half_life_days)


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """An account's strongest interests, normalised to shares (what we think you like)."""

    verticals: list[tuple[str, str, str, float]]  # slug, English, Chinese, share
    creators: list[tuple[Any, float]]  # account, share
    products: list[tuple[int, float]]  # product id, share
    muted: list[tuple[str, str, str, int]] = field(default_factory=list)  # slug, en, zh, id


def profile_summary(session: Session, account_id: int, n: int = 5) -> ProfileSummary:
    """The top verticals, creators and products of the live profile, as shares of 1."""
    ctx = _context(session)
    prof = profiles.build_profile(session, account_id, catalogue=ctx.catalogue,
                                  creator_verticals=ctx.creator_verticals)

    def shares(d: dict[Any, float]) -> list[tuple[Any, float]]:
        total = sum(d.values()) or 1.0
        return [(k, round(v / total, 4)) for k, v in
                sorted(d.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n] if v > 0]

    verts = [(s, ctx.slugs[s][0], ctx.slugs[s][1], w)
             for s, w in shares({k: v for k, v in prof.verticals.items() if k in ctx.slugs})]
    people = accounts_q.accounts_by_ids(session, list(prof.creators))
    creators = [(people[c], w) for c, w in
                shares({c: w for c, w in prof.creators.items()
                        if c in people and people[c].deleted_at is None})]
    muted = sorted((slug, ctx.slugs[slug][0], ctx.slugs[slug][1], vid)
                   for slug, vid in prof.muted.items()
                   if slug in ctx.slugs)
    return ProfileSummary(verts, creators, shares(prof.products), muted)
