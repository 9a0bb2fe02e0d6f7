"""Bulk seed for benchmarks/feed.py: accounts, follows, posts, tokens, home timelines.

Rows go straight into the tables (allowed for a benchmark seed): SQLite through sqlite3
`executemany` in batches inside one transaction, PostgreSQL through psycopg COPY. Every
value is generated here; nothing goes through the domain actions (they would take hours).

Shape (defaults): account 0 is the big creator, followed by `big_followers` accounts;
account 1 is an ordinary creator with `mid_followers` followers (fanned out on write);
accounts 2 … users+1 are the benchmark's readers (they follow both, plus others, and own a
token and a materialised home timeline); the rest of the follows go to 20,000 creators
with a long-tailed popularity; posts are spread over 30 days, mostly by creators.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Table, create_engine, text

from shopwindow.core.ids import _EPOCH_MS
from shopwindow.db.engine import Database, driver_url
from shopwindow.schema import create_all, metadata

BATCH = 5000
HOME_SIZE = 800
BACKFILL = 40
WORDS = ("spring", "sale", "lipstick", "sneakers", "coffee", "camera", "travel", "skincare",
         "headphones", "recipe", "garden", "vintage", "denim", "tea", "notebook", "bike")


@dataclass
class Shape:
    accounts: int = 101_000
    follows: int = 1_000_000
    posts: int = 1_000_000
    big_followers: int = 100_000
    mid_followers: int = 5_000
    users: int = 2_000
    creators: int = 20_000
    blocks: int = 10_000
    mutes: int = 20_000
    seed: int = 7

    def check(self) -> None:
        self.big_followers = min(self.big_followers, self.accounts - 1)
        self.mid_followers = min(self.mid_followers, self.accounts - 2)
        self.users = min(self.users, self.accounts - 2, self.mid_followers)
        self.creators = min(self.creators, max(10, self.accounts // 5))


@dataclass
class Seeded:
    shape: Shape
    account_ids: list[int]
    tokens: dict[int, str]  # account id -> bearer token
    big: int
    mid: int
    users: list[int]
    home_rows: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _id(ms: int, seq: int) -> int:
    return ((ms - _EPOCH_MS) << 16) | seq


def _sqlite_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class Writer:
    """Column-ordered bulk writes for one table, on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = url.startswith("postgres")
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(url.replace("postgresql://", "postgresql://", 1))
        else:
            path = url.split(":///", 1)[1]
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-400000")
            self.conn.execute("BEGIN")

    def value(self, v: Any) -> Any:
        if isinstance(v, datetime):
            return v if self.pg else _sqlite_ts(v)
        if isinstance(v, (list, dict)):
            return json.dumps(v)
        return v

    def rows(self, table: Table, given: Sequence[str], rows: Iterable[Sequence[Any]],
             advance: Callable[[int], None] | None = None) -> int:
        """Insert rows holding the `given` columns; other columns take their defaults."""
        cols = [c for c in table.columns]
        extra: list[tuple[str, Any]] = []
        for c in cols:
            if c.name in given:
                continue
            d = c.default
            if d is None:
                if not c.nullable:
                    raise ValueError(f"{table.name}.{c.name} needs a value")
                extra.append((c.name, None))
            elif getattr(d, "is_callable", False):
                extra.append((c.name, self.value(d.arg(None))))  # type: ignore[attr-defined]
            else:
                extra.append((c.name, self.value(d.arg)))  # type: ignore[attr-defined]
        names = list(given) + [n for n, _ in extra]
        tail = tuple(v for _, v in extra)
        n = 0
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            nonlocal batch
            if not batch:
                return
            if self.pg:
                with self.conn.cursor() as cur, cur.copy(
                        f'COPY {table.name} ({", ".join(names)}) FROM STDIN') as cp:
                    for r in batch:
                        cp.write_row(r)
            else:
                marks = ", ".join("?" * len(names))
                self.conn.executemany(
                    f'INSERT INTO {table.name} ({", ".join(names)}) VALUES ({marks})', batch)
            if advance:
                advance(len(batch))
            batch = []

        for r in rows:
            batch.append(tuple(self.value(v) for v in r) + tail)
            n += 1
            if len(batch) >= BATCH:
                flush()
        flush()
        return n

    def commit(self) -> None:
        if self.pg:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")

    def analyze(self) -> None:
        if self.pg:
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        else:
            self.conn.execute("ANALYZE")

    def close(self) -> None:
        self.conn.close()


