"""Pure partner rules: strict product-URL parsing, domain matching, tracking ids, commission.

Everything here works on plain values. The one security property the URL rules protect:
the URL the platform *checks* is exactly the URL it *fetches* and *hands fans off to*
(`ParsedUrl.url`), so a string that different URL parsers read differently (browsers,
urllib, httpx) is refused instead of being interpreted. See docs/partners.md.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

import idna
import tldextract

from shopwindow.core.errors import Invalid
from shopwindow.core.money import Money

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253
DEFAULT_PORTS = {"http": 80, "https": 443}
STATUSES = ("active", "suspended")
PRODUCT_SOURCES = ("markup", "api")
TRACKING_MODES = ("query",)
TRACKING_PARAM_RE = re.compile(r"^[A-Za-z0-9_.~-]{1,40}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_BPS = 10_000
SECRET_PREFIX = "whsec_"

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")
# Characters no URL we accept may contain raw: ASCII controls, space, DEL, backslash.
_FORBIDDEN_RE = re.compile(r"[\x00-\x20\x7f\\]")
# WHATWG treats a host whose last label is a number (decimal, 0x-hex or octal) as IPv4.
_NUMERIC_LABEL_RE = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
# Safe characters kept as they are when non-ASCII path/query text is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


def _bad(detail: str, rule: str, field: str = "url") -> Invalid:
    return Invalid(detail, field=field, rule=rule)


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """A product URL after strict parsing; `url` is its one normalised spelling."""

    scheme: str
    host: str  # lower-case ASCII (punycode) host without trailing dot, or a dotted IPv4
    port: int | None  # explicit non-default port, else None
    path: str
    query: str  # without "?"; "" when absent
    fragment: str  # without "#"; "" when absent
    is_ip: bool = False

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.scheme]

    @property
    def netloc(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        out = f"{self.scheme}://{self.netloc}{self.path}"
        if self.query:
            out += "?" + self.query
        if self.fragment:
            out += "#" + self.fragment
        return out


def normalize_host(raw: str, *, field: str = "url") -> tuple[str, bool]:
    """Lower-case ASCII host (IDNA/UTS 46) and whether it is an IPv4 literal; refuses tricks."""
    if not raw:
        raise _bad("The address has no host", "host_required", field)
    if "%" in raw:
        raise _bad("Percent-encoded characters are not allowed in the host",
                   "host_percent_encoded", field)
    if raw.startswith("["):
        raise _bad("IPv6 addresses are not accepted", "ip_literal", field)
    if any(c in raw for c in "@:/?#[]\\"):
        raise _bad("The host contains a forbidden character", "host_characters", field)
    try:
        ascii_host = idna.encode(raw, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _bad(f"The host is not a valid domain name ({exc})", "idna", field) from exc
    # One trailing dot names the same DNS host (absolute form): normalised away. Anything
    # more (empty labels) was refused by the IDNA encoder above.
    if ascii_host.endswith("."):
        ascii_host = ascii_host[:-1]
    if not ascii_host or ascii_host.endswith("."):
        raise _bad("The host is empty", "host_required", field)
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise _bad("The host is too long", "host_length", field)
    labels = ascii_host.split(".")
    if _NUMERIC_LABEL_RE.match(labels[-1]):
        # Browsers read 2130706433, 0x7f.1 and 127.1 as 127.0.0.1: only the canonical
        # dotted-quad spelling is accepted, so what we check is what gets connected to.
        try:
            ip = ipaddress.IPv4Address(ascii_host)
        except ValueError as exc:
            raise _bad("Numeric hosts must be written as a dotted-quad IPv4 address",
                       "ip_literal_form", field) from exc
        if str(ip) != ascii_host:
            raise _bad("Numeric hosts must be written as a dotted-quad IPv4 address",
                       "ip_literal_form", field)
        return ascii_host, True
    try:
        # Validates every xn-- label really is punycode for an allowed name.
        idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _bad(f"The host is not a valid domain name ({exc})", "idna", field) from exc
    return ascii_host, False


def _encode_rest(text: str, safe: str) -> str:
    # Non-ASCII text is UTF-8 percent-encoded (what browsers send); existing escapes stay.
    return quote(text, safe=safe) if not text.isascii() else text


def normalize_product_url(raw: str, *, max_length: int = MAX_URL_LENGTH) -> ParsedUrl:
    """Parse a pasted product URL strictly; raise Invalid(field="url", rule=…) if refused."""
    if not isinstance(raw, str):
        raise _bad("The URL must be a string", "type")
    text = raw.strip(" \t\r\n")
    if not text:
        raise _bad("The URL is empty", "required")
    if len(text) > max_length:
        raise _bad(f"The URL is longer than {max_length} characters", "max_length")
    if "\\" in text:
        raise _bad("Backslashes are not allowed in URLs", "backslash")
    if _FORBIDDEN_RE.search(text) or any(not c.isprintable() for c in text):
        raise _bad("The URL contains whitespace or control characters", "control_characters")
    m = _SCHEME_RE.match(text)
    if m is None:
        raise _bad("The URL must start with http:// or https://", "scheme")
    scheme = m.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise _bad("Only http and https links are accepted", "scheme")
    rest = text[m.end():]
    if not rest.startswith("//"):
        raise _bad("The URL must start with http:// or https://", "scheme")
    rest = rest[2:]
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if i != -1:
            end = min(end, i)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise _bad("Links with a user name or password are not accepted", "userinfo")
    host_part, port = authority, None
    if ":" in authority and not authority.startswith("["):
        host_part, _, port_text = authority.rpartition(":")
        if not _PORT_RE.match(port_text) or not 0 < int(port_text) <= 65535:
            raise _bad("The port is not valid", "port")
        port = int(port_text)
        if port == DEFAULT_PORTS[scheme]:
            port = None
    host, is_ip = normalize_host(host_part)
    fragment = ""
    if "#" in tail:
        tail, fragment = tail.split("#", 1)
    query = ""
    if "?" in tail:
        tail, query = tail.split("?", 1)
    path = tail or "/"
    return ParsedUrl(scheme, host, port, _encode_rest(path, _PATH_SAFE),
                     _encode_rest(query, _QUERY_SAFE), _encode_rest(fragment, _QUERY_SAFE),
                     is_ip)


def host_matches(host: str, domain: str, allow_subdomains: bool) -> bool:
    """True if `host` is `domain` or (when allowed) a subdomain of it, on label boundaries."""
    host, domain = host.lower().rstrip("."), domain.lower().rstrip(".")
    if not host or not domain:
        return False
    if host == domain:
        return True
    return allow_subdomains and host.endswith("." + domain)


def port_matches(parsed: ParsedUrl, registered_port: int) -> bool:
    """A registration with port 0 allows only the scheme's default port; else exactly that."""
    if registered_port == 0:
        return parsed.port is None
    return parsed.effective_port == registered_port


