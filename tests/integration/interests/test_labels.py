"""Ability labels end to end on SQLite and PostgreSQL: bootstrap training from the seed
vocabulary, labelling creators from their posts, operator corrections that win over the
model and become training data, declared verticals, and who may change what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.interests import actions as interests
from shopwindow.interests import labels_actions as labels
from shopwindow.interests import labels_queries as labels_q
from shopwindow.interests import labels_train
from shopwindow.interests.labels_models import AccountLabel, LabelExample
from shopwindow.outbox.events import emitted
from shopwindow.social import actions as social
from tests.helpers import make_account

POSTS = {
    "bella": ["今天试了三支口红，哑光唇釉真的很显白", "敏感肌的护肤步骤：精华、面霜、防晒霜",
              "my skincare routine with serum and sunscreen", "新买的粉底液遮瑕效果测评"],
    "tess": ["新手机测评：拍照和续航都不错", "这台笔记本电脑的处理器跑分很高",
             "noise cancelling headphones review", "蓝牙耳机和快充充电器推荐"],
}


@dataclass
class World:
    ids: dict[str, int]
    data_dir: Any


@pytest.fixture
def world(uow: Any, settings: Any) -> World:
    with uow() as s:
        interests.ensure_default_verticals(s)
    ids = {name: make_account(uow, name, role="creator") for name in POSTS}
    ids["olga"] = make_account(uow, "olga", role="operator")
    ids["fan"] = make_account(uow, "fan")
    with uow() as s:
        for name, texts in POSTS.items():
            for text in texts:
                social.create_post(s, ids[name], text=text)
    return World(ids, settings.data_dir)


def _labels(session: Any, account_id: int) -> list[tuple[str, str]]:
    session.expire_all()
    return [(v.vertical, v.source) for v in labels_q.account_labels(session, account_id)]


def test_bootstrap_training_labels_creators_from_their_posts(db, uow, session, world):
    info = labels_train.train(db, world.data_dir)
    assert info["by_source"] == {"seed": info["rows"]}  # no examples yet: seed only
    assert "beauty" in info["seeded"] and info["classes"] == len(info["seeded"]) == 20
    out = labels_train.apply(db, world.data_dir)
    assert set(out) == {world.ids["bella"], world.ids["tess"]}  # creators with labels/posts
    assert out[world.ids["bella"]][0] == "beauty"
    assert out[world.ids["tess"]][0] == "digital"
    shown = labels_q.account_labels(session, world.ids["bella"])
    assert shown[0].vertical == "beauty" and shown[0].source == "model"
    assert 0.35 <= shown[0].confidence <= 1.0
    assert shown[0].name_zh == "美妆护肤"


def test_corrections_win_over_the_model_and_become_training_data(db, uow, session, world):
    bella, olga = world.ids["bella"], world.ids["olga"]
    labels_train.train(db, world.data_dir)
    labels_train.apply(db, world.data_dir)
    with uow() as s:
        added = labels.set_label(s, olga, bella, "pets")
        events = [(e.type, e.payload["vertical"], e.payload["action"]) for e in emitted(s)]
    assert added == len(POSTS["bella"])
    assert events == [("interests.label_corrected", "pets", "set")]
    examples = labels_q.list_examples(session, account_id=bella, source="correction")
    assert sorted(e.text for e in examples) == sorted(POSTS["bella"])
    assert {e.vertical for e in examples} == {"pets"} and {e.created_by for e in examples} == {olga}

    # The operator also removes the model's "beauty": relabelling must not bring it back.
    with uow() as s:
        labels.remove_label(s, olga, bella, "beauty")
    labels_train.apply(db, world.data_dir, [bella])
    assert _labels(session, bella)[0] == ("pets", "operator")
    assert "beauty" not in [v for v, _ in _labels(session, bella)]
    row = session.get(AccountLabel, (bella, "beauty"))
    assert row is not None and row.removed and row.source == "operator"

    # Retraining learns from the corrections: bella's posts now read as pets.
    info = labels_train.train(db, world.data_dir)
    assert info["by_source"]["correction"] == len(POSTS["bella"])
    model = labels_q.load_model(world.data_dir)
    assert model is not None
    assert model.predict(POSTS["bella"]).count("pets") >= 3

    # Setting the same label again adds no duplicate examples.
    with uow() as s:
        assert labels.set_label(s, olga, bella, "pets") == 0


def test_removing_an_operator_label_drops_its_corrections(db, uow, session, world):
    bella, olga = world.ids["bella"], world.ids["olga"]
    with uow() as s:
        labels.set_label(s, olga, bella, "pets")
    with uow() as s:
        labels.remove_label(s, olga, bella, "pets")
    assert labels_q.list_examples(session, account_id=bella, source="correction") == []
    assert _labels(session, bella) == []


def test_only_operators_change_labels_and_input_is_checked(uow, world):
    bella, fan, olga = world.ids["bella"], world.ids["fan"], world.ids["olga"]
    for call in (lambda s: labels.set_label(s, bella, bella, "beauty"),
                 lambda s: labels.remove_label(s, fan, bella, "beauty"),
                 lambda s: labels.add_example(s, fan, text="口红", vertical="beauty")):
        with pytest.raises(Forbidden) as e, uow() as s:
            call(s)
        assert e.value.field == "role"
    with pytest.raises(Invalid) as e, uow() as s:
        labels.set_label(s, olga, bella, "astrology")
    assert (e.value.field, e.value.rule) == ("vertical", "known_vertical")
    with pytest.raises(Invalid) as e, uow() as s:
        labels.add_example(s, olga, text="   ", vertical="beauty")
    assert (e.value.field, e.value.rule) == ("text", "required")
    with pytest.raises(NotFound), uow() as s:
        labels.set_label(s, olga, 12345, "beauty")


def test_operator_examples_and_declared_verticals_feed_training(uow, session, world):
    tess, olga, fan = world.ids["tess"], world.ids["olga"], world.ids["fan"]
    with uow() as s:
        assert labels.add_example(s, olga, text="  露营 帐篷  推荐 ", vertical="outdoors") == 1
        assert labels.add_example(s, olga, text="露营 帐篷 推荐", vertical="outdoors") == 0
        assert labels.declare_verticals(s, tess, ["Digital", "digital"]) == ["digital"]
        labels.refresh_declared_examples(s)
    declared = labels_q.list_examples(session, account_id=tess, source="declared")
    assert sorted(e.text for e in declared) == sorted(POSTS["tess"])
    with uow() as s:
        data = labels.training_set(s)
    assert data.by_source == {"operator": 1, "declared": 4, "seed": data.by_source["seed"]}
    assert "露营 帐篷 推荐" in data.texts
    # Two declared verticals: which post is which is unknown, so no declared examples.
    with uow() as s:
        labels.declare_verticals(s, tess, ["digital", "games"])
        labels.refresh_declared_examples(s)
    assert session.scalars(select(LabelExample).where(
        LabelExample.source == "declared")).all() == []
    with pytest.raises(Invalid) as e, uow() as s:
        labels.declare_verticals(s, tess, ["digital", "games", "books", "pets"])
    assert e.value.field == "verticals"
    with pytest.raises(Forbidden), uow() as s:
        labels.declare_verticals(s, fan, ["digital"])


def test_train_and_apply_commands(db, uow, session, world):
    from typer.testing import CliRunner

    from shopwindow.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["labels", "apply"])
    assert res.exit_code == 1 and "no model yet" in res.output
    res = runner.invoke(app, ["labels", "train"])
    assert res.exit_code == 0, res.output
    assert "model written" in res.output and "labelled 2 accounts" in res.output
    assert labels_q.model_path(world.data_dir).is_file()
    assert _labels(session, world.ids["tess"])[0] == ("digital", "model")
    res = runner.invoke(app, ["labels", "apply", "--username", "nobody"])
    assert res.exit_code == 1 and "no account @nobody" in res.output
    res = runner.invoke(app, ["labels", "apply", "--username", "bella"])
    assert res.exit_code == 0 and "labelled 1 accounts" in res.output


def test_publishing_a_recommendation_relabels_the_creator_at_once(db, uow, session, world):
    from shopwindow.partners import actions as partners
    from shopwindow.showcase import actions as showcase
    from tests.integration.interests.conftest import DOMAIN, fake_fetch

    cleo = make_account(uow, "cleo", role="creator")
    with uow() as s:
        partners.register_partner(s, slug="shop", name="Shop", domains=[DOMAIN])
    item = {"url": f"https://{DOMAIN}/p/21", "reason": "我家猫咪最爱的猫粮，猫砂也好用"}
    with uow() as s:  # no model yet: nothing to do
        showcase.publish(s, cleo, [item], fetcher=fake_fetch)
    assert _labels(session, cleo) == []
    labels_train.train(db, world.data_dir)
    with uow() as s:
        showcase.publish(s, cleo, [{**item, "url": f"https://{DOMAIN}/p/22"}],
                         fetcher=fake_fetch)
    assert _labels(session, cleo)[0] == ("pets", "model")
