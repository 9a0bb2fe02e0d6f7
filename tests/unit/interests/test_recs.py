"""Recommendation algorithms (interests.recs) on tiny hand-made matrices."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shopwindow.interests.recs import LinkPredictor, SocialRecommender, metrics
from shopwindow.interests.recs.baselines import ImplicitALS, Popularity
from shopwindow.interests.recs.data import holdout_split
from shopwindow.interests.recs.evaluation import split_links
from shopwindow.interests.recs.metrics import evaluate, ndcg_at_k, precision_at_k, recall_at_k

N_USERS, N_ITEMS, GROUP = 40, 30, 15


def _communities(seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Users 0-19 use items 0-14 and befriend each other; users 20-39 use items 15-29."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(N_USERS):
        base = 0 if u < N_USERS // 2 else GROUP
        for i in rng.choice(GROUP, 6, replace=False):
            rows.append(u)
            cols.append(base + int(i))
    R = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(N_USERS, N_ITEMS))
    links = []
    for u in range(N_USERS):
        lo = 0 if u < N_USERS // 2 else N_USERS // 2
        for v in rng.choice(np.arange(lo, lo + N_USERS // 2), 3, replace=False):
            if v != u:
                links += [(u, int(v)), (int(v), u)]
    a = np.asarray(links)
    S = sp.csr_matrix((np.ones(len(a), np.float32), (a[:, 0], a[:, 1])), shape=(N_USERS,) * 2)
    S.data[:] = 1.0
    return R, S


@pytest.fixture(scope="module")
def data() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    return _communities()


@pytest.fixture(scope="module", params=["dense", "factors"])
def model(request: pytest.FixtureRequest, data) -> SocialRecommender:
    R, S = data
    # max_dense_items 0: no dense core, the ALS factors score alone
    extra = {} if request.param == "dense" else {"max_dense_items": 0, "factors": 8}
    return SocialRecommender(l2=5.0, min_item_count=1, **extra).fit(R, S)


# ------------------------------------------------------------------ metrics

def test_metrics_match_hand_computed_values() -> None:
    ranked, relevant = [3, 1, 7, 5], {1, 5, 9}
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, relevant, 4) == pytest.approx(2 / 4)
    # IDCG over min(K, |test|) = 3 positions
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 1 / math.log2(4)))
    assert ndcg_at_k([9, 1], {1, 9}, 20) == pytest.approx(1.0)
    assert precision_at_k([9, 1], {1, 9}, 20) == pytest.approx(2 / 20)
    with pytest.raises(ValueError):
        recall_at_k([1], set(), 10)


class _Fixed:
    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.scores[users].copy()


def test_evaluate_excludes_training_items_and_averages_over_test_users() -> None:
    scores = np.array([[5.0, 4.0, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], np.float32))
    test = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], np.float32))
    got = evaluate(_Fixed(scores), train, test, ks=(1, 2))
    # user 0: item 0 is training, so item 1 ranks first (hit@1); user 1: ranking 2,1,0 -> miss
    # at 1 and 2; user 2 has no test items and is not counted
    assert got["Recall@1"] == pytest.approx(0.5)
    assert got["Recall@2"] == pytest.approx(0.5)
    assert got["Precision@2"] == pytest.approx(0.25)
    assert got["NDCG@1"] == pytest.approx(0.5)


def test_scoring_batches_shrink_with_the_catalogue_and_give_the_same_figures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert metrics.batch_rows(17_632) == 512  # LastFM: unchanged
    assert metrics.batch_rows(1_000_000) == metrics.BATCH_CELLS // 1_000_000 == 33
    assert metrics.batch_rows(10**9) == 1
    rng = np.random.default_rng(3)
    scores = rng.random((40, 30))
    train = sp.csr_matrix((rng.random((40, 30)) < 0.2).astype(np.float32))
    test = sp.csr_matrix((rng.random((40, 30)) < 0.15).astype(np.float32))
    test = test - test.multiply(train)
    test.eliminate_zeros()
    whole = evaluate(_Fixed(scores), train, test, ks=(3, 5))
    sizes: list[int] = []

    class _Counting(_Fixed):
        def score(self, users: np.ndarray) -> np.ndarray:
            sizes.append(len(users))
            return super().score(users)

    monkeypatch.setattr(metrics, "BATCH_CELLS", 7 * 30)
    assert evaluate(_Counting(scores), train, test, ks=(3, 5)) == pytest.approx(whole)
    assert max(sizes) == 7 and len(sizes) > 1


def test_evaluate_can_exclude_the_users_own_column() -> None:
    # accounts to follow: column u is user u, who is never suggested to themselves
    scores = np.array([[9.0, 1.0, 2.0], [1.0, 9.0, 2.0], [0.0, 0.0, 0.0]])
    train = sp.csr_matrix((3, 3), dtype=np.float32)
    test = sp.csr_matrix(np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]], np.float32))
    assert evaluate(_Fixed(scores), train, test, ks=(1,))["Recall@1"] == 0.0
    got = evaluate(_Fixed(scores), train, test, ks=(1,), exclude_self=True)
    assert got["Recall@1"] == pytest.approx(0.5)  # user 0 now gets 2 (a hit), user 1 gets 2


# ------------------------------------------------------------------ item recommender

def test_recommend_excludes_training_items_and_exclude(model, data) -> None:
    R, _ = data
    own = set(R[3].indices.tolist())
    items, scores = model.recommend(3, 10)
    assert len(items) == 10 and not own & set(items.tolist())
    assert np.all(np.diff(scores) <= 0)
    blocked = items[:3]
    again, _ = model.recommend(3, 10, exclude=blocked)
    assert not set(blocked.tolist()) & set(again.tolist())
    assert not own & set(again.tolist())


def test_recommendations_follow_the_users_community(data) -> None:
    R, S = data
    m = SocialRecommender(l2=5.0, min_item_count=1).fit(R, S)
    for u in (0, 7, 25, 33):
        items, _ = m.recommend(u, 5)
        group = 0 if u < N_USERS // 2 else 1
        assert all(int(i) // GROUP == group for i in items)


def test_cold_start_user_gets_most_popular_items(model, data) -> None:
    R, _ = data
    counts = np.asarray(R.sum(axis=0)).ravel()
    empty = sp.csr_matrix((1, N_ITEMS), dtype=np.float32)
    for items, _ in (model.recommend(N_USERS + 5, 5),       # an account newer than the model
                     model.recommend(2, 5, R_row=empty,
                                     S_row=sp.csr_matrix((1, N_USERS)))):
        assert len(items) == 5
        assert sorted(counts[items].tolist(), reverse=True) == sorted(counts, reverse=True)[:5]


def test_fold_in_of_new_interactions_and_friends_changes_results(model) -> None:
    before, _ = model.recommend(5, 10)
    row = sp.csr_matrix((np.ones(4, np.float32), ([0] * 4, [20, 21, 22, 23])), shape=(1, N_ITEMS))
    after, _ = model.recommend(5, 10, R_row=row)
    assert list(before) != list(after)
    assert not {20, 21, 22, 23} & set(after.tolist())
    # a brand-new user with no items but friends in the second community
    friends = sp.csr_matrix((np.ones(3, np.float32), ([0] * 3, [30, 31, 32])), shape=(1, N_USERS))
    items, _ = model.recommend(N_USERS, 5, R_row=sp.csr_matrix((1, N_ITEMS)), S_row=friends)
    assert all(int(i) >= GROUP for i in items)


def test_large_catalogues_keep_the_most_popular_items_in_the_core(data) -> None:
    R, S = data
    assert SocialRecommender(min_item_count=1).fit(R, S).backend == "ease+als"
    assert SocialRecommender(min_item_count=1, als_weight=0.0).fit(R, S).backend == "ease"
    counts = np.asarray(R.sum(axis=0)).ravel()
    cap = 10
    head = SocialRecommender(min_item_count=1, max_dense_items=cap, factors=8).fit(R, S)
    assert head.backend == "ease+als" and head.core_items == cap
    # the core is the cap most popular items (ties: the lower index), in index order
    expected = np.sort(np.argsort(-counts, kind="stable")[:cap])
    np.testing.assert_array_equal(head._core, expected)
    assert head._B is not None and head._B.shape == (cap, cap)
    # the items outside the core are still scored, by the ALS factors
    tail = np.setdiff1d(np.arange(N_ITEMS), expected)
    scores = head.score(np.array([0, 25]))
    assert (np.abs(scores[:, tail]) > 1e-3).any()
    only_factors = SocialRecommender(min_item_count=1, max_dense_items=0).fit(R, S)
    assert only_factors.backend == "als" and only_factors.core_items == 0
    # a young platform: no item has min_item_count users yet, or nobody interacted at all
    sparse_start = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]], np.float32))
    young = SocialRecommender(min_item_count=3).fit(sparse_start)
    assert young.backend == "als" and list(young.recommend(0, 5)[0]) == [1]
    empty = SocialRecommender().fit(sp.csr_matrix((3, 4), dtype=np.float32))
    assert empty.backend == "popularity" and len(empty.recommend(0, 5)[0]) == 4


def test_ease_dropout_penalty_is_a_per_item_ridge(
        data: tuple[sp.csr_matrix, sp.csr_matrix]) -> None:
    from shopwindow.interests.recs.model import _ease

    R, _ = data
    X = R.toarray().astype(np.float64)
    G = X.T @ X
    # EDLAE: ridge l2 + p/(1-p)·count_i on item i; diagonal-constrained closed form
    P = np.linalg.inv(G + np.diag(5.0 + 0.25 / 0.75 * np.diag(G)))
    expected = np.eye(N_ITEMS) - P / np.diag(P)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(_ease(R, 5.0, 0.25), expected, atol=2e-4)
    # the extra penalty shrinks the weights below plain EASE with the same l2
    assert np.abs(_ease(R, 5.0, 0.25)).sum() < np.abs(_ease(R, 5.0, 0.0)).sum()
    with pytest.raises(ValueError):
        _ease(R, 5.0, 1.0)


def test_als_folds_in_own_row_unless_the_user_has_no_items(
        data: tuple[sp.csr_matrix, sp.csr_matrix]) -> None:
    R, S = data
    own = SocialRecommender(l2=5.0, min_item_count=1, als_social=0.0).fit(R, S)
    users = np.array([3])
    base = own.score(users)
    own.params["als_social"] = 0.5
    assert not np.allclose(own.score(users), base)
    # a new account with only friends: ALS still gets the friends' rows
    own.params["als_social"] = 0.0
    friends = sp.csr_matrix((np.ones(3, np.float32), ([0] * 3, [30, 31, 32])),
                            shape=(1, N_USERS))
    no_items = sp.csr_matrix((1, N_ITEMS), dtype=np.float32)
    with_als = own.score(np.array([N_USERS]), no_items, friends)
    own.params["als_weight"] = 0.0
    without_als = own.score(np.array([N_USERS]), no_items, friends)
    assert not np.allclose(with_als, without_als)


def test_low_pass_filter_ranks_co_occurring_items_above_unrelated_ones() -> None:
    from shopwindow.interests.recs.model import _low_pass_factors

    # users 0-9 use items 0-2 (item 2 by only half of them), users 10-19 use items 3-5
    rows = [(u, i) for u in range(10) for i in (0, 1)] + [(u, 2) for u in range(5)]
    rows += [(u, i) for u in range(10, 20) for i in (3, 4, 5)]
    r, c = np.asarray(rows).T
    X = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(20, 6))
    V = _low_pass_factors(X, 2, seed=0)
    assert V.shape == (6, 2)
    d = np.asarray(X.sum(axis=0)).ravel()
    x = np.zeros(6, np.float32)
    x[0] = 1.0                                     # a user who has only item 0
    scores = (x / np.sqrt(d)) @ V @ (V.T * np.sqrt(d))
    assert min(scores[1], scores[2]) > max(scores[3:])
    assert scores[1] > scores[2]                   # more co-occurrence, higher score
    np.testing.assert_array_equal(_low_pass_factors(X, 2, seed=0), V)   # seeded
    # never more singular vectors than the matrix has
    assert _low_pass_factors(X, 50, seed=0).shape == (6, 5)


def test_graph_filter_member_is_blended_and_can_be_switched_off(data) -> None:
    R, S = data
    m = SocialRecommender(l2=5.0, min_item_count=1, gf_factors=8, gf_weight=0.5).fit(R, S)
    users = np.array([3, 27])
    with_gf = m.score(users)
    m.params["gf_weight"] = 0.0
    assert not np.allclose(m.score(users), with_gf)
    # not fitted when switched off, nor on the factor fallback (no dense core)
    off = SocialRecommender(l2=5.0, min_item_count=1, gf_factors=0).fit(R, S)
    fallback = SocialRecommender(min_item_count=1, max_dense_items=0, factors=8).fit(R, S)
    assert off._V is None and fallback._V is None
    assert m._V is not None and m._V.shape == (N_ITEMS, 8)


def test_mult_dae_learns_the_communities_and_is_seeded(data) -> None:
    from shopwindow.interests.recs.dae import dae_logits, fit_mult_dae

    R, _ = data
    w = fit_mult_dae(R, R, hidden=16, epochs=60, batch=8, lr=1e-2, seed=0)
    assert w["W1"].shape == (N_ITEMS, 16) and w["W2"].shape == (16, N_ITEMS)
    z = dae_logits(w, R)
    assert z.shape == (N_USERS, N_ITEMS)
    first = z[: N_USERS // 2]
    # users of the first community: their own community's items get the larger logits
    assert (first[:, :GROUP].mean(axis=1) > first[:, GROUP:].mean(axis=1)).all()
    again = fit_mult_dae(R, R, hidden=16, epochs=60, batch=8, lr=1e-2, seed=0)
    np.testing.assert_array_equal(again["W2"], w["W2"])
    with pytest.raises(ValueError):
        fit_mult_dae(R, R[:5], hidden=16, epochs=1)


def _reference_mult_dae(X_in: sp.csr_matrix, X_out: sp.csr_matrix, hidden: int, epochs: int,
                        batch: int, lr: float, seed: int) -> dict[str, np.ndarray]:
    """Textbook Mult-DAE training (dense target rows, plain softmax, textbook Adam) drawing
    the same random numbers as fit_mult_dae: its optimised training must match it."""
    rng = np.random.default_rng(seed)
    n_in, n_out = X_in.shape[1], X_out.shape[1]
    lim1, lim2 = np.sqrt(6.0 / (n_in + hidden)), np.sqrt(6.0 / (hidden + n_out))
    w = {"W1": rng.uniform(-lim1, lim1, (n_in, hidden)), "b1": np.zeros(hidden),
         "W2": rng.uniform(-lim2, lim2, (hidden, n_out)), "b2": np.zeros(n_out)}
    w = {k: v.astype(np.float32).astype(np.float64) for k, v in w.items()}
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    users, t = np.flatnonzero(np.diff(X_out.indptr) > 0), 0
    for _ in range(epochs):
        order = rng.permutation(users)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            x = X_in[idx].toarray().astype(np.float64)
            x[x != 0] *= rng.random(int((x != 0).sum())) >= 0.5   # row-major, as CSR data
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
            h = np.tanh(x @ w["W1"] + w["b1"])
            z = h @ w["W2"] + w["b2"]
            soft = np.exp(z - z.max(axis=1, keepdims=True))
            soft /= soft.sum(axis=1, keepdims=True)
            y = X_out[idx].toarray()
            d = (soft * y.sum(axis=1, keepdims=True) - y) / len(idx)
            d_h = d @ w["W2"].T * (1.0 - h * h)
            grads = {"W1": x.T @ d_h, "b1": d_h.sum(axis=0), "W2": h.T @ d, "b2": d.sum(axis=0)}
            t += 1
            for k, g in grads.items():
                m[k] = 0.9 * m[k] + 0.1 * g
                v2[k] = 0.999 * v2[k] + 0.001 * g * g
                w[k] -= (lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                         * m[k] / (np.sqrt(v2[k]) + 1e-8))
    return w


def test_mult_dae_training_matches_the_textbook_computation(data) -> None:
    from shopwindow.interests.recs.dae import fit_mult_dae

    R, S = data
    X_in = sp.csr_matrix(R + 0.3 * (S @ R) / 3.0, dtype=np.float32)   # non-binary input
    w = fit_mult_dae(X_in, R, hidden=8, epochs=5, batch=16, lr=1e-2, seed=3)
    ref = _reference_mult_dae(X_in, R, hidden=8, epochs=5, batch=16, lr=1e-2, seed=3)
    for k, v in w.items():
        assert v.dtype == np.float32     # no float64 upcasts
        np.testing.assert_allclose(v, ref[k], rtol=1e-3, atol=1e-5)


def test_autoencoder_member_is_blended_folds_in_and_can_be_switched_off(data) -> None:
    R, S = data
    m = SocialRecommender(l2=5.0, min_item_count=1, dae_hidden=16, dae_epochs=20).fit(R, S)
    assert m.has_autoencoder
    users = np.array([3, 27])
    with_dae = m.score(users)
    m.params["dae_weight"] = 0.0
    assert not np.allclose(m.score(users), with_dae)
    # fold-in: a new account with only friends in the second community gets autoencoder
    # scores from the friends' mean row; one with neither items nor friends gets none
    friends = sp.csr_matrix((np.ones(3, np.float32), ([0] * 3, [30, 31, 32])),
                            shape=(1, N_USERS))
    no_items = sp.csr_matrix((1, N_ITEMS), dtype=np.float32)
    row = sp.csr_matrix((np.ones(4, np.float32), ([0] * 4, [20, 21, 22, 23])),
                        shape=(1, N_ITEMS))

    def dae_part(user: int, R_row: sp.csr_matrix | None,
                 S_row: sp.csr_matrix | None) -> np.ndarray:
        m.params["dae_weight"] = 0.0
        without = m.score(np.array([user]), R_row, S_row)[0]
        m.params["dae_weight"] = 2.0
        return (m.score(np.array([user]), R_row, S_row)[0] - without) / 2.0

    dae = dae_part(N_USERS, no_items, friends)
    assert dae.max() == pytest.approx(1.0, abs=1e-5)
    assert dae[GROUP:].mean() > dae[:GROUP].mean()
    assert not dae_part(N_USERS, no_items, None).any()
    # fresh interactions replace the stored row, and the user's own items stay excluded
    items, _ = m.recommend(5, 10, R_row=row)
    assert not {20, 21, 22, 23} & set(items.tolist())
    assert not np.allclose(dae_part(5, row, None), dae_part(5, None, None))
    # a separate friends' weight in the input is honoured when scoring
    m.params["dae_social"] = 0.0
    assert not np.allclose(dae_part(N_USERS, no_items, friends), dae)
    assert not dae_part(N_USERS, no_items, friends).any()     # only friends, weight 0
    m.params["dae_social"] = 0.3
    # not fitted when switched off, above dae_max_cells, or on the factor fallback
    for params in ({"dae_hidden": 0}, {"dae_weight": 0.0}, {"dae_max_cells": 100},
                   {"max_dense_items": 0, "factors": 8}):
        assert not SocialRecommender(min_item_count=1, **params).fit(R, S).has_autoencoder


def test_score_batches_match_single_user_scores(model) -> None:
    users = np.array([0, 9, 21])
    batch = model.score(users)
    assert batch.shape == (3, N_ITEMS)
    np.testing.assert_allclose(batch[1], model.score(np.array([9]))[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("params", [
    {"dae_hidden": 16, "dae_epochs": 5},                       # every member blended
    {"dae_hidden": 16, "dae_epochs": 5, "dae_social": 0.7, "als_social": 0.4},
    {"gf_weight": 0.0, "beta": 0.0},
    {"user_rows_max_cells": 0},                  # friends' rows of B not cached
    {"max_dense_items": 5, "factors": 8},                      # head core, ALS tail
    {"max_dense_items": 0, "factors": 8},                      # ALS factors alone
])
def test_single_user_path_scores_like_the_batch_path(data, params) -> None:
    """`recommend` scores one user on dense vectors; it must rank exactly as `score`."""
    R, S = data
    m = SocialRecommender(l2=5.0, min_item_count=1, **params).fit(R, S)
    weighted = sp.csr_matrix((np.array([2.0, 1.0, 0.5], np.float32), ([0] * 3, [30, 31, 2])),
                             shape=(1, N_USERS))
    row = sp.csr_matrix((np.ones(3, np.float32), ([0] * 3, [20, 4, 29])), shape=(1, N_ITEMS))
    empty_items = sp.csr_matrix((1, N_ITEMS), dtype=np.float32)
    empty_links = sp.csr_matrix((1, N_USERS), dtype=np.float32)
    cases = [(0, None, None), (27, None, None), (N_USERS + 3, None, None),  # stored / new
             (5, row, None), (5, None, weighted), (N_USERS, empty_items, weighted),
             (8, empty_items, None), (12, row, empty_links)]
    for user, R_row, S_row in cases:
        ref = m.score(np.array([user]), R_row, S_row)[0]
        own = set((R_row if R_row is not None else
                   R[user] if user < N_USERS else empty_items).indices.tolist())
        items, scores = m.recommend(user, N_ITEMS, R_row=R_row, S_row=S_row)
        assert set(items.tolist()) == set(range(N_ITEMS)) - own
        np.testing.assert_allclose(scores, ref[items], rtol=1e-5, atol=1e-6)
        assert (np.diff(scores) <= 0).all()


def test_save_load_round_trip(model, tmp_path: Path) -> None:
    path = tmp_path / "recs.npz"
    model.save(path)
    loaded = SocialRecommender.load(path)
    users = np.arange(N_USERS)
    np.testing.assert_allclose(loaded.score(users), model.score(users), rtol=1e-6)
    assert loaded.params == model.params
    assert loaded.backend == model.backend
    assert (loaded._V is None) == (model._V is None)     # the graph filter travels too
    assert loaded.has_autoencoder == model.has_autoencoder   # and the Mult-DAE
    assert list(loaded.recommend(4, 7)[0]) == list(model.recommend(4, 7)[0])
    with pytest.raises(ValueError):
        LinkPredictor.load(path)


def test_rejects_bad_input(data) -> None:
    R, S = data
    with pytest.raises(ValueError):
        SocialRecommender(nonsense=1)
    with pytest.raises(ValueError):
        SocialRecommender().fit(R, S[:5])
    with pytest.raises(RuntimeError):
        SocialRecommender().recommend(0)
    negative = R.copy()
    negative.data[0] = -1.0
    with pytest.raises(ValueError):
        SocialRecommender().fit(negative, S)


def test_baselines_rank(data) -> None:
    R, S = data
    pop = Popularity().fit(R)
    counts = np.asarray(R.sum(axis=0)).ravel()
    np.testing.assert_allclose(pop.score(np.array([0, 1]))[1], counts)
    als = ImplicitALS(factors=8, iterations=5).fit(R, S)
    assert als.score(np.array([0, 1, 2])).shape == (3, N_ITEMS)


def test_holdout_split_partitions_each_users_items(data) -> None:
    R, _ = data
    train, val = holdout_split(R, 0.2, seed=3)
    assert (train + val != R).nnz == 0
    assert train.multiply(val).nnz == 0
    assert all(val[u].nnz >= 1 for u in range(N_USERS))


# ------------------------------------------------------------------ links

def test_link_predictor_never_suggests_self_or_existing_links(data) -> None:
    R, S = data
    lp = LinkPredictor(w_ra=0.5, w_interest=0.5).fit(S, R)
    for u in range(N_USERS):
        accounts, scores = lp.recommend(u, 10)
        assert u not in accounts
        assert not set(S[u].indices.tolist()) & set(accounts.tolist())
        assert np.all(np.diff(scores) <= 0)
    excluded, _ = lp.recommend(0, 10, exclude=np.array([1, 2, 3]))
    assert not {1, 2, 3} & set(excluded.tolist())


def test_link_predictor_prefers_the_same_community_and_round_trips(data, tmp_path) -> None:
    R, S = data
    lp = LinkPredictor(w_ra=0.5, w_interest=0.5).fit(S, R)
    accounts, _ = lp.recommend(3, 5)
    assert all(int(a) < N_USERS // 2 for a in accounts)
    path = tmp_path / "links.npz"
    lp.save(path)
    again = LinkPredictor.load(path)
    np.testing.assert_allclose(again.score(np.arange(N_USERS)), lp.score(np.arange(N_USERS)))


def test_split_links_holds_out_a_seeded_fifth_symmetrically(data) -> None:
    _, S = data
    train, test = split_links(S, 0.2, seed=1)
    undirected = sp.triu(S, k=1).nnz
    assert sp.triu(test, k=1).nnz == round(undirected * 0.2)
    assert (train != train.T).nnz == 0 and (test != test.T).nnz == 0
    assert train.multiply(test).nnz == 0
    assert ((train + test) != ((S + S.T) > 0)).nnz == 0
    again, _ = split_links(S, 0.2, seed=1)
    assert (again != train).nnz == 0


def test_tuning_picks_parameters_from_the_grids_without_the_test_set(data) -> None:
    from shopwindow.interests.recs import tuning

    R, S = data
    ours, als = tuning.tune_items(R, S, seed=0)
    assert set(ours) == set(tuning.ITEM_FIT_GRID) | set(tuning.ITEM_SCORE_GRID)
    assert all(ours[k] in tuning.ITEM_FIT_GRID.get(k, tuning.ITEM_SCORE_GRID.get(k, []))
               for k in ours)
    assert set(als) == set(tuning.ALS_GRID)
    links = tuning.tune_links(S, R, seed=0)
    assert set(links) == set(tuning.LINK_GRID)


@pytest.mark.parametrize("m", [1, 7, 300, 5000, 20000])
@pytest.mark.parametrize("k", [1, 4, 20])
def test_top_k_rows_matches_a_full_sort_with_ties_and_minus_infinity(m: int, k: int) -> None:
    from shopwindow.interests.recs._sparse import top_k, top_k_rows

    rng = np.random.default_rng(m * 31 + k)
    s = rng.integers(0, 5, (8, m)).astype(np.float32)  # many equal scores
    s[0] = -np.inf  # every item already seen
    s[1] = 0.0  # a user with no signal at all
    s[2, ::2] = -np.inf
    s[3] = rng.random(m)
    s[4, : m // 2] = 9.0  # a tie wider than the candidate limit
    want = np.stack([np.lexsort((np.arange(m), -row))[: min(k, m)] for row in s])
    got = top_k_rows(s, k)
    assert got.dtype == np.int64 and got.shape == want.shape
    assert np.array_equal(got, want)
    idx, vals = top_k(s[2], k)
    finite = [i for i in want[2] if np.isfinite(s[2, i])]
    assert idx.tolist() == finite and np.array_equal(vals, s[2, finite])
    assert top_k_rows(s[:0], k).shape == (0, min(k, m))


def test_read_pairs_takes_the_layouts_variants(tmp_path: Path) -> None:
    from shopwindow.interests.recs.data import read_pairs

    want = np.array([[0, 5], [3, 1]])
    variants = {
        "lastfm.txt": "user,item\n0,5\n3,1\n",
        "no_header.txt": "0,5\n3,1\n",
        "ratings.txt": "user,item,rating,timestamp\n0,5,4.5,1700000000\n3,1,2,1700000001\n",
        "tabs.txt": "user\titem\n0\t5\n3\t1\n",
        "spaces.txt": "0 5 1\n3 1 1\n",
    }
    for name, text in variants.items():
        (tmp_path / name).write_text(text)
        assert np.array_equal(read_pairs(tmp_path / name), want), name
    (tmp_path / "empty.txt").write_text("")
    assert read_pairs(tmp_path / "empty.txt").shape == (0, 2)
    for bad in ("user,item\n0,x\n", "user,item\n0,-2\n", "user,item\n7\n"):
        (tmp_path / "bad.txt").write_text(bad)
        with pytest.raises(ValueError, match="two non-negative integer columns"):
            read_pairs(tmp_path / "bad.txt")


def _long_tail(seed: int = 5) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """600 users in 6 taste groups over 4,000 items with Zipf-like popularity."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 600, 4000
    group = rng.integers(0, 6, n_users)
    pop = 1.0 / np.arange(1, n_items + 1) ** 1.1
    rows, cols = [], []
    for u in range(n_users):
        p = pop * np.where(np.arange(n_items) % 6 == group[u], 4.0, 1.0)
        items = rng.choice(n_items, 25, replace=False, p=p / p.sum())
        rows += [u] * len(items)
        cols += items.tolist()
    R = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    a = rng.integers(0, n_users, 1500)
    b = np.where(rng.random(1500) < 0.8, a, rng.integers(0, n_users, 1500))
    b = np.array([rng.choice(np.flatnonzero(group == group[x])) if y == x else y
                  for x, y in zip(a, b, strict=True)])
    keep = a != b
    S = sp.csr_matrix((np.ones(2 * keep.sum(), np.float32),
                       (np.r_[a[keep], b[keep]], np.r_[b[keep], a[keep]])),
                      shape=(n_users, n_users))
    S.data[:] = 1.0
    return R, S


