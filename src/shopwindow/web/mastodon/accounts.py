"""Accounts: registration, credentials, profiles, graph actions, relationships, search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts import rules as account_rules
from shopwindow.accounts.models import Account
from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.media import actions as media
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.social import rules as social_rules
from shopwindow.web.deps import AppSettings, DbSession, RequiredAuth, client_ip
from shopwindow.web.mastodon.common import (
    AccountPage,
    BodySizeChecked,
    Params,
    ReadAccounts,
    ReadBlocks,
    ReadFollows,
    ReadMutes,
    StatusPage,
    ViewerAccounts,
    ViewerStatuses,
    WriteAccounts,
    WriteBlocks,
    WriteFollows,
    WriteMutes,
    as_bool,
    as_id,
    as_str,
    as_str_list,
    parse_path_id,
    query_list,
    read_upload,
    set_link_header,
    viewer_id,
)
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: accounts"])


@router.post("/api/v1/accounts")
def register(request: Request, session: DbSession, settings: AppSettings, auth: RequiredAuth,
             p: Params) -> dict[str, Any]:
    """Register with an app token; returns a user token (no e-mail confirmation by default)."""
    if not account_rules.scopes_allow(auth.scopes, "write:accounts"):
        raise Forbidden("This action is outside the token's scope (write:accounts)",
                        field="scope", rule="requires:write:accounts")
    if not settings.registrations_open:
        raise Forbidden("Registrations are closed", field="base", rule="registrations_closed")
    request.app.state.rate_limits.hit(settings.signup_rate_limit, "signup", client_ip(request))
    if not as_bool(p.get("agreement"), "agreement"):
        raise Invalid("You must agree to the server rules", field="agreement", rule="accepted")
    acct = accounts.register_account(
        session, username=as_str(p.get("username"), "username"),
        email=as_str(p.get("email"), "email"), password=as_str(p.get("password"), "password"),
        locale=as_str(p.get("locale"), "locale", "en") or "en",
        confirmed=not settings.registration_requires_confirmation,
    )
    tok = accounts.token_for_account(session, app_id=auth.app_id, account=acct,
                                     scopes=" ".join(auth.scopes))
    return {"access_token": tok.access_token, "token_type": "Bearer",
            "scope": tok.token.scopes, "created_at": int(tok.token.created_at.timestamp())}


@router.get("/api/v1/accounts/verify_credentials")
def verify_credentials(session: DbSession, settings: AppSettings,
                       me: ReadAccounts) -> dict[str, Any]:
    """The caller's own account with `source` (a CredentialAccount)."""
    return Serializer(session, settings, me.id).account(me, source=True)


def _source_value(p: dict[str, Any], name: str) -> Any:
    """source[name] from a form body, or source.name from a JSON body."""
    if f"source[{name}]" in p:
        return p[f"source[{name}]"]
    src = p.get("source")
    return src.get(name) if isinstance(src, dict) else None


@router.patch("/api/v1/accounts/update_credentials", dependencies=[BodySizeChecked])
def update_credentials(session: DbSession, settings: AppSettings, me: WriteAccounts,
                       p: Params) -> dict[str, Any]:
    """Update the caller's own profile (multipart avatar/header images accepted)."""
    changes: dict[str, Any] = {}
    if "display_name" in p:
        changes["display_name"] = as_str(p["display_name"], "display_name").strip()
    if "note" in p:
        changes["bio"] = as_str(p["note"], "note")
    for flag in ("locked", "bot", "discoverable"):
        if flag in p:
            changes[flag] = as_bool(p[flag], flag)
    privacy = _source_value(p, "privacy")
    if privacy not in (None, ""):
        privacy = as_str(privacy, "source[privacy]")
        if privacy not in social_rules.VISIBILITIES:
            raise Invalid("source[privacy] must be public, unlisted or private",
                          field="source[privacy]", rule="enum:public,unlisted,private")
        changes["default_visibility"] = privacy
    if "region" in p:
        changes["region"] = as_str(p["region"], "region").strip()
    languages: list[str] | None = None
    if "languages" in p:
        languages = [x.strip() for x in as_str_list(p["languages"], "languages") if x.strip()]
    language = _source_value(p, "language")
    if language not in (None, ""):
        language = as_str(language, "source[language]").strip()
        if not (2 <= len(language) <= 8) or not language.replace("-", "").isalpha():
            raise Invalid("source[language] must be an ISO 639 language code",
                          field="source[language]", rule="iso639")
        # The default posting language is the first of the account's languages.
        rest = languages if languages is not None else list(me.languages or [])
        languages = [language, *[x for x in rest if x != language]]
    if languages is not None:
        changes["languages"] = languages
    for kind in ("avatar", "header"):
        raw = read_upload(p.get(kind), kind, settings.max_upload_bytes, required=False)
        if raw is not None:
            changes[f"{kind}_key"] = media.store_profile_image(
                session, account_id=me.id, raw=raw, kind=kind,
                max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels,
                replaces=getattr(me, f"{kind}_key"))
    accounts.update_profile(session, me, **changes)
    return Serializer(session, settings, me.id).account(me, source=True)


