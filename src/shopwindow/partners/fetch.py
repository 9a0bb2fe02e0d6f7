"""Read product data from a partner: page markup (JSON-LD, OpenGraph) or its product API.

The SSRF guard: a request is only ever sent to a URL that passed the strict parser and lies
on the partner's registered domains; redirects are followed by hand (at most
`max_redirects` hops) and only while every hop stays on the *same* partner. Connect/read
timeouts, an overall deadline and a body size cap bound what a slow or hostile server can do.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from shopwindow import __version__
from shopwindow.core.errors import DomainError, Invalid
from shopwindow.partners import rules
from shopwindow.partners.models import Partner

REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_IMAGES = 10
MAX_TEXT = 500
USER_AGENT = f"shopwindow/{__version__} (product preview)"


class FetchError(Invalid):
    """The partner's product data could not be read (field `url`, rule says why)."""

    code = "fetch_failed"
    title = "The product could not be read"


class ProductGone(FetchError):
    """The partner answered 404/410: the product no longer exists."""


def _fail(detail: str, rule: str, cls: type[FetchError] = FetchError) -> FetchError:
    return cls(detail, field="url", rule=rule)


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Time and size bounds of one product read."""

    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3


@dataclass(frozen=True, slots=True)
class PartnerTarget:
    """What fetching needs to know about a partner (plain values, no database session)."""

    id: int
    name: str
    status: str
    product_source: str
    api_base_url: str | None
    product_path: str
    currency: str
    domains: tuple[rules.DomainRule, ...]

    @classmethod
    def of(cls, p: Partner) -> PartnerTarget:
        return cls(p.id, p.name, p.status, p.product_source, p.api_base_url, p.product_path,
                   p.currency, tuple(rules.DomainRule(d.host, d.allow_subdomains, d.port,
                                                      d.is_ip) for d in p.domains))


@dataclass(frozen=True, slots=True)
class ProductData:
    """A product as read from the partner."""

    title: str
    price_minor: int
    currency: str
    availability: str  # rules.AVAILABILITY
    canonical_url: str
    images: list[str] = field(default_factory=list)
    brand: str | None = None
    category: str | None = None
    gtin: str | None = None
    sku: str | None = None
    stock: int | None = None
    external_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class _Response:
    url: rules.ParsedUrl
    status: int
    content_type: str
    body: bytes


def _on_partner(target: PartnerTarget, raw: str, rule: str, what: str) -> rules.ParsedUrl:
    try:
        parsed = rules.normalize_product_url(raw)
    except DomainError as exc:
        raise _fail(f"{what} is not an acceptable address: {exc.detail}", rule) from exc
    if not rules.url_on_domains(parsed, list(target.domains)):
        raise _fail(f"{what} leaves {target.name}'s domains ({parsed.netloc})", rule)
    return parsed


def _get(client: httpx.Client, target: PartnerTarget, start: rules.ParsedUrl,
         limits: FetchLimits, accept: str) -> _Response:
    deadline = time.monotonic() + limits.total_timeout
    current, hops = start, 0
    while True:
        try:
            with client.stream("GET", current.url, headers={"accept": accept}) as resp:
                if resp.status_code in REDIRECT_CODES:
                    location = resp.headers.get("location")
                    if not location:
                        raise _fail("The partner redirected without a location", "redirect")
                    hops += 1
                    if hops > limits.max_redirects:
                        raise _fail(f"More than {limits.max_redirects} redirects",
                                    "too_many_redirects")
                    current = _on_partner(target, urljoin(current.url, location),
                                          "redirect_off_partner", "A redirect")
                    continue
                if resp.status_code in (404, 410):
                    raise _fail("The partner says this product does not exist", "gone",
                                ProductGone)
                if resp.status_code != 200:
                    raise _fail(f"The partner answered HTTP {resp.status_code}",
                                "partner_status")
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limits.max_bytes:
                    raise _fail("The partner's answer is too large", "too_large")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limits.max_bytes:
                        raise _fail("The partner's answer is too large", "too_large")
                    if time.monotonic() > deadline:
                        raise _fail("The partner did not answer in time", "timeout")
                    chunks.append(chunk)
                return _Response(current, resp.status_code,
                                 resp.headers.get("content-type", ""), b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise _fail("The partner did not answer in time", "timeout") from exc
        except httpx.HTTPError as exc:
            raise _fail(f"The partner could not be reached ({type(exc).__name__})",
                        "unreachable") from exc


def fetch_product(partner: Partner | PartnerTarget, url: str, *,
                  limits: FetchLimits | None = None,
                  transport: httpx.BaseTransport | None = None) -> ProductData:
    """Read a product of `partner` at `url` (markup or API); FetchError(field="url") if not."""
    target = partner if isinstance(partner, PartnerTarget) else PartnerTarget.of(partner)
    limits = limits or FetchLimits()
    if target.status != "active":
        raise _fail(f"{target.name} is suspended", "partner_active")
    page = _on_partner(target, url, "partner_domain", "The link")
    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                      transport=transport, headers={"user-agent": USER_AGENT}) as client:
        if target.product_source == "api":
            return _fetch_api(client, target, page, limits)
        resp = _get(client, target, page, limits, "text/html,application/xhtml+xml")
        return parse_markup(target, resp.url, resp.body.decode("utf-8", errors="replace"))


def _fetch_api(client: httpx.Client, target: PartnerTarget, page: rules.ParsedUrl,
               limits: FetchLimits) -> ProductData:
    product_id = rules.product_id_from_path(page.path, target.product_path)
    if product_id is None or not target.api_base_url:
        raise _fail("No product id found in the link", "product_id")
    api_raw = target.api_base_url.replace(rules.API_ID_PLACEHOLDER, quote(product_id, safe=""))
    api = _on_partner(target, api_raw, "api_off_partner", "The product API")
    resp = _get(client, target, api, limits, "application/json")
    try:
        data = json.loads(resp.body)
    except ValueError as exc:
        raise _fail("The product API did not answer JSON", "no_product_data") from exc
    if not isinstance(data, dict):
        raise _fail("The product API did not answer a product", "no_product_data")
    return parse_api_product(target, page, data, product_id)


# ------------------------------------------------------------------ parsing


class _HeadParser(HTMLParser):
    """Collects JSON-LD scripts, meta property/name → content, and the canonical link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ld: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.canonical: str | None = None
        self._in_ld = False
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and a.get("type", "").split(";")[0].strip().lower() == \
                "application/ld+json":
            self._in_ld, self._buf = True, []
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a:
                self.meta.setdefault(key, []).append(a["content"].strip())
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.canonical = self.canonical or a.get("href")

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_ld:
            self._in_ld = False
            if len(self.ld) < 20:
                self.ld.append("".join(self._buf))