def reset_database(url: str) -> None:
    """Drop and create the benchmark database (PostgreSQL) or file (SQLite); create tables."""
    if url.startswith("postgres"):
        admin_url, name = url.rsplit("/", 1)
        eng = create_engine(driver_url(admin_url + "/postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
    else:
        from pathlib import Path

        path = Path(url.split(":///", 1)[1])
        for base in (path, path.with_name(f"{path.stem}-analytics{path.suffix}")):
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(base) + suffix)
                if p.exists():
                    p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    create_all(db)  # the analytics tables in their own SQLite file
    db.dispose()


def seed(url: str, shape: Shape, *, redis_store: Any = None) -> Seeded:
    """Fill the database; home timelines go to `redis_store` when given."""
    shape.check()
    rnd = random.Random(shape.seed)
    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 30 * 86_400_000
    n = shape.accounts
    acct = [_id(start_ms - 86_400_000 - n + i, 1) for i in range(n)]
    created = [datetime.fromtimestamp((start_ms - 86_400_000 - n + i) / 1000, UTC)
               for i in range(n)]
    big, mid = 0, 1
    users = list(range(2, 2 + shape.users))
    creators = list(range(2, 2 + shape.creators))
    # Long-tailed popularity: creator rank r gets weight 1 / (r + 50).
    cum: list[float] = []
    total = 0.0
    for r in range(len(creators)):
        total += 1.0 / (r + 50)
        cum.append(total)

    def pick_creator() -> int:
        x = rnd.random() * total
        lo, hi = 0, len(cum) - 1
        while lo < hi:
            m = (lo + hi) // 2
            if cum[m] < x:
                lo = m + 1
            else:
                hi = m
        return creators[lo]

    w = Writer(url)
    with Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as prog:

        def step(name: str, total_rows: int) -> Callable[[int], None]:
            task = prog.add_task(name, total=total_rows)
            return lambda k: prog.advance(task, k)

        # ---------------------------------------------------------------- follows
        t = time.perf_counter()
        edges: set[tuple[int, int]] = set()
        for i in range(1, shape.big_followers + 1):
            edges.add((i, big))
        for i in range(2, 2 + shape.mid_followers):
            edges.add((i, mid))
        for u in users:  # readers follow ~9 creators each
            for _ in range(9):
                c = pick_creator()
                if c != u:
                    edges.add((u, c))
        while len(edges) < shape.follows:
            f = rnd.randrange(2, n)
            c = pick_creator()
            if c != f:
                edges.add((f, c))
        followers: dict[int, int] = {}
        following: dict[int, int] = {}
        follows_of: dict[int, list[int]] = {u: [] for u in users}
        for f, c in edges:
            followers[c] = followers.get(c, 0) + 1
            following[f] = following.get(f, 0) + 1
            if f in follows_of:
                follows_of[f].append(c)
        timings["generate follows"] = time.perf_counter() - t

        # ---------------------------------------------------------------- posts
        t = time.perf_counter()
        times = sorted(rnd.randrange(start_ms, now_ms - 60_000) for _ in range(shape.posts))
        post_ids: list[int] = []
        last_ms, seq = -1, 0
        for ms in times:
            seq = seq + 1 if ms == last_ms else rnd.randrange(0, 256)
            last_ms = ms
            post_ids.append(_id(ms, seq))
        authors: list[int] = []
        n_big, n_mid = min(2000, shape.posts // 50), min(500, shape.posts // 100)
        special = [big] * n_big + [mid] * n_mid
        for _ in range(shape.posts - len(special)):
            authors.append(pick_creator() if rnd.random() < 0.7 else rnd.randrange(2, n))
        authors += special
        rnd.shuffle(authors)
        by_author: dict[int, list[int]] = {}
        for pid, a in zip(post_ids, authors, strict=True):
            by_author.setdefault(a, []).append(pid)
        timings["generate posts"] = time.perf_counter() - t

        # ---------------------------------------------------------------- write
        t = time.perf_counter()
        tbl = metadata.tables
        w.rows(tbl["account"], ["id", "username", "username_key", "email", "email_key",
                                "password_hash", "role", "display_name", "bio", "languages",
                                "created_at", "confirmed_at"],
               ((acct[i], f"u{i}", f"u{i}", f"u{i}@bench.invalid", f"u{i}@bench.invalid", "!",
                 "creator" if i < 2 + shape.creators else "fan", f"User {i}",
                 "Benchmark account" if i < 2 + shape.creators else "", ["en"],
                 created[i], created[i]) for i in range(n)),
               step("accounts", n))
        w.rows(tbl["social_follow"], ["follower_id", "followee_id", "id", "created_at"],
               ((acct[f], acct[c], _id(start_ms - 3_600_000, 0) + k, created[f])
                for k, (f, c) in enumerate(edges)), step("follows", len(edges)))

        def post_rows() -> Iterable[tuple[Any, ...]]:
            for k, (pid, a) in enumerate(zip(post_ids, authors, strict=True)):
                words = rnd.sample(WORDS, 3)
                body = (f"Post {k} about {words[0]} and {words[1]}: today's pick is great "
                        f"value, would buy again. #{words[2]}")
                html = (f'<p>Post {k} about {words[0]} and {words[1]}: today&#x27;s pick is '
                        f'great value, would buy again. <a href="http://127.0.0.1/tags/'
                        f'{words[2]}" class="mention hashtag" rel="tag">#<span>{words[2]}'
                        f'</span></a></p>')
                r = rnd.random()
                vis = "public" if r < 0.9 else ("unlisted" if r < 0.95 else "private")
                dt = datetime.fromtimestamp(((pid >> 16) + _EPOCH_MS) / 1000, UTC)
                yield (pid, acct[a], body, html, vis, "en", rnd.randrange(0, 40),
                       rnd.randrange(0, 8), rnd.randrange(0, 5), dt)

        w.rows(tbl["social_post"], ["id", "account_id", "text", "html", "visibility", "language",
                                    "favourites_count", "reblogs_count", "replies_count",
                                    "created_at"], post_rows(), step("posts", len(post_ids)))
        last_post = {a: ids[-1] for a, ids in by_author.items()}
        w.rows(tbl["social_account_stats"], ["account_id", "followers_count", "following_count",
                                             "statuses_count", "last_status_at"],
               ((acct[i], followers.get(i, 0), following.get(i, 0), len(by_author.get(i, ())),
                 datetime.fromtimestamp(((last_post[i] >> 16) + _EPOCH_MS) / 1000, UTC)
                 if i in last_post else None) for i in range(n)), step("account stats", n))
        # Some blocks and mutes among non-readers (readers' filters are exercised by tests).
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < shape.blocks + shape.mutes:
            a, b = rnd.randrange(2 + shape.users, n), rnd.randrange(2, n)
            if a != b:
                pairs.add((a, b))
        plist = list(pairs)
        w.rows(tbl["social_block"], ["account_id", "target_id", "id", "created_at"],
               ((acct[a], acct[b], _id(start_ms - 7_200_000, 0) + k, created[a])
                for k, (a, b) in enumerate(plist[:shape.blocks])), step("blocks", shape.blocks))
        w.rows(tbl["social_mute"], ["account_id", "target_id", "id", "notifications",
                                    "created_at"],
               ((acct[a], acct[b], _id(start_ms - 10_800_000, 0) + k, True, created[a])
                for k, (a, b) in enumerate(plist[shape.blocks:])), step("mutes", shape.mutes))

        # ---------------------------------------------------------------- tokens
        app_id = _id(start_ms - 90_000_000, 9)
        w.rows(tbl["account_oauth_app"], ["id", "name", "client_id", "client_secret_hash",
                                          "redirect_uris", "scopes", "created_at"],
               [(app_id, "feed benchmark", secrets.token_hex(16), "!",
                 ["urn:ietf:wg:oauth:2.0:oob"], "read write follow push", created[0])])
        tokens: dict[int, str] = {}
        for i in [big, mid, *users]:
            tokens[acct[i]] = secrets.token_urlsafe(32)
        w.rows(tbl["account_oauth_token"], ["id", "token_hash", "app_id", "account_id", "scopes",
                                            "created_at"],
               ((_id(start_ms - 80_000_000, 0) + k, hashlib.sha256(tok.encode()).hexdigest(),
                 app_id, aid, "read write follow push", created[0])
                for k, (aid, tok) in enumerate(tokens.items())), step("tokens", len(tokens)))

        # ---------------------------------------------------------------- home timelines
        # What fan-out + backfill would have produced for the readers: each non-big
        # followee's recent posts, newest first, trimmed to the timeline size.
        limit = 10_000

        def home_entries(u: int) -> list[tuple[int, int]]:
            ent: list[tuple[int, int]] = []
            for c in follows_of[u]:
                if followers.get(c, 0) > limit:
                    continue
                ent.extend((p, c) for p in by_author.get(c, [])[-BACKFILL * 3:])
            ent.sort(reverse=True)
            return ent[:HOME_SIZE]

        adv = step("home timelines", len(users))
        if redis_store is None:
            def home_rows() -> Iterable[tuple[int, int, int]]:
                for u in users:
                    for p, c in home_entries(u):
                        yield (acct[u], p, acct[c])
                    adv(1)

            home_n = w.rows(tbl["social_home_entry"], ["owner_id", "post_id", "author_id"],
                            home_rows())
        else:
            home_n = 0
            for u in users:
                ent = home_entries(u)
                redis_store.add_entries(None, acct[u], [(p, acct[c]) for p, c in ent])
                home_n += len(ent)
                adv(1)
        timings["write rows"] = time.perf_counter() - t
        w.commit()
        t = time.perf_counter()
        w.analyze()
        timings["analyze"] = time.perf_counter() - t
        w.close()
    timings["total"] = time.perf_counter() - t_all
    return Seeded(shape, acct, tokens, acct[big], acct[mid], [acct[u] for u in users], home_n,
                  timings)
