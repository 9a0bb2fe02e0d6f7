from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.core import ids as ids_mod
from shopwindow.core.ids import id_floor_for_ms, new_id, new_ids
from shopwindow.core.money import Money


def test_ids_strictly_increase_and_fit_63_bits():
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(0 < i < 1 << 63 for i in ids)


def test_new_ids_are_what_as_many_new_id_calls_return(monkeypatch) -> None:
    # a frozen clock: 200 ids overflow the 64 per millisecond, so later ones borrow the
    # next milliseconds, in both paths alike
    monkeypatch.setattr(ids_mod.time, "time", lambda: 1_750_000_000.0)
    monkeypatch.setattr(ids_mod, "_last_ms", 0)
    monkeypatch.setattr(ids_mod, "_seq", 0)
    one_by_one = [new_id() for _ in range(200)] + [new_id()]
    after_single = ids_mod._last_ms, ids_mod._seq
    monkeypatch.setattr(ids_mod, "_last_ms", 0)
    monkeypatch.setattr(ids_mod, "_seq", 0)
    batched = [*new_ids(200), new_id()]  # and new_id carries on where the batch ended
    assert batched == one_by_one
    assert (ids_mod._last_ms, ids_mod._seq) == after_single
    assert one_by_one[64] >> 16 == (one_by_one[0] >> 16) + 1  # a borrowed millisecond
    assert new_ids(0) == [] and new_ids(-3) == []


def test_new_ids_interleave_with_new_id_and_keep_the_node() -> None:
    got = [new_id()]
    for n in (1, 5, 70, 300):
        got += [*new_ids(n), new_id()]
    assert got == sorted(got) and len(set(got)) == len(got)
    assert {(i >> 6) & 0x3FF for i in got} == {ids_mod.node_id()}


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
