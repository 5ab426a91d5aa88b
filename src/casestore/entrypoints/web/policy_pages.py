"""The privacy officers' pages: the access matrix, proposals with their analysis and four
eyes, the version history, and one stored decision explained.

Every page calls the same service as the API and the CLI (casestore.services.
policy_versions), so four eyes, stale bases and replays are refused here exactly as there;
a refusal is shown on the page with its reason.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

import yaml
from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from casestore.entrypoints.web.rendering import render
from casestore.entrypoints.web.security import PREFIX, PostedForm, SignedIn, services
from casestore.services.clients import ClientRole
from casestore.services.policy_versions import HISTORY_ALL, HISTORY_NEW, ProposalError
from sharing.policy.diff import cells
from sharing.policy.edit import OPS, RuleEdit

router = APIRouter(prefix=f"{PREFIX}/policy", include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]


@router.get("")
def matrix(
    request: Request,
    session: SignedIn,
    organisation: str = "",
    event_type: str = "",
) -> Response:
    """The access matrix of the version in force, filtered by organisation and event type."""
    book = services(request).policy
    in_force = book.in_force()
    policy = book.compile(in_force.document).policy
    all_cells = cells(policy)
    rows = [
        (cell, rules)
        for cell, rules in all_cells.items()
        if (not organisation or cell.organisation == organisation)
        and (not event_type or cell.event_type == event_type)
    ]
    return render(
        request,
        "policy_matrix.html",
        session=session,
        version=in_force,
        rows=rows,
        organisations=sorted({c.organisation for c in all_cells}),
        event_types=sorted({c.event_type for c in all_cells}),
        chosen={"organisation": organisation, "event_type": event_type},
    )


@router.get("/versions")
def versions(request: Request, session: SignedIn) -> Response:
    book = services(request).policy
    return render(
        request,
        "policy_versions.html",
        session=session,
        versions=list(reversed(book.versions())),
        in_force=book.in_force().version,
        jobs={j.version: j for j in book.jobs()},
    )


@router.get("/proposals")
def proposals(request: Request, session: SignedIn) -> Response:
    return _proposals_page(request, session, error=None)


def _proposals_page(
    request: Request, session: SignedIn, error: str | None, status_code: int = 200
) -> Response:
    book = services(request).policy
    newest = book.newest()  # what a proposal builds on: in force, or scheduled
    return render(
        request,
        "policy_proposals.html",
        status_code=status_code,
        session=session,
        proposals=list(reversed(book.proposals())),
        base=newest,
        rule_ids=[r.id for r in book.compile(newest.document).policy.rules],
        officer=session.client.role is ClientRole.privacy_officer,
        error=error,
    )


@router.post("/proposals")
def propose(
    request: Request,
    session: PostedForm,
    document: Annotated[str, Form(max_length=1_000_000)],
    base_version: Annotated[int, Form()],
    reason: Text = "",
    dpia_reference: Text = "",
    vastgesteld_on: Text = "",
) -> Response:
    try:
        agreed = date.fromisoformat(vastgesteld_on)
    except ValueError:
        return _proposals_page(request, session, "Vul de datum van vaststelling in.", 422)
    try:
        row = services(request).policy.propose(
            session.client,
            base_version=base_version,
            document=document.replace("\r\n", "\n"),
            reason=reason,
            dpia_reference=dpia_reference,
            vastgesteld_on=agreed,
        )
    except ProposalError as exc:
        return _proposals_page(request, session, str(exc), exc.status)
    return RedirectResponse(f"{PREFIX}/policy/proposals/{row.proposal_id}", status_code=303)


@router.post("/proposals/rule")
def propose_rule(
    request: Request,
    session: PostedForm,
    base_version: Annotated[int, Form()],
    op: Text = "",
    rule_id: Text = "",
    rule: Annotated[str, Form(max_length=100_000)] = "",
    reason: Text = "",
    dpia_reference: Text = "",
    vastgesteld_on: Text = "",
) -> Response:
    """One rule added, changed or removed (its YAML pasted for add and change)."""
    try:
        agreed = date.fromisoformat(vastgesteld_on)
    except ValueError:
        return _proposals_page(request, session, "Vul de datum van vaststelling in.", 422)
    if op not in OPS:
        return _proposals_page(request, session, "Kies toevoegen, wijzigen of schrappen.", 422)
    try:
        parsed = yaml.safe_load(rule.replace("\r\n", "\n")) if rule.strip() else None
    except yaml.YAMLError as exc:
        return _proposals_page(request, session, f"De regel is geen YAML: {exc}", 422)
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]  # pasted as a list item, as it stands in the document
    if parsed is not None and not isinstance(parsed, dict):
        return _proposals_page(request, session, "De regel is geen YAML-mapping.", 422)
    try:
        row = services(request).policy.propose_rule_edit(
            session.client,
            base_version=base_version,
            edit=RuleEdit(op, rule_id.strip(), parsed),
            reason=reason,
            dpia_reference=dpia_reference,
            vastgesteld_on=agreed,
        )
    except ProposalError as exc:
        return _proposals_page(request, session, str(exc), exc.status)
    return RedirectResponse(f"{PREFIX}/policy/proposals/{row.proposal_id}", status_code=303)


@router.get("/proposals/{proposal_id}")
def proposal(request: Request, session: SignedIn, proposal_id: str) -> Response:
    return _proposal_page(request, session, proposal_id, error=None)


def _proposal_page(
    request: Request,
    session: SignedIn,
    proposal_id: str,
    error: str | None,
    status_code: int = 200,
) -> Response:
    book = services(request).policy
    try:
        row = book.proposal(proposal_id)
    except ProposalError as exc:
        return render(request, "error.html", 404, session=session, title="Niet gevonden",
                      message=str(exc))  # fmt: skip
    return render(
        request,
        "policy_proposal.html",
        status_code=status_code,
        session=session,
        proposal=row,
        analysis=book.analyse(row),
        officer=session.client.role is ClientRole.privacy_officer,
        error=error,
    )


@router.post("/proposals/{proposal_id}/approve")
def approve(
    request: Request,
    session: PostedForm,
    proposal_id: str,
    background: BackgroundTasks,
    reason: Text = "",
    history: Text = HISTORY_ALL,
    effective_from: Text = "",
) -> Response:
    book = services(request).policy
    try:
        moment = _moment(effective_from, book.clock())
        _, job = book.approve(
            proposal_id,
            session.client,
            reason=reason,
            effective_from=moment,
            history=HISTORY_NEW if history == HISTORY_NEW else HISTORY_ALL,
        )
    except ProposalError as exc:
        return _proposal_page(request, session, proposal_id, str(exc), exc.status)
    if job is not None:
        background.add_task(book.run_job_in_background, job.job_id, f"web-{uuid.uuid4().hex[:8]}")
    return RedirectResponse(f"{PREFIX}/policy/versions", status_code=303)


def _moment(text: str, now: datetime) -> datetime | None:
    """The moment a version takes effect, as the form's date-and-time field gives it (UTC,
    to the minute); empty: at once. A moment already past is refused rather than taken as
    'at once', so that an officer who mistyped the year hears of it."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ProposalError(
            f"ingangsmoment {text!r} is geen datum en tijd (JJJJ-MM-DD UU:MM, UTC)"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment <= now:
        raise ProposalError(
            f"ingangsmoment {moment:%Y-%m-%d %H:%M} UTC ligt in het verleden: "
            "laat het leeg om de versie meteen in te laten gaan"
        )
    return moment


@router.post("/proposals/{proposal_id}/reject")
def reject(request: Request, session: PostedForm, proposal_id: str, reason: Text = "") -> Response:
    try:
        services(request).policy.reject(proposal_id, session.client, reason=reason)
    except ProposalError as exc:
        return _proposal_page(request, session, proposal_id, str(exc), exc.status)
    return RedirectResponse(f"{PREFIX}/policy/proposals/{proposal_id}", status_code=303)


@router.get("/explain")
def explain(
    request: Request,
    session: SignedIn,
    case_id: str = "",
    version: int = 1,
    organisation: str = "",
    field: str = "",
) -> Response:
    """Why an organisation did (not) receive a field of one stored event."""
    answer, error = None, None
    if case_id and organisation:
        try:
            answer = services(request).policy.explain_decision(
                UUID(case_id), version, organisation, field or None
            )
        except (ValueError, ProposalError) as exc:
            error = str(exc)
    return render(
        request,
        "policy_explain.html",
        session=session,
        answer=answer,
        error=error,
        asked={
            "case_id": case_id,
            "version": version,
            "organisation": organisation,
            "field": field,
        },
    )
