"""Sign-in, sign-out and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casestore.entrypoints.web.rendering import render
from casestore.entrypoints.web.security import (
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    PostedForm,
    SignedIn,
    is_https,
    login_token_matches,
    new_login_token,
    services,
)
from casestore.services.clients import Unauthenticated
from casestore.services.sessions import SessionError

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/login")
def login_form(request: Request) -> Response:
    token = new_login_token()
    page = render(request, "login.html", csrf=token, error=None)
    _set_cookie(page, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return page


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    error = None
    if not login_token_matches(request, csrf):
        error = "Dit formulier is verlopen. Probeer het opnieuw."
    else:
        try:
            secret, session = services(request).sessions.start(token)
        except Unauthenticated:
            error = "Dit token is niet (meer) geldig."
        except SessionError as exc:
            error = f"Inloggen op de werkplek kan niet: {exc}."
        else:
            done = RedirectResponse(f"{PREFIX}/", status_code=303)
            max_age = int((session.expires_at - services(request).store.clock()).total_seconds())
            _set_cookie(done, request, SESSION_COOKIE, secret, max_age=max(max_age, 0))
            done.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
            return done
    fresh = new_login_token()
    page = render(request, "login.html", status_code=400, csrf=fresh, error=error)
    _set_cookie(page, request, LOGIN_CSRF_COOKIE, fresh, max_age=3600)
    return page


@router.post("/logout")
def logout(request: Request, session: PostedForm) -> Response:
    services(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    done = RedirectResponse(f"{PREFIX}/login", status_code=303)
    done.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return done


@router.get("/")
def start(request: Request, session: SignedIn) -> Response:
    zone = services(request).sealer.matrix.policy.zone
    expires = session.expires_at.astimezone(zone).strftime("%H:%M")
    return render(request, "start.html", session=session, expires=expires)


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
