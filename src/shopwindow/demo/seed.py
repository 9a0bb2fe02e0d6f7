"""Seed a believable demo platform: creators, fans, a follow graph, two weeks of activity.

Everything goes through the real domain actions inside units of work, so the demo data
has exactly the shape real use produces (counters, outbox events, notifications, home
timelines). Two tricks keep it fast and lived-in:

* The plan (who joins, follows, posts, likes, replies, reposts, and when) is drawn from a
  seeded random generator first, then replayed in time order while the process clock
  (`core.clock`) is moved to each activity's moment. Timestamps are spread over the last
  two weeks, and because activities run in time order the time-sortable ids agree with
  them.
* Jobs run in immediate mode while seeding, so fan-out, backfill and notifications are
  complete when seeding returns, whatever the process's own jobs mode is.

Passwords are hashed at full cost: once per operator/creator, and once for the password
all demo fans share (`accounts.actions.register_account_prehashed`).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.passwords import hash_password
from shopwindow.config import Settings
from shopwindow.core.clock import as_utc, clock, utcnow
from shopwindow.core.errors import NotFound
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.demo import data, images
from shopwindow.media import actions as media
from shopwindow.media.storage import FileStorage, configure_storage
from shopwindow.outbox import DomainEvent, OutboxEvent, handlers_for, set_publisher
from shopwindow.social import actions as social
from shopwindow.social import timelines

DEMO_PASSWORD = "shopwindow-demo"
DEMO_SEED = 20151121
EMAIL_DOMAIN = "demo.shopwindow.example"  # .example never delivers (RFC 2606)
WINDOW = timedelta(days=14)

Logins = dict[str, tuple[str, str]]


# ------------------------------------------------------------------ the plan


@dataclass(slots=True, eq=False)  # identity semantics: people go in sets
class Person:
    username: str
    display_name: str
    role: str
    lang: str  # language the person writes in: zh or en
    languages: list[str]
    region: str
    bio: str
    joined: datetime
    verticals: tuple[str, ...] = ()
    popularity: float = 0.0
    mentions: tuple[str, ...] = ()
    avatar: bool = True
    header: bool = False


@dataclass(slots=True, order=True)
class Activity:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    actor: str = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass(slots=True)
class Plan:
    people: list[Person]
    activities: list[Activity]
    logins: Logins

    def count(self, kind: str) -> int:
        return sum(1 for a in self.activities if a.kind == kind)


class _Planner:
    def __init__(self, seed: int, now: datetime, n_creators: int, n_fans: int,
                 posts_per_creator: tuple[int, int], with_images: bool) -> None:
        self.seed, self.now = seed, now
        self.start = now - WINDOW
        self.n_creators, self.n_fans = n_creators, n_fans
        self.ppc = posts_per_creator
        self.with_images = with_images
        self.acts: list[Activity] = []
        self.follows: dict[str, dict[str, datetime]] = defaultdict(dict)  # followee -> f -> at
        self.post_keys = 0
        self.joined: dict[str, datetime] = {}

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def when(self, actor: str, at: datetime) -> datetime:
        """Nobody acts before joining."""
        joined = self.joined.get(actor)
        return at if joined is None or at > joined else joined + timedelta(minutes=1)

    def add(self, at: datetime, kind: str, actor: str, **args: Any) -> None:
        if kind != "register":
            at = self.when(actor, at)
        if at >= self.now:
            return  # the future has not happened yet
        self.acts.append(Activity(at, len(self.acts), kind, actor, args))

    def new_post_key(self) -> int:
        self.post_keys += 1
        return self.post_keys

    # -- people

    def people(self) -> tuple[Person, list[Person], list[Person]]:
        r = self.rng("people")
        op_user, op_name, op_bio = data.OPERATOR
        operator = Person(op_user, op_name, "operator", "zh", ["zh", "en"], "上海", op_bio,
                          self.now - timedelta(days=60), header=True)
        creators = [self._creator(i, r) for i in range(self.n_creators)]
        fans = [self._fan(i) for i in range(self.n_fans)]
        taken = {operator.username.lower(), *(c.username.lower() for c in creators)}
        for i, f in enumerate(fans):
            fr = self.rng(f"rename:{i}")
            while f.username.lower() in taken:
                f.username = f"{f.username[:25]}{fr.randint(1, 9)}"
            taken.add(f.username.lower())
        return operator, creators, fans

    def _creator(self, i: int, r: random.Random) -> Person:
        if i < len(data.CREATORS):
            c = data.CREATORS[i]
        else:  # beyond the hand-written personas: recombine them
            base = data.CREATORS[i % len(data.CREATORS)]
            c = data.Creator(f"{base.username[:22]}_{i}", f"{base.display_name}{i}", base.lang,
                             base.verticals, base.bio, base.region, base.popularity * 0.3,
                             base.role)
        joined = self.now - timedelta(days=50) + timedelta(hours=i * 30 + r.randint(0, 20))
        langs = ["zh"] if c.lang == "zh" else ["en"]
        if c.lang == "en" and r.random() < 0.4:
            langs.append("zh")
        return Person(c.username, c.display_name, c.role, c.lang, langs, c.region, c.bio,
                      joined, c.verticals, c.popularity, c.mentions, header=True)

    def _fan(self, i: int) -> Person:
        r = self.rng(f"fan:{i}")
        roll = r.random()
        lang = "en" if roll < 0.15 else "zh"
        languages = ["en"] if lang == "en" else (["zh", "en"] if roll < 0.3 else ["zh"])
        if lang == "en":
            handle, name = data.EN_FAN_NAMES[i % len(data.EN_FAN_NAMES)]
            region = r.choice(data.EN_REGIONS)
            bio = r.choice(data.FAN_BIOS_EN)
        else:
            k = i % len(data.ZH_FAN_HANDLES)
            handle, name = data.ZH_FAN_HANDLES[k], data.ZH_FAN_NAMES[k]
            if i >= len(data.ZH_FAN_HANDLES):
                name += r.choice(("呀", "同学", "酱", "的日常", "Lily", "🍊", "2号"))
            region = r.choice(data.ZH_REGIONS)
            bio = r.choice(data.FAN_BIOS_ZH)
        style = r.randint(0, 3)
        suffix = (f"{r.randint(10, 99)}", f"_{r.randint(1988, 2005)}",
                  f"_{r.choice(('daily', 'life', 'shop', 'cc', 'zz', 'home'))}",
                  f"{r.randint(100, 999)}")[style]
        username = f"{handle}{suffix}"
        # Most fans were here before the window; some join during it.
        if r.random() < 0.8:
            joined = self.start - timedelta(days=r.uniform(1, 30))
        else:
            joined = self.start + timedelta(hours=r.uniform(2, WINDOW.total_seconds() / 3600 - 6))
        return Person(username[:30], name, "fan", lang, languages, region, bio, joined,
                      avatar=r.random() < 0.65)

    # -- graph

    def follow(self, follower: Person, followee: Person, at: datetime) -> None:
        if follower.username == followee.username:
            return
        if follower.username in self.follows[followee.username]:
            return
        at = max(at, follower.joined + timedelta(minutes=1),
                 followee.joined + timedelta(minutes=1))
        if at >= self.now:
            return
        self.follows[followee.username][follower.username] = at
        self.add(at, "follow", follower.username, target=followee.username)

    def graph(self, operator: Person, creators: list[Person], fans: list[Person]) -> None:
        r = self.rng("graph")
        by_name = {c.username: c for c in creators}
        last_creator = max((c.joined for c in creators), default=operator.joined)
        for c in sorted(creators, key=lambda c: -c.popularity)[:5]:
            self.follow(operator, c, last_creator + timedelta(hours=r.uniform(1, 48)))
        for c in creators:
            mates = [o for o in creators if o is not c and set(o.verticals) & set(c.verticals)]
            picks = {by_name[m] for m in c.mentions if m in by_name}
            picks |= set(r.sample(mates, min(len(mates), r.randint(1, 3))))
            others = [o for o in creators if o is not c]
            if others and r.random() < 0.6:
                picks.add(max(others, key=lambda o: o.popularity * r.random()))
            for o in sorted(picks, key=lambda o: o.username):
                self.follow(c, o, max(c.joined, o.joined) + timedelta(hours=r.uniform(1, 72)))
            if c.role == "brand":
                for o in mates:
                    self.follow(c, o, max(c.joined, o.joined) + timedelta(hours=r.uniform(1, 24)))
        interest_weights = {v.key: 1.0 for v in data.VERTICALS}
        interest_weights.update(fashion=2.2, beauty=2.0, digital=1.8, food=1.6, home=1.4)
        keys = list(interest_weights)
        for f in fans:
            fr = self.rng(f"follows:{f.username}")
            interests = set(fr.choices(keys, weights=[interest_weights[k] for k in keys],
                                       k=fr.randint(2, 4)))
            chosen: list[Person] = []
            for c in creators:
                lang_fit = 1.0 if c.lang in f.languages else 0.25
                if set(c.verticals) & interests:
                    p = (0.15 + 0.8 * c.popularity) * lang_fit
                else:
                    p = 0.12 * c.popularity * lang_fit
                if fr.random() < min(p, 0.95):
                    chosen.append(c)
            if len(chosen) < 2:
                ranked = sorted(creators, key=lambda c: -(c.popularity + fr.random() * 0.5))
                chosen += [c for c in ranked if c not in chosen][: 2 - len(chosen)]
            for c in chosen:
                later = fr.random() < 0.15  # some follows happen during the window
                at = (f.joined + timedelta(minutes=fr.uniform(2, 90)) if not later else
                      max(f.joined, self.start) + timedelta(hours=fr.uniform(1, 300)))
                self.follow(f, c, at)
            if fr.random() < 0.3:
                self.follow(f, operator, f.joined + timedelta(minutes=fr.uniform(1, 30)))
        for f in fans:  # a few fans follow each other, and creators follow back a few fans
            fr = self.rng(f"friends:{f.username}")
            if fr.random() < 0.15:
                for o in fr.sample(fans, min(len(fans), 2)):
                    self.follow(f, o, max(f.joined, o.joined) + timedelta(hours=fr.uniform(1, 200)))
        for c in creators:
            cr = self.rng(f"followback:{c.username}")
            their_fans = [f for f in fans if f.username in self.follows[c.username]]
            for f in cr.sample(their_fans, min(len(their_fans), cr.randint(0, 3))):
                self.follow(c, f, self.follows[c.username][f.username]
                            + timedelta(hours=cr.uniform(2, 96)))

    # -- posts and engagement

    def posts(self, operator: Person, creators: list[Person], fans: list[Person]) -> None:
        everyone = {p.username: p for p in [operator, *creators, *fans]}
        for i, text in enumerate(data.OPERATOR_POSTS):
            at = self.start + timedelta(hours=3 + i * 150)
            key = self.new_post_key()
            self.add(at, "post", operator.username, key=key, text=text, language="zh",
                     images=[])
            self._engage(key, operator, at, everyone, rate=0.25)
        for c in creators:
            r = self.rng(f"posts:{c.username}")
            lo, hi = self.ppc
            n = r.randint(lo, min(hi, 5)) if c.role == "brand" else r.randint(lo, hi)
            span = WINDOW.total_seconds() - 1800
            times = sorted(self.start + timedelta(seconds=r.uniform(0, span)) for _ in range(n))
            used: set[str] = set()
            for at in times:
                key = self.new_post_key()
                text, lang, imgs = self._compose(r, c, used, creators)
                self.add(at, "post", c.username, key=key, text=text, language=lang, images=imgs)
                self._engage(key, c, at, everyone, rate=r.uniform(0.08, 0.3))

    def _compose(self, r: random.Random, c: Person, used: set[str],
                 creators: list[Person]) -> tuple[str, str, list[dict[str, Any]]]:
        v = data.VERTICAL_BY_KEY[r.choice(c.verticals)]
        fresh = [p for p in v.products if p.en not in used] or list(v.products)
        prod = r.choice(fresh)
        used.add(prod.en)
        reason, reason2 = r.sample(prod.zh_reasons if c.lang == "zh" else prod.en_reasons, 2)
        con = prod.zh_con if c.lang == "zh" else prod.en_con
        present = {p.username for p in creators}
        who = [m for m in c.mentions if m in present]
        if c.role == "brand":
            who = [p.username for p in creators if set(p.verticals) & set(c.verticals)
                   and p is not c and p.role != "brand"]
        price = max(9, int(prod.price * r.choice((1, 1, 0.9, 0.85, 0.8))))
        if c.lang == "zh":
            templates = data.BRAND_TEMPLATES_ZH if c.role == "brand" else data.ZH_TEMPLATES
            wtag, wtag2 = r.sample(v.weibo_tags, 2)
            text = r.choice(templates).format(product=prod.zh, reason=reason, reason2=reason2,
                                              con=con, price=price, wtag=wtag, wtag2=wtag2)
            if who and r.random() < 0.35:
                tails = data.BRAND_MENTION_TAILS if c.role == "brand" else data.ZH_MENTION_TAILS
                text += r.choice(tails).format(who=r.choice(who)).rstrip()
            if r.random() < 0.3:
                text += "\n#" + r.choice(v.latin_tags)
            name = prod.zh if images.has_cjk_font() else prod.en
        else:
            text = r.choice(data.EN_TEMPLATES).format(product=prod.en, reason=reason,
                                                      reason2=reason2, con=con, price=price,
                                                      tag=r.choice(v.latin_tags))
            if who and r.random() < 0.35:
                text += r.choice(data.EN_MENTION_TAILS).format(who=r.choice(who)).rstrip()
            name = prod.en
        imgs: list[dict[str, Any]] = []
        if self.with_images and r.random() < 0.88:
            k = r.choice((1, 1, 1, 2, 2, 3, 4))
            for j in range(k):
                imgs.append({"name": name, "price": price, "shape": prod.shape,
                             "palette": v.palette, "seed": r.getrandbits(32),
                             "wide": j > 0 and r.random() < 0.3,
                             "alt": (f"{prod.zh}产品图" if c.lang == "zh"
                                     else f"Product photo: {prod.en}")})
        return text, c.lang, imgs

    def _engage(self, key: int, author: Person, at: datetime, everyone: dict[str, Person],
                rate: float) -> None:
        r = self.rng(f"engage:{key}")
        followers = self.follows[author.username]

        def later(base: datetime, mean_hours: float) -> datetime:
            return base + timedelta(minutes=1 + r.expovariate(1 / (mean_hours * 60)))

        audience = sorted(followers)
        strangers = [u for u in everyone if u not in followers and u != author.username]
        likers = [u for u in audience if r.random() < rate]
        likers += r.sample(strangers, min(len(strangers), r.randint(0, 3)))
        for u in likers:
            self.add(later(max(at, followers.get(u, at)), 4), "like", u, key=key)
        audience = [u for u in audience if everyone[u].role != "operator"]
        for u in audience:
            p = rate / 5 if everyone[u].role == "fan" else 0.15
            if r.random() < p:
                self.add(later(max(at, followers[u]), 6), "reblog", u, key=key)
        for u in r.sample(audience, min(len(audience), r.randint(0, 4))):
            person = everyone[u]
            reply_at = self.when(u, later(max(at, followers[u]), 5))
            rkey = self.new_post_key()
            zh = (author.lang == "zh" and "zh" in person.languages) \
                or "en" not in person.languages
            if person.role == "fan":
                phrase = r.choice(data.FAN_REPLIES_ZH if zh else data.FAN_REPLIES_EN)
            else:
                phrase = r.choice(data.CREATOR_COMMENTS_ZH if zh else data.CREATOR_COMMENTS_EN)
            self.add(reply_at, "reply", u, key=rkey, parent=key,
                     text=f"@{author.username} {phrase}", language="zh" if zh else "en")
            if r.random() < 0.4:
                self.add(later(reply_at, 2), "like", author.username, key=rkey)
            if person.role == "fan" and r.random() < 0.35:
                akey = self.new_post_key()
                zh_a = author.lang == "zh"
                answer = r.choice(data.CREATOR_ANSWERS_ZH if zh_a else data.CREATOR_ANSWERS_EN)
                self.add(later(reply_at, 3), "reply", author.username, key=akey, parent=rkey,
                         text=f"@{u} {answer}", language=author.lang)

    # -- whole plan

    def build(self) -> Plan:
        operator, creators, fans = self.people()
        people = [operator, *creators, *fans]
        for p in people:
            self.joined[p.username] = p.joined
            self.add(p.joined, "register", p.username)
        self.graph(operator, creators, fans)
        self.posts(operator, creators, fans)
        self.acts.sort()
        logins: Logins = {"operator": (operator.username, DEMO_PASSWORD)}
        zh_creator = next((c for c in creators if c.role == "creator" and c.lang == "zh"), None)
        en_creator = next((c for c in creators if c.role == "creator" and c.lang == "en"), None)
        brand = next((c for c in creators if c.role == "brand"), None)
        for label, who in (("creator-zh", zh_creator), ("creator-en", en_creator),
                           ("brand", brand), ("fan", fans[0] if fans else None)):
            if who is not None:
                logins[label] = (who.username, DEMO_PASSWORD)
        return Plan(people, self.acts, logins)


def build_plan(*, creators: int, fans: int, seed: int = DEMO_SEED,
               posts_per_creator: tuple[int, int] = (3, 8), with_images: bool = True,
               now: datetime | None = None) -> Plan:
    """Draw the demo (people, follow graph, two weeks of activity) without touching storage."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    return _Planner(seed, now, creators, fans, posts_per_creator, with_images).build()


