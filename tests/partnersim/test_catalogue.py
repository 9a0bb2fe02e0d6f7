from __future__ import annotations

import pytest

from shopwindow.partnersim.__main__ import parse_args
from shopwindow.partnersim.catalogue import (
    CATEGORIES,
    generate_catalogue,
    gtin13_check_digit,
    gtin13_valid,
)
from shopwindow.partnersim.config import SimConfig, format_decimal
from shopwindow.partnersim.delivery import backoff_delay


def test_gtin13_check_digit_known_values() -> None:
    assert gtin13_check_digit("400638133393") == 1  # GS1's textbook example 4006381333931
    assert gtin13_valid("4006381333931")
    assert not gtin13_valid("4006381333932")
    assert not gtin13_valid("40063813339")


def test_catalogue_is_deterministic_for_a_seed() -> None:
    a = generate_catalogue(1, 150)
    assert a == generate_catalogue(1, 150)
    b = generate_catalogue(2, 150)
    assert [p.id for p in a] != [p.id for p in b]


def test_catalogue_products_are_believable_and_valid() -> None:
    products = generate_catalogue(3, 150)
    assert len(products) == 150
    assert len({p.id for p in products}) == 150
    assert len({p.gtin13 for p in products}) == 150
    assert all(gtin13_valid(p.gtin13) for p in products)
    assert all(p.price_minor > 0 and p.stock >= 0 for p in products)
    assert {p.category for p in products} == set(CATEGORIES)
    titles = " ".join(p.title for p in products)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in titles)  # some Chinese
    assert any(ch.isascii() and ch.isalpha() for ch in titles)  # some English
    assert any(p.stock == 0 for p in products) and any(p.stock > 0 for p in products)


def test_shops_share_some_gtins_for_price_comparison() -> None:
    a = {p.gtin13: p for p in generate_catalogue(1, 150)}
    b = {p.gtin13: p for p in generate_catalogue(2, 150)}
    shared = set(a) & set(b)
    assert shared
    g = next(iter(shared))
    assert a[g].title == b[g].title and a[g].brand == b[g].brand


def test_format_decimal() -> None:
    assert format_decimal(12990, "CNY") == "129.90"
    assert format_decimal(5, "CNY") == "0.05"
    assert format_decimal(1500, "JPY") == "1500"


def test_backoff_doubles_and_is_capped() -> None:
    cfg = SimConfig(retry_base=0.5, retry_cap=30, retry_jitter=0.0)
    assert [backoff_delay(n, cfg) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_delay(20, cfg) == 30
    jittery = SimConfig(retry_base=1, retry_cap=30, retry_jitter=0.2)
    assert all(0.8 <= backoff_delay(1, jittery) <= 1.2 for _ in range(50))


def test_cli_arguments() -> None:
    cfg, host, port = parse_args([
        "--port", "8101", "--name", "Lumen Mall", "--seed", "4", "--products", "20",
        "--postback-url", "http://127.0.0.1:8000/partners/lumen/postbacks",
        "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--replay", "1"])
    assert (host, port, cfg.name, cfg.seed, cfg.products, cfg.replay) == (
        "127.0.0.1", 8101, "Lumen Mall", 4, 20, 1)
    assert cfg.tracking_param == "sw_click" and cfg.currency == "CNY"
    with pytest.raises(SystemExit):
        parse_args(["--postback-url", "http://x/"])  # a secret is required with a receiver
    with pytest.raises(SystemExit):
        parse_args(["--secret", "whsec_"])
