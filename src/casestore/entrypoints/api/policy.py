"""The region's policy as the service applies it: what it says, and why it decides."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from pydantic import BaseModel, Field

from casestore.adapters.persistence.policy_table import JobRow, ProposalRow, VersionRow
from casestore.entrypoints.api.deps import Caller, ServicesDep, Store, allow
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.services.audit import POLICY_EXPLAINED, Basis
from casestore.services.clients import Client, ClientRole
from sharing.errors import PolicyError, UnknownOrganisation
from sharing.policy.edit import RuleEdit

router = APIRouter(prefix="/v1/policy", tags=["policy"])

Reviewer = Annotated[
    Client, Depends(allow(ClientRole.privacy_officer, ClientRole.auditor, ClientRole.coordinator))
]


@router.get("")
def read_policy(caller: Caller, store: Store) -> dict[str, Any]:
    """The policy in force: version, organisations, grounds, agreements, case roles,
    kaders, special data, rules and authorship."""
    store.sealer.refresh()  # another process may have activated a version since
    policy = store.sealer.matrix.policy
    return {
        "version": store.sealer.policy_version,
        **policy.model_dump(mode="json", include={"region", "custodian", "organisations"}),
        **(
            policy.model_dump(mode="json", include=REVIEWED)
            if caller.role is not ClientRole.partner_system
            else {}
        ),
    }


REVIEWED = {
    "grounds",
    "agreements",
    "case_roles",
    "kaders",
    "special_data",
    "rules",
    "authorship",
}


@router.get("/explain", responses=errors(403, 404))
def explain(
    caller: Reviewer,
    store: Store,
    services: ServicesDep,
    organisation: Annotated[str, Query(min_length=1, max_length=64)],
    event_type: Annotated[str, Query(min_length=1, max_length=64)],
    field: Annotated[str | None, Query(max_length=64)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Why an organisation, as a network member, may or may not read a field now; 404
    names an organisation, event type or field the policy does not know."""
    store.sealer.refresh()
    try:
        explanation = store.sealer.matrix.explain(
            organisation, event_type, field, store.clock(), author=author
        )
    except (UnknownOrganisation, PolicyError) as exc:
        raise HttpProblem(404, "not-found", "Not found", str(exc)) from None
    audit = services.audit
    audit.record(
        [
            audit.entry(
                POLICY_EXPLAINED,
                receiver=organisation,
                fields=() if field is None else (field,),
                basis=Basis(tuple(g.rule for g in explanation.grants)),
                reason=f"explain {event_type}",
            )
        ]
    )
    return {
        "organisation": explanation.organisation,
        "event_type": explanation.event_type,
        "field": explanation.field,
        "author": author,
        "granted": explanation.granted,
        "rules": [g.rule for g in explanation.grants],
        "grounds": sorted({ground for g in explanation.grants for ground in g.grounds}),
        "providing": sorted({ground for g in explanation.grants for ground in g.providing}),
        "receiving": sorted({ground for g in explanation.grants for ground in g.receiving}),
        "needs": list(explanation.nearest.needs) if explanation.nearest else [],
        "explanation": explanation.text,
    }


Officer = Annotated[Client, Depends(allow(ClientRole.privacy_officer))]


def version_json(row: VersionRow, *, document: bool = False) -> dict[str, Any]:
    found = asdict(row)
    if not document:
        found.pop("document")
        found.pop("tests")
    return found


def proposal_json(row: ProposalRow) -> dict[str, Any]:
    return asdict(row)


def job_json(row: JobRow) -> dict[str, Any]:
    found = asdict(row)
    found["percent"] = (
        100 if row.status == "done" else (100 * row.done // row.total if row.total else 0)
    )
    return found


@router.get("/versions")
def list_versions(caller: Reviewer, services: ServicesDep) -> dict[str, Any]:
    """Every version that was in force, oldest first, with who approved it and why;
    `scheduled` names a version approved to take effect at a later moment (else null)."""
    book = services.policy
    waiting = book.scheduled()
    return {
        "in_force": book.in_force().version,
        "scheduled": None if waiting is None else waiting.version,
        "versions": [version_json(v) for v in book.versions()],
    }


@router.get("/versions/{version}", responses=errors(403, 404))
def read_version(caller: Reviewer, services: ServicesDep, version: int) -> dict[str, Any]:
    """One version with its document (YAML) and its cases."""
    return version_json(services.policy.version(version), document=True)


class ProposalIn(BaseModel):
    base_version: int = Field(ge=1)
    document: str = Field(min_length=1, max_length=200_000)
    tests: str | None = Field(default=None, max_length=60_000)
    reason: str = Field(min_length=1, max_length=4000)
    dpia_reference: str = Field(min_length=1, max_length=200)
    vastgesteld_on: date


class RuleEditIn(BaseModel):
    base_version: int = Field(ge=1)
    op: Literal["add", "change", "remove"]
    rule_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    rule: dict[str, Any] | None = Field(
        default=None,
        description="The whole rule as in the policy document (JSON), for `add` and `change`; "
        "its `id`, if given, is `rule_id`.",
    )
    tests: str | None = Field(default=None, max_length=60_000)
    reason: str = Field(min_length=1, max_length=4000)
    dpia_reference: str = Field(min_length=1, max_length=200)
    vastgesteld_on: date


class DecisionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)
    effective_from: datetime | None = None
    history: Literal["all", "new"] = "all"