# ------------------------------------------------------------------ replay


class _TimeTravel:
    """Moves the process clock to each activity's moment; `restore` undoes every move."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def goto(self, at: datetime) -> None:
        delta = at - clock.now()
        clock.advance(delta)
        self.shift += delta

    def restore(self) -> None:
        clock.advance(-self.shift)
        self.shift = timedelta(0)


class _Replayer:
    """Runs planned activities through the domain actions in the caller's session."""

    def __init__(self, settings: Settings, plan: Plan, seed: int) -> None:
        self.settings, self.plan, self.seed = settings, plan, seed
        self.people = {p.username: p for p in plan.people}
        self.ids: dict[str, int] = {}
        self.posts: dict[int, int] = {}  # plan key -> post id
        self.fan_hash: str | None = None
        self.cjk = images.has_cjk_font()

    def run(self, s: Session, act: Activity) -> None:
        getattr(self, f"_{act.kind}")(s, act)

    def _register(self, s: Session, act: Activity) -> None:
        p = self.people[act.actor]
        kw: dict[str, Any] = dict(
            username=p.username, email=f"{p.username}@{EMAIL_DOMAIN}", role=p.role,
            display_name=p.display_name, locale="zh-CN" if p.lang == "zh" else "en",
            languages=p.languages, bio=p.bio, region=p.region)
        if p.role == "fan":
            if self.fan_hash is None:
                self.fan_hash = hash_password(DEMO_PASSWORD)
            acct = accounts.register_account_prehashed(s, password_hash=self.fan_hash, **kw)
        else:
            acct = accounts.register_account(s, password=DEMO_PASSWORD, **kw)
        self.ids[p.username] = acct.id
        r = random.Random(f"{self.seed}:avatar:{p.username}")
        palette = data.VERTICAL_BY_KEY[p.verticals[0]].palette if p.verticals else \
            r.choice(data.VERTICALS).palette
        mb, mp = self.settings.max_upload_bytes, self.settings.max_image_pixels
        changes: dict[str, str] = {}
        if p.avatar:
            initial = p.display_name.strip()[:1].upper() or p.username[:1].upper()
            raw = images.avatar_image(r, initial=initial, palette=palette, cjk=self.cjk)
            changes["avatar_key"] = media.store_profile_image(
                s, account_id=acct.id, raw=raw, kind="avatar", max_bytes=mb, max_pixels=mp)
        if p.header:
            changes["header_key"] = media.store_profile_image(
                s, account_id=acct.id, raw=images.header_image(r, palette=palette),
                kind="header", max_bytes=mb, max_pixels=mp)
        if changes:
            accounts.update_profile(s, acct, **changes)

    def _follow(self, s: Session, act: Activity) -> None:
        social.follow(s, self.ids[act.actor], self.ids[act.args["target"]])

    def _post(self, s: Session, act: Activity) -> None:
        author = self.ids[act.actor]
        media_ids = []
        for spec in act.args["images"]:
            raw = images.product_image(
                random.Random(spec["seed"]), name=spec["name"], price=spec["price"],
                shape=spec["shape"], palette=spec["palette"], handle=act.actor,
                size=(960, 720) if spec["wide"] else (720, 720), cjk=self.cjk)
            m = media.upload_image(s, account_id=author, raw=raw, description=spec["alt"],
                                   max_bytes=self.settings.max_upload_bytes,
                                   max_pixels=self.settings.max_image_pixels)
            media_ids.append(m.id)
        post = social.create_post(s, author, text=act.args["text"], media_ids=media_ids,
                                  language=act.args["language"])
        self.posts[act.args["key"]] = post.id

    def _reply(self, s: Session, act: Activity) -> None:
        parent = self.posts.get(act.args["parent"])
        if parent is not None:
            post = social.create_post(s, self.ids[act.actor], text=act.args["text"],
                                      in_reply_to_id=parent, language=act.args["language"])
            self.posts[act.args["key"]] = post.id

    def _like(self, s: Session, act: Activity) -> None:
        post = self.posts.get(act.args["key"])
        if post is not None:
            social.favourite(s, self.ids[act.actor], post)

    def _reblog(self, s: Session, act: Activity) -> None:
        post = self.posts.get(act.args["key"])
        if post is not None:
            social.reblog(s, self.ids[act.actor], post)