def _is_product(node: dict[str, Any]) -> bool:
    t = node.get("@type")
    types = t if isinstance(t, list) else [t]
    return any(isinstance(x, str) and x.rsplit("/", 1)[-1] == "Product" for x in types)


def _find_product(node: Any, depth: int = 0) -> dict[str, Any] | None:
    if depth > 6:
        return None
    if isinstance(node, list):
        for item in node:
            found = _find_product(item, depth + 1)
            if found is not None:
                return found
    elif isinstance(node, dict):
        if _is_product(node):
            return node
        for key in ("@graph", "mainEntity", "itemOffered"):
            if key in node:
                found = _find_product(node[key], depth + 1)
                if found is not None:
                    return found
    return None


def _text(v: Any) -> str | None:
    if isinstance(v, dict):
        v = v.get("name") or v.get("@value")
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, int | float) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str):
        return None
    v = " ".join(v.split())
    return v[:MAX_TEXT] if v else None


def _images(v: Any, base: str) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out: list[str] = []
    for it in items:
        if isinstance(it, dict):
            it = it.get("url") or it.get("contentUrl")
        if not isinstance(it, str) or not it.strip():
            continue
        try:
            u = rules.normalize_product_url(urljoin(base, it.strip())).url
        except DomainError:
            continue
        if u not in out:
            out.append(u)
        if len(out) >= MAX_IMAGES:
            break
    return out


def _int(v: Any) -> int | None:
    if isinstance(v, dict):
        v = v.get("value")
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return max(v, 0)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _gtin(node: dict[str, Any]) -> str | None:
    for key in ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean"):
        v = _text(node.get(key))
        if v and v.isdigit() and len(v) in (8, 12, 13, 14):
            return v
    return None


def _price(target: PartnerTarget, amount: Any, currency: Any) -> tuple[int, str]:
    cur = currency if isinstance(currency, str) and currency.strip() else target.currency
    cur = cur.strip().upper()
    if not rules.CURRENCY_RE.match(cur):
        raise _fail(f"Unknown currency {cur!r}", "price_format")
    if amount is None or amount == "":
        raise _fail("The product has no price", "no_price")
    try:
        return rules.parse_price(amount, cur), cur
    except ValueError as exc:
        raise _fail(f"The price could not be read: {exc}", "price_format") from exc


def _canonical(target: PartnerTarget, candidates: list[Any], page: rules.ParsedUrl) -> str:
    # A canonical URL is only trusted when it stays on the partner; else the page itself.
    for c in candidates:
        if isinstance(c, str) and c.strip():
            try:
                parsed = rules.normalize_product_url(urljoin(page.url, c.strip()))
            except DomainError:
                continue
            if rules.url_on_domains(parsed, list(target.domains)):
                return parsed.url
    return page.url


