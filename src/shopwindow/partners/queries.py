"""Partner reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.core.errors import NotFound, RuleViolation
from shopwindow.partners import rules
from shopwindow.partners.models import Partner, PartnerDomain


def get_partner(session: Session, partner_id: int) -> Partner:
    """Partner by id or NotFound."""
    p = session.get(Partner, partner_id)
    if p is None:
        raise NotFound("Partner not found", field="id", rule="exists")
    return p


def partners_by_id(session: Session, ids: set[int]) -> dict[int, Partner]:
    """The partners among `ids` (with their domains), by id; unknown ids are absent."""
    if not ids:
        return {}
    return {int(p.id): p for p in session.scalars(select(Partner).where(Partner.id.in_(ids)))}


def find_partner(session: Session, partner_id: int) -> Partner | None:
    """Partner by id or None."""
    return session.get(Partner, partner_id)


def get_by_slug(session: Session, slug: str) -> Partner:
    """Partner by slug or NotFound."""
    p = session.scalar(select(Partner).where(Partner.slug == (slug or "").lower()))
    if p is None:
        raise NotFound("Partner not found", field="slug", rule="exists")
    return p


def list_partners(session: Session, *, status: str | None = None) -> list[Partner]:
    """Every partner (optionally of one status), by name."""
    q = select(Partner).order_by(Partner.name, Partner.id)
    if status is not None:
        q = q.where(Partner.status == status)
    return list(session.scalars(q))


def require_active(session: Session, partner_id: int) -> Partner:
    """The partner, or RuleViolation if it is suspended (no new hand-offs or products)."""
    p = get_partner(session, partner_id)
    if p.status != "active":
        raise RuleViolation(f"Partner {p.name} is suspended", field="partner",
                            rule="partner_active")
    return p


def domain_rules(partner: Partner) -> list[rules.DomainRule]:
    """The partner's registered domains as plain values (for rules.url_on_domains)."""
    return [rules.DomainRule(d.host, d.allow_subdomains, d.port, d.is_ip)
            for d in partner.domains]


def partner_for_url(session: Session, parsed: rules.ParsedUrl) -> Partner | None:
    """The partner whose registered domains cover a parsed URL (any status), else None."""
    hosts = rules.candidate_hosts(parsed.host, parsed.is_ip)
    rows = list(session.scalars(select(PartnerDomain).where(PartnerDomain.host.in_(hosts))))
    # Most specific registration first (a.b.shop.com before shop.com).
    rows.sort(key=lambda d: (-len(d.host), -d.port))
    for d in rows:
        rule = rules.DomainRule(d.host, d.allow_subdomains, d.port, d.is_ip)
        if rules.url_on_domains(parsed, [rule]):
            return session.get(Partner, d.partner_id)
    return None


def partner_for_host(session: Session, host: str, port: int | None = None,
                     scheme: str = "https") -> Partner | None:
    """The partner whose registered domains cover `host` (and port), else None."""
    try:
        norm, is_ip = rules.normalize_host(host)
    except Exception:
        return None
    parsed = rules.ParsedUrl(scheme, norm, None if port in (None, rules.DEFAULT_PORTS[scheme])
                             else port, "/", "", "", is_ip)
    return partner_for_url(session, parsed)


def get_domain(session: Session, partner_id: int, domain_id: int) -> PartnerDomain:
    """One domain registration of a partner or NotFound."""
    d = session.get(PartnerDomain, domain_id)
    if d is None or d.partner_id != partner_id:
        raise NotFound("Domain not found", field="domain_id", rule="exists")
    return d