class _BatchPublisher:
    """Runs the durable handlers of committed events at once, in one transaction per batch.

    Equivalent to the job runner's immediate mode (every handler runs after the commit that
    produced its event, and dispatch is recorded), minus a transaction per job. The clock
    is set to each event's own time, so notifications carry the moment of the like/follow.
    """

    def __init__(self, db: Database, travel: _TimeTravel) -> None:
        self.db, self.travel = db, travel

    def __call__(self, events: list[DomainEvent]) -> None:
        if not events:
            return
        resume = clock.now()
        with unit_of_work(self.db) as s:
            rows = {r.id: r for r in s.scalars(
                select(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])))}
            for ev in events:
                row = rows.get(ev.id)
                if row is not None:
                    self.travel.goto(as_utc(row.created_at))
                for fn in handlers_for(ev.type).values():
                    fn(s, ev)
            self.travel.goto(resume)
            s.execute(update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events]))
                      .values(dispatched_at=utcnow()))


def _batches(acts: list[Activity], span: timedelta, size: int) -> list[list[Activity]]:
    out: list[list[Activity]] = []
    for a in acts:
        if out and len(out[-1]) < size and a.at - out[-1][0].at <= span:
            out[-1].append(a)
        else:
            out.append([a])
    return out


def _existing_logins(db: Database, logins: Logins) -> Logins:
    with unit_of_work(db, write=False) as s:
        out: Logins = {}
        for label, (username, pw) in logins.items():
            try:
                accounts_q.get_by_username(s, username)
            except NotFound:  # a persona missing from a smaller demo
                continue
            out[label] = (username, pw)
        return out


