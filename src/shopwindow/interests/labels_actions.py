"""Ability-label writes: operator examples and corrections, declared verticals, training
data, and storing the model's labels for an account. May flush, never commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Forbidden, Invalid, RuleViolation
from shopwindow.core.ids import new_id
from shopwindow.db.upsert import insert_ignore
from shopwindow.interests import labels_queries as q
from shopwindow.interests.labels_model import LabelModel, ModelParams, fit
from shopwindow.interests.labels_models import AccountLabel, DeclaredVertical, LabelExample
from shopwindow.interests.labels_seed import MIN_EXAMPLES, SEED
from shopwindow.outbox import emit

MAX_TEXT = 2000
MAX_DECLARED = 3
TOP_K = 3
MIN_CONFIDENCE = 0.35
CORRECTION_TEXTS = 20
DECLARED_TEXTS = 20
PUBLISHER_ROLES = ("creator", "brand", "operator")


def require_operator(session: Session, actor_id: int) -> None:
    """Only operators correct labels or add examples (Forbidden, field `role`)."""
    if accounts_q.get_account(session, actor_id).role != "operator":
        raise Forbidden("Only operators may change ability labels", field="role",
                        rule="role:operator")


def check_vertical(session: Session, slug: str, field_name: str = "vertical") -> str:
    """A known, active vertical slug (Invalid naming the field otherwise)."""
    value = (slug or "").strip().lower()
    if value not in q.vertical_names(session):
        raise Invalid("Choose one of the verticals", field=field_name, rule="known_vertical")
    return value


def _check_text(text: str) -> str:
    value = " ".join((text or "").split())
    if not value:
        raise Invalid("Enter the example text", field="text", rule="required")
    if len(value) > MAX_TEXT:
        raise Invalid("Examples are at most 2000 characters", field="text",
                      rule=f"max_length:{MAX_TEXT}")
    return value


def _examples(session: Session, texts: Iterable[str], vertical: str, source: str,
              account_id: int | None, actor_id: int | None) -> int:
    """Insert examples that are not stored yet for this (account, vertical, source)."""
    have = set(session.scalars(select(LabelExample.text).where(
        LabelExample.account_id == account_id if account_id is not None
        else LabelExample.account_id.is_(None),
        LabelExample.vertical == vertical, LabelExample.source == source)))
    now = utcnow()
    added = 0
    for text in dict.fromkeys(t[:MAX_TEXT] for t in texts if t.strip()):
        if text not in have:
            session.add(LabelExample(id=new_id(), text=text, vertical=vertical, source=source,
                                     account_id=account_id, created_by=actor_id,
                                     created_at=now))
            added += 1
    session.flush()
    return added


def add_example(session: Session, actor_id: int, *, text: str, vertical: str) -> int:
    """An operator-written example; returns how many rows were added (0 if a duplicate)."""
    require_operator(session, actor_id)
    return _examples(session, [_check_text(text)], check_vertical(session, vertical),
                     "operator", None, actor_id)


def _upsert_label(session: Session, account_id: int, vertical: str, **values: Any) -> None:
    now = utcnow()
    insert_ignore(session, AccountLabel.__table__, [dict(
        account_id=account_id, vertical=vertical, confidence=0.0, source="operator",
        removed=False, updated_by=None, updated_at=now)])
    session.execute(update(AccountLabel).where(AccountLabel.account_id == account_id,
                                               AccountLabel.vertical == vertical)
                    .values(updated_at=now, **values))
    session.expire_all()


def set_label(session: Session, actor_id: int, account_id: int, vertical: str) -> int:
    """An operator gives an account a label: it wins over the model, and the account's recent
    texts become training examples of that vertical. Returns the examples added."""
    require_operator(session, actor_id)
    slug = check_vertical(session, vertical)
    accounts_q.get_account(session, account_id)
    _upsert_label(session, account_id, slug, confidence=1.0, source="operator", removed=False,
                  updated_by=actor_id)
    added = _examples(session, q.account_texts(session, account_id)[:CORRECTION_TEXTS], slug,
                      "correction", account_id, actor_id)
    emit(session, "interests.label_corrected", account_id=account_id, vertical=slug,
         action="set", actor_id=actor_id)
    return added


def remove_label(session: Session, actor_id: int, account_id: int, vertical: str) -> None:
    """An operator takes a label away: hidden, the model may not bring it back, and earlier
    corrections of this account to this vertical stop being training data."""
    require_operator(session, actor_id)
    slug = check_vertical(session, vertical)
    accounts_q.get_account(session, account_id)
    _upsert_label(session, account_id, slug, source="operator", removed=True,
                  updated_by=actor_id)
    session.execute(delete(LabelExample).where(
        LabelExample.account_id == account_id, LabelExample.vertical == slug,
        LabelExample.source == "correction"))
    emit(session, "interests.label_corrected", account_id=account_id, vertical=slug,
         action="remove", actor_id=actor_id)


def declare_verticals(session: Session, account_id: int, slugs: Iterable[str]) -> list[str]:
    """A creator states what they create content about (at most three verticals)."""
    if accounts_q.get_account(session, account_id).role not in PUBLISHER_ROLES:
        raise Forbidden("Only creators and brands declare verticals", field="role",
                        rule="role:creator|brand")
    chosen = list(dict.fromkeys(check_vertical(session, s, "verticals") for s in slugs))
    if len(chosen) > MAX_DECLARED:
        raise Invalid("Choose at most 3 verticals", field="verticals",
                      rule=f"max_items:{MAX_DECLARED}")
    session.execute(delete(DeclaredVertical).where(DeclaredVertical.account_id == account_id))
    now = utcnow()
    session.add_all([DeclaredVertical(account_id=account_id, vertical=s, created_at=now)
                     for s in chosen])
    session.flush()
    return sorted(chosen)


def refresh_declared_examples(session: Session) -> int:
    """Re-derive `declared` examples: the recent texts of each creator who declared exactly
    one vertical (with several, a text's vertical is unknown, so they add none)."""
    session.execute(delete(LabelExample).where(LabelExample.source == "declared"))
    added = 0
    for account_id, verticals in q.declared_accounts(session).items():
        if len(verticals) == 1:
            texts = q.account_texts(session, account_id)[:DECLARED_TEXTS]
            added += _examples(session, texts, verticals[0], "declared", account_id, None)
    return added


@dataclass(slots=True)
class TrainingSet:
    """Texts and labels to fit, and where they came from."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    by_source: dict[str, int] = field(default_factory=dict)
    seeded: list[str] = field(default_factory=list)


def training_set(session: Session) -> TrainingSet:
    """Stored examples on active verticals, topped up with the seed vocabulary for verticals
    that have fewer than MIN_EXAMPLES of them (bootstrapping)."""
    active = q.vertical_names(session)
    out = TrainingSet()
    sources: Counter[str] = Counter()
    for text, vertical, source in q.training_rows(session):
        if vertical in active:
            out.texts.append(text)
            out.labels.append(vertical)
            sources[source] += 1
    per = Counter(out.labels)
    for slug in active:
        if per[slug] < MIN_EXAMPLES and slug in SEED:
            out.texts += SEED[slug]
            out.labels += [slug] * len(SEED[slug])
            sources["seed"] += len(SEED[slug])
            out.seeded.append(slug)
    out.by_source = dict(sources)
    return out


def train(data: TrainingSet, data_dir: Path, params: ModelParams | None = None) -> dict[str, Any]:
    """Fit on a training set and write the artefact under DATA_DIR; returns its info."""
    if len(set(data.labels)) < 2:
        raise RuleViolation("Training needs examples of at least two verticals",
                            field="examples", rule="min_labels:2")
    model, info = fit(data.texts, data.labels, params)
    meta = {"version": int(utcnow().timestamp() * 1000), "trained_at": utcnow().isoformat(),
            "rows": info.rows, "classes": info.classes, "features": info.features,
            "calibrated": info.calibrated, "by_source": data.by_source, "seeded": data.seeded}
    model.save(q.model_path(data_dir), meta)
    return meta


def label_account(session: Session, account_id: int, model: LabelModel) -> list[tuple[str, float]]:
    """Classify an account's recent texts and store its top labels (mean confidence over the
    texts, at least MIN_CONFIDENCE, at most TOP_K). Operator-set or removed verticals are
    left alone: corrections win over the model."""
    active = q.vertical_names(session)
    texts = q.account_texts(session, account_id)
    operator = set(session.scalars(select(AccountLabel.vertical).where(
        AccountLabel.account_id == account_id, AccountLabel.source == "operator")))
    top: list[tuple[str, float]] = []
    if texts:
        mean = np.asarray(model.confidences(texts)).mean(axis=0)
        ranked = sorted(((model.classes[i], float(c)) for i, c in enumerate(mean)),
                        key=lambda x: -x[1])
        top = [(s, c) for s, c in ranked
               if s in active and s not in operator and c >= MIN_CONFIDENCE][:TOP_K]
    session.execute(delete(AccountLabel).where(AccountLabel.account_id == account_id,
                                               AccountLabel.source == "model"))
    now = utcnow()
    insert_ignore(session, AccountLabel.__table__, [dict(
        account_id=account_id, vertical=s, confidence=round(c, 4), source="model",
        removed=False, updated_by=None, updated_at=now) for s, c in top])
    session.expire_all()
    return top