def test_pruned_tail_gives_the_dense_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    from shopwindow.interests.recs import model as model_module

    R, S = _long_tail()
    m = SocialRecommender(max_dense_items=300, dae_weight=0.0, gf_factors=16).fit(R, S)
    assert len(m._core) == 300
    cases: list[dict[str, object]] = [{"user": u} for u in range(0, 600, 7)]
    cases += [{"user": 3, "exclude": m.recommend(3, 5)[0]},  # exclusions shift the list
              {"user": 600, "R_row": R[10], "S_row": S[10]},  # a new account, folded in
              {"user": 601, "S_row": S[11]},  # friends only
              {"user": 602}]  # nothing at all: the dense path
    def run(k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for case in cases:
            kw = {key: val for key, val in case.items() if key != "user"}
            out.append(m.recommend(int(case["user"]), k, **kw))  # type: ignore[arg-type]
        return out

    monkeypatch.setattr(model_module, "TAIL_PRUNE_MIN_ITEMS", 10**9)
    dense = {k: run(k) for k in (1, 20, 200)}
    monkeypatch.setattr(model_module, "TAIL_PRUNE_MIN_ITEMS", 1)
    monkeypatch.setattr(model_module, "_TAIL_BLOCK", 100)
    scanned = []
    for case in cases[:20]:
        own, friends, weights = m._one_user(int(case["user"]), None, None)
        some = m._score_some(own, friends, weights, 20 + len(own))
        assert some is not None
        scanned.append(len(some[0]))
    # the point of it: most requests read only part of the 3,700-item tail
    assert np.median(scanned) < 0.5 * m.n_items, scanned
    for k in (1, 20, 200):
        for (d_items, d_scores), (p_items, p_scores) in zip(dense[k], run(k), strict=True):
            assert np.array_equal(d_items, p_items)
            assert np.allclose(d_scores, p_scores, rtol=1e-5, atol=1e-7)
    # A tail item with long factors sets max|Y·u| for most users (it scales everyone's ALS
    # scores): the scan must find it before it trusts the core's maximum.
    tail_items = np.setdiff1d(np.arange(m.n_items), m._core)
    assert m._Y is not None
    m._Y[tail_items[-1]] = 40.0 * m._Y[m._core[0]]
    m._tail = None
    monkeypatch.setattr(model_module, "TAIL_PRUNE_MIN_ITEMS", 10**9)
    dense = {20: run(20)}
    monkeypatch.setattr(model_module, "TAIL_PRUNE_MIN_ITEMS", 1)
    for (d_items, d_scores), (p_items, p_scores) in zip(dense[20], run(20), strict=True):
        assert np.array_equal(d_items, p_items)
        assert np.allclose(d_scores, p_scores, rtol=1e-5, atol=1e-7)
