"""Test helpers that go through the real actions (no storage mocks)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from shopwindow.accounts import actions as accounts


def make_account(uow: Any, username: str, role: str = "fan", **kw: Any) -> int:
    with uow() as s:
        a = accounts.register_account(s, username=username, email=f"{username}@example.com",
                                      password="correct horse battery", role=role, **kw)
        return a.id


def png_bytes(w: int = 64, h: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_exif(w: int = 80, h: int = 60) -> bytes:
    img = Image.new("RGB", (w, h), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {2: (51, 30, 0)}  # GPS info
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def token_for(uow: Any, account_id: int, scopes: str = "read write follow") -> str:
    from shopwindow.accounts import queries

    with uow() as s:
        acct = queries.get_account(s, account_id)
        new = accounts.create_app(s, name="test", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                  scopes="read write follow push")
        return accounts.token_for_account(s, app_id=new.app.id, account=acct,
                                          scopes=scopes).access_token
