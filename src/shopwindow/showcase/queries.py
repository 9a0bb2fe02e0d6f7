"""Showcase reads: hand-off targets, showcases, middle pages, cards, bookmarks, carts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import NotFound
from shopwindow.core.money import Money
from shopwindow.partners import queries as partners_q
from shopwindow.showcase import rules
from shopwindow.showcase.models import CartItem, Product, ProductBookmark, Recommendation
from shopwindow.social import queries as social_q

SHOWCASE_PAGE = 24


# ------------------------------------------------------------------ hand-off (tracking)


@dataclass(frozen=True, slots=True)
class HandoffTarget:
    """What the buy hand-off needs: who recommended which product of which partner, where."""

    recommendation_id: int
    creator_id: int
    product_id: int
    partner_id: int
    product_url: str
    available: bool


def _target(rec: Recommendation, product: Product) -> HandoffTarget:
    return HandoffTarget(rec.id, rec.creator_id, product.id, product.partner_id,
                         product.canonical_url, bool(product.available))


def get_recommendation_for_handoff(session: Session, recommendation_id: int) -> HandoffTarget:
    """The hand-off target of a live recommendation, or NotFound (field `recommendation_id`)."""
    row = session.execute(
        select(Recommendation, Product).join(Product, Product.id == Recommendation.product_id)
        .where(Recommendation.id == recommendation_id, Recommendation.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound("Recommendation not found", field="recommendation_id", rule="exists")
    return _target(row[0], row[1])


def recommendations_for_handoff(session: Session,
                                ids: list[int]) -> dict[int, HandoffTarget]:
    """Hand-off targets of the live recommendations among `ids` (missing: deleted / unknown)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Recommendation, Product).join(Product, Product.id == Recommendation.product_id)
        .where(Recommendation.id.in_(ids), Recommendation.deleted_at.is_(None))).all()
    return {int(rec.id): _target(rec, product) for rec, product in rows}


def cart_for_handoff(session: Session,
                     account_id: int) -> dict[int, list[tuple[HandoffTarget, int]]]:
    """The account's cart as {partner_id: [(target, quantity), …]} (oldest line first)."""
    rows = session.execute(
        select(CartItem, Recommendation, Product)
        .join(Recommendation, Recommendation.id == CartItem.recommendation_id)
        .join(Product, Product.id == Recommendation.product_id)
        .where(CartItem.account_id == account_id, Recommendation.deleted_at.is_(None))
        .order_by(CartItem.id)
    ).all()
    out: dict[int, list[tuple[HandoffTarget, int]]] = defaultdict(list)
    for item, rec, product in rows:
        out[product.partner_id].append((_target(rec, product), item.quantity))
    return dict(out)


# ------------------------------------------------------------------ recommendations


@dataclass(slots=True)
class RecView:
    """A recommendation with its product and creator (an Account row), ready to display."""

    rec: Recommendation
    product: Product
    creator: Any
    partner_name: str = ""

    @property
    def url(self) -> str:
        return f"/r/{self.rec.id}"

    @property
    def image(self) -> str | None:
        imgs = self.rec.images or self.product.images or []
        return imgs[0] if imgs else None

    @property
    def price(self) -> Money:
        return Money(int(self.product.price_minor), self.product.currency)


def bookmarkers_of_product(session: Session,
                           product_id: int) -> list[tuple[int, int, int | None]]:
    """(fan, creator, post) for every fan who bookmarked the product, from the (live)
    recommendation they saved it from; one row per fan."""
    rows = session.execute(
        select(ProductBookmark.account_id, Recommendation.creator_id, Recommendation.post_id)
        .join(Recommendation, Recommendation.id == ProductBookmark.recommendation_id)
        .where(ProductBookmark.product_id == product_id, Recommendation.deleted_at.is_(None))
        .order_by(ProductBookmark.account_id))
    return [(int(a), int(c), int(p) if p is not None else None) for a, c, p in rows]


def count_published_since(session: Session, creator_id: int, since: datetime) -> int:
    """Recommendations the creator published since `since` (deleted ones included)."""
    return int(session.scalar(select(func.count()).select_from(Recommendation).where(
        Recommendation.creator_id == creator_id, Recommendation.created_at >= since)) or 0)


def get_recommendation(session: Session, recommendation_id: int) -> Recommendation:
    """A live recommendation or NotFound."""
    rec = session.get(Recommendation, recommendation_id)
    if rec is None or rec.deleted_at is not None:
        raise NotFound("Recommendation not found", field="id", rule="exists")
    return rec


def get_product(session: Session, product_id: int) -> Product:
    """A product or NotFound."""
    p = session.get(Product, product_id)
    if p is None:
        raise NotFound("Product not found", field="product_id", rule="exists")
    return p