@router.post("/proposals", status_code=201, responses=errors(403, 409, 422))
def create_proposal(caller: Officer, services: ServicesDep, body: ProposalIn) -> dict[str, Any]:
    """Propose a whole policy document against the newest version (409 when `base_version`
    is not the newest); the answer holds the analysis: lint, cases, diff, impact, DPIA. One
    rule alone: `POST /v1/policy/proposals/rule-edits`."""
    book = services.policy
    row = book.propose(
        caller,
        base_version=body.base_version,
        document=body.document,
        tests=body.tests,
        reason=body.reason,
        dpia_reference=body.dpia_reference,
        vastgesteld_on=body.vastgesteld_on,
    )
    return {**proposal_json(row), "analysis": book.analyse(row).to_json()}


@router.post("/proposals/rule-edits", status_code=201, responses=errors(403, 409, 422))
def create_rule_edit_proposal(
    caller: Officer, services: ServicesDep, body: RuleEditIn
) -> dict[str, Any]:
    """Propose one rule added, changed or removed by its id, against the newest version:
    the service applies the edit to that version's document (every other line kept as
    written) and proposes the result, answered as `POST /v1/policy/proposals` is (409 when
    `base_version` is not the newest; 422 when the edit does not fit it: a rule to change
    or remove that is not there, one to add that is, or a result that is no valid policy)."""
    book = services.policy
    row = book.propose_rule_edit(
        caller,
        base_version=body.base_version,
        edit=RuleEdit(body.op, body.rule_id, body.rule),
        tests=body.tests,
        reason=body.reason,
        dpia_reference=body.dpia_reference,
        vastgesteld_on=body.vastgesteld_on,
    )
    return {**proposal_json(row), "analysis": book.analyse(row).to_json()}


@router.get("/proposals")
def list_proposals(caller: Reviewer, services: ServicesDep) -> dict[str, Any]:
    return {"proposals": [proposal_json(p) for p in services.policy.proposals()]}


@router.get("/proposals/{proposal_id}", responses=errors(403, 404))
def read_proposal(caller: Reviewer, services: ServicesDep, proposal_id: str) -> dict[str, Any]:
    """A proposal, its decision, and its analysis (against its base version)."""
    book = services.policy
    row = book.proposal(proposal_id)
    return {**proposal_json(row), "analysis": book.analyse(row).to_json()}


@router.post("/proposals/{proposal_id}/approve", responses=errors(403, 404, 409, 422))
def approve_proposal(
    caller: Officer,
    services: ServicesDep,
    proposal_id: str,
    body: DecisionIn,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Approve as a privacy officer of another organisation than the proposer's (403
    otherwise): the version is in force at once, or from `effective_from` if that is later
    (until then every process seals under the version before it; 409 while another
    version waits for its moment); with `history: all` stored history is re-sealed by a
    background job, once the version is in force, whose progress `GET
    /v1/policy/jobs/{id}` shows."""
    book = services.policy
    version, job = book.approve(
        proposal_id,
        caller,
        reason=body.reason,
        effective_from=body.effective_from,
        history=body.history,
    )
    if job is not None:
        background.add_task(book.run_job_in_background, job.job_id, f"api-{uuid.uuid4().hex[:8]}")
    return {
        "version": version_json(version),
        "job": None if job is None else job_json(job),
    }


@router.post("/proposals/{proposal_id}/reject", responses=errors(403, 404, 409, 422))
def reject_proposal(
    caller: Officer, services: ServicesDep, proposal_id: str, body: DecisionIn
) -> dict[str, Any]:
    """Reject as a privacy officer of another organisation than the proposer's."""
    return proposal_json(services.policy.reject(proposal_id, caller, reason=body.reason))


@router.get("/jobs/{job_id}", responses=errors(403, 404))
def read_job(caller: Reviewer, services: ServicesDep, job_id: str) -> dict[str, Any]:
    """A re-seal job's progress: cases done of total, grants given and taken."""
    return job_json(services.policy.job(job_id))


@router.get("/explain/decision", responses=errors(403, 404))
def explain_decision(
    caller: Reviewer,
    services: ServicesDep,
    case_id: uuid.UUID,
    version: Annotated[int, Query(ge=1)],
    organisation: Annotated[str, Query(min_length=1, max_length=64)],
    field: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Why an organisation did or did not receive a field of one stored event, answered
    from the stored grant: the rules, the policy version, the grounds and the condition it
    rested on, and whether the version in force now was the one that sealed it."""
    answer = services.policy.explain_decision(case_id, version, organisation, field)
    audit = services.audit
    audit.record(
        [
            audit.entry(
                POLICY_EXPLAINED,
                case=str(case_id),
                receiver=organisation,
                fields=() if field is None else (field,),
                reason=f"explain the stored decision on version {version}",
            )
        ]
    )
    return answer
