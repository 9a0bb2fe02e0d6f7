"""The ability-label classifier on a tiny bilingual set, its artefact, and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from shopwindow.interests.labels_eval import score
from shopwindow.interests.labels_model import LabelModel, ModelParams, fit, tokenize

TRAIN = [
    ("beauty", "口红试色 哑光唇釉 显白"), ("beauty", "敏感肌护肤 精华 面霜 保湿"),
    ("beauty", "粉底液 遮瑕 底妆测评"), ("beauty", "防晒霜 美白 补水 面膜"),
    ("beauty", "lipstick swatches and foundation review"),
    ("beauty", "skincare routine serum and moisturiser"),
    ("beauty", "sunscreen for sensitive skin"), ("beauty", "eyeshadow palette makeup tutorial"),
    ("digital", "手机测评 拍照 续航 充电"), ("digital", "笔记本电脑 性能 跑分 处理器"),
    ("digital", "蓝牙耳机 降噪 音质"), ("digital", "平板 键盘 数码 配件"),
    ("digital", "smartphone review camera battery"), ("digital", "laptop benchmark processor"),
    ("digital", "noise cancelling headphones"), ("digital", "tablet keyboard and charger"),
    ("pets", "猫粮 猫砂 猫咪 玩具"), ("pets", "遛狗 狗狗 训练 狗粮"),
    ("pets", "宠物 医院 疫苗"), ("pets", "萌宠 日常 铲屎官 猫"),
    ("pets", "cat food and litter"), ("pets", "dog training and walking"),
    ("pets", "puppy and kitten vet vaccines"), ("pets", "pet toys for cats and dogs"),
]
HELD_OUT = [
    ("beauty", "这支口红的试色太好看了"), ("beauty", "my new foundation and lipstick"),
    ("digital", "新手机的拍照和续航怎么样"), ("digital", "best laptop for the battery"),
    ("pets", "我家猫咪爱吃的猫粮"), ("pets", "training my dog on walks"),
]


@pytest.fixture(scope="module")
def model() -> LabelModel:
    # Calibrate even on this tiny set so the held-out sigmoid path runs.
    m, info = fit([t for _, t in TRAIN], [lab for lab, _ in TRAIN],
                  ModelParams(calibration_min_per_label=5))
    assert info.rows == len(TRAIN) and info.classes == 3 and info.calibrated
    return m


def test_tokenize_splits_chinese_keeps_english_words_drops_punctuation():
    assert tokenize("Lipstick 口红试色！") == ["lipstick", "口红", "试色"]


def test_classifies_unseen_chinese_and_english_texts(model):
    texts = [t for _, t in HELD_OUT]
    assert model.predict(texts) == [lab for lab, _ in HELD_OUT]


def test_confidences_are_per_class_probabilities_and_top_labels_sorted(model):
    conf = model.confidences(["口红 试色", "cat litter"])
    assert conf.shape == (2, 3)
    assert ((conf >= 0) & (conf <= 1)).all()
    top = model.top_labels("口红 试色", k=3)
    assert [c for _, c in top] == sorted((c for _, c in top), reverse=True)
    assert top[0][0] == "beauty"
    assert model.top_labels("口红 试色", k=3, min_confidence=1.01) == []


def test_artefact_round_trip_gives_identical_confidences(model, tmp_path):
    path = tmp_path / "m" / "model.npz"
    model.save(path, {"version": 7})
    loaded = LabelModel.load(path)
    texts = [t for _, t in HELD_OUT]
    assert loaded.classes == model.classes
    np.testing.assert_allclose(loaded.confidences(texts), model.confidences(texts), rtol=1e-6)
    assert LabelModel.read_info(path) == {"version": 7}
    assert not list(path.parent.glob(".labels-*"))  # no temp file left behind


def test_load_refuses_pickled_arrays_and_foreign_files(tmp_path):
    evil = tmp_path / "evil.npz"
    np.savez(evil, header=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        LabelModel.load(evil)
    other = tmp_path / "other.npz"
    np.savez(other, header=np.frombuffer(b'{"format": "something-else"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="not a"):
        LabelModel.load(other)


def test_fit_needs_two_labels_and_works_without_calibration_for_tiny_sets():
    with pytest.raises(ValueError, match="two labels"):
        fit(["a", "b"], ["x", "x"])
    m, info = fit(["口红", "手机"], ["beauty", "digital"])
    assert not info.calibrated
    assert m.predict(["口红"]) == ["beauty"]


def test_macro_f1_matches_a_hand_computation_and_sklearn():
    truth = ["a", "a", "b", "c"]
    pred = ["a", "b", "b", "b"]
    s = score(truth, pred)
    # a: P=1 R=1/2 F=2/3; b: P=1/3 R=1 F=1/2; c: never predicted, F=0.
    assert s.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert s.macro_f1 == pytest.approx(f1_score(truth, pred, average="macro", zero_division=0))
    assert s.accuracy == pytest.approx(0.5)
    assert s.per_class["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_nb_svm_part_folds_into_the_single_linear_model():
    """Scores of the saved model = plain SVM margins + NB-SVM margins on r-scaled features."""
    from sklearn.svm import LinearSVC

    from shopwindow.interests.labels_model import _nb_ratios

    texts, labels = [t for _, t in TRAIN], [lab for lab, _ in TRAIN]
    params = ModelParams(c=1.0, nb_weight=1.0, calibration_folds=0)
    combined, _ = fit(texts, labels, params)
    plain, _ = fit(texts, labels, ModelParams(c=1.0, nb_weight=0.0, calibration_folds=0))
    x = combined.features(texts)
    y = np.array([combined.classes.index(lab) for lab in labels])
    ratios = _nb_ratios(x, y, 3)
    probe = combined.features([t for _, t in HELD_OUT])
    expected = plain.scores([t for _, t in HELD_OUT])
    for k in range(3):
        nb = LinearSVC(C=params.nb_c, class_weight="balanced", random_state=0)
        nb.fit(x.multiply(ratios[k]).tocsr(), (y == k).astype(int))
        expected[:, k] += nb.decision_function(probe.multiply(ratios[k]).tocsr())
    assert np.allclose(combined.scores([t for _, t in HELD_OUT]), expected, atol=1e-4)
    assert not np.allclose(combined.scores([t for _, t in HELD_OUT]),
                           plain.scores([t for _, t in HELD_OUT]), atol=1e-3)
    assert combined.predict([t for _, t in HELD_OUT]) == [lab for lab, _ in HELD_OUT]
