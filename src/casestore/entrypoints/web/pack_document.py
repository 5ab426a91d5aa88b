"""A meeting pack as one printable document: the HTML the PDF is made from (WeasyPrint).

The PDF is rendered from a template of its own, with its style inline, from the package
only: WeasyPrint is given no base URL, so it fetches nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from casestore.entrypoints.web.rendering import environment
from casestore.services.meeting_pack import Pack


def pack_html(pack: Pack, zone: ZoneInfo) -> str:
    return environment.get_template("meeting_pack_document.html").render(pack=pack, zone=zone)


def pack_pdf(pack: Pack, zone: ZoneInfo) -> bytes:
    # Imported when a PDF is asked for: it loads pango, which no other request needs.
    from weasyprint import HTML

    pdf: bytes = HTML(string=pack_html(pack, zone), url_fetcher=_fetch_nothing).write_pdf()
    return pdf


def _fetch_nothing(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"a meeting pack loads nothing from outside the package ({url})")
