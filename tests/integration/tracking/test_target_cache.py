"""The hand-off's target cache: set-based loads and one background refresh pass for
every expired entry (no reload per entry)."""

from __future__ import annotations

import pytest

from shopwindow.partners import actions as partners
from shopwindow.partners import queries as partners_q
from shopwindow.showcase import actions as showcase
from shopwindow.tracking import handoff
from tests.integration.tracking.conftest import World


def test_load_many_reads_known_targets_and_drops_the_rest(world: World) -> None:
    cache = handoff.TargetCache()
    unknown = 999_999_999
    with world.db.read_sessions() as s:
        got = cache.load_many(s, [*world.recs, unknown])
        assert set(got) == set(world.recs)
        single = handoff.TargetCache().load(s, world.recs[0])
    t = got[world.recs[0]]
    assert (t.partner_id, t.creator_id, t.partner_active) == (world.partner_id,
                                                              world.creator_id, True)
    assert t.product_url == single.product_url and t.origin == single.origin
    assert t.tracking_param == single.tracking_param
    assert t.external_product_id == single.external_product_id != ""
    assert cache.peek(unknown) == (None, False)


def test_expired_entries_are_refreshed_in_one_pass(world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cache = handoff.TargetCache()
    monkeypatch.setattr(handoff, "TARGET_TTL", -1.0)  # everything expires at once
    a, b = world.recs[0], world.recs[1]
    with world.db.read_sessions() as s:
        cache.load_many(s, [a, b])
    # The first stale read asks for a refresh; the second only queues its id.
    ta, start = cache.peek(a)
    tb, start_again = cache.peek(b)
    assert ta is not None and tb is not None and start and not start_again
    # Meanwhile the partner is suspended and one recommendation deleted elsewhere.
    with world.uow() as s:
        partners.suspend_partner(s, partners_q.get_partner(s, world.partner_id))
    with world.uow() as s:
        showcase.delete_recommendation(s, world.creator_id, b)
    assert cache.refresh_due(world.db) == 2
    assert cache.peek(b) == (None, False)
    # The pass is over: the next stale read (still expired: TTL < 0) starts a new one.
    fresh, again = cache.peek(a)
    assert fresh is not None and fresh.partner_active is False and again
    assert cache.refresh_due(world.db) == 1
