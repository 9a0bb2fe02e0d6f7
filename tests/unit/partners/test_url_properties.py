"""Property tests (hypothesis) for product-URL acceptance around a registered domain."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from shopwindow.core.errors import Invalid
from shopwindow.partners import rules
from shopwindow.partners.rules import DomainRule, normalize_product_url

DOMAIN = "tmall.com"
LDH = "abcdefghijklmnopqrstuvwxyz0123456789-"

label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z").filter(
    lambda s: "--" not in s[2:4]  # not an (invalid) xn-- style A-label
)
subdomains = st.lists(label, min_size=0, max_size=3).map(lambda ls: ".".join(ls))
schemes = st.sampled_from(["http", "https", "HTTP", "Https"])
paths = st.text(alphabet=LDH + "/._~?=&", max_size=30).map(lambda s: "/" + s)
tricky = st.text(alphabet=LDH + ".@:%\\/?#[] \t\x00_+,;~!$&'()*=ÀаＴ。", max_size=40)


def accepted(url: str, allow_subdomains: bool = True) -> bool:
    try:
        parsed = normalize_product_url(url)
    except Invalid:
        return False
    return rules.url_on_domains(parsed, [DomainRule(DOMAIN, allow_subdomains)])


@given(sub=subdomains, scheme=schemes, path=paths, allow=st.booleans())
def test_only_the_domain_and_allowed_subdomains(sub, scheme, path, allow):
    host = f"{sub}.{DOMAIN}" if sub else DOMAIN
    expected = not sub or allow
    assert accepted(f"{scheme}://{host}{path}", allow) == expected


@given(prefix=label, suffix=label, sub=subdomains)
def test_lookalike_hosts_are_refused(prefix, suffix, sub):
    base = f"{sub}." if sub else ""
    for host in (f"{base}{prefix}{DOMAIN}", f"{base}{prefix}-{DOMAIN}",
                 f"{base}{DOMAIN}.{suffix}", f"{base}{DOMAIN}-{suffix}.com",
                 f"{base}tmall.co{suffix}", f"{base}{DOMAIN}{suffix}"):
        if host == DOMAIN or host.endswith("." + DOMAIN):
            continue
        assert not accepted(f"https://{host}/x"), host


@given(user=st.text(alphabet=LDH + ":.", max_size=12), host=subdomains)
def test_userinfo_is_always_refused(user, host):
    h = f"{host}.{DOMAIN}" if host else DOMAIN
    for url in (f"https://{user}@{h}/x", f"https://{h}@{user or 'x'}.cn/x",
                f"https://evil.cn\\@{h}/x", f"https://{user}\\@{h}"):
        assert not accepted(url)


@given(before=st.text(alphabet=LDH + ".", max_size=10),
       after=st.text(alphabet=LDH + ".", max_size=10),
       enc=st.sampled_from(["%2e", "%2E", "%40", "%2f", "%5c", "%00", "%25", "%61"]))
def test_percent_encoded_hosts_are_refused(before, after, enc):
    try:
        normalize_product_url(f"https://{before}{enc}{after}/x")
    except Invalid as exc:
        assert exc.rule in {"host_percent_encoded"}
    else:
        raise AssertionError("a percent-encoded host was accepted")


@given(junk=tricky)
@example(junk="evil.cn\\@tmall.com")
@example(junk="tmall.com%2eevil.cn")
@example(junk="tmall.com.@evil.cn")
@example(junk="evil.cn#@tmall.com")
@example(junk="evil.cn?@tmall.com")
@example(junk="ＴＭＡＬＬ。com")
@settings(max_examples=400)
def test_accepted_urls_mean_the_same_host_to_every_parser(junk):
    """Whatever the input, an accepted URL's host is what urllib and httpx connect to."""
    url = f"https://{junk}"
    try:
        parsed = normalize_product_url(url)
    except Invalid:
        return
    norm = parsed.url
    assert urlsplit(norm).hostname == parsed.host
    assert urlsplit(norm).port == parsed.port
    assert httpx.URL(norm).raw_host.decode("ascii") == parsed.host
    assert "@" not in urlsplit(norm).netloc and "\\" not in norm
    if accepted(url):
        assert parsed.host == DOMAIN or parsed.host.endswith("." + DOMAIN)


@given(junk=tricky, scheme=schemes)
@settings(max_examples=300)
def test_normalisation_is_idempotent(junk, scheme):
    try:
        once = normalize_product_url(f"{scheme}://{junk}")
    except Invalid:
        return
    assert normalize_product_url(once.url) == once
    assert normalize_product_url(once.url).url == once.url


@given(sub=subdomains, path=paths)
def test_suspicious_characters_anywhere_refuse(sub, path):
    host = f"{sub}.{DOMAIN}" if sub else DOMAIN
    for bad in ("\\", " ", "\t", "\n", "\x00", "\x7f"):
        try:
            normalize_product_url(f"https://{host}{path}{bad}x")
        except Invalid:
            continue
        raise AssertionError(f"{bad!r} accepted")


@given(ip=st.ip_addresses(v=4), port=st.integers(1, 65535), other=st.integers(1, 65535))
def test_ip_registrations_match_exactly(ip, port, other):
    reg = [DomainRule(str(ip), False, port, True)]
    assert rules.url_on_domains(normalize_product_url(f"http://{ip}:{port}/p/1"), reg)
    assume(other != port)
    parsed = normalize_product_url(f"http://{ip}:{other}/p/1")
    assert not rules.url_on_domains(parsed, reg)
    assert not rules.url_on_domains(parsed, [DomainRule(DOMAIN, True)])
