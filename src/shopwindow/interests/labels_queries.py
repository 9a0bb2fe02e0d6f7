"""Ability-label reads: an account's labels, training examples, texts to classify, the model."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.pagination import Page
from shopwindow.interests import queries as interests_q
from shopwindow.interests.labels_model import LabelModel
from shopwindow.interests.labels_models import AccountLabel, DeclaredVertical, LabelExample
from shopwindow.showcase import queries as showcase_q
from shopwindow.social import queries as social_q

MODEL_FILE = "labels/model.npz"
POSTS_PER_ACCOUNT = 40
RECS_PER_ACCOUNT = 20
RECENT_POST_PAGES = 10
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class LabelView:
    """One ability label as shown: slug, names, confidence, who set it."""

    vertical: str
    name_en: str
    name_zh: str
    confidence: float
    source: str
    removed: bool
    updated_at: datetime


def vertical_names(session: Session) -> dict[str, tuple[str, str]]:
    """Active verticals: slug → (English name, Chinese name), in the operator's order."""
    return {v.slug: (v.name_en, v.name_zh) for v in interests_q.list_verticals(session)}


def account_labels(session: Session, account_id: int, *,
                   include_removed: bool = False) -> list[LabelView]:
    """An account's labels on active verticals: operator-set first, then by confidence."""
    names = vertical_names(session)
    rows = session.scalars(select(AccountLabel).where(AccountLabel.account_id == account_id))
    out = [LabelView(r.vertical, *names[r.vertical], float(r.confidence), r.source,
                     bool(r.removed), r.updated_at)
           for r in rows if r.vertical in names and (include_removed or not r.removed)]
    return sorted(out, key=lambda v: (v.removed, v.source != "operator", -v.confidence,
                                      v.vertical))


def declared_verticals(session: Session, account_id: int) -> list[str]:
    """The verticals a creator declared, alphabetically."""
    return sorted(session.scalars(select(DeclaredVertical.vertical)
                                  .where(DeclaredVertical.account_id == account_id)))


def declared_accounts(session: Session) -> dict[int, list[str]]:
    """Every creator with declared verticals → their verticals."""
    out: dict[int, list[str]] = {}
    for acct, vertical in session.execute(select(DeclaredVertical.account_id,
                                                 DeclaredVertical.vertical)):
        out.setdefault(int(acct), []).append(vertical)
    return out


def list_examples(session: Session, *, account_id: int | None = None,
                  source: str | None = None, limit: int = 200) -> list[LabelExample]:
    """Training examples, newest first, optionally of one account or one source."""
    stmt = select(LabelExample).order_by(LabelExample.id.desc()).limit(limit)
    if account_id is not None:
        stmt = stmt.where(LabelExample.account_id == account_id)
    if source is not None:
        stmt = stmt.where(LabelExample.source == source)
    return list(session.scalars(stmt))


def training_rows(session: Session) -> list[tuple[str, str, str]]:
    """(text, vertical, source) of every stored example."""
    return [(t, v, s) for t, v, s in session.execute(
        select(LabelExample.text, LabelExample.vertical, LabelExample.source)
        .order_by(LabelExample.id))]


def _clean(text: str) -> str:
    return " ".join(_URL.sub(" ", text).split())


def account_texts(session: Session, account_id: int) -> list[str]:
    """Recent public texts of an account: its posts and its recommendations (title, reason,
    product title and category)."""
    texts = [p.text for p in social_q.account_posts(
        session, account_id, None, Page(limit=POSTS_PER_ACCOUNT), exclude_reblogs=True)]
    for v in showcase_q.recommendations_of_creator(session, account_id, limit=RECS_PER_ACCOUNT):
        texts.append(" ".join(x for x in (v.rec.title, v.rec.reason, v.product.title,
                                          v.product.category or "") if x))
    return [t for t in (_clean(x) for x in texts) if t]


def _recent_posters(session: Session) -> set[int]:
    """Authors of the newest public posts (bounded scan)."""
    ids: set[int] = set()
    max_id: int | None = None
    for _ in range(RECENT_POST_PAGES):
        posts = social_q.public_timeline(session, None, Page(max_id=max_id, limit=200))
        ids |= {p.account_id for p in posts}
        if len(posts) < 200:
            break
        max_id = min(p.id for p in posts)
    return ids


def accounts_to_label(session: Session) -> list[int]:
    """Creators and brands worth labelling: recent public posters, those with public
    recommendations, declared verticals, or labels already (to refresh them)."""
    ids = {c for entry in showcase_q.catalogue(session) for c in entry.creator_ids}
    ids |= {a.id for a in accounts_q.accounts_by_ids(session, _recent_posters(session)).values()
            if a.role in ("creator", "brand")}
    ids |= set(declared_accounts(session))
    ids |= {int(a) for a in session.scalars(select(AccountLabel.account_id).distinct())}
    return sorted(ids)


def model_path(data_dir: Path) -> Path:
    """Where the trained artefact lives under DATA_DIR."""
    return Path(data_dir) / MODEL_FILE


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[int, LabelModel]] = {}


def load_model(data_dir: Path) -> LabelModel | None:
    """The current model (reloaded when the file changes), or None before the first training."""
    path = model_path(data_dir)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    with _cache_lock:
        hit = _cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
    model = LabelModel.load(path)
    with _cache_lock:
        _cache[path] = (mtime, model)
    return model