@router.get("/api/v1/accounts/relationships")
def relationships(request: Request, session: DbSession, settings: AppSettings,
                  me: ReadFollows) -> list[dict[str, Any]]:
    """Relationships with each existing account in id[] (unknown ids are left out)."""
    ids: list[int] = []
    for raw in query_list(request, "id")[:80]:
        try:
            ids.append(as_id(raw, "id"))
        except Invalid:
            continue
    found = accounts_q.accounts_by_ids(session, ids)
    wanted = [i for i in dict.fromkeys(ids) if i in found and found[i].deleted_at is None]
    return Serializer(session, settings, me.id).relationships(wanted)


@router.get("/api/v1/accounts/lookup")
def lookup(session: DbSession, settings: AppSettings, me: ViewerAccounts,
           acct: str = Query(..., max_length=300)) -> dict[str, Any]:
    """Account by username (`user` or `user@this-domain`)."""
    username, _, domain = acct.strip().lstrip("@").partition("@")
    host = settings.base_url.split("://", 1)[-1].rstrip("/")
    if domain and domain.lower() not in (host.lower(), host.split(":")[0].lower()):
        raise NotFound("Record not found", field="acct", rule="exists")
    if not account_rules.USERNAME_RE.match(username):
        raise NotFound("Record not found", field="acct", rule="exists")
    return Serializer(session, settings, viewer_id(me)).account(
        accounts_q.get_by_username(session, username))


@router.get("/api/v1/accounts/search")
def search(session: DbSession, settings: AppSettings, me: ReadAccounts,
           q: str = Query(..., max_length=300), limit: int = 40, offset: int = 0,
           resolve: bool = False, following: bool = False) -> list[dict[str, Any]]:
    """Prefix search on username and display name (local accounts only)."""
    limit = max(1, min(limit, 80))
    offset = max(0, min(offset, 1000))
    found = accounts_q.search_accounts(session, q, limit=limit + offset if not following
                                       else 500)
    ids = [a.id for a in found]
    if following:
        rels = social_q.relationships(session, me.id, ids)
        ids = [r.id for r in rels if r.following]
    hidden = social_q.hidden_authors(session, me.id)
    ids = [i for i in ids if i not in hidden]
    return Serializer(session, settings, me.id).account_list(ids[offset:offset + limit])


def _account(session: Any, raw_id: str) -> Account:
    try:
        return accounts_q.get_account(session, parse_path_id(raw_id))
    except NotFound as exc:
        raise NotFound("Record not found", field="id", rule="exists") from exc


@router.get("/api/v1/accounts/{id}")
def get_account(id: str, session: DbSession, settings: AppSettings,
                me: ViewerAccounts) -> dict[str, Any]:
    return Serializer(session, settings, viewer_id(me)).account(_account(session, id))


@router.get("/api/v1/accounts/{id}/statuses")
def account_statuses(
    id: str, request: Request, response: Response, session: DbSession, settings: AppSettings,
    me: ViewerStatuses, page: StatusPage, exclude_replies: bool = False,
    exclude_reblogs: bool = False, only_media: bool = False, pinned: bool = False,
    tagged: str | None = Query(None, max_length=100),
) -> list[dict[str, Any]]:
    """An account's statuses visible to the caller, newest first."""
    acct = _account(session, id)
    if pinned:
        return []  # pinning is not supported: nothing is pinned
    vid = viewer_id(me)
    posts = social_q.account_posts(session, acct.id, vid, page,
                                   exclude_replies=exclude_replies,
                                   exclude_reblogs=exclude_reblogs, only_media=only_media,
                                   tagged=tagged or None)
    set_link_header(request, response, [p.id for p in posts])
    return Serializer(session, settings, vid).statuses(posts)