def _partner_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for pid in set(ids):
        p = partners_q.find_partner(session, pid)
        out[pid] = p.name if p is not None else ""
    return out


def _views(session: Session, rows: list[tuple[Recommendation, Product]]) -> list[RecView]:
    people = accounts_q.accounts_by_ids(session, [r.creator_id for r, _p in rows])
    names = _partner_names(session, [p.partner_id for _r, p in rows])
    out: list[RecView] = []
    for rec, product in rows:
        creator = people.get(rec.creator_id)
        if creator is None or creator.deleted_at is not None:
            continue
        out.append(RecView(rec, product, creator, names.get(product.partner_id, "")))
    return out


def _live() -> Any:
    return Recommendation.deleted_at.is_(None)


def can_see_private(session: Session, creator_id: int, viewer_id: int | None) -> bool:
    """Followers-only recommendations: the creator and their followers (no blocks)."""
    if viewer_id is None:
        return False
    if viewer_id == creator_id:
        return True
    return social_q.is_following(session, viewer_id, creator_id) and \
        not social_q.blocked_either_way(session, viewer_id, creator_id)


def can_view(session: Session, rec: Recommendation, viewer_id: int | None) -> bool:
    """Whether the viewer may open a recommendation's middle page."""
    if viewer_id is not None and viewer_id != rec.creator_id and \
            social_q.blocked_either_way(session, viewer_id, rec.creator_id):
        return False
    return rec.visibility != "private" or can_see_private(session, rec.creator_id, viewer_id)


@dataclass(slots=True)
class ShowcasePage:
    """One page of a creator's showcase, with the category facet of the whole showcase."""

    items: list[RecView]
    categories: list[tuple[str, int]]
    total: int
    page: int
    pages: int
    sort: str
    q: str = ""
    category: str | None = None