@dataclass(frozen=True, slots=True)
class DomainRule:
    """One registered domain of a partner (plain values)."""

    host: str
    allow_subdomains: bool
    port: int = 0
    is_ip: bool = False


def url_on_domains(parsed: ParsedUrl, domains: list[DomainRule]) -> bool:
    """True if the parsed URL is on one of the registered domains (host and port)."""
    for d in domains:
        if parsed.is_ip != d.is_ip:
            continue
        allow_sub = d.allow_subdomains and not d.is_ip
        if host_matches(parsed.host, d.host, allow_sub) and port_matches(parsed, d.port):
            return True
    return False


def candidate_hosts(host: str, is_ip: bool) -> list[str]:
    """The host and every parent domain (registrations that could cover it)."""
    if is_ip:
        return [host]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot only: never fetched over the network, and
    # private suffixes (github.io, blogspot.com…) count, so nobody can register all of them.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                 include_psl_private_domains=True)


@dataclass(frozen=True, slots=True)
class DomainRegistration:
    """A normalised domain registration: host, its registrable domain and port (0 = default)."""

    host: str
    registrable: str
    port: int
    is_ip: bool


def parse_domain_registration(raw: str, port: int | None = None) -> DomainRegistration:
    """Normalise `host` or `host:port` for registration; refuse public suffixes and junk."""
    text = (raw or "").strip().lower()
    if not text:
        raise _bad("The domain is empty", "required", "domain")
    if "://" in text or any(c in text for c in "/?#@\\ "):
        raise _bad("Give a host name (optionally host:port), not a URL", "host_only", "domain")
    if ":" in text:
        text, _, port_text = text.rpartition(":")
        if not _PORT_RE.match(port_text) or not 0 < int(port_text) <= 65535:
            raise _bad("The port is not valid", "port", "domain")
        if port is not None and port != int(port_text):
            raise _bad("Two different ports were given", "port", "domain")
        port = int(port_text)
    if port is not None and not 0 <= port <= 65535:
        raise _bad("The port is not valid", "port", "domain")
    host, is_ip = normalize_host(text, field="domain")
    if is_ip:
        return DomainRegistration(host, host, port or 0, True)
    ext = _extractor()(host)
    registrable = ext.top_domain_under_public_suffix
    if not registrable:
        raise _bad(f"{host} is a public suffix (or has none), not a registrable domain",
                   "public_suffix", "domain")
    return DomainRegistration(host, registrable, port or 0, False)


