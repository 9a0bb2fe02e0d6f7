"""In-process read cache of home timelines (used by the fast home route).

Per viewer (`Head`): the newest stored entries, the viewer context (followees, hidden
accounts, authors merged on read) and the viewer's likes/reposts/bookmarks among the
cached posts. Per merged author (`AuthorPosts`): their newest post ids. Per post (`Meta`):
author, reposted original, and whether it is deleted. A page is assembled from these with
the same rules as `timelines.home` (the database truth) and without touching the database;
whatever is not cached comes back as a `Miss` for the caller to `load` on a worker thread.

Freshness: every change reaches the cache through `timeline_bus` (outbox events relayed
after commit, and `timeline.*` messages from the store's writers), so deletions, blocks,
mutes, unfollows and the viewer's own posts show at once. Heads also expire after
HEAD_TTL (a safety net for changes without events); an expired head is still served
while a reload runs (`stale` tells the caller to schedule one).

Loads follow the bus protocol: note the generation, read the database, install, then
re-apply the messages that arrived meanwhile (every handler is idempotent).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from shopwindow.core.ids import id_floor_for_ms, new_id
from shopwindow.core.pagination import Page
from shopwindow.social import timeline_bus as bus
from shopwindow.social import timelines
from shopwindow.social.models import Bookmark, Like, Post
from shopwindow.social.timeline_store import Window

K_HEAD = 60  # stored entries cached per viewer (three pages of 20)
K_AUTHOR = 40  # recent posts cached per merged author
HEAD_TTL = 300.0
AUTHOR_TTL = 300.0
MAX_HEADS = 50_000
MAX_AUTHORS = 20_000
MAX_META = 300_000
CLOCK_MARGIN_MS = 100

FAV, REBLOGGED, BOOKMARKED = 1, 2, 4


@dataclass(slots=True)
class Head:
    ctx: timelines.ViewerContext
    entries: tuple[int, ...]  # newest first
    complete: bool  # the store holds nothing older than entries[-1]
    flags: dict[int, int]  # post id -> FAV|REBLOGGED|BOOKMARKED, for posts checked
    known_from: int  # posts newer than this had no interactions when loaded
    expires: float
    fver: int = 0  # bumped whenever `flags` changes
    # The last first page (no cursor) and what it was computed from.
    memo_key: tuple[Any, ...] = ()
    memo: HomePage | None = None


@dataclass(slots=True)
class AuthorPosts:
    ids: tuple[int, ...]  # newest first, not deleted
    complete: bool
    expires: float


# author, reposted original (0), original's author (0), deleted (or original deleted),
# account replied to (0)
Meta = tuple[int, int, int, bool, int]


@dataclass(slots=True)
class Miss:
    """What must be loaded before the page can be served from the cache."""

    head: bool = False
    authors: list[int] = field(default_factory=list)
    meta: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    uncached: bool = False  # the page lies outside the cached window: use the database


@dataclass(slots=True)
class HomePage:
    ids: list[int]  # newest first
    flags: dict[int, int]  # for the page's posts and reposted originals
    stale: bool = False  # served from an expired head: schedule `load(..., refresh=True)`


heads: dict[int, Head] = {}
_meta_ver = 0  # bumped when a cached post turns deleted (memoised pages depend on it)
authors: dict[int, AuthorPosts] = {}
meta: dict[int, Meta] = {}


def _ttl(base: float) -> float:
    return time.monotonic() + base * random.uniform(0.9, 1.1)  # jitter


def _cap(d: dict[int, Any], limit: int) -> None:
    while len(d) > limit:
        d.pop(next(iter(d)), None)


def clear() -> None:
    """Forget everything (tests; bus reconnects)."""
    global _meta_ver
    with bus.lock:
        _meta_ver += 1
        heads.clear()
        authors.clear()
        meta.clear()


# ------------------------------------------------------------------ reading


def page(viewer_id: int, pg: Page) -> HomePage | Miss:
    """Serve a page from the cache, or say what is missing."""
    h = heads.get(viewer_id)
    if h is None:
        return Miss(head=True)
    ctx = h.ctx
    srcs: list[tuple[tuple[int, ...], bool]] = [(h.entries, h.complete)]
    miss_authors = []
    for a in ctx.merge:
        ap = authors.get(a)
        if ap is None:
            miss_authors.append(a)
        else:
            srcs.append((ap.ids, ap.complete))
    if miss_authors:
        return Miss(authors=miss_authors)
    first = pg.max_id is None and pg.since_id is None and pg.min_id is None
    if first:
        key = (pg.limit, _meta_ver, h.fver, *(ids for ids, _c in srcs))
        memo = h.memo
        if memo is not None and len(key) == len(h.memo_key) and key[:3] == h.memo_key[:3] \
                and all(a is b for a, b in zip(key[3:], h.memo_key[3:], strict=True)):
            return HomePage(memo.ids, memo.flags, h.expires < time.monotonic())
    res = _compute(h, srcs, pg)
    if first and isinstance(res, HomePage):
        h.memo_key, h.memo = key, res
    return res


def _compute(h: Head, srcs: list[tuple[tuple[int, ...], bool]], pg: Page) -> HomePage | Miss:
    ctx = h.ctx
    floor = 0
    for ids, complete in srcs:
        if not complete:
            if not ids:
                return Miss(uncached=True)  # nothing cached to trust: the database answers
            floor = max(floor, ids[-1])
    cand: set[int] = set(h.entries)
    for ids, _c in srcs[1:]:
        cand.update(ids)
    asc = pg.min_id is not None
    out: list[int] = []
    missing: list[int] = []
    hidden = ctx.hidden
    if asc:
        assert pg.min_id is not None
        if pg.min_id + 1 < floor:
            return Miss(uncached=True)
        lo = max(pg.min_id, pg.since_id or 0)
        it: Iterable[int] = sorted(i for i in cand if i > lo)
    else:
        it = sorted(cand, reverse=True)
    complete = False
    for pid in it:
        if pg.max_id is not None and pid >= pg.max_id:
            if asc:
                complete = True
                break
            continue
        if not asc:
            if pg.since_id is not None and pid <= pg.since_id:
                complete = True
                break
            if pid < floor:
                break
        m = meta.get(pid)
        if m is None:
            missing.append(pid)
            continue
        author, rb, orig_author, deleted, reply_to = m
        if deleted or not ctx.shows_author(author) or (rb and orig_author in hidden):
            continue
        if reply_to and not ctx.shows_reply(author, reply_to):
            continue
        out.append(pid)
        if len(out) >= pg.limit and not missing:
            complete = True
            break
    else:
        complete = True if asc else floor == 0
    if missing:
        return Miss(meta=missing)
    if not complete and len(out) < pg.limit:
        return Miss(uncached=True)
    out = out[: pg.limit]
    flags: dict[int, int] = {}
    need: list[int] = []
    known_from, hflags = h.known_from, h.flags
    for pid in out:
        rb = meta[pid][1]
        for x in (pid, rb) if rb else (pid,):
            f = hflags.get(x)
            if f is None:
                if x <= known_from:
                    need.append(x)
                    continue
                f = 0
            flags[x] = f
    if need:
        return Miss(flags=need)
    if asc:
        out.reverse()
    return HomePage(out, flags, h.expires < time.monotonic())


# ------------------------------------------------------------------ loading


def load(session: Session, viewer_id: int, miss: Miss | None = None, *,
         refresh: bool = False) -> None:
    """Load what a `Miss` names (or the whole head when `refresh`) and install it."""
    if miss is None or miss.head or refresh:
        _load_head(session, viewer_id)
        return
    if miss.authors:
        _load_authors(session, miss.authors)
    if miss.meta:
        _load_meta(session, miss.meta)
    if miss.flags:
        _load_flags(session, viewer_id, miss.flags)


def _replay(gen: int) -> bool:
    """Re-apply messages since `gen` (call under bus.lock); False if the log was too short."""
    msgs = bus.since(gen)
    if msgs is None:
        return False
    for kind, payload in msgs:
        _handle(kind, payload)
    return True


def _load_head(session: Session, viewer_id: int) -> None:
    gen = bus.generation()
    # Posts newer than this had no interactions when we read (with a margin for the
    # clocks of other hosts).
    known_from = max(new_id(), id_floor_for_ms(int(time.time() * 1000) + CLOCK_MARGIN_MS))
    ctx = timelines.viewer_context(session, viewer_id)
    got = timelines.store().window(session, viewer_id, Window(limit=K_HEAD + 1))
    entries = tuple(p for p, _a in got[:K_HEAD])
    now = time.monotonic()
    missing_authors = [a for a in ctx.merge
                       if (ap := authors.get(a)) is None or ap.expires < now]
    author_rows = {a: _author_ids(session, a) for a in missing_authors}
    cand = set(entries)
    for a in ctx.merge:
        ap = authors.get(a)
        ids = author_rows[a][0] if a in author_rows else (ap.ids if ap else ())
        cand.update(ids)
    new_meta = _meta_rows(session, [i for i in cand if i not in meta])
    origs = {m[1] for m in new_meta.values() if m[1]}
    origs |= {m[1] for i in cand if (m := meta.get(i)) is not None and m[1]}
    flags = _flag_rows(session, viewer_id, cand | origs)
    # Complete: nothing older exists, neither stored nor in the database fallback that
    # `timelines.home` uses below the oldest stored entry.
    complete = len(got) <= K_HEAD
    others = sorted(ctx.followees.difference(ctx.merge))
    if complete and others:
        complete = not timelines.posts_window(session, others, Window(
            max_id=entries[-1] if entries else None, limit=1))
    head = Head(ctx, entries, complete, flags, known_from, _ttl(HEAD_TTL))
    with bus.lock:
        for a, (ids, complete) in author_rows.items():
            authors[a] = AuthorPosts(ids, complete, _ttl(AUTHOR_TTL))
        meta.update(new_meta)
        heads.pop(viewer_id, None)
        heads[viewer_id] = head
        if not _replay(gen):
            heads.pop(viewer_id, None)
            for a in author_rows:
                authors.pop(a, None)
        _cap(heads, MAX_HEADS)
        _cap(authors, MAX_AUTHORS)
        _cap(meta, MAX_META)


def _author_ids(session: Session, author_id: int) -> tuple[tuple[int, ...], bool]:
    ids = tuple(timelines.posts_window(session, [author_id], Window(limit=K_AUTHOR + 1)))
    return ids[:K_AUTHOR], len(ids) <= K_AUTHOR


def _load_authors(session: Session, author_ids: list[int]) -> None:
    gen = bus.generation()
    rows = {a: _author_ids(session, a) for a in author_ids}
    with bus.lock:
        for a, (ids, complete) in rows.items():
            authors[a] = AuthorPosts(ids, complete, _ttl(AUTHOR_TTL))
        if not _replay(gen):
            for a in rows:
                authors.pop(a, None)
        _cap(authors, MAX_AUTHORS)


_ORIG = aliased(Post, name="orig")  # built once: aliased() is costly per call


def _meta_rows(session: Session, ids: list[int]) -> dict[int, Meta]:
    out: dict[int, Meta] = {}
    if not ids:
        return out
    orig = _ORIG
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(Post.id, Post.account_id, Post.reblog_of_id, Post.deleted_at,
                   orig.account_id, orig.deleted_at, Post.in_reply_to_account_id)
            .outerjoin(orig, orig.id == Post.reblog_of_id)
            .where(Post.id.in_(ids[i:i + 500])))
        for pid, author, rb, deleted, o_author, o_deleted, reply_to in rows:
            gone = deleted is not None or (rb is not None and (o_author is None
                                                               or o_deleted is not None))
            out[int(pid)] = (int(author), int(rb or 0), int(o_author or 0), gone,
                             int(reply_to or 0))
    for pid in ids:
        out.setdefault(pid, (0, 0, 0, True, 0))  # no such post
    return out


def _load_meta(session: Session, ids: list[int]) -> None:
    gen = bus.generation()
    rows = _meta_rows(session, ids)
    with bus.lock:
        meta.update(rows)
        if not _replay(gen):
            for pid in rows:
                meta.pop(pid, None)
        _cap(meta, MAX_META)


def _flag_rows(session: Session, viewer_id: int, ids: Iterable[int]) -> dict[int, int]:
    wanted = list(ids)
    flags = dict.fromkeys(wanted, 0)
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        for pid in session.scalars(select(Like.post_id).where(Like.account_id == viewer_id,
                                                              Like.post_id.in_(chunk))):
            flags[int(pid)] |= FAV
        for pid in session.scalars(select(Bookmark.post_id).where(
                Bookmark.account_id == viewer_id, Bookmark.post_id.in_(chunk))):
            flags[int(pid)] |= BOOKMARKED
        for rb in session.scalars(select(Post.reblog_of_id).where(
                Post.account_id == viewer_id, Post.reblog_of_id.in_(chunk),
                Post.deleted_at.is_(None))):
            if rb is not None:
                flags[int(rb)] |= REBLOGGED
    return flags


def _load_flags(session: Session, viewer_id: int, ids: list[int]) -> None:
    h = heads.get(viewer_id)
    if h is None:
        return
    gen = bus.generation()
    rows = _flag_rows(session, viewer_id, ids)
    with bus.lock:
        h2 = heads.get(viewer_id)
        if h2 is not h:
            return
        # Only fill unknown entries: known ones may have changed through events meanwhile.
        for pid, f in rows.items():
            h.flags.setdefault(pid, f)
        h.fver += 1
        if not _replay(gen):
            heads.pop(viewer_id, None)


# ------------------------------------------------------------------ invalidation


def _insert_desc(ids: tuple[int, ...], pid: int) -> tuple[int, ...]:
    if pid in ids:
        return ids
    out = [*ids, pid]
    out.sort(reverse=True)
    return tuple(out)


def _set_flag(account_id: Any, post_id: Any, bit: int, on: bool) -> None:
    h = heads.get(int(account_id)) if account_id is not None else None
    if h is None or post_id is None:
        return
    pid = int(post_id)
    cur = h.flags.get(pid)
    if cur is None:
        if pid <= h.known_from:
            return  # unknown: loaded from the database when needed
        cur = 0
    h.flags[pid] = (cur | bit) if on else (cur & ~bit)
    h.fver += 1


def _evict(*account_ids: Any) -> None:
    for a in account_ids:
        if a is not None:
            heads.pop(int(a), None)


def _handle(kind: str, p: dict[str, Any]) -> None:
    if kind == "social.post_created":
        pid, author = int(p["post_id"]), int(p["author_id"])
        rb = p.get("reblog_of_id")
        meta.setdefault(pid, (author, int(rb or 0), int(p.get("reblog_of_account_id") or 0),
                              False, int(p.get("in_reply_to_account_id") or 0)))
        ap = authors.get(author)
        if ap is not None:
            ids = _insert_desc(ap.ids, pid)
            complete = ap.complete
            if len(ids) > K_AUTHOR:
                ids, complete = ids[:K_AUTHOR], False
            authors[author] = AuthorPosts(ids, complete, ap.expires)
        if rb:
            _set_flag(author, rb, REBLOGGED, True)
    elif kind == "social.post_deleted":
        global _meta_ver
        _meta_ver += 1
        pid, author = int(p["post_id"]), int(p["author_id"])
        rb = int(p.get("reblog_of_id") or 0)
        m = meta.get(pid)
        meta[pid] = (m[0], m[1], m[2], True, m[4]) if m else (author, rb, 0, True, 0)
        ap = authors.get(author)
        if ap is not None and pid in ap.ids:
            authors[author] = AuthorPosts(tuple(i for i in ap.ids if i != pid), ap.complete,
                                          ap.expires)
        if rb:
            _set_flag(author, rb, REBLOGGED, False)
    elif kind in ("social.liked", "social.unliked"):
        _set_flag(p.get("account_id"), p.get("post_id"), FAV, kind == "social.liked")
    elif kind in ("social.bookmarked", "social.unbookmarked"):
        _set_flag(p.get("account_id"), p.get("post_id"), BOOKMARKED,
                  kind == "social.bookmarked")
    elif kind in ("social.followed", "social.unfollowed"):
        _evict(p.get("follower_id"))
    elif kind in ("social.blocked", "social.unblocked"):
        _evict(p.get("account_id"), p.get("target_id"))
    elif kind in ("social.muted", "social.unmuted"):
        _evict(p.get("account_id"))
    elif kind == "account.deleted":
        _evict(p.get("account_id"))
        authors.pop(int(p.get("account_id") or 0), None)
    elif kind == "timeline.added":
        pid = int(p["post_id"])
        for o in p.get("owners") or ():
            h = heads.get(int(o))
            if h is None or pid in h.entries:
                continue
            if h.entries and pid < h.entries[-1] and not h.complete:
                continue  # older than the cached window: found by database pages
            ids = _insert_desc(h.entries, pid)
            if len(ids) > K_HEAD:
                h.entries, h.complete = ids[:K_HEAD], False
            else:
                h.entries = ids
    elif kind == "timeline.changed":
        _evict(p.get("owner"))
    elif kind == bus.FLUSH:
        clear()


bus.on(_handle)
