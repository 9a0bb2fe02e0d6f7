"""The demo seed on a real database: accounts, graph, posts with images, timelines, logins."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shopwindow.accounts import actions as accounts
from shopwindow.accounts.models import Account
from shopwindow.core.clock import utcnow
from shopwindow.core.pagination import Page
from shopwindow.demo import seed
from shopwindow.media.models import MediaAttachment
from shopwindow.media.storage import get_storage
from shopwindow.notifications.models import Notification
from shopwindow.outbox.events import OutboxEvent
from shopwindow.social import timelines
from shopwindow.social.models import Follow, Like, Post, PostMention, PostTag
from tests.helpers import make_account

CREATORS, FANS = 5, 24


def test_seed_builds_a_lived_in_platform(settings, db, session, uow):
    """One seed (it takes a few seconds), checked from several angles."""
    logins = seed.seed_if_empty(settings, creators=CREATORS, fans=FANS,
                                posts_per_creator=(3, 5))
    check_accounts_roles_and_profiles(session)
    check_follow_graph(session)
    check_posts(session)
    check_timelines_notifications_and_events(session)
    check_logins(logins, uow)
    check_seeding_twice_does_not_duplicate(logins, settings, session)
    check_page_activity(db, session)


def check_page_activity(db, session):
    """Two weeks of views and reads, counted in the rollups, added only once."""
    from shopwindow.analytics import queries, rules
    from shopwindow.analytics.models import Event
    from shopwindow.demo.activity import seed_activity

    n = seed_activity(db)
    assert n > 0
    impressions = _count(session, Event, Event.type == "impression")
    assert impressions > 0
    # Spread over the past two weeks, not all stamped now.
    days = session.scalar(select(func.count(func.distinct(func.date(Event.occurred_at))))
                          .where(Event.type == "impression"))
    assert days > 3
    # as reports read day figures (day counters + the hours not compacted into them yet)
    folded = queries.rollup_total(session, "platform", rules.PLATFORM_ID, "impressions")
    assert folded == impressions
    # Views by followers and by passers-by are both there (the follower dimension).
    assert _count(session, Event, Event.type == "impression", Event.is_follower.is_(True)) > 0
    assert seed_activity(db) == 0
    assert _count(session, Event, Event.type == "impression") == impressions


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def check_accounts_roles_and_profiles(session):
    accts = session.scalars(select(Account)).all()
    assert len(accts) == 1 + CREATORS + FANS
    roles = Counter(a.role for a in accts)
    assert roles["operator"] == 1 and roles["brand"] >= 1 and roles["fan"] == FANS
    assert roles["creator"] + roles["brand"] == CREATORS
    creators = [a for a in accts if a.role in ("creator", "brand")]
    assert all(a.bio and a.avatar_key and a.header_key for a in creators)
    assert {"zh", "en"} <= {a.languages[0] for a in creators}
    fans = [a for a in accts if a.role == "fan"]
    assert all(a.region for a in fans)
    assert any(a.locale == "zh-CN" for a in fans)
    # Profile images exist in storage.
    assert get_storage().path(creators[0].avatar_key) is not None


def check_follow_graph(session):
    ids = {a.username: a.id for a in session.scalars(select(Account))}
    edges = session.execute(select(Follow.follower_id, Follow.followee_id)).all()
    following = Counter(f for f, _ in edges)
    followers = Counter(t for _, t in edges)
    fans = [a.id for a in session.scalars(select(Account).where(Account.role == "fan"))]
    assert all(following[f] >= 2 for f in fans)
    creator_counts = sorted(followers[ids[u]] for u in
                            (c.username for c in seed.data.CREATORS[:CREATORS]))
    assert creator_counts[-1] >= 2 * max(1, creator_counts[0])  # very different audiences
    creator_ids = {ids[c.username] for c in seed.data.CREATORS[:CREATORS]}
    assert any(f in creator_ids and t in creator_ids for f, t in edges)  # creators follow creators


def check_posts(session):
    posts = session.scalars(select(Post)).all()
    originals = [p for p in posts if p.reblog_of_id is None and p.in_reply_to_id is None]
    replies = [p for p in posts if p.in_reply_to_id is not None]
    reblogs = [p for p in posts if p.reblog_of_id is not None]
    assert len(originals) >= CREATORS * 3
    assert replies and reblogs
    with_media = set(session.scalars(select(MediaAttachment.post_id)
                                     .where(MediaAttachment.post_id.is_not(None))))
    assert len(with_media & {p.id for p in originals}) >= len(originals) // 2
    media = session.scalars(select(MediaAttachment)).first()
    assert media.mime == "image/jpeg" and media.width >= 700 and media.description
    assert get_storage().path(media.key) is not None
    tags = set(session.scalars(select(PostTag.tag)))
    assert any(not t.isascii() for t in tags)  # Weibo-style #话题#
    assert any(t.isascii() for t in tags)  # latin #tag
    assert _count(session, PostMention) > 0
    assert _count(session, Like) > 0
    # Activity is spread over the last two weeks, and ids agree with time order.
    now = datetime.now(UTC)
    times = sorted(p.created_at for p in posts)
    assert times[0] < now - timedelta(days=7) and times[-1] <= now
    by_id = [p.created_at for p in sorted(posts, key=lambda p: p.id)]
    assert by_id == sorted(by_id)
    languages = Counter(p.language for p in originals)
    assert languages["zh"] > languages["en"] > 0


def check_timelines_notifications_and_events(session):
    for aid in session.scalars(select(Account.id)):
        assert timelines.home(session, aid, Page(limit=5)), f"empty home for {aid}"
    assert _count(session, Notification) > 0
    assert _count(session, OutboxEvent, OutboxEvent.dispatched_at.is_(None)) == 0
    # Seeding moves the clock for a while; it must be back to real time afterwards.
    assert abs((utcnow() - datetime.now(UTC)).total_seconds()) < 5


def check_logins(seeded, uow):
    assert set(seeded) == {"operator", "creator-zh", "creator-en", "brand", "fan"}
    with uow() as s:
        for username, password in seeded.values():
            assert accounts.authenticate(s, username, password).username == username


def check_seeding_twice_does_not_duplicate(seeded, settings, session):
    before = (_count(session, Account), _count(session, Post), _count(session, Follow))
    again = seed.seed_if_empty(settings, creators=CREATORS, fans=FANS)
    assert again == seeded
    session.expire_all()
    assert (_count(session, Account), _count(session, Post), _count(session, Follow)) == before


def test_database_with_other_accounts_is_left_alone(settings, uow, session):
    make_account(uow, "someone")
    assert seed.seed_if_empty(settings, creators=2, fans=3) == {}
    assert _count(session, Account) == 1


def test_plan_is_deterministic_and_prefix_stable():
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    a = seed.build_plan(creators=4, fans=10, now=now)
    b = seed.build_plan(creators=4, fans=10, now=now)
    assert [(x.at, x.kind, x.actor) for x in a.activities] == \
        [(x.at, x.kind, x.actor) for x in b.activities]
    big = seed.build_plan(creators=20, fans=200, now=now)
    # The first personas (and so the printed logins) do not depend on the demo's size.
    assert big.logins == a.logins
    assert len({p.username.lower() for p in big.people}) == len(big.people)
    assert all(x.at < now for x in big.activities)
