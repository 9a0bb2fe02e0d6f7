"""Report reads over the rollups: scopes with access control, series, totals, breakdowns, tops.

Who may see what (docs/reports.md): an account's report its owner and operators; a post's,
recommendation's or product's report the owner of that object and operators — anyone else
gets NotFound, exactly as for an object that does not exist (no existence leak).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import report_rules as rr
from shopwindow.analytics import rules
from shopwindow.analytics.queries import local_day, reads, rollups
from shopwindow.core.clock import as_utc
from shopwindow.core.errors import NotFound
from shopwindow.core.ids import id_floor_for_ms
from shopwindow.partners import queries as partners_q
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

TOP_N = 10
# A creator's own recommendations considered for "top" lists and product reports.
MAX_OWN_RECS = 1000

# ------------------------------------------------------------------ pluggable sources

# Promotions live in another stream's domain: until it registers, spend is unknown (cost
# per result is then left out) and promotion reports are for operators only.
SpendSource = Callable[[Session, Sequence[int], datetime, datetime], dict[str, int]]
OwnerSource = Callable[[Session, int], int | None]


class _Plugins:
    spend: SpendSource | None = None
    promotion_owner: OwnerSource | None = None


plugins = _Plugins()


def set_spend_source(fn: SpendSource | None) -> None:
    """Install `fn(session, promotion_ids, start, end) -> {currency: minor units}`."""
    plugins.spend = fn


def set_promotion_owner(fn: OwnerSource | None) -> None:
    """Install `fn(session, promotion_id) -> owner account id | None`."""
    plugins.promotion_owner = fn


# ------------------------------------------------------------------ scopes


@dataclass(slots=True)
class Scope:
    """What a report covers: rows of one entity type (summed over `entity_ids`)."""

    kind: str  # account | post | recommendation | product | promotion | platform
    entity_type: str
    entity_ids: tuple[int, ...]
    title: str
    owner_id: int | None = None
    object_id: int | None = None

    @property
    def keys(self) -> set[tuple[str, int]]:
        """The live keys (entity_type, entity_id) whose changes update this report."""
        return {(self.entity_type, i) for i in self.entity_ids}


def _not_found(what: str = "Report") -> NotFound:
    return NotFound(f"{what} not found", field="id", rule="exists")


def _is_operator(viewer: Any) -> bool:
    return getattr(viewer, "role", "") == "operator"


def account_scope(session: Session, viewer: Any, account_id: int | None = None) -> Scope:
    """The report of an account (the viewer's own unless an operator asks for another)."""
    aid = int(viewer.id) if account_id is None else account_id
    if aid != int(viewer.id) and not _is_operator(viewer):
        raise _not_found("Account")
    acct = accounts_q.find_account(session, aid)
    if acct is None:
        raise _not_found("Account")
    return Scope("account", "creator", (aid,), f"@{acct.username}", aid, aid)


def post_scope(session: Session, viewer: Any, post_id: int) -> Scope:
    """One post's report (its author and operators)."""
    post = social_q.get_post(session, post_id)
    if post is None or (post.account_id != viewer.id and not _is_operator(viewer)):
        raise _not_found("Post")
    text = (post.spoiler_text or post.text or "").strip().replace("\n", " ")
    return Scope("post", "post", (post_id,), text[:80] or f"#{post_id}", post.account_id,
                 post_id)


def recommendation_scope(session: Session, viewer: Any, rec_id: int) -> Scope:
    """One recommendation's report (its creator and operators)."""
    try:
        rec = showcase_q.get_recommendation(session, rec_id)
    except NotFound:
        raise _not_found("Recommendation") from None
    if rec.creator_id != viewer.id and not _is_operator(viewer):
        raise _not_found("Recommendation")
    return Scope("recommendation", "recommendation", (rec_id,), rec.title, rec.creator_id,
                 rec_id)


def own_recommendations(session: Session, creator_id: int) -> list[tuple[int, int, str]]:
    """(recommendation id, product id, title) of a creator's live recommendations."""
    out: list[tuple[int, int, str]] = []
    page = 1
    while len(out) < MAX_OWN_RECS:
        sp = showcase_q.showcase(session, creator_id, viewer_id=creator_id, page=page,
                                 limit=100)
        out += [(int(v.rec.id), int(v.rec.product_id), v.rec.title) for v in sp.items]
        if page >= sp.pages:
            break
        page += 1
    return out


@reads
def product_scope(session: Session, viewer: Any, product_id: int) -> Scope:
    """A product's report: operators see the whole product; a creator the sum of their
    own recommendations of it (never other creators' figures)."""
    try:
        product = showcase_q.get_product(session, product_id)
    except NotFound:
        raise _not_found("Product") from None
    if _is_operator(viewer):
        return Scope("product", "product", (product_id,), product.title, None, product_id)
    # Deleted recommendations included: their events stay in the report. (Read from the
    # showcase, not the raw log: no index on the log's creator column is paid per event.)
    ids = showcase_q.recommendation_ids_for_product(session, int(viewer.id), product_id)
    if not ids:
        raise _not_found("Product")
    return Scope("product", "recommendation", tuple(ids), product.title, int(viewer.id),
                 product_id)


def promotion_scope(session: Session, viewer: Any, promotion_id: int) -> Scope:
    """A promotion's report (its buyer, once the promotions domain registers, and
    operators)."""
    owner = plugins.promotion_owner(session, promotion_id) if plugins.promotion_owner else None
    if not _is_operator(viewer) and (owner is None or owner != viewer.id):
        raise _not_found("Promotion")
    return Scope("promotion", "promotion", (promotion_id,), f"#{promotion_id}", owner,
                 promotion_id)


def platform_scope(viewer: Any) -> Scope:
    """The whole platform (operators only; others get NotFound)."""
    if not _is_operator(viewer):
        raise _not_found()
    return Scope("platform", "platform", (0,), "platform", None, 0)


# ------------------------------------------------------------------ figures


@dataclass(slots=True)
class Figures:
    """Counts and money of one bucket / dimension value / whole range."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    money: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, metric: str, currency: str, value: int) -> None:
        if rr.is_money(metric):
            self.money[metric][currency or "XXX"] += int(value)
        else:
            self.counts[metric] += int(value)

    def plain(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        return dict(self.counts), {m: dict(c) for m, c in self.money.items()}


@dataclass(slots=True)
class TopRow:
    """One entry of a top list."""

    entity_type: str
    entity_id: int
    name: str
    url: str | None
    figures: Figures


@dataclass(slots=True)
class Report:
    """Everything a report page or response shows."""

    scope: Scope
    window: rr.Window
    metrics: tuple[str, ...]
    buckets: list[datetime]
    series: dict[datetime, Figures]
    totals: Figures
    derived: dict[str, object]
    currencies: list[str]
    breakdown_dim: str | None = None
    breakdown: list[tuple[str, Figures]] = field(default_factory=list)
    tops: dict[str, list[TopRow]] = field(default_factory=dict)
    spend: dict[str, int] | None = None


def window_rows(session: Session, w: rr.Window, *, series: bool = False) -> Any:
    """The rollup rows that add up to the window, as one FROM clause (bucket, entity_type,
    entity_id, metric, dim, dim_value, currency, value): `rr.source_parts` decides which
    grains and ranges (whole UTC days from day rows where possible)."""
    return _rows_of(session, rr.source_parts(w, series=series))


def _rows_of(session: Session, parts: Sequence[tuple[str, datetime, datetime]]) -> Any:
    selects = []
    for grain, a, b in parts:
        r = rollups(session, grain)
        selects.append(select(r.c.bucket, r.c.entity_type, r.c.entity_id, r.c.metric, r.c.dim,
                              r.c.dim_value, r.c.currency, r.c.value)
                       .where(r.c.grain == grain, r.c.bucket >= a, r.c.bucket < b))
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("window_rows")


def _base(r: Any, scope_type: str, ids: Iterable[int], metrics: Sequence[str],
          dim: str) -> Any:
    """Conditions on the window rows `r` (`window_rows`) of a scope."""
    return (r.c.entity_type == scope_type, r.c.entity_id.in_(list(ids)),
            r.c.metric.in_(list(metrics)), r.c.dim == dim)


def _series(session: Session, scope: Scope, w: rr.Window,
            metrics: Sequence[str]) -> tuple[dict[datetime, Figures], Figures]:
    parts = rr.source_parts(w, series=True)
    r = _rows_of(session, parts)
    bucket: Any = r.c.bucket
    days: dict[str, datetime] = {}  # local date → display bucket (SQLite's local days)
    if w.grain == "day" and w.day_basis == "local" and all(g == "h" for g, _a, _b in parts):
        # Local days from hour rows: summed per local day in the database (a 30-day
        # series is then ~30 rows per metric instead of ~720, and no zone maths here).
        bucket = local_day(session, r.c.bucket, w.tz_name, rr.offset_changes(w))
        days = {rr.label(b, w): b for b in rr.buckets(w)}
    rows = session.execute(
        select(bucket, r.c.metric, r.c.currency, func.sum(r.c.value))
        .where(*_base(r, scope.entity_type, scope.entity_ids, metrics, "all"))
        .group_by(bucket, r.c.metric, r.c.currency)).all()
    # Summed per (display bucket, metric, currency) first: an hour-sourced series may
    # have thousands of rows and ~30 buckets.
    sums: dict[tuple[datetime, str, str], int] = defaultdict(int)
    display: dict[Any, datetime] = {}  # rollup bucket → viewer bucket (zone maths once)
    for key, metric, currency, value in rows:
        b = display.get(key)
        if b is None:
            b = display[key] = days[key] if isinstance(key, str) else \
                rr.bucket_of(as_utc(key), w)
        sums[(b, metric, currency)] += int(value or 0)
    by: dict[datetime, Figures] = {b: Figures() for b in rr.buckets(w)}
    totals = Figures()
    for (b, metric, currency), value in sums.items():
        f = by.get(b)
        if f is None:
            f = by[b] = Figures()
        f.add(metric, currency, value)
        totals.add(metric, currency, value)
    return by, totals


@reads
def breakdown(session: Session, scope: Scope, w: rr.Window, metrics: Sequence[str],
              dim: str) -> list[tuple[str, Figures]]:
    """Totals per value of one dimension, largest first (by the first metric present).

    Dimensions have no minute rollups (`rules.MINUTE_DIMS`): a window read from minute
    buckets is broken down over the UTC hours it overlaps instead.
    """
    if w.source == "m" and dim not in rules.MINUTE_DIMS:
        start = w.start.replace(minute=0, second=0, microsecond=0)
        end = w.end.replace(minute=0, second=0, microsecond=0)
        if end < w.end:
            end += timedelta(hours=1)
        w = replace(w, start=start, end=end, source="h")
    r = window_rows(session, w)
    rows = session.execute(
        select(r.c.dim_value, r.c.metric, r.c.currency, func.sum(r.c.value))
        .where(*_base(r, scope.entity_type, scope.entity_ids, metrics, dim))
        .group_by(r.c.dim_value, r.c.metric, r.c.currency)).all()
    by: dict[str, Figures] = defaultdict(Figures)
    for value, metric, currency, n in rows:
        by[str(value)].add(metric, currency, int(n or 0))

    def weight(item: tuple[str, Figures]) -> tuple[int, ...]:
        f = item[1]
        return tuple(-f.counts.get(m, 0) for m in metrics if not rr.is_money(m))

    return sorted(by.items(), key=lambda it: (weight(it), it[0]))


@reads
def top_entities(session: Session, entity_type: str, ids: Iterable[int] | None,
                 w: rr.Window, rank_by: str, metrics: Sequence[str],
                 limit: int = TOP_N) -> list[tuple[int, Figures]]:
    """Entities of one type ranked by a metric over the window (ids=None: all of them)."""
    r = window_rows(session, w)
    conds = [r.c.entity_type == entity_type, r.c.dim == "all"]
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return []
        conds.append(r.c.entity_id.in_(wanted))
    score = func.sum(r.c.value)
    ranked = session.execute(
        select(r.c.entity_id, score).where(*conds, r.c.metric == rank_by)
        .group_by(r.c.entity_id).order_by(score.desc(), r.c.entity_id)
        .limit(limit)).all()
    top = [int(r[0]) for r in ranked if int(r[1] or 0) > 0]
    if not top:
        return []
    figs: dict[int, Figures] = {i: Figures() for i in top}
    for eid, metric, currency, n in session.execute(
            select(r.c.entity_id, r.c.metric, r.c.currency, func.sum(r.c.value))
            .where(*conds, r.c.entity_id.in_(top), r.c.metric.in_(list(metrics)))
            .group_by(r.c.entity_id, r.c.metric, r.c.currency)):
        figs[int(eid)].add(metric, currency, int(n or 0))
    return [(i, figs[i]) for i in top]


def _post_candidates(session: Session, creator_id: int, w: rr.Window) -> list[int]:
    """The creator's posts that exist before the window ends.

    Why not the raw log: a DISTINCT over an account's events in the window reads every
    event (seconds for 10M events); the creator's posts are few and the rollups, keyed by
    entity first, rank them cheaply. Deleted posts drop out, as their pages are gone."""
    before = id_floor_for_ms(int(w.end.timestamp() * 1000))
    return social_q.post_ids_by_author(session, creator_id, before_id=before)


TOP_METRICS = ("impressions", "reads", "clicks", "orders", "gmv", "commission")


def _account_tops(session: Session, scope: Scope, w: rr.Window) -> dict[str, list[TopRow]]:
    cid = scope.entity_ids[0]
    own = own_recommendations(session, cid)
    titles = {r: t for r, _p, t in own}
    rec_ids = set(titles)
    recs = [TopRow("recommendation", i, titles.get(i, f"#{i}"), f"/reports/recommendations/{i}",
                   f) for i, f in top_entities(session, "recommendation", rec_ids, w, "clicks",
                                               TOP_METRICS)]
    post_ids = _post_candidates(session, cid, w)
    posts_found = social_q.posts_by_ids(session, post_ids)
    owned = {i for i, p in posts_found.items() if p.account_id == cid}
    posts = []
    for i, f in top_entities(session, "post", owned, w, "reads", TOP_METRICS):
        p = posts_found[i]
        name = (p.spoiler_text or p.text or "").strip().replace("\n", " ")[:80] or f"#{i}"
        posts.append(TopRow("post", i, name, f"/reports/posts/{i}", f))
    return {"recommendations": recs, "posts": posts}


@reads
def entity_totals(session: Session, entity_type: str, w: rr.Window,
                  metrics: Sequence[str]) -> dict[int, Figures]:
    """Totals of every entity of one type over the window, in one scan of its rollups."""
    out: dict[int, Figures] = defaultdict(Figures)
    r = window_rows(session, w)
    for eid, metric, currency, n in session.execute(
            select(r.c.entity_id, r.c.metric, r.c.currency, func.sum(r.c.value))
            .where(r.c.entity_type == entity_type, r.c.dim == "all",
                   r.c.metric.in_(list(metrics)))
            .group_by(r.c.entity_id, r.c.metric, r.c.currency)):
        out[int(eid)].add(metric, currency, int(n or 0))
    return out


def ranked(totals: dict[int, Figures], by: str, limit: int = TOP_N) -> list[tuple[int, Figures]]:
    """The `limit` entities with the most of `by` (money: summed minor units), ties by id."""
    def score(f: Figures) -> int:
        return sum(f.money.get(by, {}).values()) if rr.is_money(by) else f.counts.get(by, 0)

    rows = [(i, f) for i, f in totals.items() if score(f) > 0]
    rows.sort(key=lambda it: (-score(it[1]), it[0]))
    return rows[:limit]


def _platform_tops(session: Session, w: rr.Window) -> dict[str, list[TopRow]]:
    # One scan per entity type, ranked here (several rankings share it).
    out: dict[str, list[TopRow]] = {}
    partners = {int(p.id): p.name for p in partners_q.list_partners(session)}
    out["partners"] = [TopRow("partner", i, partners.get(i, f"#{i}"), None, f) for i, f in
                       ranked(entity_totals(session, "partner", w, TOP_METRICS), "clicks", 50)]
    creators = entity_totals(session, "creator", w, TOP_METRICS)
    for key, rank in (("creators_by_gmv", "gmv"), ("creators_by_clicks", "clicks")):
        rows = ranked(creators, rank)
        people = accounts_q.accounts_by_ids(session, [i for i, _f in rows])
        out[key] = [TopRow("creator", i, f"@{people[i].username}" if i in people else f"#{i}",
                           f"/@{people[i].username}" if i in people else None, f)
                    for i, f in rows]
    products = entity_totals(session, "product", w, TOP_METRICS)
    for key, rank in (("products_by_gmv", "gmv"), ("products_by_clicks", "clicks")):
        rows = ranked(products, rank)
        names = {}
        for i, _f in rows:
            try:
                names[i] = showcase_q.get_product(session, i).title
            except NotFound:
                names[i] = f"#{i}"
        out[key] = [TopRow("product", i, names[i], f"/reports/products/{i}", f)
                    for i, f in rows]
    return out


@reads
def build(session: Session, scope: Scope, w: rr.Window, *, breakdown_dim: str | None = None,
          with_tops: bool = True) -> Report:
    """The full report of a scope over a window."""
    metrics = rr.METRICS
    by, totals = _series(session, scope, w, metrics)
    spend = None
    if scope.kind == "promotion" and plugins.spend is not None:
        spend = plugins.spend(session, scope.entity_ids, w.start, w.end)
    counts, money = totals.plain()
    currencies = sorted({c for per in money.values() for c in per})
    rep = Report(scope, w, rr.SCOPE_METRICS[scope.kind], sorted(by), by, totals,
                 rr.derived(counts, scope.kind, spend), currencies, spend=spend)
    if breakdown_dim:
        rep.breakdown_dim = breakdown_dim
        rep.breakdown = breakdown(session, scope, w, metrics, breakdown_dim)
    if with_tops:
        if scope.kind == "account":
            rep.tops = _account_tops(session, scope, w)
        elif scope.kind == "platform":
            rep.tops = _platform_tops(session, w)
    return rep
