"""Templates and static files, served from the package so a page needs no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).parent
STATIC = StaticFiles(directory=HERE / "static")

environment = Environment(
    loader=PackageLoader("casestore.entrypoints.web", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,  # a misspelt variable fails the render, never prints ""
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page; `session` (when signed in) and the request are always in its context."""
    context.setdefault("session", None)
    body = environment.get_template(template).render(request=request, **context)
    return HTMLResponse(body, status_code=status_code)