def registrable_domain(host: str) -> str:
    """Registrable domain of a normalised host ("" for public suffixes); IPs are their own."""
    try:
        ipaddress.IPv4Address(host)
        return host
    except ValueError:
        return str(_extractor()(host).top_domain_under_public_suffix)


def add_tracking(url: str, param: str, click_id: str) -> str:
    """Set query parameter `param` to `click_id`, replacing any value it had; rest untouched."""
    base, hash_, fragment = url.partition("#")
    path, _, query = base.partition("?")
    kept = [piece for piece in query.split("&")
            if piece and unquote(piece.split("=", 1)[0].replace("+", " ")) != param]
    kept.append(f"{quote(param, safe='')}={quote(click_id, safe='')}")
    return f"{path}?{'&'.join(kept)}" + (hash_ + fragment if hash_ else "")


def rate_for(category: str | None, default_bps: int, category_rates: dict[str, int]) -> int:
    """Commission rate in basis points for a product category (default when unlisted)."""
    if category:
        rate = category_rates.get(category.strip().lower())
        if rate is not None:
            return int(rate)
    return int(default_bps)


def commission_minor(amount_minor: int, bps: int) -> int:
    """Commission on an amount, rounded down to the minor unit (never over-pays)."""
    return amount_minor * bps // MAX_BPS


