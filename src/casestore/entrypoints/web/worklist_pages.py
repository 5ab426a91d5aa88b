"""The coordinators' pages: the worklist, and casusoverleggen with their packs and minutes.

Every page calls the same services as the API (casestore.services.worklist and
meeting_pack), so who sees which case, what a pack holds and what is audited are the same
here as there. A case on the worklist links to its timeline.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casestore.domain import errors
from casestore.domain.events.fields import OverlegSoort
from casestore.domain.worklist import LABELS, Signal
from casestore.entrypoints.web.pack_document import pack_pdf
from casestore.entrypoints.web.rendering import render
from casestore.entrypoints.web.security import PREFIX, PostedForm, SignedIn, services
from casestore.services.clients import ClientRole
from casestore.services.meeting_pack import MeetingError, Pack
from casestore.services.sessions import Session
from casestore.services.worklist import SORTS, Query

router = APIRouter(prefix=PREFIX, include_in_schema=False)

COLUMNS = [
    ("casus", "Casus"),
    ("niveau", "Niveau"),
    ("signalering", "Laatste signalering"),
    ("plan", "Leeftijd plan (dagen)"),
    ("monitoring", "Dagen sinds monitoring"),
    ("aangemeld", "Aangemeld"),
    ("aandacht", "Aantal signalen"),
]
Text = Annotated[str, Form(max_length=4000)]


def _refused(request: Request, session: Session) -> Response | None:
    if session.client.role is ClientRole.coordinator:
        return None
    message = "De werklijst en het casusoverleg zijn voor casus- en procesregisseurs."
    return render(request, "error.html", 403, session=session, title="Geen toegang",
                  message=message)  # fmt: skip


@router.get("/worklist")
def worklist(
    request: Request,
    session: SignedIn,
    search: str = "",
    signal: str = "",
    level: str = "",
    sort: str = "aandacht",
    order: str = "desc",
) -> Response:
    refused = _refused(request, session)
    if refused is not None:
        return refused
    chosen = Query(
        search=search[:64] or None,
        signal=Signal(signal) if signal in {s.value for s in Signal} else None,
        level=int(level) if level in {"1", "2", "3", "4"} else None,
        sort=sort if sort in SORTS else "aandacht",
        descending=order != "asc",
    )
    found = services(request)
    rows = found.worklist.for_client(session.client, chosen)

    def sort_link(key: str) -> str:
        flip = chosen.sort == key and chosen.descending
        params = {"search": search, "signal": signal, "level": level, "sort": key}
        return f"{PREFIX}/worklist?" + urlencode({**params, "order": "asc" if flip else "desc"})

    return render(
        request,
        "worklist.html",
        session=session,
        rows=rows,
        chosen=chosen,
        columns=COLUMNS,
        sorts=SORTS,
        signals=[(s, LABELS[s]) for s in Signal],
        sort_link=sort_link,
        now=found.store.clock(),
        zone=found.sealer.matrix.policy.zone,
        error=None,
    )


# ---- meetings ---------------------------------------------------------------------------------


@router.get("/meetings")
def meetings(request: Request, session: SignedIn) -> Response:
    refused = _refused(request, session)
    if refused is not None:
        return refused
    return _meetings_page(request, session, None, _empty_form(request))


def _empty_form(request: Request) -> dict[str, Any]:
    today = services(request).store.clock().date().isoformat()
    return {"title": "", "soort": "levenslooptafel", "held_on": today, "attendees": [], "cases": ""}


def _meetings_page(
    request: Request,
    session: Session,
    error: str | None,
    form: dict[str, Any],
    status_code: int = 200,
) -> Response:
    found = services(request)
    return render(
        request,
        "meetings.html",
        status_code=status_code,
        session=session,
        meetings=found.meetings.meetings(session.client),
        organisations=sorted(found.sealer.matrix.organisations),
        soorten=[s.value for s in OverlegSoort],
        form=form,
        error=error,
    )


@router.post("/meetings")
def plan_meeting(
    request: Request,
    session: PostedForm,
    title: Text = "",
    soort: Text = "",
    held_on: Text = "",
    cases: Text = "",
    attendees: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    refused = _refused(request, session)
    if refused is not None:
        return refused
    form = {
        "title": title,
        "soort": soort,
        "held_on": held_on,
        "attendees": attendees or [],
        "cases": cases,
    }
    try:
        day = date.fromisoformat(held_on)
        row = services(request).meetings.plan(
            session.client,
            soort=soort,
            held_on=day,
            title=title,
            attendees=attendees or [],
            cases=[line.strip() for line in cases.splitlines() if line.strip()],
        )
    except ValueError:
        return _meetings_page(request, session, "Vul een geldige datum in.", form, 422)
    except MeetingError as exc:
        return _meetings_page(request, session, str(exc), form, exc.status)
    except errors.CaseNotFound as exc:
        return _meetings_page(request, session, f"Geen casus van uw werklijst: {exc}", form, 404)
    return RedirectResponse(f"{PREFIX}/meetings/{row.meeting_id}", status_code=303)


@router.get("/meetings/{meeting_id}")
def meeting(request: Request, session: SignedIn, meeting_id: str, notice: str = "") -> Response:
    return _meeting_page(request, session, meeting_id, None, notice[:200] or None)


def _meeting_page(
    request: Request,
    session: Session,
    meeting_id: str,
    error: str | None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    refused = _refused(request, session)
    if refused is not None:
        return refused
    try:
        row = services(request).meetings.meeting(session.client, meeting_id)
    except MeetingError as exc:
        return render(request, "error.html", exc.status, session=session, title="Niet gevonden",
                      message=str(exc))  # fmt: skip
    return render(
        request,
        "meeting.html",
        status_code=status_code,
        session=session,
        meeting=row,
        error=error,
        notice=notice,
    )


def _pack(
    request: Request, session: SignedIn, meeting_id: str, organisation: str, how: str
) -> Pack | Response:
    """The pack, or the page that refuses it (not a coordinator, no such meeting or pack)."""
    refused = _refused(request, session)
    if refused is not None:
        return refused
    try:
        return services(request).meetings.pack(session.client, meeting_id, organisation, how=how)
    except MeetingError as exc:
        return render(request, "error.html", exc.status, session=session, title="Niet gevonden",
                      message=str(exc))  # fmt: skip


@router.get("/meetings/{meeting_id}/packs/{organisation}")
def pack_page(request: Request, session: SignedIn, meeting_id: str, organisation: str) -> Response:
    pack = _pack(request, session, meeting_id, organisation, "page")
    if isinstance(pack, Response):
        return pack
    zone = services(request).sealer.matrix.policy.zone
    return render(request, "meeting_pack.html", session=session, pack=pack, zone=zone)


@router.get("/meetings/{meeting_id}/packs/{organisation}/pdf")
def pack_pdf_download(
    request: Request, session: SignedIn, meeting_id: str, organisation: str
) -> Response:
    pack = _pack(request, session, meeting_id, organisation, "pdf")
    if isinstance(pack, Response):
        return pack
    name = f"vergaderstuk-{pack.meeting.held_on}-{organisation}.pdf"
    return Response(
        pack_pdf(pack, services(request).sealer.matrix.policy.zone),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/meetings/{meeting_id}/minutes")
def minutes(
    request: Request,
    session: PostedForm,
    meeting_id: str,
    case_id: Text = "",
    voorzitter: Text = "",
    deelnemers: Text = "",
    besluiten: Text = "",
    actiepunten: Text = "",
    into_plan: Text = "",
) -> Response:
    payload: dict[str, Any] = {
        "deelnemers": [o.strip() for o in deelnemers.split(",") if o.strip()],
        "besluiten": besluiten,
        "actiepunten": [_actiepunt(line) for line in actiepunten.splitlines() if line.strip()],
    }
    if voorzitter.strip():
        payload["voorzitter"] = voorzitter.strip()
    try:
        recorded = services(request).meetings.record_minutes(
            session.client,
            meeting_id,
            case_id,
            payload,
            user=session.client.name,
            into_plan=bool(into_plan),
        )
    except MeetingError as exc:
        return _meeting_page(request, session, meeting_id, str(exc), status_code=exc.status)
    except errors.PayloadInvalid as exc:
        problems = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
        return _meeting_page(request, session, meeting_id, f"Verslag onjuist: {problems}",
                             status_code=422)  # fmt: skip
    except errors.CaseStoreError as exc:
        return _meeting_page(request, session, meeting_id, f"Niet vastgelegd: {exc}",
                             status_code=409)  # fmt: skip
    notice = f"Verslag vastgelegd ({len(recorded)} gebeurtenis(sen))."
    return RedirectResponse(
        f"{PREFIX}/meetings/{meeting_id}?" + urlencode({"notice": notice}), status_code=303
    )


def _actiepunt(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")]
    point: dict[str, Any] = {"organisatie": parts[0], "actie": parts[1] if len(parts) > 1 else ""}
    if len(parts) > 2 and parts[2]:
        point["termijn"] = parts[2]
    return point