@router.get("/api/v1/accounts/{id}/followers")
def followers(id: str, request: Request, response: Response, session: DbSession,
              settings: AppSettings, me: ViewerAccounts,
              page: AccountPage) -> list[dict[str, Any]]:
    """Followers, newest follow first; paged by the follow's id."""
    acct = _account(session, id)
    rows = social_q.followers(session, acct.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, viewer_id(me)).account_list([r[1] for r in rows])


@router.get("/api/v1/accounts/{id}/following")
def following(id: str, request: Request, response: Response, session: DbSession,
              settings: AppSettings, me: ViewerAccounts,
              page: AccountPage) -> list[dict[str, Any]]:
    """Accounts followed, newest follow first; paged by the follow's id."""
    acct = _account(session, id)
    rows = social_q.following(session, acct.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, viewer_id(me)).account_list([r[1] for r in rows])


@router.get("/api/v1/accounts/{id}/featured_tags")
def account_featured_tags(id: str, session: DbSession,
                          me: ViewerAccounts) -> list[dict[str, Any]]:
    """Featured hashtags are not supported: always empty for an existing account."""
    _account(session, id)
    return []


def _relationship(session: Any, settings: Any, me: Account, target_id: int) -> dict[str, Any]:
    return Serializer(session, settings, me.id).relationship(target_id)


@router.post("/api/v1/accounts/{id}/follow")
def follow(id: str, session: DbSession, settings: AppSettings, me: WriteFollows,
           p: Params) -> dict[str, Any]:
    """Follow (accounts are followed directly: there are no follow requests)."""
    as_bool(p.get("reblogs"), "reblogs", True)
    as_bool(p.get("notify"), "notify", False)
    target = _account(session, id).id
    social.follow(session, me.id, target)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/unfollow")
def unfollow(id: str, session: DbSession, settings: AppSettings,
             me: WriteFollows) -> dict[str, Any]:
    target = _account(session, id).id
    social.unfollow(session, me.id, target)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/remove_from_followers")
def remove_from_followers(id: str, session: DbSession, settings: AppSettings,
                          me: WriteFollows) -> dict[str, Any]:
    target = _account(session, id).id
    social.remove_follower(session, me.id, target)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/block")
def block(id: str, session: DbSession, settings: AppSettings,
          me: WriteBlocks) -> dict[str, Any]:
    target = _account(session, id).id
    social.block(session, me.id, target)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/unblock")
def unblock(id: str, session: DbSession, settings: AppSettings,
            me: WriteBlocks) -> dict[str, Any]:
    target = _account(session, id).id
    social.unblock(session, me.id, target)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/mute")
def mute(id: str, session: DbSession, settings: AppSettings, me: WriteMutes,
         p: Params) -> dict[str, Any]:
    """Mute; `notifications` (default true) also mutes their notifications."""
    notifications = as_bool(p.get("notifications"), "notifications", True)
    duration = p.get("duration")
    if duration not in (None, "", 0, "0"):
        # Timed mutes would need an expiry we do not store: say so rather than mute forever.
        raise Invalid("Timed mutes are not supported; omit duration or send 0",
                      field="duration", rule="unsupported")
    target = _account(session, id).id
    social.mute(session, me.id, target, notifications=notifications)
    return _relationship(session, settings, me, target)


@router.post("/api/v1/accounts/{id}/unmute")
def unmute(id: str, session: DbSession, settings: AppSettings,
           me: WriteMutes) -> dict[str, Any]:
    target = _account(session, id).id
    social.unmute(session, me.id, target)
    return _relationship(session, settings, me, target)


# ------------------------------------------------------------------ own lists


@router.get("/api/v1/blocks")
def blocks(request: Request, response: Response, session: DbSession, settings: AppSettings,
           me: ReadBlocks, page: AccountPage) -> list[dict[str, Any]]:
    """Accounts the caller blocks; paged by the block's id."""
    rows = social_q.blocks(session, me.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, me.id).account_list([r[1] for r in rows])


@router.get("/api/v1/mutes")
def mutes(request: Request, response: Response, session: DbSession, settings: AppSettings,
          me: ReadMutes, page: AccountPage) -> list[dict[str, Any]]:
    """Accounts the caller mutes; paged by the mute's id."""
    rows = social_q.mutes(session, me.id, page)
    set_link_header(request, response, [r[0] for r in rows])
    return Serializer(session, settings, me.id).account_list([r[1] for r in rows])


@router.get("/api/v1/follow_requests")
def follow_requests(me: ReadFollows) -> list[dict[str, Any]]:
    """Follow requests do not exist here (follows take effect at once): always empty."""
    return []

