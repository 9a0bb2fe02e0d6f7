"""Two weeks of page activity for the demo, so reports have something to show.

The demo seed writes posts, replies, likes and reposts directly, before any analytics
event exists, and the recommendations appear when the partner shops start. This adds what
fans would have done on pages meanwhile — impressions, reads with dwell time, profile
visits and showcase views — as analytics events at their own times, then folds them into
the rollups. Buy clicks and orders are not invented here: they come from real hand-offs
and partner postbacks.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import actions as analytics
from shopwindow.analytics import aggregator
from shopwindow.analytics import ingest as analytics_ingest
from shopwindow.analytics import queries as analytics_q
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import as_utc, utcnow
from shopwindow.core.errors import NotFound
from shopwindow.core.ids import new_id
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.demo import data
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

DAYS = 14
REGIONS = ("CN-31", "CN-11", "CN-44", "CN-33", "CN-51", "US-CA", "GB", "SG")
DEVICES = (("mobile", 0.7), ("desktop", 0.25), ("tablet", 0.05))


def _when(r: random.Random, published: datetime, now: datetime) -> datetime:
    start = min(max(published, now - timedelta(days=DAYS)), now)
    span = max(1.0, (now - start).total_seconds())
    # Most views come soon after publishing, a tail later.
    return start + timedelta(seconds=span * r.random() ** 2.5)


def _device(r: random.Random) -> str:
    x, acc = r.random(), 0.0
    for name, p in DEVICES:
        acc += p
        if x < acc:
            return name
    return "mobile"


def seed_activity(db: Database, *, seed: int = 2015) -> int:
    """Add the demo's page activity once (nothing if page impressions exist already);
    returns how many events were stored."""
    r = random.Random(seed)
    now = utcnow()
    with unit_of_work(db, write=False) as s:  # the events go to db.analytics, below
        if analytics_q.has_events_of_type(s, "impression"):
            return 0
        events: list[EventIn] = []
        creators = []
        for c in data.CREATORS:
            try:
                creators.append((c, accounts_q.get_by_username(s, c.username).id))
            except NotFound:
                continue  # a smaller demo has fewer creators
        audience = {cid: social_q.follower_ids(s, cid) for _c, cid in creators}
        everyone = sorted({f for fs in audience.values() for f in fs})
        for c, creator_id in creators:
            followers = audience[creator_id]
            if not followers:
                continue
            follower_set = set(followers)
            others = [f for f in everyone if f not in follower_set and f != creator_id]
            lang = "zh-CN" if c.lang == "zh" else "en"
            posts = social_q.posts_by_ids(s, social_q.post_ids_by_author(s, creator_id))
            # (kind, id, surface, published at): the seed dates posts back two weeks.
            objects: list[tuple[str, int, str, datetime]] = [
                ("post", pid, "home", as_utc(p.created_at)) for pid, p in posts.items()]
            sp = showcase_q.showcase(s, creator_id, viewer_id=creator_id, limit=100)
            objects += [("recommendation", int(v.rec.id), "showcase", as_utc(v.rec.created_at))
                        for v in sp.items]
            credits = analytics_ingest.resolve(s, [(t, i) for t, i, _, _ in objects])
            for kind, oid, surface, published in objects:
                cred = credits.get((kind, oid))
                if cred is None:
                    continue
                viewers = r.sample(followers, min(len(followers), r.randint(3, 40)))
                # Some views reach non-followers (discovery), as passerby-to-fan would.
                viewers += r.sample(others, min(len(others), r.randint(0, 6)))
                for fan in viewers:
                    follower = fan in follower_set
                    region, device = r.choice(REGIONS), _device(r)
                    at = _when(r, published, now)

                    seen = EventIn(
                        type="impression", object_type=kind, object_id=oid, actor_id=fan,
                        creator_id=cred.creator_id, post_id=cred.post_id,
                        recommendation_id=cred.recommendation_id,
                        product_id=cred.product_id, partner_id=cred.partner_id,
                        surface=surface if follower else "discover", is_follower=follower,
                        vertical=cred.vertical, region=region, device=device, lang=lang,
                        occurred_at=at)
                    events.append(seen)
                    if r.random() < 0.35:
                        dwell = int(r.lognormvariate(9.5, 0.8))  # ≈ 13 s median, in ms
                        events.append(replace(seen, type="read", value=min(dwell, 600_000),
                                              occurred_at=at + timedelta(seconds=2)))
                    if r.random() < 0.08 and cred.creator_id is not None:
                        events.append(replace(
                            seen, type="profile_visit", object_type="account",
                            object_id=cred.creator_id, surface="profile", post_id=None,
                            recommendation_id=None, product_id=None, partner_id=None,
                            occurred_at=at + timedelta(seconds=20)))
        # Stored as received at their own (past) times: `ingest` would clamp them to now.
        rows = []
        for e in events:
            assert e.occurred_at is not None
            rows.append(analytics.event_row(
                e, e.occurred_at, new_id(int(e.occurred_at.timestamp() * 1000))))
    with unit_of_work(db.analytics) as w:
        for i in range(0, len(rows), 5_000):
            analytics.insert_events(w, rows[i:i + 5_000])
    aggregator.drain(db, timeout=300.0)
    return len(events)
