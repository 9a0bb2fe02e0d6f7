from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.core.ids import id_floor_for_ms, new_id
from shopwindow.core.money import Money


def test_ids_strictly_increase_and_fit_63_bits():
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(0 < i < 1 << 63 for i in ids)


def test_ids_sort_by_time_and_floor():
    a = new_id(at_ms=1_700_000_000_000)
    b = new_id(at_ms=1_700_000_000_500)
    assert a < b
    assert id_floor_for_ms(1_700_000_000_000) <= a < id_floor_for_ms(1_700_000_000_001) or a > 0


@given(st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=50))
def test_money_addition_is_exact(amounts):
    total = Money(0, "CNY")
    for a in amounts:
        total = total + Money(a, "CNY")
    assert total.amount == sum(amounts)
    assert (total - total).amount == 0


def test_money_refuses_mixing_and_floats():
    with pytest.raises(ValueError):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "cny")
    assert Money(-1234, "CNY").format() == "-12.34 CNY"
    assert Money(500, "JPY").format() == "500 JPY"
