"""Signing in to the web view with an API bearer token, kept in a session cookie.

The cookie holds the token itself: ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no
other site's page sends it, so a forged cross-site request carries no credentials: the view is
read-only besides signing in and out), ``Secure`` outside development, and a session cookie (no
expiry: it ends with the browser session; revoking the token ends it at once). Every page
authenticates the token again, as the API does for each request, and applies the same roles;
failed attempts count against the client address's budget (:mod:`app.admission`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.admission import (
    AuthenticationThrottled,
    StorageDep,
    client_address,
    throttle_of,
)
from app.auth import READ_ROLES
from app.settings import Environment, Settings
from ledger.access import Principal, authenticate
from ledger.ports import Storage

COOKIE = "a6ledger_session"
#: Why the sign-in page is shown again, by the code its address carries: the page shows only
#: these texts, never text taken from the address.
REASONS = {"session-ended": "the session's token is invalid or revoked"}


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page (``reason``: a
    key of :data:`REASONS`, or none for a first visit)."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        super().__init__(REASONS.get(reason or "", "sign in to see this page"))
        self.next_path = next_path
        self.reason = reason


class PageForbidden(Exception):
    """The signed-in token's role may not see the page (403)."""

    def __init__(self, principal: Principal) -> None:
        names = ", ".join(role.value for role in READ_ROLES)
        super().__init__(f"role {principal.role.value} may not read this; allowed: {names}")


def cookie_is_secure(settings: Settings) -> bool:
    """``Secure`` everywhere but development (which serves plain HTTP on 127.0.0.1)."""
    return settings.environment is not Environment.development


def login_location(next_path: str, reason: str | None = None) -> str:
    location = f"/login?next={quote(next_path, safe='/')}"
    return location if reason is None else f"{location}&reason={quote(reason)}"


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/"
    if "\\" in next_path or any(ord(c) < 0x20 for c in next_path):
        return "/"
    return next_path


def refuse_if_throttled(request: Request) -> None:
    retry_after = throttle_of(request).retry_after(client_address(request))
    if retry_after is not None:
        raise AuthenticationThrottled(retry_after)


async def sign_in(request: Request, storage: Storage, token: str) -> Principal | None:
    """The principal of ``token`` if it is valid, unrevoked and of a reading role; ``None``
    (counted as a failed attempt) otherwise."""
    refuse_if_throttled(request)
    principal = await run_in_threadpool(authenticate, storage, token.strip())
    if principal is None:
        throttle_of(request).record_failure(client_address(request))
    return principal


async def get_web_principal(request: Request, storage: StorageDep) -> Principal:
    """The session's principal; :class:`SignInRequired` without a valid session, and
    :class:`PageForbidden` for a role that may not read."""
    token = request.cookies.get(COOKIE)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise SignInRequired(path)
    principal = await sign_in(request, storage, token)
    if principal is None:
        raise SignInRequired(path, "session-ended")
    if principal.role not in READ_ROLES:
        raise PageForbidden(principal)
    request.state.actor = principal.actor
    return principal


WebReaderDep = Annotated[Principal, Depends(get_web_principal)]
