"""Ability-label API (/api/sw/v1): public reads, operator corrections and examples, creators'
declared verticals. Errors are RFC 9457 problem details naming the field and the rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import NotFound
from shopwindow.interests import labels_actions as actions
from shopwindow.interests import labels_queries as queries
from shopwindow.interests.labels_schemas import (
    AccountLabelsRead,
    CorrectionRead,
    DeclaredRead,
    DeclaredUpdate,
    ExampleCreate,
    ExampleCreated,
    LabelRead,
)
from shopwindow.web.deps import DbSession, user
from shopwindow.web.errors import problem_responses

router = APIRouter(prefix="/api/sw/v1", tags=["labels"])
ERRORS = problem_responses(401, 403, 404, 422)
Writer = Annotated[Any, Depends(user("write:accounts"))]
Reader = Annotated[Any, Depends(user("read:accounts"))]


def _account_id(session: Session, raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("No such account", field="account_id", rule="exists")
    return int(accounts_q.get_account(session, int(raw)).id)


def _labels(session: Session, account_id: int) -> list[LabelRead]:
    return [LabelRead(vertical=v.vertical, name_en=v.name_en, name_zh=v.name_zh,
                      confidence=round(v.confidence, 4), source=v.source,
                      updated_at=v.updated_at)
            for v in queries.account_labels(session, account_id)]


@router.get("/accounts/{account_id}/labels", response_model=AccountLabelsRead,
            responses=ERRORS)
def account_labels(account_id: str, session: DbSession) -> AccountLabelsRead:
    """An account's ability labels (public)."""
    aid = _account_id(session, account_id)
    return AccountLabelsRead(account_id=str(aid), labels=_labels(session, aid))


@router.put("/accounts/{account_id}/labels/{vertical}", response_model=CorrectionRead,
            responses=ERRORS)
def set_label(account_id: str, vertical: str, session: DbSession,
              me: Writer) -> CorrectionRead:
    """Operator: give the account this label (wins over the model; becomes training data)."""
    actions.require_operator(session, me.id)
    aid = _account_id(session, account_id)
    added = actions.set_label(session, me.id, aid, vertical)
    return CorrectionRead(account_id=str(aid), examples_added=added,
                          labels=_labels(session, aid))


@router.delete("/accounts/{account_id}/labels/{vertical}", response_model=CorrectionRead,
               responses=ERRORS)
def remove_label(account_id: str, vertical: str, session: DbSession,
                 me: Writer) -> CorrectionRead:
    """Operator: take this label away (the model may not bring it back)."""
    actions.require_operator(session, me.id)
    aid = _account_id(session, account_id)
    actions.remove_label(session, me.id, aid, vertical)
    return CorrectionRead(account_id=str(aid), examples_added=0, labels=_labels(session, aid))


@router.post("/labels/examples", response_model=ExampleCreated, status_code=201,
             responses=ERRORS)
def add_example(body: ExampleCreate, session: DbSession, me: Writer) -> ExampleCreated:
    """Operator: add a labelled training example."""
    added = actions.add_example(session, me.id, text=body.text, vertical=body.vertical)
    return ExampleCreated(added=added > 0)


@router.get("/labels/declared", response_model=DeclaredRead, responses=ERRORS)
def my_declared(session: DbSession, me: Reader) -> DeclaredRead:
    """The verticals the signed-in creator declared."""
    return DeclaredRead(verticals=queries.declared_verticals(session, me.id))


@router.put("/labels/declared", response_model=DeclaredRead, responses=ERRORS)
def declare(body: DeclaredUpdate, session: DbSession, me: Writer) -> DeclaredRead:
    """Creators: declare what you create content about (at most three verticals)."""
    return DeclaredRead(verticals=actions.declare_verticals(session, me.id, body.verticals))
