"""Recommendation serving cost: artefact write/load and per-request fold-in scoring.

Synthetic platform-shaped data (power-law item popularity and follow degrees) goes through
the same code the web processes run: `training.write_artefacts` (atomic versioned write),
`serving.Artefacts.load`, then per request the live-row fold-in of
`serving._model_scores` (SocialRecommender with R_row/S_row), who-to-follow
(`LinkPredictor.recommend`) and the similar-products neighbour lookup. With `--demo-db`
it also times the whole `discover_products` / `suggest_accounts` calls (database reads
included) against a seeded demo. Prints tables; never asserts on time.

    .venv/bin/python benchmarks/recs_serving.py --users 5000 --items 2000
    .venv/bin/python benchmarks/recs_serving.py --demo-db var/shopwindow.db --demo-data var/data
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def _pcts(ts: list[float]) -> str:
    a = np.asarray(ts) * 1000.0
    return (f"{np.percentile(a, 50):7.3f} {np.percentile(a, 95):7.3f} "
            f"{np.percentile(a, 99):7.3f} {a.max():8.3f}")


def synthetic(users: int, items: int, per_user: int, follows: int, seed: int = 0
              ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Interaction and follow matrices with Zipf-like popularity."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, items + 1) ** 0.8
    pop /= pop.sum()
    n = rng.poisson(per_user, users).clip(1, items)
    rows = np.repeat(np.arange(users), n)
    cols = rng.choice(items, size=int(n.sum()), p=pop)
    vals = rng.choice([0.5, 2.0, 3.0, 4.0, 6.0], size=len(cols)).astype(np.float32)
    R = sp.csr_matrix((vals, (rows, cols)), shape=(users, items))
    R.sum_duplicates()
    deg = 1.0 / np.arange(1, users + 1) ** 0.9
    deg /= deg.sum()
    k = rng.poisson(follows, users).clip(1, users - 1)
    frows = np.repeat(np.arange(users), k)
    fcols = rng.choice(users, size=int(k.sum()), p=deg)
    keep = frows != fcols
    S = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32),
                       (frows[keep], fcols[keep])), shape=(users, users))
    S.sum_duplicates()
    S.data[:] = 1.0
    return R, S


def bench_artefacts(args: argparse.Namespace) -> None:
    from shopwindow.interests import profiles, serving, training
    from shopwindow.interests.recs import LinkPredictor, SocialRecommender

    R, S = synthetic(args.users, args.items, args.per_user, args.follows)
    m = training.Matrices(np.arange(args.users, dtype=np.int64) + 1_000_000,
                          np.arange(args.items, dtype=np.int64) + 5_000_000, R, S,
                          ["beauty"] * args.items,
                          {"users": args.users, "items": args.items, "interactions": R.nnz,
                           "follows": S.nnz})
    t0 = time.perf_counter()
    model = SocialRecommender().fit(R, S)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    links = LinkPredictor().fit(S, R)
    links_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "recs"
        t0 = time.perf_counter()
        version = training.write_artefacts(root, m, model, links)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        art = serving.Artefacts.load(root / f"v{version}", version)
        load_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (root / f"v{version}").iterdir())
    print(f"data: {args.users} accounts × {args.items} products, {R.nnz} interactions, "
          f"{S.nnz} follows; load {os.getloadavg()[0]:.2f} (shared 2-core machine: noisy)")
    print(f"{'step':<34} {'seconds':>9}")
    for name, s in (("fit SocialRecommender", fit_s), ("fit LinkPredictor", links_s),
                    ("write artefacts (tmp dir + rename)", write_s),
                    ("load artefacts (web process)", load_s)):
        print(f"{name:<34} {s:9.3f}")
    print(f"artefact size: {size / 1e6:.1f} MB")

    rng = np.random.default_rng(1)
    users = rng.integers(0, args.users, args.requests)
    fold, follow, similar = [], [], []
    for u in users:
        uid = int(m.user_ids[u])
        lo, hi = R.indptr[u], R.indptr[u + 1]
        prof = profiles.Profile(uid)
        prof.products = {int(m.item_ids[j]): float(v)
                         for j, v in zip(R.indices[lo:hi], R.data[lo:hi], strict=True)}
        prof.following = {int(m.user_ids[f]) for f in S.indices[S.indptr[u]:S.indptr[u + 1]]}
        prof.engaged = set(prof.products)
        t0 = time.perf_counter()
        serving._model_scores(art, uid, prof)
        fold.append(time.perf_counter() - t0)
        assert art.links is not None
        t0 = time.perf_counter()
        art.links.recommend(int(u), 20)
        follow.append(time.perf_counter() - t0)
        j = art.item_index[int(m.item_ids[rng.integers(0, args.items)])]
        t0 = time.perf_counter()
        [int(art.item_ids[x]) for x in art.nb_idx[j] if x >= 0]
        similar.append(time.perf_counter() - t0)
    print()
    print(f"{'per request (ms), ' + str(args.requests) + ' requests':<44} "
          f"{'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}")
    print(f"{'products: fold-in live row + top-200':<44} {_pcts(fold)}")
    print(f"{'accounts: LinkPredictor top-20':<44} {_pcts(follow)}")
    print(f"{'similar: neighbour lookup':<44} {_pcts(similar)}")


def bench_demo(args: argparse.Namespace) -> None:
    os.environ["SHOPWINDOW_DATABASE_URL"] = f"sqlite:///{Path(args.demo_db).resolve()}"
    os.environ["SHOPWINDOW_DATA_DIR"] = str(Path(args.demo_data).resolve())
    from shopwindow.accounts import queries as accounts_q
    from shopwindow.config import get_settings
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.interests import serving

    get_settings.cache_clear()
    db = Database(os.environ["SHOPWINDOW_DATABASE_URL"], pool_size=1)
    with unit_of_work(db, write=False) as s:
        fans = [a.id for a in accounts_q.search_accounts(s, "", 50)] or []
        if not fans:
            fans = [accounts_q.get_by_username(s, "xiaomei_shop").id]
        serving.discover_products(s, fans[0], 20)  # load artefacts once
        disc, sugg = [], []
        for i in range(args.requests // 10):
            uid = fans[i % len(fans)]
            t0 = time.perf_counter()
            serving.discover_products(s, uid, 20)
            disc.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            serving.suggest_accounts(s, uid, 20)
            sugg.append(time.perf_counter() - t0)
    db.dispose()
    print()
    print(f"{'demo database, whole call (ms)':<44} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}")
    print(f"{'discover_products (20)':<44} {_pcts(disc)}")
    print(f"{'suggest_accounts (20)':<44} {_pcts(sugg)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=5000)
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--per-user", type=int, default=20)
    p.add_argument("--follows", type=int, default=30)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--demo-db", help="a seeded demo SQLite file (also times DB reads)")
    p.add_argument("--demo-data", default="var/data", help="the demo's data directory")
    args = p.parse_args()
    bench_artefacts(args)
    if args.demo_db:
        bench_demo(args)


if __name__ == "__main__":
    main()
