"""Interests platform API (/api/sw/v1): verticals, picked interests, recommendations.

Thin: parse, authorise, call actions/queries/serving, serialise. Reasons come as a stable
`code` plus a sentence in the caller's language (Accept-Language / account locale).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from shopwindow.core.errors import Forbidden, NotFound
from shopwindow.interests import actions, queries, serving
from shopwindow.interests.models import Vertical
from shopwindow.interests.rules import Reason
from shopwindow.interests.schemas import (
    AccountRef,
    AccountSuggestionRead,
    DismissIn,
    InterestsRead,
    InterestsUpdate,
    ProductSuggestionRead,
    ProfileRead,
    ReasonRead,
    TrainingRunRead,
    VerticalCreate,
    VerticalRead,
    VerticalUpdate,
    WeightedAccount,
    WeightedProduct,
    WeightedVertical,
)
from shopwindow.showcase import queries as showcase_q
from shopwindow.showcase.api import rec_read
from shopwindow.web.deps import AppSettings, DbSession, RequiredAuth, user
from shopwindow.web.errors import problem_responses
from shopwindow.web.templating import request_locale

router = APIRouter(prefix="/api/sw/v1", tags=["interests"])
ERRORS = problem_responses(401, 403, 404, 409, 422)
Reader = Annotated[Any, Depends(user("read:accounts"))]
Writer = Annotated[Any, Depends(user("write:accounts"))]
Limit = Annotated[int, Query(ge=1, le=40)]
# the discovery feed can be paged this deep (10 pages of 20)
Offset = Annotated[int, Query(ge=0, le=180)]


def _operator(auth: RequiredAuth, scope: str) -> int:
    acct = auth.require(scope)
    if acct.role != "operator":
        raise Forbidden("Only operators edit verticals", field="role", rule="role:operator")
    return int(acct.id)


def operator_write(auth: RequiredAuth) -> int:
    """Dependency: an operator whose token may write; returns the account id."""
    return _operator(auth, "write:accounts")


OperatorWrite = Annotated[int, Depends(operator_write)]


def _id(raw: str, field: str = "id") -> int:
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("Not found", field=field, rule="exists")
    return int(raw)


def vertical_read(v: Vertical) -> VerticalRead:
    """Serialise a vertical."""
    return VerticalRead(id=str(v.id), slug=v.slug, name_en=v.name_en, name_zh=v.name_zh,
                        position=v.position, active=v.active, updated_at=v.updated_at)


def reason_read(r: Reason, zh: bool) -> ReasonRead:
    """Serialise a reason in the caller's language."""
    return ReasonRead(code=r.code, text=r.text(zh), count=r.count,
                      name=(r.name_zh or r.name) if zh else r.name)


def _zh(request: Request) -> bool:
    return request_locale(request) == "zh-CN"


def product_reads(items: list[serving.ProductSuggestion], zh: bool) -> list[ProductSuggestionRead]:
    """Serialise product suggestions."""
    return [ProductSuggestionRead(product_id=str(i.product_id), score=round(i.score, 6),
                                  reason=reason_read(i.reason, zh),
                                  recommendation=rec_read(i.view)) for i in items]


# ------------------------------------------------------------------ verticals


@router.get("/verticals", response_model=list[VerticalRead])
def list_verticals(session: DbSession, include_inactive: bool = False) -> list[VerticalRead]:
    """The interest taxonomy in the operator's order (public)."""
    return [vertical_read(v) for v in
            queries.list_verticals(session, include_inactive=include_inactive)]


@router.post("/verticals", response_model=VerticalRead, status_code=201, responses=ERRORS)
def create_vertical(body: VerticalCreate, session: DbSession,
                    actor: OperatorWrite) -> VerticalRead:
    """Add a vertical (operators)."""
    return vertical_read(actions.create_vertical(session, actor, slug=body.slug,
                                                 name_en=body.name_en, name_zh=body.name_zh,
                                                 position=body.position))


@router.patch("/verticals/{vertical_id}", response_model=VerticalRead, responses=ERRORS)
def update_vertical(vertical_id: str, body: VerticalUpdate, session: DbSession,
                    actor: OperatorWrite) -> VerticalRead:
    """Rename, reorder, deactivate or reactivate a vertical (operators)."""
    return vertical_read(actions.update_vertical(
        session, actor, _id(vertical_id, "vertical_id"), name_en=body.name_en,
        name_zh=body.name_zh, position=body.position, active=body.active))


# ------------------------------------------------------------------ my interests


def _interests(session: Any, account_id: int) -> InterestsRead:
    return InterestsRead(verticals=queries.picked_slugs(session, account_id),
                         ranked_home=queries.ranked_home_enabled(session, account_id))


@router.get("/interests", response_model=InterestsRead, responses=ERRORS)
def my_interests(session: DbSession, me: Reader) -> InterestsRead:
    """The verticals you picked and whether your home feed is ranked."""
    return _interests(session, me.id)


