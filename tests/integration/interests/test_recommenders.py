"""Recommenders on real data: exclusions, cold start from picked interests, reasons, fold-in."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import NotFound
from shopwindow.interests import actions, profiles, queries, serving, training
from shopwindow.showcase import actions as showcase
from shopwindow.social import actions as social
from shopwindow.tracking import actions as tracking
from shopwindow.tracking.actions import ClickItem
from tests.integration.interests.conftest import World


def _order(uow: Any, w: World, fan: int, n: int) -> None:
    """The fan buys product n at the partner: a hand-off click, then a paid postback."""
    with uow() as s:
        click = tracking.record_click(
            s, items=[ClickItem(str(n), w.recs[n], w.creator_of[n], w.products[n])],
            partner_id=w.partner_id, surface="middle", fan_id=fan, promotion_id=None,
            user_agent="Mozilla/5.0 test", ip_hash="x", method="GET")
        payload = {"type": "order.paid", "sequence": 1, "data": {
            "order_id": f"o-{fan}-{n}", "status": "paid", "currency": "CNY",
            "total_minor": 1000, "tracking_id": click.token,
            "lines": [{"line_id": "1", "product_id": str(n), "total_minor": 1000}]}}
        res = tracking.ingest_postback(s, partner_id=w.partner_id, webhook_id=f"wh-{fan}-{n}",
                                       payload=payload, take_rate_bps=2000)
        assert res.status == "processed", res


def _ids(items: list[Any]) -> list[int]:
    return [i.product_id for i in items]


def test_cold_start_follows_picked_interests(uow: Any, world: World, session: Any) -> None:
    newbie = world.fans["newbie"]
    with uow() as s:
        actions.set_picked_interests(s, newbie, ["digital"])
    with uow() as s:
        prods = serving.discover_products(s, newbie, k=3)
        people = serving.suggest_accounts(s, newbie, k=3)
    digital = {world.products[n] for n in (11, 12, 13)}
    assert set(_ids(prods)) == digital
    assert all(p.reason.code == "picked" and p.reason.name == "Tech" for p in prods)
    assert people[0].account.id == world.creators["tess"]
    assert people[0].reason.text() == "In your interests: Tech"
    assert people[0].reason.text(zh=True) == "你关注的领域：数码科技"


def test_exclusions_and_reasons_after_training(uow: Any, world: World, settings: Any) -> None:
    a, b, c = world.fans["fan_a"], world.fans["fan_b"], world.fans["fan_c"]
    bella, tess, pip = world.creators["bella"], world.creators["tess"], world.creators["pip"]
    with uow() as s:
        # a and b both follow bella and bookmark beauty products 1 and 2; b also likes 3.
        for fan in (a, b):
            social.follow(s, fan, bella)
            showcase.bookmark_product(s, fan, world.recs[1])
            showcase.bookmark_product(s, fan, world.recs[2])
        showcase.bookmark_product(s, b, world.recs[3])
        social.follow(s, b, tess)
        social.follow(s, c, tess)
        social.follow(s, c, pip)
        social.follow(s, a, c)
    _order(uow, world, a, 4)  # a bought product 4
    with uow() as s:
        training.run_training(s)
        actions.dismiss(s, a, "product", world.products[12])
        social.mute(s, a, pip)
    with uow() as s:
        prods = serving.discover_products(s, a, k=20)
        people = serving.suggest_accounts(s, a, k=20)
    got = _ids(prods)
    for excluded in (1, 2, 4, 12, 21, 22):  # bookmarked, bought, dismissed, muted creator
        assert world.products[excluded] not in got
    assert got[0] == world.products[3]  # what co-bookmarkers also saved
    assert prods[0].reason.code == "because_bookmarked"
    assert prods[0].reason.text().startswith("Because you bookmarked Beauty thing")
    ids = [p.account.id for p in people]
    assert a not in ids and bella not in ids and c not in ids and pip not in ids
    assert ids[0] == tess  # followed by c, whom a follows
    assert people[0].reason.code == "followed_by" and people[0].reason.count == 1
    assert people[0].reason.text() == "Followed by 1 person you follow"
    # Blocking and suspension apply at once, without retraining.
    with uow() as s:
        social.block(s, a, tess)
    with uow() as s:
        assert tess not in [p.account.id for p in serving.suggest_accounts(s, a, k=20)]
        assert not {world.products[n] for n in (11, 12, 13)} & set(
            _ids(serving.discover_products(s, a, k=20)))
    # A suspended (deleted) account is never suggested, nor are its products shown.
    with uow() as s:
        assert world.fans["fan_b"] in [p.account.id for p in
                                       serving.suggest_accounts(s, c, k=20)]
        accounts.delete_account(s, accounts_q.get_account(s, world.fans["fan_b"]),
                                "correct horse battery")
    with uow() as s:
        assert world.fans["fan_b"] not in [p.account.id for p in
                                           serving.suggest_accounts(s, c, k=20)]
        accounts.delete_account(s, accounts_q.get_account(s, bella), "correct horse battery")
    with uow() as s:
        assert not {world.products[n] for n in (1, 2, 3, 4)} & set(
            _ids(serving.discover_products(s, c, k=20)))


def test_fold_in_uses_live_interactions_without_retraining(uow: Any, world: World) -> None:
    a, b = world.fans["fan_a"], world.fans["fan_b"]
    with uow() as s:
        for n in (11, 12):
            showcase.bookmark_product(s, b, world.recs[n])
        for fan in ("fan_c", "newbie"):  # product 1 is the most popular one
            showcase.bookmark_product(s, world.fans[fan], world.recs[1])
        training.run_training(s)
    with uow() as s:
        before = _ids(serving.discover_products(s, a, k=1))
        showcase.bookmark_product(s, a, world.recs[11])  # after training
    with uow() as s:
        after = serving.discover_products(s, a, k=1)
    assert before == [world.products[1]]
    assert _ids(after) == [world.products[12]]
    assert after[0].reason.code == "because_bookmarked"


def test_similar_and_fans_also_like(uow: Any, world: World) -> None:
    a, b = world.fans["fan_a"], world.fans["fan_b"]
    with uow() as s:
        for fan in (a, b):
            social.follow(s, fan, world.creators["pip"])
            showcase.bookmark_product(s, fan, world.recs[21])
            showcase.bookmark_product(s, fan, world.recs[2])
        training.run_training(s)
    with uow() as s:
        sim = serving.similar_products(s, world.products[21], None, k=3)
        fans = serving.fans_also_like(s, world.creators["pip"], None, k=3)
        runs = queries.latest_training_runs(s)
    assert sim[0].product_id == world.products[2] and sim[0].reason.code == "similar"
    assert _ids(fans) == [world.products[2]]  # pip's own products are not "also"
    assert fans[0].reason.text() == "Fans of pip also like"
    assert runs[0].status == "done" and runs[0].version >= 1


def test_failed_training_is_recorded_not_rolled_back(uow: Any, world: World,
                                                               settings: Any) -> None:
    with uow() as s:
        assert training.run_training(s)["version"] == 1
    # The artefact directory becomes a file: writing the next version fails.
    root = training.recs_dir(settings.data_dir)
    shutil.rmtree(root)
    root.write_text("not a directory")
    with uow() as s:
        out = training.run_training(s)
    assert "error" in out
    with uow() as s:
        runs = queries.latest_training_runs(s)
    assert [r.status for r in runs] == ["failed", "done"] and runs[0].error


def test_periodic_job_trains_only_when_the_last_run_is_old(
        uow: Any, world: World, settings: Any, monkeypatch: Any) -> None:
    from datetime import timedelta

    from shopwindow.core.clock import clock
    from shopwindow.jobs import handlers
    from shopwindow.jobs.runtime import rt

    first = handlers.train_recs()
    assert first is not None and first["version"] == 1
    assert handlers.train_recs() is None  # ran a moment ago
    clock.advance(timedelta(minutes=61))
    try:
        again = handlers.train_recs()
    finally:
        clock.reset()
    assert again is not None and again["version"] == 2
    assert rt.settings is not None
    monkeypatch.setattr(rt, "settings", rt.settings.model_copy(
        update={"recs_train_interval_minutes": 0}))
    assert handlers.train_recs() is None and handlers.train_recs(force=True) is not None


def test_reads_shape_the_profile_but_impressions_never_hide_a_product(
        uow: Any, world: World) -> None:
    from shopwindow.analytics import actions as analytics
    from shopwindow.analytics.rules import EventIn

    newbie = world.fans["newbie"]

    def ev(kind: str, n: int) -> EventIn:
        return EventIn(type=kind, object_type="recommendation", object_id=world.recs[n],
                       actor_id=newbie, creator_id=world.creator_of[n],
                       recommendation_id=world.recs[n], product_id=world.products[n],
                       surface="middle_page" if kind == "read" else "discover")

    with uow() as s:
        analytics.ingest(s, [ev("read", 21), ev("impression", 11), ev("impression", 12)])
        training.run_training(s)
    with uow() as s:
        prof = profiles.build_profile(s, newbie)
        got = _ids(serving.discover_products(s, newbie, k=20))
    assert prof.products[world.products[21]] == pytest.approx(0.5, rel=1e-3)  # a read
    assert prof.products[world.products[11]] == pytest.approx(0.1, rel=1e-3)  # an impression
    assert prof.engaged == {world.products[21]}
    assert got[0] == world.products[22]  # the other pets product comes first
    assert world.products[11] in got and world.products[12] in got  # only seen, not hidden


def test_model_fold_in_serves_accounts_created_after_training(uow: Any, world: World) -> None:
    from tests.helpers import make_account

    fans = [make_account(uow, f"crowd{i}") for i in range(4)]
    with uow() as s:
        for i, f in enumerate(fans):
            for n in (11, 12, 21) if i < 3 else (11, 12, 22):
                showcase.bookmark_product(s, f, world.recs[n])
        stats = training.run_training(s)
    assert "item_model_error" not in stats and stats["items"] == 9
    late = make_account(uow, "latecomer")  # unknown to the trained artefacts
    with uow() as s:
        showcase.bookmark_product(s, late, world.recs[21])
    with uow() as s:
        art = serving.store().get()
        assert art is not None and art.model is not None and late not in art.user_index
        prof = profiles.build_profile(s, late)
        scores = serving._model_scores(art, late, prof)
        top = _ids(serving.discover_products(s, late, k=2))
    # co-bookmarked with product 21 by three accounts: 11 and 12 (not 21 itself)
    assert world.products[21] not in scores
    assert {world.products[11], world.products[12]} <= set(scores)
    assert set(top) == {world.products[11], world.products[12]}


def test_declared_verticals_place_creators_without_recommendations(uow: Any,
                                                                   world: World) -> None:
    from shopwindow.interests import labels_actions
    from tests.helpers import make_account

    chef = make_account(uow, "chef", role="creator")
    newbie = world.fans["newbie"]
    with uow() as s:
        labels_actions.declare_verticals(s, chef, ["food"])
        actions.set_picked_interests(s, newbie, ["food"])
    with uow() as s:
        people = serving.suggest_accounts(s, newbie, k=3)
    assert people[0].account.id == chef
    assert people[0].reason.text() == "In your interests: Food"


def test_old_interactions_fade_with_the_half_life(uow: Any, world: World) -> None:
    from datetime import timedelta

    from shopwindow.core.clock import clock

    a = world.fans["fan_a"]
    with uow() as s:
        showcase.bookmark_product(s, a, world.recs[1])
    clock.advance(timedelta(days=30))  # the default half-life
    try:
        with uow() as s:
            showcase.bookmark_product(s, a, world.recs[11])
            prof = profiles.build_profile(s, a)
    finally:
        clock.reset()
    assert prof.products[world.products[11]] == pytest.approx(3.0, rel=1e-3)
    assert prof.products[world.products[1]] == pytest.approx(1.5, rel=1e-3)


def test_a_discovery_page_spreads_over_creators(uow: Any, world: World) -> None:
    """Two beauty creators: the page alternates between them instead of listing the four
    products of one first (without the diversity step, the newer creator's two products
    and then bella's would come in a block each)."""
    from tests.helpers import make_account
    from tests.integration.interests.conftest import DOMAIN, fake_fetch

    bea = make_account(uow, "bea", role="creator")
    with uow() as s:
        out = showcase.publish(s, bea, [
            {"url": f"https://{DOMAIN}/p/{n}", "reason": "Really good, used it daily"}
            for n in (5, 6)], fetcher=fake_fetch)
        bea_products = {rec.product_id for rec in out.recommendations}
        actions.set_picked_interests(s, world.fans["newbie"], ["beauty"])
    with uow() as s:
        page = serving.discover_products(s, world.fans["newbie"], k=6)
    creators = [p.view.rec.creator_id for p in page]
    bella = world.creators["bella"]
    assert creators[:4] in ([bea, bella, bea, bella], [bella, bea, bella, bea]), creators
    assert all(p.reason.code == "picked" for p in page[:4])
    assert bea_products <= set(_ids(page))
    # the page holds every beauty product before anything outside the picked vertical
    beauty = bea_products | {world.products[n] for n in (1, 2, 3, 4)}
    assert set(_ids(page)) == beauty


def test_fans_also_like_is_not_one_other_creators_showcase(uow: Any, world: World) -> None:
    """pip's fans like three of bella's products a lot and one of tess's a little: the block
    of three shows tess's next to bella's best instead of bella's three."""
    a, b = world.fans["fan_a"], world.fans["fan_b"]
    with uow() as s:
        for fan in (a, b):
            social.follow(s, fan, world.creators["pip"])
            for n in (1, 2, 3):
                showcase.bookmark_product(s, fan, world.recs[n])
        showcase.bookmark_product(s, a, world.recs[11])
    with uow() as s:
        block = serving.fans_also_like(s, world.creators["pip"], None, k=3)
    creators = [p.view.rec.creator_id for p in block]
    # totals: bella's products 2 × 3 each, tess's 11: 1 × 3; bella's second: 6 × 0.7 = 4.2
    # still beats 3, bella's third: 6 × 0.49 = 2.94 does not
    assert creators == [world.creators["bella"], world.creators["bella"],
                        world.creators["tess"]], creators
    assert world.products[11] in _ids(block)


def test_show_less_of_a_topic_removes_it_from_discovery_and_interests(
        uow: Any, world: World) -> None:
    fan = world.fans["fan_a"]
    beauty = {world.products[n] for n in (1, 2, 3, 4)}
    with uow() as s:
        actions.set_picked_interests(s, fan, ["beauty", "digital"])
        showcase.bookmark_product(s, fan, world.recs[1])
    with uow() as s:
        before = set(_ids(serving.discover_products(s, fan, k=9)))
        vid = queries.find_vertical_by_slug(s, "beauty").id
    assert before & beauty
    with uow() as s:
        assert actions.dismiss(s, fan, "vertical", vid)
        assert not actions.dismiss(s, fan, "vertical", vid)  # idempotent
    with uow() as s:
        after = serving.discover_products(s, fan, k=9)
        prof = profiles.build_profile(s, fan)
        summary = serving.profile_summary(s, fan)
    assert after and not set(_ids(after)) & beauty
    assert "beauty" not in prof.verticals and set(prof.muted) == {"beauty"}
    assert "digital" in prof.verticals  # the other picked topic stays
    assert prof.picked == ["digital"]  # muting a picked topic un-picks it
    assert [v[0] for v in summary.verticals] == ["digital"]
    assert summary.muted == [("beauty", "Beauty", "美妆护肤", vid)]
    with uow() as s:
        actions.undismiss(s, fan, "vertical", vid)
    with uow() as s:
        again = set(_ids(serving.discover_products(s, fan, k=9)))
        assert serving.profile_summary(s, fan).muted == []
    assert again & beauty
    with uow() as s:  # picking a muted topic again un-mutes it
        actions.dismiss(s, fan, "vertical", vid)
        actions.set_picked_interests(s, fan, ["beauty"])
    with uow() as s:
        assert queries.muted_verticals(s, fan) == {}
    with uow() as s, pytest.raises(NotFound):
        actions.dismiss(s, fan, "vertical", 424242)