def seed_if_empty(settings: Settings, console: Any = None, *, creators: int | None = None,
                  fans: int | None = None, seed: int = DEMO_SEED,
                  posts_per_creator: tuple[int, int] = (3, 8),
                  with_images: bool = True) -> Logins:
    """Seed when the database has no accounts; return demo logins by persona.

    When accounts exist already nothing is written: the logins of the demo personas that
    exist are returned (empty for a database that was not seeded by the demo).
    """
    from shopwindow.jobs import runtime

    n_creators = settings.demo_creators if creators is None else creators
    n_fans = settings.demo_fans if fans is None else fans
    plan = build_plan(creators=n_creators, fans=n_fans, seed=seed,
                      posts_per_creator=posts_per_creator, with_images=with_images)
    db = Database(settings.database_url, pool_size=2)
    prev_settings, prev_db = runtime.rt.settings, runtime.rt.db
    travel = _TimeTravel()
    try:
        with unit_of_work(db, write=False) as s:
            if accounts_q.count_accounts(s) > 0:
                return _existing_logins(db, plan.logins)
        configure_storage(FileStorage(settings.data_dir / "media"))
        # Registers the durable handlers; the batch publisher then runs them synchronously.
        runtime.configure(settings.model_copy(update={"jobs_mode": "immediate"}), db)
        set_publisher(_BatchPublisher(db, travel))
        replay = _Replayer(settings, plan, seed)
        started = time.monotonic()
        with _progress(console) as progress:
            task = progress.add_task("seeding demo", total=len(plan.activities) + 1)
            for batch in _batches(plan.activities, timedelta(hours=3), 40):
                progress.update(task, description=f"seeding demo {batch[0].at:%m-%d}")
                with unit_of_work(db) as s:
                    for act in batch:
                        travel.goto(act.at)
                        replay.run(s, act)
                progress.advance(task, len(batch))
            travel.restore()
            progress.update(task, description="seeding demo: timelines")
            _ensure_home_timelines(db, list(replay.ids.values()))
            progress.advance(task)
        if console is not None:
            console.print(
                f"[green]demo seeded[/green] in {time.monotonic() - started:.1f}s: "
                f"{len(plan.people)} accounts, {plan.count('follow')} follows, "
                f"{plan.count('post')} posts, {plan.count('reply')} replies, "
                f"{plan.count('like')} likes, {plan.count('reblog')} reposts")
        return plan.logins
    finally:
        travel.restore()
        if prev_db is not None and prev_settings is not None:
            runtime.configure(prev_settings, prev_db)
        else:
            set_publisher(None)
            runtime.rt.db = None
        db.dispose()


def _ensure_home_timelines(db: Database, account_ids: list[int]) -> None:
    """Fan-out already filled home timelines; rebuild any that came out empty anyway."""
    with unit_of_work(db) as s:
        for aid in account_ids:
            if timelines.entry_count(s, aid) == 0:
                timelines.rebuild_home(s, aid)


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *_a: Any, **_k: Any) -> int:
        return 0

    def update(self, *_a: Any, **_k: Any) -> None:
        return None

    def advance(self, *_a: Any, **_k: Any) -> None:
        return None


def _progress(console: Any) -> Any:
    if console is None:
        return _NoProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)
