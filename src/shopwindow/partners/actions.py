"""Partner writes: register, update, suspend/activate, rotate secret, domains; URL resolution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Conflict, Invalid, RuleViolation
from shopwindow.core.ids import new_id
from shopwindow.outbox import emit
from shopwindow.partners import queries, rules
from shopwindow.partners.models import Partner, PartnerDomain

UPDATABLE = ("name", "tracking_param", "tracking_mode", "product_source", "api_base_url",
             "product_path", "cart_url_template", "default_rate_bps", "category_rates",
             "attribution_window_days", "return_window_days", "currency")


NULLABLE = ("api_base_url", "cart_url_template")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise Invalid("The name must have 1 to 100 characters", field="name", rule="length")
    return name


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    """Validate (and normalise) partner fields present in `values`."""
    out = dict(values)
    if "name" in out:
        out["name"] = _check_name(out["name"])
    if "tracking_param" in out:
        rules.check_tracking_param(out["tracking_param"])
    if "tracking_mode" in out and out["tracking_mode"] not in rules.TRACKING_MODES:
        raise Invalid("Tracking mode must be 'query'", field="tracking_mode", rule="enum")
    if "product_source" in out and out["product_source"] not in rules.PRODUCT_SOURCES:
        raise Invalid("Product source must be 'markup' or 'api'", field="product_source",
                      rule="enum")
    if out.get("api_base_url"):
        rules.check_api_template(out["api_base_url"])
    if "product_path" in out:
        rules.check_product_path(out["product_path"])
    if "cart_url_template" in out:
        out["cart_url_template"] = (out["cart_url_template"] or "").strip() or None
        if out["cart_url_template"]:
            rules.check_cart_template(out["cart_url_template"])
    if "default_rate_bps" in out:
        rules.check_bps(out["default_rate_bps"], "default_rate_bps")
    if "category_rates" in out:
        out["category_rates"] = rules.check_category_rates(out["category_rates"])
    for f in ("attribution_window_days", "return_window_days"):
        if f in out:
            rules.check_window(out[f], f)
    if "currency" in out:
        rules.check_currency(out["currency"])
    return out


def _check_source(p: Partner) -> None:
    if p.product_source == "api" and not p.api_base_url:
        raise Invalid("The api product source needs an API URL template",
                      field="api_base_url", rule="required_for_api")


def _check_cart(p: Partner) -> None:
    """The cart URL template must point at one of the partner's own domains."""
    if p.cart_url_template:
        parsed = rules.check_cart_template(p.cart_url_template)
        if not rules.url_on_domains(parsed, queries.domain_rules(p)):
            raise Invalid("The cart URL must be on one of the partner's domains",
                          field="cart_url_template", rule="partner_domain")


def register_partner(
    session: Session,
    *,
    slug: str,
    name: str,
    domains: list[str] | None = None,
    allow_subdomains: bool = True,
    tracking_param: str = "sw_click",
    tracking_mode: str = "query",
    product_source: str = "markup",
    api_base_url: str | None = None,
    product_path: str = "/p/{id}",
    cart_url_template: str | None = None,
    default_rate_bps: int = 0,
    category_rates: dict[str, int] | None = None,
    attribution_window_days: int = 7,
    return_window_days: int = 15,
    currency: str = "CNY",
    postback_secret: str | None = None,
) -> Partner:
    """Register a partner platform (active) with its domains; emits partner.registered."""
    rules.check_slug(slug)
    values = _validate(dict(
        name=name, tracking_param=tracking_param, tracking_mode=tracking_mode,
        product_source=product_source, api_base_url=api_base_url, product_path=product_path,
        cart_url_template=cart_url_template, default_rate_bps=default_rate_bps,
        category_rates=category_rates or {},
        attribution_window_days=attribution_window_days,
        return_window_days=return_window_days, currency=currency,
    ))
    secret = rules.check_secret(postback_secret) if postback_secret else rules.generate_secret()
    if session.scalar(select(Partner.id).where(Partner.slug == slug)):
        raise Conflict("This slug is taken", field="slug", rule="unique")
    now = utcnow()
    p = Partner(id=new_id(), slug=slug, status="active", postback_secret=secret,
                created_at=now, updated_at=now, suspended_at=None, **values)
    _check_source(p)
    session.add(p)
    session.flush()
    for d in domains or []:
        add_domain(session, p, d, allow_subdomains=allow_subdomains, _emit=False)
    _check_cart(p)
    emit(session, "partner.registered", partner_id=p.id, slug=p.slug,
         domains=[d.host if not d.port else f"{d.host}:{d.port}" for d in p.domains])
    return p


