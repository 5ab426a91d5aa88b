"""What every page needs to be safe: strict headers, a session, and CSRF tokens on forms.

The content security policy allows this origin's style sheet and images and nothing else:
no script at all, no frames, forms posting back only here. A token pasted into the
sign-in form is exchanged for a session cookie (HttpOnly, SameSite=Strict, path /ui,
Secure over https), so no page script could read it even if one ran. The sign-in form
itself is protected by a double-submit cookie, since there is no session yet.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Form, Request
from nacl.utils import random
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casestore.bootstrap import Services
from casestore.services.sessions import NoSession, Session, SessionError
from sharing.canonical import b64encode

PREFIX = "/ui"
SESSION_COOKIE = "casestore_session"
LOGIN_CSRF_COOKIE = "casestore_signin"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class PageHeaders:
    """Adds the page headers to every response under /ui (the API keeps its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""


class FormExpired(Exception):
    """A form came back without the CSRF token of its session."""


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def session_of(request: Request) -> Session:
    try:
        return services(request).sessions.resume(request.cookies.get(SESSION_COOKIE))
    except NoSession:
        raise SignInRequired() from None


def checked_session(request: Request, csrf: Annotated[str | None, Form()] = None) -> Session:
    """The session of a posted form, after its CSRF token is checked."""
    session = session_of(request)
    try:
        services(request).sessions.check_csrf(session, csrf)
    except SessionError:
        raise FormExpired() from None
    return session


def new_login_token() -> str:
    return b64encode(random(24))


def login_token_matches(request: Request, given: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected and given and hmac.compare_digest(expected, given))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


SignedIn = Annotated[Session, Depends(session_of)]
PostedForm = Annotated[Session, Depends(checked_session)]
