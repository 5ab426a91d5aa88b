"""The data-subject report (AVG art. 15) as a page a privacy officer prints for the
person: the same report as `POST /v1/audit/subject-report` (casestore.services.
subject_report), in Dutch, with the referrer withheld. The BSN, or the name and birth date
of a person registered without one, or a case id, is posted in a form — never in an
address, a log line or the trail — and the search is recorded under the person's
pseudonym in the signed-in officer's name."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from casestore.domain import errors
from casestore.domain.person import check_bsn
from casestore.entrypoints.api.deps import actor_of
from casestore.entrypoints.web.rendering import render
from casestore.entrypoints.web.security import PREFIX, PostedForm, SignedIn, services
from casestore.services.audit import acting
from casestore.services.clients import ClientRole
from casestore.services.sessions import Session

router = APIRouter(prefix=f"{PREFIX}/audit", include_in_schema=False)

READERS = {ClientRole.privacy_officer, ClientRole.auditor}


@router.get("/subject-report")
def subject_report_form(request: Request, session: SignedIn) -> Response:
    if (refused := _refused(request, session)) is not None:
        return refused
    return render(request, "subject_report.html", session=session, report=None, error=None)


@router.post("/subject-report")
def subject_report(
    request: Request,
    session: PostedForm,
    bsn: Annotated[str, Form(max_length=20)] = "",
    naam: Annotated[str, Form(max_length=200)] = "",
    geboortedatum: Annotated[str, Form(max_length=20)] = "",
    zaak: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    if (refused := _refused(request, session)) is not None:
        return refused
    bsn, naam, geboortedatum, zaak = (v.strip() for v in (bsn, naam, geboortedatum, zaak))
    if sum(map(bool, (bsn, naam or geboortedatum, zaak))) != 1:
        message = "Vul één zoekwijze in: BSN, naam met geboortedatum, of casusnummer."
        return _form_error(request, session, message, 422)
    born = case = None
    if bsn:
        try:
            check_bsn(bsn)
        except errors.InvalidBsn:
            message = "Dit is geen geldig BSN (9 cijfers, elfproef)."
            return _form_error(request, session, message, 422)
    elif zaak:
        try:
            case = UUID(zaak)
        except ValueError:
            return _form_error(request, session, "Dit is geen casusnummer.", 422)
    else:
        try:
            born = date.fromisoformat(geboortedatum)
        except ValueError:
            message = "Geef naam en geboortedatum samen (datum als jjjj-mm-dd)."
            return _form_error(request, session, message, 422)
        if not naam:
            message = "Geef naam en geboortedatum samen (datum als jjjj-mm-dd)."
            return _form_error(request, session, message, 422)
    try:
        with acting(actor_of(request, session.client)):
            report = services(request).subject_reports.find(
                bsn=bsn or None, naam=naam or None, geboortedatum=born, case=case
            )
    except errors.CaseNotFound:
        return _form_error(request, session, "Over deze persoon is niets vastgelegd.", 404)
    return render(
        request,
        "subject_report.html",
        session=session,
        report=_readable(report.document),
        error=None,
    )


def _readable(document: dict[str, Any]) -> dict[str, Any]:
    """Times as a person reads them (UTC, to the minute)."""

    def when(stamp: str) -> str:
        return stamp[:16].replace("T", " ") + " UTC" if stamp else ""

    return {
        **document,
        "opgesteld_op": when(document["opgesteld_op"]),
        "ontvangers": {
            org: {**s, "eerst": when(s["eerst"]), "laatst": when(s["laatst"])}
            for org, s in document["ontvangers"].items()
        },
        "verwerkingsacties": [
            {**a, "tijdstip": when(a["tijdstip"])} for a in document["verwerkingsacties"]
        ],
    }


def _refused(request: Request, session: Session) -> Response | None:
    if session.client.role in READERS:
        return None
    message = "Alleen een functionaris gegevensbescherming of auditor stelt een inzage op."
    return render(
        request, "error.html", 403, session=session, title="Geen toegang", message=message
    )


def _form_error(request: Request, session: Session, message: str, status: int) -> Response:
    return render(
        request, "subject_report.html", status, session=session, report=None, error=message
    )
