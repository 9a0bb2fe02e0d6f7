"""Strict product-URL parsing and domain matching: hand-written nasty cases."""

from __future__ import annotations

import pytest

from shopwindow.core.errors import Invalid
from shopwindow.partners import rules
from shopwindow.partners.rules import DomainRule, normalize_product_url

TMALL = [DomainRule("tmall.com", True)]
SIM = [DomainRule("127.0.0.1", False, 8101, True)]


def accepted(url: str, domains: list[DomainRule] = TMALL) -> bool:
    try:
        parsed = normalize_product_url(url)
    except Invalid:
        return False
    return rules.url_on_domains(parsed, domains)


def refused_rule(url: str) -> str:
    with pytest.raises(Invalid) as ei:
        normalize_product_url(url)
    assert ei.value.field == "url"
    return str(ei.value.rule)


@pytest.mark.parametrize("url", [
    "https://tmall.com/item/1",
    "https://detail.tmall.com/item.htm?id=1",
    "http://TMALL.COM/x",
    "HTTPS://Detail.Tmall.Com:443/x",
    "https://TMALL.COM./x",
    "https://ｔｍａｌｌ。ｃｏｍ/x",  # full-width: browsers map it to tmall.com (UTS 46)
    "  https://tmall.com/x  ",
])
def test_accepted(url):
    assert accepted(url)


@pytest.mark.parametrize("url", [
    "https://tmall.com.evil.cn/x",
    "https://evil-tmall.com/x",
    "https://eviltmall.com/x",
    "https://tmall.co/x",
    "https://tmаll.com/x",  # Cyrillic а: a different (punycode) host
    "https://xn--tmll-63d.com/x",
    "https://tmall.com:8443/x",
    "http://127.0.0.1:8101/p/1",
])
def test_well_formed_but_not_on_the_partner(url):
    normalize_product_url(url)  # parses…
    assert not accepted(url)  # …but is not the partner


@pytest.mark.parametrize("url,rule", [
    ("https://evil.com\\@tmall.com", "backslash"),
    ("https:\\\\tmall.com/x", "backslash"),
    ("https://tmall.com\\.evil.cn/", "backslash"),
    ("https://tmall.com%2eevil.cn", "host_percent_encoded"),
    ("https://tmall%2Ecom/x", "host_percent_encoded"),
    ("https://user@tmall.com/x", "userinfo"),
    ("https://user:pw@tmall.com/x", "userinfo"),
    ("https://tmall.com@evil.cn/x", "userinfo"),
    ("https://evil.cn#@tmall.com", None),  # parses as evil.cn: refused by the domain rule
    ("javascript:alert(1)", "scheme"),
    ("JavaScript://tmall.com/%0aalert(1)", "scheme"),
    ("data:text/html,hi", "scheme"),
    ("ftp://tmall.com/x", "scheme"),
    ("//tmall.com/x", "scheme"),
    ("tmall.com/x", "scheme"),
    ("https:/tmall.com/x", "scheme"),
    ("https:///tmall.com/x", "host_required"),
    ("https://tmall.com../x", "idna"),
    ("https://.tmall.com/x", "idna"),
    ("https://xn--zz.com/x", "idna"),
    ("https://-tmall.com/x", "idna"),
    ("https://tm_all.com/x", "idna"),
    ("https://tmall.com:/x", "port"),
    ("https://tmall.com:99999/x", "port"),
    ("https://tmall.com:0/x", "port"),
    ("https://tmall.com:+443/x", "port"),
    ("https://tmall.com:443:443/x", "host_characters"),
    ("https://[::1]/x", "ip_literal"),
    ("http://2130706433/x", "ip_literal_form"),
    ("http://127.1/x", "ip_literal_form"),
    ("http://0x7f.0.0.1/x", "ip_literal_form"),
    ("http://0177.0.0.1/x", "ip_literal_form"),
    ("http://tmall.0x1/x", "ip_literal_form"),
    ("https://tmall.com/a b", "control_characters"),
    ("https://tmall.com/\x00", "control_characters"),
    ("https://tmall.com\t.evil/", "control_characters"),
    ("https://tmall.com/\u200b", "control_characters"),
    ("https://tmall.com\u3000/", "control_characters"),
    ("https://tmall.com/" + "a" * 3000, "max_length"),
    ("", "required"),
])
def test_refused(url, rule):
    if rule is None:
        assert not accepted(url)
    else:
        assert refused_rule(url) == rule


def test_normal_form():
    p = normalize_product_url("HTTPS://Detail.TMALL.com.:443/商品?q=中&a=1#frag")
    assert p.url == "https://detail.tmall.com/%E5%95%86%E5%93%81?q=%E4%B8%AD&a=1#frag"
    assert p.host == "detail.tmall.com" and p.port is None and p.scheme == "https"
    assert normalize_product_url(p.url) == p
    assert normalize_product_url("https://tmall.com").path == "/"
    assert normalize_product_url("https://中国.cn/x").host == "xn--fiqs8s.cn"


def test_ip_registration_matches_only_that_ip_and_port():
    assert accepted("http://127.0.0.1:8101/p/1", SIM)
    assert not accepted("http://127.0.0.1:8102/p/1", SIM)
    assert not accepted("http://127.0.0.1/p/1", SIM)
    assert not accepted("http://127.0.0.2:8101/p/1", SIM)
    assert not accepted("http://x.127.0.0.1:8101/p/1", SIM)