def showcase(session: Session, creator_id: int, *, viewer_id: int | None = None, q: str = "",
             category: str | None = None, sort: str | None = None, page: int = 1,
             limit: int = SHOWCASE_PAGE) -> ShowcasePage:
    """A creator's showcase: filter by category and title words, sort, one page."""
    sort = rules.check_sort(sort)
    page = max(1, min(int(page or 1), 10_000))
    limit = max(1, min(limit, 100))
    conds: list[Any] = [Recommendation.creator_id == creator_id, _live()]
    if not can_see_private(session, creator_id, viewer_id):
        conds.append(Recommendation.visibility != "private")
    base = (select(Recommendation, Product)
            .join(Product, Product.id == Recommendation.product_id).where(*conds))
    facet = session.execute(
        select(Product.category, func.count())
        .join(Recommendation, Recommendation.product_id == Product.id)
        .where(*conds, Product.category.is_not(None))
        .group_by(Product.category).order_by(func.count().desc(), Product.category)
    ).all()
    q = (q or "").strip()[:100]
    if q:
        for word in q.split()[:5]:
            like = "%" + word.replace("\\", "").replace("%", r"\%").replace("_", r"\_") + "%"
            base = base.where(Recommendation.title.ilike(like, escape="\\")
                              | Product.brand.ilike(like, escape="\\"))
    if category:
        base = base.where(Product.category == category)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    order: list[Any] = {
        "newest": [Recommendation.id.desc()],
        "price_asc": [Product.price_minor.asc(), Recommendation.id.desc()],
        "price_desc": [Product.price_minor.desc(), Recommendation.id.desc()],
        "popular": [(Recommendation.bookmarks_count + Recommendation.carts_count).desc(),
                    Recommendation.id.desc()],
    }[sort]
    rows = session.execute(base.order_by(*order).offset((page - 1) * limit).limit(limit)).all()
    return ShowcasePage(
        items=_views(session, [(r, p) for r, p in rows]),
        categories=[(str(c), int(n)) for c, n in facet],
        total=total, page=page, pages=max(1, -(-total // limit)), sort=sort, q=q,
        category=category or None,
    )


@dataclass(slots=True)
class RecommendationDetail:
    """The middle page: the recommendation, and other creators recommending the product."""

    view: RecView
    others: list[RecView] = field(default_factory=list)


def recommendation_detail(session: Session, recommendation_id: int, viewer_id: int | None = None,
                          *, others_limit: int = 12) -> RecommendationDetail:
    """A live recommendation with its product and other creators' public recommendations."""
    rec = get_recommendation(session, recommendation_id)
    if not can_view(session, rec, viewer_id):
        raise NotFound("Recommendation not found", field="id", rule="exists")
    product = get_product(session, rec.product_id)
    views = _views(session, [(rec, product)])
    if not views:
        raise NotFound("Recommendation not found", field="id", rule="exists")
    # One recommendation per other creator (their newest).
    newest = (select(func.max(Recommendation.id))
              .where(Recommendation.product_id == product.id, _live(),
                     Recommendation.creator_id != rec.creator_id,
                     Recommendation.visibility != "private")
              .group_by(Recommendation.creator_id))
    others = list(session.scalars(
        select(Recommendation).where(Recommendation.id.in_(newest))
        .order_by(Recommendation.id.desc()).limit(others_limit)))
    return RecommendationDetail(views[0], _views(session, [(o, product) for o in others]))


def cards_for_posts(session: Session, post_ids: Iterable[int]) -> dict[int, list[RecView]]:
    """Product cards of the given posts: {post_id: [RecView in position order]}."""
    ids = list({int(i) for i in post_ids})
    if not ids:
        return {}
    rows = session.execute(
        select(Recommendation, Product).join(Product, Product.id == Recommendation.product_id)
        .where(Recommendation.post_id.in_(ids), _live())
        .order_by(Recommendation.post_id, Recommendation.position)
    ).all()
    out: dict[int, list[RecView]] = defaultdict(list)
    for v in _views(session, [(r, p) for r, p in rows]):
        out[int(v.rec.post_id or 0)].append(v)
    return dict(out)


def recommendations_of_creator(session: Session, creator_id: int,
                               limit: int = 6) -> list[RecView]:
    """A creator's newest public recommendations (profile strip)."""
    rows = session.execute(
        select(Recommendation, Product).join(Product, Product.id == Recommendation.product_id)
        .where(Recommendation.creator_id == creator_id, _live(),
               Recommendation.visibility != "private")
        .order_by(Recommendation.id.desc()).limit(limit)).all()
    return _views(session, [(r, p) for r, p in rows])


def recommendation_ids_for_product(session: Session, creator_id: int,
                                   product_id: int) -> list[int]:
    """Ids of every recommendation a creator made of a product, deleted ones included
    (their figures stay in the creator's product report)."""
    return [int(i) for i in session.scalars(
        select(Recommendation.id).where(Recommendation.creator_id == creator_id,
                                        Recommendation.product_id == product_id)
        .order_by(Recommendation.id))]


# ------------------------------------------------------------------ bookmarks


def is_bookmarked(session: Session, account_id: int, product_id: int) -> bool:
    """Whether the account bookmarked the product (through any recommendation)."""
    return session.scalar(select(ProductBookmark.id).where(
        ProductBookmark.account_id == account_id,
        ProductBookmark.product_id == product_id)) is not None


def bookmarks(session: Session, account_id: int, *, max_id: int | None = None,
              limit: int = 40) -> list[tuple[int, RecView]]:
    """The account's bookmarked products, newest first, as (bookmark id, view)."""
    stmt = (select(ProductBookmark.id, Recommendation, Product)
            .join(Recommendation, Recommendation.id == ProductBookmark.recommendation_id)
            .join(Product, Product.id == ProductBookmark.product_id)
            .where(ProductBookmark.account_id == account_id, _live()))
    if max_id is not None:
        stmt = stmt.where(ProductBookmark.id < max_id)
    rows = session.execute(stmt.order_by(ProductBookmark.id.desc()).limit(limit)).all()
    views = {v.rec.id: v for v in _views(session, [(r, p) for _b, r, p in rows])}
    return [(int(b), views[r.id]) for b, r, _p in rows if r.id in views]


# ------------------------------------------------------------------ cart


@dataclass(slots=True)
class CartLine:
    """One cart line: the item, what it shows, and its line total."""

    item_id: int
    quantity: int
    view: RecView

    @property
    def total(self) -> Money:
        return Money(int(self.view.product.price_minor) * self.quantity,
                     self.view.product.currency)


@dataclass(slots=True)
class CartGroup:
    """The lines of one partner (each partner checks out separately) and their totals."""

    partner_id: int
    partner_name: str
    lines: list[CartLine]

    @property
    def totals(self) -> list[Money]:
        sums: dict[str, int] = defaultdict(int)
        for line in self.lines:
            if line.view.product.available:
                sums[line.view.product.currency] += line.total.amount
        return [Money(v, c) for c, v in sorted(sums.items())]

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(slots=True)
class Cart:
    """A fan's cart grouped by partner."""

    groups: list[CartGroup]

    @property
    def quantity(self) -> int:
        return sum(g.quantity for g in self.groups)

    @property
    def totals(self) -> list[Money]:
        sums: dict[str, int] = defaultdict(int)
        for g in self.groups:
            for m in g.totals:
                sums[m.currency] += m.amount
        return [Money(v, c) for c, v in sorted(sums.items())]


def cart(session: Session, account_id: int) -> Cart:
    """The account's cart grouped by partner (partners by name, lines oldest first)."""
    rows = session.execute(
        select(CartItem, Recommendation, Product)
        .join(Recommendation, Recommendation.id == CartItem.recommendation_id)
        .join(Product, Product.id == Recommendation.product_id)
        .where(CartItem.account_id == account_id, _live())
        .order_by(CartItem.id)
    ).all()
    views = {v.rec.id: v for v in _views(session, [(r, p) for _i, r, p in rows])}
    groups: dict[int, CartGroup] = {}
    for item, rec, product in rows:
        v = views.get(rec.id)
        if v is None:
            continue
        g = groups.get(product.partner_id)
        if g is None:
            g = groups[product.partner_id] = CartGroup(product.partner_id, v.partner_name, [])
        g.lines.append(CartLine(item.id, item.quantity, v))
    return Cart(sorted(groups.values(), key=lambda g: (g.partner_name, g.partner_id)))


def cart_quantity(session: Session, account_id: int, recommendation_id: int) -> int:
    """How many of a recommendation the account has in its cart (0 when none)."""
    q = session.scalar(select(CartItem.quantity).where(
        CartItem.account_id == account_id, CartItem.recommendation_id == recommendation_id))
    return int(q or 0)


# ------------------------------------------------------------------ refresh


def stale_product_ids(session: Session, older_than: timedelta, limit: int = 200,
                      now: datetime | None = None) -> list[int]:
    """Products last read from their partner before now - older_than, oldest first."""
    cutoff = (now or utcnow()) - older_than
    live = select(Recommendation.product_id).where(_live())
    return [int(i) for i in session.scalars(
        select(Product.id).where(Product.last_fetched_at < cutoff, Product.id.in_(live))
        .order_by(Product.last_fetched_at).limit(limit))]


# ------------------------------------------------------------------ recommender inputs


def product_interactions(session: Session, account_id: int | None = None
                         ) -> list[tuple[int, int, str, datetime]]:
    """(account, product, "bookmark" | "cart", at) signals, of everyone or of one account."""
    bm = select(ProductBookmark.account_id, ProductBookmark.product_id,
                ProductBookmark.created_at)
    cart = (select(CartItem.account_id, Recommendation.product_id, CartItem.added_at)
            .join(Recommendation, Recommendation.id == CartItem.recommendation_id))
    if account_id is not None:
        bm = bm.where(ProductBookmark.account_id == account_id)
        cart = cart.where(CartItem.account_id == account_id)
    out = [(int(a), int(p), "bookmark", t) for a, p, t in session.execute(bm)]
    out += [(int(a), int(p), "cart", t) for a, p, t in session.execute(cart)]
    return out


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A product that has a live public recommendation: what recommenders may show."""

    product_id: int
    title: str
    category: str | None
    available: bool
    creator_ids: tuple[int, ...]
    newest_at: datetime
    engagement: int  # bookmarks + carts over all its recommendations


def catalogue(session: Session) -> list[CatalogueEntry]:
    """Every product with a live public recommendation, with its creators and engagement."""
    rows = session.execute(
        select(Product.id, Product.title, Product.category, Product.available,
               Recommendation.creator_id, Recommendation.created_at,
               Recommendation.bookmarks_count, Recommendation.carts_count)
        .join(Recommendation, Recommendation.product_id == Product.id)
        .where(_live(), Recommendation.visibility != "private"))
    acc: dict[int, dict[str, Any]] = {}
    for pid, title, cat, avail, creator, at, nb, nc in rows:
        e = acc.setdefault(int(pid), {"title": title, "category": cat, "available": bool(avail),
                                      "creators": [], "newest": at, "eng": 0})
        if creator not in e["creators"]:
            e["creators"].append(int(creator))
        e["newest"] = max(e["newest"], at)
        e["eng"] += int(nb or 0) + int(nc or 0)
    return [CatalogueEntry(pid, e["title"], e["category"], e["available"], tuple(e["creators"]),
                           e["newest"], e["eng"]) for pid, e in acc.items()]


def product_views(session: Session, product_ids: Iterable[int],
                  prefer_creators: Iterable[int] = ()) -> dict[int, RecView]:
    """One public recommendation to show per product: a preferred creator's, else the newest."""
    ids = list({int(i) for i in product_ids})
    if not ids:
        return {}
    preferred = set(prefer_creators)
    rows = session.execute(
        select(Recommendation, Product).join(Product, Product.id == Recommendation.product_id)
        .where(Product.id.in_(ids), _live(), Recommendation.visibility != "private")
        .order_by(Recommendation.id.desc())).all()
    out: dict[int, RecView] = {}
    for v in _views(session, [(r, p) for r, p in rows]):
        pid = v.product.id
        if pid not in out or (v.rec.creator_id in preferred
                              and out[pid].rec.creator_id not in preferred):
            out[pid] = v
    return out
