"""Recommender training time and single-user serving latency on synthetic data.

Generates a seeded implicit-feedback data set (default 1,000,000 interactions: users in
taste communities, Zipf-like item popularity, friendships mostly inside a community),
fits `SocialRecommender` with its defaults and times it, then measures top-20 requests
for single users *with fold-in*: each request passes the user's interaction row and
friend row (as the serving layer does for fresh activity) and excludes the training items.
A second run uses a catalogue larger than the dense item-item core (`max_dense_items`): the
core keeps the most popular items and the ALS factors score the rest. Prints a table;
never asserts on time.

    python benchmarks/recs.py [--interactions 1000000] [--requests 500]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from shopwindow.interests.recs import LinkPredictor, SocialRecommender


def synthetic(n_users: int, n_items: int, interactions: int, friends: int,
              seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Interactions (users×items) and a symmetric friendship graph with community structure."""
    rng = np.random.default_rng(seed)
    n_comm = 50
    community = rng.integers(0, n_comm, n_users)
    # each community prefers its own slice of the catalogue; popularity is Zipf-like
    item_comm = rng.integers(0, n_comm, n_items)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    rng.shuffle(pop)
    # oversample, then keep exactly `interactions` distinct pairs
    per_user = rng.poisson(1.15 * interactions / n_users, n_users).clip(1)
    users = np.repeat(np.arange(n_users), per_user)
    own = rng.random(len(users)) < 0.7
    by_comm = [np.flatnonzero(item_comm == c) for c in range(n_comm)]
    weights = [pop[ix] / pop[ix].sum() for ix in by_comm]
    items = rng.choice(n_items, len(users), p=pop / pop.sum())
    for c in range(n_comm):
        mask = own & (community[users] == c)
        items[mask] = rng.choice(by_comm[c], int(mask.sum()), p=weights[c])
    pairs = np.unique(users.astype(np.int64) * n_items + items)
    pairs = rng.permutation(pairs)[:interactions]
    R = sp.csr_matrix((np.ones(len(pairs), np.float32), (pairs // n_items, pairs % n_items)),
                      shape=(n_users, n_items))
    # friends: 80 % inside the community
    a = np.repeat(np.arange(n_users), friends)
    same = rng.random(len(a)) < 0.8
    members = [np.flatnonzero(community == c) for c in range(n_comm)]
    b = rng.integers(0, n_users, len(a))
    for c in range(n_comm):
        mask = same & (community[a] == c)
        b[mask] = rng.choice(members[c], int(mask.sum()))
    keep = a != b
    S = sp.csr_matrix((np.ones(2 * keep.sum(), np.float32),
                       (np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]]))),
                      shape=(n_users, n_users))
    S.sum_duplicates()
    S.data[:] = 1.0
    return R, S


def run(label: str, R: sp.csr_matrix, S: sp.csr_matrix, requests: int) -> list[str]:
    """Fit, then time single-user top-20 requests with fold-in; one table row."""
    model = SocialRecommender()
    t0 = time.perf_counter()
    model.fit(R, S)
    fit_s = time.perf_counter() - t0
    path = {"als": "ALS factors alone"}.get(model.backend, f"{model.backend} core")
    core = model.core_items
    rng = np.random.default_rng(1)
    users = rng.choice(R.shape[0], requests, replace=False)
    times = []
    for u in users:
        r_row, s_row = R[[u]], S[[u]]  # as the serving layer would pass fresh rows
        t = time.perf_counter()
        items, _ = model.recommend(int(u), 20, R_row=r_row, S_row=s_row)
        times.append((time.perf_counter() - t) * 1000)
        assert not set(items.tolist()) & set(r_row.indices.tolist())
    links = LinkPredictor().fit(S, R)
    t = time.perf_counter()
    ltimes = []
    for u in users[:200]:
        t = time.perf_counter()
        links.recommend(int(u), 20)
        ltimes.append((time.perf_counter() - t) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    l50, l99 = np.percentile(ltimes, [50, 99])
    return [label, f"{R.shape[0]:,} × {R.shape[1]:,}", f"{R.nnz:,}", f"{S.nnz // 2:,}",
            f"{path} ({core:,} items)" if core else path, f"{fit_s:.1f}", f"{p50:.2f}",
            f"{p99:.2f}", f"{l50:.2f} / {l99:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    n = args.interactions
    load_before = os.getloadavg()
    rows = []
    for label, users, items in (("catalogue 8k", n // 10, 8_000),
                                ("catalogue 60k (head core)", n // 10, 60_000)):
        t = time.perf_counter()
        R, S = synthetic(users, items, n, friends=5)
        gen = time.perf_counter() - t
        print(f"{label}: generated in {gen:.1f} s", flush=True)
        rows.append(run(label, R, S, args.requests))
    header = ["data set", "users × items", "interactions", "links", "model", "fit s",
              "top-20 p50 ms", "top-20 p99 ms", "who-to-follow p50 / p99 ms"]
    print()
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nload average before / after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}; "
          f"{os.cpu_count()} cores; Python {platform.python_version()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
