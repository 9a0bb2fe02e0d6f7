"""Platform API of the accounts domain (/api/sw/v1/me): RFC 9457 problem details on errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from shopwindow.accounts import actions
from shopwindow.accounts.models import Account
from shopwindow.accounts.schemas import AccountDelete, PasswordChange, ProfileRead, ProfileUpdate
from shopwindow.web.deps import DbSession, user
from shopwindow.web.errors import problem_responses

router = APIRouter(prefix="/api/sw/v1", tags=["accounts"])
ReadMe = Annotated[Account, Depends(user("read:accounts"))]
WriteMe = Annotated[Account, Depends(user("write:accounts"))]
ERRORS = problem_responses(401, 403, 422)


def _read(a: Account) -> ProfileRead:
    return ProfileRead(
        id=str(a.id), username=a.username, email=a.email, role=a.role,
        display_name=a.display_name, bio=a.bio, region=a.region, languages=a.languages,
        locale=a.locale, locked=a.locked, discoverable=a.discoverable,
        default_visibility=a.default_visibility,
        created_at=a.created_at,
    )


@router.get("/me", response_model=ProfileRead, responses=ERRORS)
def get_me(me: ReadMe) -> ProfileRead:
    """The signed-in account's profile and settings."""
    return _read(me)


@router.patch("/me", response_model=ProfileRead, responses=ERRORS)
def update_me(body: ProfileUpdate, session: DbSession, me: WriteMe) -> ProfileRead:
    """Update profile fields (only the fields sent)."""
    actions.update_profile(session, me, **body.model_dump(exclude_unset=True))
    return _read(me)


@router.post("/me/password", status_code=204, responses=ERRORS)
def change_password(body: PasswordChange, session: DbSession, me: WriteMe) -> Response:
    """Change the password; every issued token is revoked."""
    actions.change_password(session, me, body.current_password, body.new_password)
    return Response(status_code=204)


@router.post("/me/delete", status_code=204, responses=ERRORS)
def delete_me(body: AccountDelete, session: DbSession, me: WriteMe) -> Response:
    """Delete the account (password confirmation); content is purged by a job."""
    actions.delete_account(session, me, body.password)
    return Response(status_code=204)
