"""The web pages for privacy officers, coordinators and auditors, rendered on the server.

security.py   headers on every page (a content security policy with no third-party origin),
              the signed-in session and the CSRF check on every form
rendering.py  the Jinja2 environment: templates and static files from this package only
pages.py      sign-in, sign-out and the start page; feature pages add routers of their own
policy_pages.py  the privacy officers' workspace: access matrix, proposals, versions, uitleg
worklist_pages.py  the coordinators' worklist and casusoverleggen (packs, PDF, minutes)
pack_document.py   a meeting pack as the printable document its PDF is made from
audit_pages.py   the data-subject report (AVG art. 15) as a printable page
timeline_page.py the coordinators' printable case overview at a moment (chart, plan, entries)
templates/    the HTML (Dutch labels for domain terms), static/ the style sheet (screen and print)

No page loads anything from another origin and no page runs script: forms post back.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from casestore.entrypoints.web import (
    audit_pages,
    pages,
    policy_pages,
    timeline_page,
    worklist_pages,
)
from casestore.entrypoints.web.rendering import STATIC, render
from casestore.entrypoints.web.security import PREFIX, FormExpired, PageHeaders, SignInRequired


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and their error pages on the API's app."""
    app.add_middleware(PageHeaders)
    app.mount(f"{PREFIX}/static", STATIC, name="static")
    app.include_router(pages.router)
    app.include_router(policy_pages.router)
    app.include_router(worklist_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(timeline_page.router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(FormExpired, _expired)


async def _sign_in(request: Request, exc: Exception) -> Response:
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


async def _expired(request: Request, exc: Exception) -> Response:
    message = "Dit formulier hoort niet (meer) bij uw sessie. Open de pagina opnieuw."
    return render(request, "error.html", 403, title="Formulier verlopen", message=message)