def update_partner(session: Session, partner: Partner, **changes: Any) -> Partner:
    """Change name, tracking, product source or commission terms; emits partner.updated."""
    for k in changes:
        if k not in UPDATABLE:
            raise Invalid(f"Unknown partner field {k}", field=k, rule="unknown_field")
    changes = {k: v for k, v in changes.items() if v is not None or k in NULLABLE}
    values = _validate(changes)
    changed = [k for k, v in values.items() if getattr(partner, k) != v]
    for k in changed:
        setattr(partner, k, values[k])
    _check_source(partner)
    if "cart_url_template" in changed:
        _check_cart(partner)
    if changed:
        partner.updated_at = utcnow()
        session.flush()
        emit(session, "partner.updated", partner_id=partner.id, fields=sorted(changed))
    return partner


def suspend_partner(session: Session, partner: Partner) -> Partner:
    """Stop new products and hand-offs to this partner; emits partner.suspended."""
    if partner.status == "suspended":
        return partner
    now = utcnow()
    partner.status, partner.suspended_at, partner.updated_at = "suspended", now, now
    session.flush()
    emit(session, "partner.suspended", partner_id=partner.id, slug=partner.slug)
    return partner


def activate_partner(session: Session, partner: Partner) -> Partner:
    """Re-activate a suspended partner; emits partner.activated."""
    if partner.status == "active":
        return partner
    partner.status, partner.suspended_at, partner.updated_at = "active", None, utcnow()
    session.flush()
    emit(session, "partner.activated", partner_id=partner.id, slug=partner.slug)
    return partner


def rotate_secret(session: Session, partner: Partner, new_secret: str | None = None) -> str:
    """Replace the postback signing secret (given or generated); returns it (shown once)."""
    secret = rules.check_secret(new_secret) if new_secret else rules.generate_secret()
    partner.postback_secret, partner.updated_at = secret, utcnow()
    session.flush()
    emit(session, "partner.secret_rotated", partner_id=partner.id)
    return secret


def add_domain(
    session: Session,
    partner: Partner,
    domain: str,
    *,
    allow_subdomains: bool = True,
    port: int | None = None,
    _emit: bool = True,
) -> PartnerDomain:
    """Register a host (`shop.example` or `127.0.0.1:8101`) for a partner's product links."""
    reg = rules.parse_domain_registration(domain, port)
    if reg.is_ip:
        allow_subdomains = False
    if session.scalar(select(PartnerDomain.id).where(PartnerDomain.host == reg.host,
                                                     PartnerDomain.port == reg.port)):
        raise Conflict(f"{domain} is already registered", field="domain", rule="unique")
    if not reg.is_ip:
        # One registrable domain, one partner: otherwise a link could belong to two shops.
        other = session.scalar(select(PartnerDomain.partner_id).where(
            PartnerDomain.registrable == reg.registrable,
            PartnerDomain.partner_id != partner.id))
        if other is not None:
            raise Conflict(f"{reg.registrable} belongs to another partner", field="domain",
                           rule="unique_registrable")
    d = PartnerDomain(id=new_id(), partner_id=partner.id, host=reg.host,
                      registrable=reg.registrable, port=reg.port,
                      allow_subdomains=allow_subdomains, is_ip=reg.is_ip, created_at=utcnow())
    partner.domains.append(d)
    session.flush()
    if _emit:
        emit(session, "partner.domain_added", partner_id=partner.id, domain_id=d.id,
             host=d.host, port=d.port, allow_subdomains=d.allow_subdomains)
    return d


def remove_domain(session: Session, partner: Partner, domain_id: int) -> None:
    """Remove a domain registration; links on it are no longer accepted."""
    d = queries.get_domain(session, partner.id, domain_id)
    partner.domains.remove(d)
    session.flush()
    emit(session, "partner.domain_removed", partner_id=partner.id, domain_id=domain_id,
         host=d.host, port=d.port)


def resolve_product_url(session: Session, raw_url: str) -> tuple[Partner, str]:
    """The active partner a pasted product URL belongs to and the URL's normalised form."""
    parsed = rules.normalize_product_url(raw_url)
    partner = queries.partner_for_url(session, parsed)
    if partner is None:
        raise RuleViolation("Links must point to a registered partner shop", field="url",
                            rule="partner_domain")
    if partner.status != "active":
        raise RuleViolation(f"{partner.name} is suspended: its links are not accepted",
                            field="url", rule="partner_active")
    return partner, parsed.url