def check_bps(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BPS:
        raise _bad(f"Rates are basis points between 0 and {MAX_BPS}", "bps_range", field)
    return value


def check_category_rates(rates: dict[str, Any]) -> dict[str, int]:
    """Validate {category: bps}; category keys are lower-cased."""
    out: dict[str, int] = {}
    for k, v in (rates or {}).items():
        key = str(k).strip().lower()
        if not CATEGORY_RE.match(key):
            raise _bad(f"Category {k!r} is not a valid category key", "category_key",
                       "category_rates")
        out[key] = check_bps(v, f"category_rates.{key}")
    return out


def check_slug(slug: str) -> str:
    if not SLUG_RE.match(slug or ""):
        raise _bad("Slug: lower-case letters, digits and hyphens (1–40)", "slug", "slug")
    return slug


def check_currency(currency: str) -> str:
    if not CURRENCY_RE.match(currency or ""):
        raise _bad("Currency must be an upper-case ISO 4217 code", "currency", "currency")
    return currency


def check_tracking_param(param: str) -> str:
    if not TRACKING_PARAM_RE.match(param or ""):
        raise _bad("Tracking parameter: letters, digits, _ . ~ - (1–40)", "tracking_param",
                   "tracking_param")
    return param


def check_window(days: int, field: str) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
        raise _bad("Windows are between 0 and 365 days", "days_range", field)
    return days


def generate_secret(nbytes: int = 24) -> str:
    """A new Standard Webhooks secret `whsec_<base64>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def check_secret(secret: str) -> str:
    """A usable Standard Webhooks secret: whsec_ + base64 of 24–64 bytes."""
    body = (secret or "").removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("The secret must be whsec_ followed by base64", "secret_format",
                   "postback_secret") from exc
    if not secret.startswith(SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise _bad("The secret must be whsec_ + base64 of 24 to 64 bytes", "secret_format",
                   "postback_secret")
    return secret


API_ID_PLACEHOLDER = "{id}"


def check_api_template(template: str) -> str:
    """An http(s) URL template with exactly one {id} placeholder in its path."""
    if template.count(API_ID_PLACEHOLDER) != 1:
        raise _bad("The API URL template needs exactly one {id}", "api_template",
                   "api_base_url")
    parsed = normalize_product_url(template.replace(API_ID_PLACEHOLDER, "ID"))
    if "ID" not in parsed.path:
        raise _bad("{id} must be in the path of the API URL", "api_template", "api_base_url")
    return template


CART_ITEMS_PLACEHOLDER = "{items}"
_CART_SAMPLE = "SWITEMS"


def check_cart_template(template: str) -> ParsedUrl:
    """An http(s) cart-add URL template with exactly one {items} (→ `id:qty,id:qty`);
    returns a sample of it parsed, for the partner's domain check."""
    if template.count(CART_ITEMS_PLACEHOLDER) != 1:
        raise _bad("The cart URL template needs exactly one {items}", "cart_template",
                   "cart_url_template")
    try:
        parsed = normalize_product_url(template.replace(CART_ITEMS_PLACEHOLDER, _CART_SAMPLE))
    except Invalid as exc:
        raise _bad(exc.detail, exc.rule or "url", "cart_url_template") from exc
    if _CART_SAMPLE not in parsed.url:
        raise _bad("{items} must be in the path or query of the cart URL", "cart_template",
                   "cart_url_template")
    return parsed


def check_product_path(template: str) -> str:
    """A path template like /p/{id} that finds the product id in a product URL."""
    if not template.startswith("/") or template.count(API_ID_PLACEHOLDER) != 1:
        raise _bad("The product path must start with / and contain one {id}",
                   "product_path", "product_path")
    return template


def product_id_from_path(path: str, template: str) -> str | None:
    """The product id in `path` according to a /p/{id}-style template, else None."""
    before, _, after = template.partition(API_ID_PLACEHOLDER)
    pattern = "^" + re.escape(before) + r"([A-Za-z0-9_.~-]{1,100})" + re.escape(after) + "/?$"
    m = re.match(pattern, path)
    return m.group(1) if m else None


def parse_price(value: Any, currency: str) -> int:
    """A decimal price (string or number) as exact integer minor units of `currency`."""
    if isinstance(value, bool) or value is None:
        raise ValueError("no price")
    text = value if isinstance(value, str) else str(value)
    text = text.strip().replace(",", "") if isinstance(value, str) else text
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal price: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not a valid price: {value!r}")
    digits = Money(0, currency).minor_digits
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValueError(f"{value!r} has more decimals than {currency} allows")
    return int(minor)


AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "discontinued", "unknown")


def normalize_availability(value: Any) -> str:
    """schema.org / OpenGraph availability (URL or word) as one of AVAILABILITY."""
    if not isinstance(value, str):
        return "unknown"
    word = value.rsplit("/", 1)[-1].replace(" ", "").replace("_", "").lower()
    return {
        "instock": "in_stock", "outofstock": "out_of_stock", "soldout": "out_of_stock",
        "preorder": "preorder", "presale": "preorder", "backorder": "preorder",
        "discontinued": "discontinued", "limitedavailability": "in_stock",
        "onlineonly": "in_stock", "instoreonly": "out_of_stock",
    }.get(word, "unknown")
