"""Partners platform API (/api/sw/v1/partners): operator-only management, creators resolve."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from shopwindow.core.errors import Forbidden, NotFound
from shopwindow.partners import actions, fetch, queries, rules
from shopwindow.partners.models import Partner, PartnerDomain
from shopwindow.partners.schemas import (
    DomainCreate,
    DomainRead,
    PartnerCreate,
    PartnerCreated,
    PartnerList,
    PartnerRead,
    PartnerRef,
    PartnerUpdate,
    ProductPreview,
    ResolveRead,
    ResolveRequest,
    SecretRead,
    SecretRotate,
)
from shopwindow.web.deps import DbSession, RequiredAuth
from shopwindow.web.errors import problem_responses

router = APIRouter(prefix="/api/sw/v1/partners", tags=["partners"])
ERRORS = problem_responses(401, 403, 404, 409, 422)
RESOLVE_LIMIT = "30/minute"
PUBLISHER_ROLES = ("creator", "brand", "operator")


def _role(auth: RequiredAuth, scope: str, roles: tuple[str, ...], what: str) -> int:
    acct = auth.require(scope)
    if acct.role not in roles:
        raise Forbidden(f"Only {what} may do this", field="role", rule=f"role:{'|'.join(roles)}")
    return int(acct.id)


def operator_read(auth: RequiredAuth) -> int:
    """Dependency: an operator whose token may read; returns the account id."""
    return _role(auth, "read:partners", ("operator",), "operators")


def operator_write(auth: RequiredAuth) -> int:
    """Dependency: an operator whose token may write; returns the account id."""
    return _role(auth, "write:partners", ("operator",), "operators")


def publisher(auth: RequiredAuth) -> int:
    """Dependency: a creator, brand or operator (someone who publishes products)."""
    return _role(auth, "write:statuses", PUBLISHER_ROLES, "creators and brands")


OperatorRead = Annotated[int, Depends(operator_read)]
OperatorWrite = Annotated[int, Depends(operator_write)]
Publisher = Annotated[int, Depends(publisher)]


def _domain(d: PartnerDomain) -> DomainRead:
    return DomainRead(id=str(d.id), host=d.host, port=d.port or None,
                      registrable=d.registrable, allow_subdomains=d.allow_subdomains)


def _read(p: Partner) -> PartnerRead:
    return PartnerRead(
        id=str(p.id), slug=p.slug, name=p.name, status=p.status,
        domains=[_domain(d) for d in p.domains], tracking_param=p.tracking_param,
        tracking_mode=p.tracking_mode, product_source=p.product_source,
        api_base_url=p.api_base_url, product_path=p.product_path,
        cart_url_template=p.cart_url_template,
        default_rate_bps=p.default_rate_bps, category_rates=dict(p.category_rates or {}),
        attribution_window_days=p.attribution_window_days,
        return_window_days=p.return_window_days, currency=p.currency,
        created_at=p.created_at, updated_at=p.updated_at, suspended_at=p.suspended_at,
    )


def _id(raw: str, field: str = "id") -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound("Not found", field=field, rule="exists")
    return int(raw)


def _partner(session: DbSession, partner_id: str) -> Partner:
    return queries.get_partner(session, _id(partner_id))


@router.post("", response_model=PartnerCreated, status_code=201, responses=ERRORS)
def create_partner(body: PartnerCreate, session: DbSession, _: OperatorWrite) -> PartnerCreated:
    """Register a partner platform; the answer carries the postback secret (shown once)."""
    p = actions.register_partner(session, **body.model_dump())
    return PartnerCreated(**_read(p).model_dump(), postback_secret=p.postback_secret)


@router.get("", response_model=PartnerList, responses=ERRORS)
def list_partners(session: DbSession, _: OperatorRead,
                  status: str | None = None) -> PartnerList:
    """Every partner, by name (optionally `?status=active|suspended`)."""
    return PartnerList(items=[_read(p) for p in queries.list_partners(session, status=status)])


@router.post("/resolve", response_model=ResolveRead, responses=ERRORS)
def resolve(body: ResolveRequest, request: Request, session: DbSession,
            account_id: Publisher) -> ResolveRead:
    """Check a pasted product link and read the product from the partner (preview)."""
    request.app.state.rate_limits.hit(RESOLVE_LIMIT, "partner-resolve", str(account_id))
    partner, url = actions.resolve_product_url(session, body.url)
    target = fetch.PartnerTarget.of(partner)
    rates, default_bps = dict(partner.category_rates or {}), partner.default_rate_bps
    ref = PartnerRef(id=str(partner.id), slug=partner.slug, name=partner.name)
    # Nothing was written: give the connection back while the partner is being asked.
    session.rollback()
    data = fetch.fetch_product(target, url)
    rate = rules.rate_for(data.category, default_bps, rates)
    return ResolveRead(partner=ref, url=url, product=ProductPreview(
        **dataclasses.asdict(data), commission_rate_bps=rate))


@router.get("/{partner_id}", response_model=PartnerRead, responses=ERRORS)
def get_partner(partner_id: str, session: DbSession, _: OperatorRead) -> PartnerRead:
    """One partner."""
    return _read(_partner(session, partner_id))


@router.patch("/{partner_id}", response_model=PartnerRead, responses=ERRORS)
def update_partner(partner_id: str, body: PartnerUpdate, session: DbSession,
                   _: OperatorWrite) -> PartnerRead:
    """Change name, tracking, product source or commission terms (only the fields sent)."""
    p = actions.update_partner(session, _partner(session, partner_id),
                               **body.model_dump(exclude_unset=True))
    return _read(p)


@router.post("/{partner_id}/suspend", response_model=PartnerRead, responses=ERRORS)
def suspend(partner_id: str, session: DbSession, _: OperatorWrite) -> PartnerRead:
    """Suspend: links to this partner are refused and no new hand-offs happen."""
    return _read(actions.suspend_partner(session, _partner(session, partner_id)))


@router.post("/{partner_id}/activate", response_model=PartnerRead, responses=ERRORS)
def activate(partner_id: str, session: DbSession, _: OperatorWrite) -> PartnerRead:
    """Re-activate a suspended partner."""
    return _read(actions.activate_partner(session, _partner(session, partner_id)))


@router.post("/{partner_id}/rotate-secret", response_model=SecretRead, responses=ERRORS)
def rotate_secret(partner_id: str, session: DbSession, _: OperatorWrite,
                  body: SecretRotate | None = None) -> SecretRead:
    """Replace the postback signing secret; the answer is the only time it is shown."""
    secret = actions.rotate_secret(session, _partner(session, partner_id),
                                   body.postback_secret if body else None)
    return SecretRead(postback_secret=secret)


@router.get("/{partner_id}/domains", response_model=list[DomainRead], responses=ERRORS)
def list_domains(partner_id: str, session: DbSession, _: OperatorRead) -> list[DomainRead]:
    """The partner's registered domains."""
    return [_domain(d) for d in _partner(session, partner_id).domains]


@router.post("/{partner_id}/domains", response_model=DomainRead, status_code=201,
             responses=ERRORS)
def add_domain(partner_id: str, body: DomainCreate, session: DbSession,
               _: OperatorWrite) -> DomainRead:
    """Register a host (optionally with subdomains, or a host:port) for product links."""
    d = actions.add_domain(session, _partner(session, partner_id), body.domain,
                           allow_subdomains=body.allow_subdomains, port=body.port)
    return _domain(d)


@router.delete("/{partner_id}/domains/{domain_id}", status_code=204, responses=ERRORS)
def remove_domain(partner_id: str, domain_id: str, session: DbSession,
                  _: OperatorWrite) -> Response:
    """Remove a domain registration."""
    actions.remove_domain(session, _partner(session, partner_id), _id(domain_id, "domain_id"))
    return Response(status_code=204)