def test_host_matches_label_boundaries():
    assert rules.host_matches("tmall.com", "tmall.com", False)
    assert rules.host_matches("a.b.tmall.com", "tmall.com", True)
    assert not rules.host_matches("a.tmall.com", "tmall.com", False)
    assert not rules.host_matches("evil-tmall.com", "tmall.com", True)
    assert not rules.host_matches("eviltmall.com", "tmall.com", True)
    assert not rules.host_matches("tmall.com.evil.cn", "tmall.com", True)
    assert not rules.host_matches("", "tmall.com", True)


def test_domain_registration():
    r = rules.parse_domain_registration("Detail.Tmall.com")
    assert (r.host, r.registrable, r.port, r.is_ip) == ("detail.tmall.com", "tmall.com", 0, False)
    assert rules.parse_domain_registration("shop.example.co.uk").registrable == "example.co.uk"
    r = rules.parse_domain_registration("127.0.0.1:8101")
    assert (r.host, r.port, r.is_ip) == ("127.0.0.1", 8101, True)
    assert rules.parse_domain_registration("127.0.0.1", 8101).port == 8101
    for bad, rule in [("com", "public_suffix"), ("co.uk", "public_suffix"),
                      ("github.io", "public_suffix"), ("localhost", "public_suffix"),
                      ("https://tmall.com", "host_only"), ("tmall.com/x", "host_only"),
                      ("a@tmall.com", "host_only"), ("tmall.com:x", "port"),
                      ("tmall.com:70000", "port"), ("", "required"),
                      ("tmall%2ecom", "host_percent_encoded"), ("2130706433", "ip_literal_form")]:
        with pytest.raises(Invalid) as ei:
            rules.parse_domain_registration(bad)
        assert ei.value.field == "domain" and ei.value.rule == rule, bad
    with pytest.raises(Invalid):
        rules.parse_domain_registration("127.0.0.1:8101", 8102)


def test_add_tracking_replaces_existing_value():
    f = rules.add_tracking
    assert f("https://s.com/p/1", "sw_click", "c1") == "https://s.com/p/1?sw_click=c1"
    assert f("https://s.com/p?a=1&sw_click=old&b=%20x", "sw_click", "c2") == \
        "https://s.com/p?a=1&b=%20x&sw_click=c2"
    assert f("https://s.com/p?sw_click=a&sw_click=b#top", "sw_click", "c3") == \
        "https://s.com/p?sw_click=c3#top"
    assert f("https://s.com/p?sw%5Fclick=a", "sw_click", "c/4") == \
        "https://s.com/p?sw_click=c%2F4"
    assert f("https://s.com/p?", "t", "1") == "https://s.com/p?t=1"


def test_rates_and_commission():
    rates = {"beauty": 800, "digital": 200}
    assert rules.rate_for("beauty", 500, rates) == 800
    assert rules.rate_for("Beauty ", 500, rates) == 800
    assert rules.rate_for("books", 500, rates) == 500
    assert rules.rate_for(None, 500, rates) == 500
    assert rules.commission_minor(16690, 800) == 1335
    assert rules.check_category_rates({"Beauty": 800}) == {"beauty": 800}
    with pytest.raises(Invalid) as ei:
        rules.check_category_rates({"beauty": 10_001})
    assert ei.value.field == "category_rates.beauty"
    with pytest.raises(Invalid):
        rules.check_category_rates({"bad key!": 1})


def test_prices_are_exact():
    assert rules.parse_price("166.90", "CNY") == 16690
    assert rules.parse_price("1,299.00", "CNY") == 129900
    assert rules.parse_price("1200", "JPY") == 1200
    assert rules.parse_price("1.234", "BHD") == 1234
    assert rules.parse_price(12.5, "USD") == 1250
    assert rules.parse_price(0, "USD") == 0
    for bad, cur in [("166.905", "CNY"), ("1.5", "JPY"), ("-1", "CNY"), ("NaN", "CNY"),
                     ("Infinity", "CNY"), ("abc", "CNY"), (None, "CNY"), (True, "CNY")]:
        with pytest.raises(ValueError):
            rules.parse_price(bad, cur)


def test_secrets_and_templates():
    s = rules.generate_secret()
    assert s.startswith("whsec_") and rules.check_secret(s) == s
    for bad in ["whsec_", "whsec_!!!", "abc", "whsec_" + "QUJD"]:
        with pytest.raises(Invalid) as ei:
            rules.check_secret(bad)
        assert ei.value.field == "postback_secret"
    assert rules.check_api_template("https://api.tmall.com/products/{id}")
    for bad in ["https://api.tmall.com/products", "https://{id}.tmall.com/x",
                "ftp://tmall.com/{id}", "https://x.com/{id}/{id}"]:
        with pytest.raises(Invalid):
            rules.check_api_template(bad)
    assert rules.product_id_from_path("/p/71500001", "/p/{id}") == "71500001"
    assert rules.product_id_from_path("/p/71500001/", "/p/{id}") == "71500001"
    assert rules.product_id_from_path("/item/7.htm", "/item/{id}.htm") == "7"
    assert rules.product_id_from_path("/q/1", "/p/{id}") is None
    assert rules.product_id_from_path("/p/1/2", "/p/{id}") is None


def test_availability_words():
    assert rules.normalize_availability("https://schema.org/InStock") == "in_stock"
    assert rules.normalize_availability("http://schema.org/OutOfStock") == "out_of_stock"
    assert rules.normalize_availability("in stock") == "in_stock"
    assert rules.normalize_availability("out of stock") == "out_of_stock"
    assert rules.normalize_availability("PreOrder") == "preorder"
    assert rules.normalize_availability(None) == "unknown"