@router.put("/interests", response_model=InterestsRead, responses=ERRORS)
def set_interests(body: InterestsUpdate, session: DbSession, me: Writer) -> InterestsRead:
    """Replace your picked verticals and/or switch the ranked home feed."""
    if body.verticals is not None:
        actions.set_picked_interests(session, me.id, body.verticals)
    if body.ranked_home is not None:
        actions.set_ranked_home(session, me.id, body.ranked_home)
    return _interests(session, me.id)


@router.get("/interests/profile", response_model=ProfileRead, responses=ERRORS)
def my_profile(request: Request, session: DbSession, settings: AppSettings,
               me: Reader) -> ProfileRead:
    """Your strongest interests right now (verticals, creators, products), as shares."""
    zh = _zh(request)
    base = settings.base_url.rstrip("/")
    p = serving.profile_summary(session, me.id)
    return ProfileRead(
        verticals=[WeightedVertical(slug=s, name=zh_name if zh else en, share=w)
                   for s, en, zh_name, w in p.verticals],
        creators=[WeightedAccount(account=_account_ref(a, base), share=w)
                  for a, w in p.creators],
        products=[WeightedProduct(product_id=str(pid), share=w) for pid, w in p.products])


def _account_ref(a: Any, base: str) -> AccountRef:
    return AccountRef(id=str(a.id), username=a.username, display_name=a.display_name or "",
                      role=a.role, url=f"{base}/@{a.username}")


# ------------------------------------------------------------------ recommendations


@router.get("/recommendations/products", response_model=list[ProductSuggestionRead],
            responses=ERRORS)
def recommended_products(request: Request, session: DbSession, settings: AppSettings,
                         me: Reader, limit: Limit = 20, offset: Offset = 0
                         ) -> list[ProductSuggestionRead]:
    """Products for you (personalised discovery), each with a reason; `offset` pages on."""
    items = serving.discover_products(session, me.id, limit, offset=offset,
                                      data_dir=settings.data_dir)
    return product_reads(items, _zh(request))


@router.get("/recommendations/accounts", response_model=list[AccountSuggestionRead],
            responses=ERRORS)
def recommended_accounts(request: Request, session: DbSession, settings: AppSettings,
                         me: Reader, limit: Limit = 20) -> list[AccountSuggestionRead]:
    """Accounts to follow, each with a reason."""
    zh = _zh(request)
    base = settings.base_url.rstrip("/")
    return [AccountSuggestionRead(account=_account_ref(s.account, base),
                                  score=round(s.score, 6), reason=reason_read(s.reason, zh))
        for s in serving.suggest_accounts(session, me.id, limit, data_dir=settings.data_dir)]


@router.get("/recommendations/similar/{recommendation_id}",
            response_model=list[ProductSuggestionRead], responses=ERRORS)
def similar(request: Request, recommendation_id: str, session: DbSession,
            settings: AppSettings, me: Reader, limit: Limit = 6
            ) -> list[ProductSuggestionRead]:
    """Products similar to the one of this recommendation (middle page)."""
    rec = showcase_q.get_recommendation(session, _id(recommendation_id))
    if not showcase_q.can_view(session, rec, me.id):
        raise NotFound("Recommendation not found", field="id", rule="exists")
    items = serving.similar_products(session, rec.product_id, me.id, limit,
                                     data_dir=settings.data_dir)
    return product_reads(items, _zh(request))


@router.get("/recommendations/fans_also_like/{account_id}",
            response_model=list[ProductSuggestionRead], responses=ERRORS)
def fans_also_like(request: Request, account_id: str, session: DbSession,
                   settings: AppSettings, me: Reader, limit: Limit = 6
                   ) -> list[ProductSuggestionRead]:
    """Products that this creator's fans also like (profile block)."""
    items = serving.fans_also_like(session, _id(account_id, "account_id"), me.id, limit,
                                   data_dir=settings.data_dir)
    return product_reads(items, _zh(request))


@router.post("/recommendations/dismissals", status_code=204, responses=ERRORS)
def dismiss(body: DismissIn, session: DbSession, me: Writer) -> Response:
    """Never recommend this product or account to you again."""
    actions.dismiss(session, me.id, body.kind, _id(body.id))
    return Response(status_code=204)


@router.delete("/recommendations/dismissals/{kind}/{target_id}", status_code=204,
               responses=ERRORS)
def undismiss(kind: str, target_id: str, session: DbSession, me: Writer) -> Response:
    """Allow a dismissed product or account to be recommended again."""
    actions.undismiss(session, me.id, kind, _id(target_id))
    return Response(status_code=204)


@router.get("/recommendations/training_runs", response_model=list[TrainingRunRead],
            responses=ERRORS)
def training_runs(session: DbSession, auth: RequiredAuth) -> list[TrainingRunRead]:
    """The latest recommender training runs (operators)."""
    _operator(auth, "read:accounts")
    return [TrainingRunRead(id=str(r.id), version=r.version, status=r.status,
                            stats=dict(r.stats or {}), error=r.error, started_at=r.started_at,
                            finished_at=r.finished_at)
            for r in queries.latest_training_runs(session)]