def parse_markup(target: PartnerTarget, page: rules.ParsedUrl, html: str) -> ProductData:
    """Product data from JSON-LD schema.org Product, else OpenGraph og:/product: tags."""
    hp = _HeadParser()
    try:
        hp.feed(html)
        hp.close()
    except Exception as exc:  # html.parser is lenient; anything left is garbage
        raise _fail("The page could not be parsed", "no_product_data") from exc
    for raw in hp.ld:
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        node = _find_product(doc)
        if node is not None:
            return _from_ld(target, page, node, hp)
    return _from_og(target, page, hp)


def _from_ld(target: PartnerTarget, page: rules.ParsedUrl, node: dict[str, Any],
             hp: _HeadParser) -> ProductData:
    title = _text(node.get("name"))
    if not title:
        raise _fail("The product has no name", "no_product_data")
    offers = node.get("offers")
    offer_list = offers if isinstance(offers, list) else [offers]
    offer = next((o for o in offer_list if isinstance(o, dict)), {})
    amount = offer.get("price", offer.get("lowPrice"))
    spec = offer.get("priceSpecification")
    if amount is None and isinstance(spec, dict):
        amount = spec.get("price")
    currency = offer.get("priceCurrency")
    if not currency and isinstance(spec, dict):
        currency = spec.get("priceCurrency")
    price, cur = _price(target, amount, currency)
    canonical = _canonical(target, [node.get("url"), hp.canonical, offer.get("url")], page)
    sku = _text(node.get("sku"))
    return ProductData(
        title=title, price_minor=price, currency=cur,
        availability=rules.normalize_availability(offer.get("availability")),
        canonical_url=canonical, images=_images(node.get("image"), page.url),
        brand=_text(node.get("brand")), category=_text(node.get("category")),
        gtin=_gtin(node), sku=sku, stock=_int(offer.get("inventoryLevel")),
        external_id=_external_id(target, canonical, page) or sku,
        description=_text(node.get("description")),
    )


def _external_id(target: PartnerTarget, canonical: str, page: rules.ParsedUrl) -> str | None:
    for u in (canonical, page.url):
        found = rules.product_id_from_path(rules.normalize_product_url(u).path,
                                           target.product_path)
        if found:
            return found
    return None


def _from_og(target: PartnerTarget, page: rules.ParsedUrl, hp: _HeadParser) -> ProductData:
    def first(*keys: str) -> str | None:
        for k in keys:
            vals = hp.meta.get(k)
            if vals and vals[0]:
                return vals[0]
        return None

    title = _text(first("og:title"))
    amount = first("product:price:amount", "og:price:amount")
    if not title or amount is None:
        raise _fail("No product data on the page (schema.org Product or OpenGraph)",
                    "no_product_data")
    price, cur = _price(target, amount, first("product:price:currency", "og:price:currency"))
    canonical = _canonical(target, [first("og:url"), hp.canonical], page)
    return ProductData(
        title=title, price_minor=price, currency=cur,
        availability=rules.normalize_availability(
            first("product:availability", "og:availability")),
        canonical_url=canonical, images=_images(hp.meta.get("og:image", []), page.url),
        brand=_text(first("product:brand", "og:brand")),
        category=_text(first("product:category")),
        gtin=None, sku=_text(first("product:retailer_item_id")),
        external_id=_external_id(target, canonical, page),
        description=_text(first("og:description")),
    )


def parse_api_product(target: PartnerTarget, page: rules.ParsedUrl, data: dict[str, Any],
                      product_id: str) -> ProductData:
    """Product data from the partner's JSON product API."""
    title = _text(data.get("title") or data.get("name"))
    if not title:
        raise _fail("The product API answer has no title", "no_product_data")
    currency = data.get("currency")
    if isinstance(data.get("price"), str | int | float) and not isinstance(data.get("price"),
                                                                            bool):
        price, cur = _price(target, data["price"], currency)
    elif isinstance(data.get("price_minor"), int) and not isinstance(data["price_minor"], bool) \
            and data["price_minor"] >= 0:
        _, cur = _price(target, 0, currency)
        price = data["price_minor"]
    else:
        raise _fail("The product API answer has no price", "no_price")
    availability = data.get("availability")
    if availability is None and isinstance(data.get("available"), bool):
        availability = "InStock" if data["available"] else "OutOfStock"
    canonical = _canonical(target, [data.get("url")], page)
    return ProductData(
        title=title, price_minor=price, currency=cur,
        availability=rules.normalize_availability(availability),
        canonical_url=canonical, images=_images(data.get("images") or data.get("image"),
                                                page.url),
        brand=_text(data.get("brand")), category=_text(data.get("category")),
        gtin=_gtin(data), sku=_text(data.get("sku")), stock=_int(data.get("stock")),
        external_id=_text(data.get("id")) or product_id,
        description=_text(data.get("description")),
    )
