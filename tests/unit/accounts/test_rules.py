from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.accounts import rules
from shopwindow.core.errors import Invalid


@pytest.mark.parametrize("name", ["alice", "Bob_99", "x", "a" * 30])
def test_valid_usernames(name):
    assert rules.check_username(name) == name


@pytest.mark.parametrize("name,rule", [("", "pattern"), ("a" * 31, "pattern"), ("bad-name", "pattern"),
                                        ("名字", "pattern"), ("admin", "reserved"), ("API", "reserved")])
def test_invalid_usernames_name_the_rule(name, rule):
    with pytest.raises(Invalid) as e:
        rules.check_username(name)
    assert e.value.field == "username" and e.value.rule.startswith(rule)


def test_password_length_rules():
    with pytest.raises(Invalid) as e:
        rules.check_password("short")
    assert e.value.rule == "min_length:8"
    with pytest.raises(Invalid):
        rules.check_password("x" * 300)
    assert rules.check_password("long enough")


def test_scopes_parse_and_allow():
    assert rules.parse_scopes("read write:statuses follow") == ["read", "write:statuses", "follow"]
    assert rules.parse_scopes(None) == ["read"]
    with pytest.raises(Invalid) as e:
        rules.parse_scopes("read admin_everything")
    assert e.value.field == "scope"
    assert rules.scopes_allow(["read"], "read:statuses")
    assert not rules.scopes_allow(["read"], "write:statuses")
    assert rules.scopes_allow(["write:statuses"], "write:statuses")
    assert not rules.scopes_allow(["write:statuses"], "write:media")
    assert rules.scopes_allow(["follow"], "write:follows")
    assert not rules.scopes_allow(["follow"], "write:statuses")
    assert rules.scopes_subset(["read:accounts"], ["read", "write"])
    assert not rules.scopes_subset(["write"], ["read"])


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
               min_size=43, max_size=128))
def test_pkce_s256_roundtrip(verifier):
    c = _challenge(verifier)
    assert rules.pkce_verify(verifier, c, "S256")
    assert not rules.pkce_verify(verifier + "x", c, "S256") or len(verifier) == 128
    assert not rules.pkce_verify(verifier, c, "plain")


def test_pkce_refuses_short_verifier():
    v = "a" * 42
    assert not rules.pkce_verify(v, _challenge(v), "S256")


def test_redirect_uri_exact_match_only():
    reg = ["https://app.example/cb"]
    assert rules.redirect_uri_allowed("https://app.example/cb", reg)
    assert not rules.redirect_uri_allowed("https://app.example/cb/../evil", reg)
    assert not rules.redirect_uri_allowed("https://app.example/cb?x=1", reg)
    assert not rules.redirect_uri_allowed("https://app.example.evil/cb", reg)


def test_email_check():
    assert rules.check_email("A@Example.com").endswith("@example.com")
    with pytest.raises(Invalid) as e:
        rules.check_email("not-an-email")
    assert e.value.field == "email"
