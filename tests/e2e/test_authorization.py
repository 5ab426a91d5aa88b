"""Who may call what: every route of the API against every kind of caller, over HTTP.

The routes come from the app's own OpenAPI schema, so an endpoint added later is tried
too — and fails this test until the table below says what each role may do with it.

| route                                      | partner | coord. | privacy | auditor |
|--------------------------------------------|---------|--------|---------|---------|
| GET  /healthz, /readyz                     |  open to everyone, no token needed    |
| POST /v1/cases                             |   201   |  201   |   403   |   403   |
| POST /v1/cases/{id}/events                 |   201   |  201   |   403   |   403   |
| GET  /v1/cases/{id}/events[/{event_id}]    |   200   |  200   |   403   |   403   |
| GET  /v1/cases/{id}/timeline               |   200   |  200   |   200   |   403   |
| GET  /v1/cases/{id}/bekendheid             |   404*  |  404*  |   403   |   403   |
| GET  /v1/feed, /stream, /notices           |   200   |  200   |   403   |   403   |
| GET  /v1/policy, /v1/keys                  |   200   |  200   |   200   |   200   |
| POST /v1/keys/{org}/generations/{n}/confirm |  200   |  403   |   403   |   403   |
| GET  /v1/policy/explain                    |   403   |  200   |   200   |   200   |
| GET  /v1/policy/explain[/decision]         |   403   |  200   |   200   |   200   |
| GET  /v1/policy/versions[/{v}], proposals  |   403   |  200   |   200   |   200   |
| POST /v1/policy/proposals[/rule-edits, /{id}/approve|reject] | 403 | 403 | 2xx | 403 |
| POST /v1/subscriptions, DELETE, resume     | 201/204/200 | 403 |  403   |   403   |
| GET  /v1/subscriptions[/{id}[/deliveries]] |   200   |  403   |   403   |   200   |
| GET  /v1/audit                             |   403   |  403   |   200   |   200   |
| POST /v1/audit/subject-report              |   403   |  403   |  404†   |  404†   |
| GET  /v1/audit/protocol/{org}, access-review |  403  |  403   |   200   |   200   |
| POST /v1/audit/blast-radius                |   403   |  403   |   200   |   200   |
| POST /v1/audit/restrictions[/{id}/lift]    |   403   |  403   |  404†   |   403   |
| GET, POST /v1/cases/{id}/legal-holds[/release] | 403 |  403   |   404*  |   403   |
| GET  /v1/verklaringen/{id}                 |   403   |  403   |   404*  |   403   |
| GET  /v1/figures                           |   403   |  403   |   200   |   200   |
| GET  /v1/worklist                          |   403   |  200   |   403   |   403   |
| POST, GET /v1/meetings[/{id}[/packs/{org}[/pdf]]] | 403 | 2xx |  403   |   403   |
| POST /v1/meetings/{id}/minutes             |   403   |  403‡  |   403   |   403   |

* The bekendheid check, legal holds and verklaringen are the custodian's alone: the ZVH gets
200 (tests/e2e/test_bekendheid.py, tests/e2e/test_retention_http.py), every other
organisation 404, as for a case it receives nothing of.
† For a person never referred, or a restriction that does not exist; the report and its
restrictions themselves: tests/e2e/test_subject_report.py.
‡ The policy lets only the ZVH write a casusoverleg, and ORG is the municipality; the ZVH's
minutes: tests/integration/test_meeting_pack.py.

Every protected route answers 401 to no token, a malformed, a revoked and an expired
token; another organisation's partner system gets 404 for a case or subscription that is
not its own (never 403: it must not learn that the resource exists).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
import yaml

from casestore.bootstrap import Services
from casestore.entrypoints.api.app import create_app
from tests.e2e.api import Api
from tests.factories import Clock, aanmelding, fresh_bsn, include, officer, signalering

PROBLEM = "application/problem+json"
ORG = "gemeente-amsterdam"  # holds a client in every role
OTHER = "jellinek"  # in the policy, never in the test's case
ROLES = ("partner-system", "coordinator", "privacy-officer", "auditor")
WRITERS = READERS = frozenset({"partner-system", "coordinator"})
EVERYONE = frozenset(ROLES)
REVIEWERS = frozenset({"coordinator", "privacy-officer", "auditor"})
MANAGERS = frozenset({"partner-system"})
VIEWERS = frozenset({"partner-system", "auditor"})
AUDITORS = frozenset({"privacy-officer", "auditor"})
OFFICERS = frozenset({"privacy-officer"})
FIGURE_READERS = AUDITORS
COORDINATORS = frozenset({"coordinator"})
BAD_TOKENS = ("none", "malformed", "wrong-scheme", "unknown", "revoked", "expired")


class Fixtures:
    """The resources requests point at, made fresh where a request consumes them."""

    def __init__(self, api: Api) -> None:
        self.api = api
        with api.client(ORG) as owner:
            opened = owner.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
            assert opened.status_code == 201, opened.text
            self.case_id = opened.json()["case_id"]
            self.event_id = opened.json()["event_id"]
        self._included: str | None = None

    def pending_generation(self) -> int:
        """A key generation of ORG awaiting confirmation (confirming it again is allowed)."""
        keys = self.api.services.keys
        generations = keys.of(ORG)
        latest = generations[-1]
        if latest.generation is None or latest.confirmed_at is not None:
            out = self.api.services.settings.var_dir / f"rotated-{len(generations)}.json"
            keys.rotate(ORG, out)
        return len(keys.of(ORG))

    def proposal(self) -> str:
        """A proposal of the ZVH's officer (the version in force, unchanged): ORG's
        officer may decide it."""
        book = self.api.services.policy
        in_force = book.in_force()
        return book.propose(
            officer(self.api.services, "zvh-amsterdam-amstelland"),
            base_version=in_force.version,
            document=in_force.document,
            reason="herbevestiging",
            dpia_reference="DPIA-1",
            vastgesteld_on=date(2026, 1, 1),
        ).proposal_id

    def job(self) -> str:
        _, job = self.api.services.policy.approve(
            self.proposal(), officer(self.api.services, ORG), reason="akkoord"
        )
        assert job is not None
        return job.job_id

    def included_case(self) -> str:
        """A case in which ORG is the casusregisseur: on its coordinator's worklist."""
        if self._included is None:
            with self.api.client(ORG) as owner:
                opened = owner.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
            self._included = opened.json()["case_id"]
            include(self.api.services.store, UUID(self._included))
        return self._included

    def meeting(self) -> str:
        """A meeting ORG's coordinator prepared, attended by an organisation that receives
        nothing of the case (so the service opens nothing for ORG, which it does not host)."""
        coordinator = self.api.services.clients.add(ORG, "coordinator", "regie").client
        return self.api.services.meetings.plan(
            coordinator,
            soort="levenslooptafel",
            held_on=date(2026, 3, 5),
            title="Tafel",
            attendees=[OTHER],
            cases=[self.included_case()],
        ).meeting_id

    def subscription(self) -> str:
        with self.api.client(ORG) as owner:
            created = owner.post("/v1/subscriptions", json={"url": "https://example.org/hook"})
            assert created.status_code == 201, created.text
            return str(created.json()["id"])


Request = Callable[[Fixtures], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    roles: frozenset[str] | None  # None: public, no token needed
    ok: int
    request: Request  # the URL and httpx arguments of a valid request
    owned: bool = False  # a resource of ORG: another organisation gets 404
    stream: bool = False


def case_url(suffix: str = "") -> Request:
    return lambda f: (f"/v1/cases/{f.case_id}{suffix}", {})


def subscription_url(suffix: str = "") -> Request:
    return lambda f: (f"/v1/subscriptions/{f.subscription()}{suffix}", {})


def new_case(f: Fixtures) -> tuple[str, dict[str, Any]]:
    return "/v1/cases", {"json": {"payload": aanmelding(fresh_bsn())}}


def new_event(f: Fixtures) -> tuple[str, dict[str, Any]]:
    body = {"type": "signalering", "payload": signalering()}
    return f"/v1/cases/{f.case_id}/events", {"json": body}


def explain(f: Fixtures) -> tuple[str, dict[str, Any]]:
    query = {"organisation": "politie-amsterdam", "event_type": "signalering", "field": "ernst"}
    return "/v1/policy/explain", {"params": query}


def confirm(f: Fixtures) -> tuple[str, dict[str, Any]]:
    return f"/v1/keys/{ORG}/generations/{f.pending_generation()}/confirm", {}


def new_proposal(f: Fixtures) -> tuple[str, dict[str, Any]]:
    in_force = f.api.services.policy.in_force()
    body = {
        "base_version": in_force.version,
        "document": in_force.document,
        "reason": "herbevestiging",
        "dpia_reference": "DPIA-1",
        "vastgesteld_on": "2026-01-01",
    }
    return "/v1/policy/proposals", {"json": body}


def rule_edit(f: Fixtures) -> tuple[str, dict[str, Any]]:
    """The first rule of the version in force, proposed again as it is."""
    in_force = f.api.services.policy.in_force()
    rule = json.loads(json.dumps(yaml.safe_load(in_force.document)["rules"][0], default=str))
    body = {
        "base_version": in_force.version,
        "op": "change",
        "rule_id": rule["id"],
        "rule": rule,
        "reason": "herbevestiging",
        "dpia_reference": "DPIA-1",
        "vastgesteld_on": "2026-01-01",
    }
    return "/v1/policy/proposals/rule-edits", {"json": body}


def decision(action: str) -> Request:
    return lambda f: (
        f"/v1/policy/proposals/{f.proposal()}/{action}",
        {"json": {"reason": "besluit", "history": "new"}},
    )


def stored_decision(f: Fixtures) -> tuple[str, dict[str, Any]]:
    query = {"case_id": f.case_id, "version": 1, "organisation": ORG}
    return "/v1/policy/explain/decision", {"params": query}


def new_meeting(f: Fixtures) -> tuple[str, dict[str, Any]]:
    body = {
        "soort": "levenslooptafel",
        "held_on": "2026-03-05",
        "title": "Tafel",
        "attendees": [OTHER],
        "cases": [f.included_case()],
    }
    return "/v1/meetings", {"json": body}


def meeting_url(suffix: str = "") -> Request:
    return lambda f: (f"/v1/meetings/{f.meeting()}{suffix}", {})


def minutes(f: Fixtures) -> tuple[str, dict[str, Any]]:
    body = {
        "case_id": f.included_case(),
        "payload": {"deelnemers": [ORG, OTHER], "besluiten": "Huisbezoek."},
    }
    return f"/v1/meetings/{f.meeting()}/minutes", {"json": body}


def fixed(url: str, **kwargs: Any) -> Request:
    return lambda f: (url, kwargs)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/healthz"): Route(None, 200, fixed("/healthz")),
    ("GET", "/readyz"): Route(None, 200, fixed("/readyz")),
    ("POST", "/v1/cases"): Route(WRITERS, 201, new_case),
    ("POST", "/v1/cases/{case_id}/events"): Route(WRITERS, 201, new_event, owned=True),
    ("GET", "/v1/cases/{case_id}/events"): Route(READERS, 200, case_url("/events"), owned=True),
    ("GET", "/v1/cases/{case_id}/events/{event_id}"): Route(
        READERS, 200, lambda f: (f"/v1/cases/{f.case_id}/events/{f.event_id}", {}), owned=True
    ),
    ("GET", "/v1/cases/{case_id}/timeline"): Route(
        READERS | OFFICERS, 200, case_url("/timeline"), owned=True
    ),
    ("GET", "/v1/cases/{case_id}/bekendheid"): Route(
        READERS, 404, case_url("/bekendheid"), owned=True
    ),
    ("GET", "/v1/feed"): Route(READERS, 200, fixed("/v1/feed")),
    ("GET", "/v1/feed/notices"): Route(READERS, 200, fixed("/v1/feed/notices")),
    ("GET", "/v1/feed/stream"): Route(READERS, 200, fixed("/v1/feed/stream"), stream=True),
    ("GET", "/v1/policy"): Route(EVERYONE, 200, fixed("/v1/policy")),
    ("GET", "/v1/keys"): Route(EVERYONE, 200, fixed("/v1/keys")),
    ("POST", "/v1/keys/{org_id}/generations/{generation}/confirm"): Route(
        MANAGERS, 200, confirm, owned=True
    ),
    ("GET", "/v1/policy/explain"): Route(REVIEWERS, 200, explain),
    ("GET", "/v1/policy/explain/decision"): Route(REVIEWERS, 200, stored_decision),
    ("GET", "/v1/policy/versions"): Route(REVIEWERS, 200, fixed("/v1/policy/versions")),
    ("GET", "/v1/policy/versions/{version}"): Route(REVIEWERS, 200, fixed("/v1/policy/versions/1")),
    ("GET", "/v1/policy/proposals"): Route(REVIEWERS, 200, fixed("/v1/policy/proposals")),
    ("POST", "/v1/policy/proposals"): Route(OFFICERS, 201, new_proposal),
    ("POST", "/v1/policy/proposals/rule-edits"): Route(OFFICERS, 201, rule_edit),
    ("GET", "/v1/policy/proposals/{proposal_id}"): Route(
        REVIEWERS, 200, lambda f: (f"/v1/policy/proposals/{f.proposal()}", {})
    ),
    ("POST", "/v1/policy/proposals/{proposal_id}/approve"): Route(
        OFFICERS, 200, decision("approve")
    ),
    ("POST", "/v1/policy/proposals/{proposal_id}/reject"): Route(OFFICERS, 200, decision("reject")),
    ("GET", "/v1/policy/jobs/{job_id}"): Route(
        REVIEWERS, 200, lambda f: (f"/v1/policy/jobs/{f.job()}", {})
    ),
    ("GET", "/v1/subscriptions"): Route(VIEWERS, 200, fixed("/v1/subscriptions")),
    ("GET", "/v1/audit"): Route(AUDITORS, 200, fixed("/v1/audit")),
    ("POST", "/v1/audit/subject-report"): Route(
        AUDITORS, 404, fixed("/v1/audit/subject-report", json={"bsn": fresh_bsn()})
    ),
    ("GET", "/v1/audit/protocol/{organisation}"): Route(
        AUDITORS, 200, fixed(f"/v1/audit/protocol/{OTHER}")
    ),
    ("GET", "/v1/audit/access-review"): Route(AUDITORS, 200, fixed("/v1/audit/access-review")),
    ("POST", "/v1/audit/blast-radius"): Route(
        AUDITORS,
        200,
        fixed(
            "/v1/audit/blast-radius",
            json={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
        ),
    ),
    ("POST", "/v1/audit/restrictions"): Route(
        OFFICERS,
        404,
        fixed(
            "/v1/audit/restrictions",
            json={
                "bsn": fresh_bsn(),
                "ground": "UAVG art. 41 lid 1 onder d",
                "requested_by": "politie-amsterdam",
                "may_mention": False,
            },
        ),
    ),
    ("POST", "/v1/audit/restrictions/{restriction_id}/lift"): Route(
        OFFICERS, 404, fixed("/v1/audit/restrictions/onbekend/lift")
    ),
    ("POST", "/v1/subscriptions"): Route(
        MANAGERS, 201, fixed("/v1/subscriptions", json={"url": "https://example.org/hook"})
    ),
    ("GET", "/v1/subscriptions/{subscription_id}"): Route(
        VIEWERS, 200, subscription_url(), owned=True
    ),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): Route(
        MANAGERS, 204, subscription_url(), owned=True
    ),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): Route(
        VIEWERS, 200, subscription_url("/deliveries"), owned=True
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/resume"): Route(
        MANAGERS, 200, subscription_url("/resume"), owned=True
    ),
    ("POST", "/v1/cases/{case_id}/legal-holds"): Route(
        OFFICERS,
        404,
        lambda f: (f"/v1/cases/{f.case_id}/legal-holds", {"json": {"reason": "rechtszaak"}}),
    ),
    ("GET", "/v1/cases/{case_id}/legal-holds"): Route(OFFICERS, 404, case_url("/legal-holds")),
    ("POST", "/v1/cases/{case_id}/legal-holds/release"): Route(
        OFFICERS, 404, case_url("/legal-holds/release")
    ),
    ("GET", "/v1/verklaringen/{case_id}"): Route(
        OFFICERS, 404, lambda f: (f"/v1/verklaringen/{f.case_id}", {})
    ),
    ("GET", "/v1/figures"): Route(FIGURE_READERS, 200, fixed("/v1/figures")),
    ("GET", "/v1/worklist"): Route(COORDINATORS, 200, fixed("/v1/worklist")),
    ("POST", "/v1/meetings"): Route(COORDINATORS, 201, new_meeting),
    ("GET", "/v1/meetings"): Route(COORDINATORS, 200, fixed("/v1/meetings")),
    ("GET", "/v1/meetings/{meeting_id}"): Route(COORDINATORS, 200, meeting_url()),
    ("GET", "/v1/meetings/{meeting_id}/packs/{organisation}"): Route(
        COORDINATORS, 200, meeting_url(f"/packs/{OTHER}")
    ),
    ("GET", "/v1/meetings/{meeting_id}/packs/{organisation}/pdf"): Route(
        COORDINATORS, 200, meeting_url(f"/packs/{OTHER}/pdf")
    ),
    ("POST", "/v1/meetings/{meeting_id}/minutes"): Route(COORDINATORS, 403, minutes),
}


def operations(services: Services) -> set[tuple[str, str]]:
    """Every (method, path) the app documents."""
    schema = create_app(services).openapi()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def test_every_route_has_an_entry_in_the_table(services: Services) -> None:
    documented = operations(services)
    missing = sorted(documented - set(ROUTES))
    assert not missing, f"say in ROUTES what each role may do with {missing}"
    assert not sorted(set(ROUTES) - documented), "ROUTES names routes the app no longer has"


@dataclass
class Callers:
    """Authorization headers per kind of caller, issued as `casestore clients add` does."""

    headers: dict[str, dict[str, str]]


@pytest.fixture
def callers(api: Api, clock: Clock) -> Callers:
    clients = api.services.clients
    revoked = clients.add(ORG, "partner-system", "revoked")
    clients.revoke(revoked.client.client_id)
    expiring = clients.add(ORG, "partner-system", "expiring", timedelta(hours=1))
    valid = clients.add(ORG, "partner-system", "valid").token
    headers: dict[str, dict[str, str]] = {
        "none": {},
        "malformed": {"Authorization": "Bearer not-a-token"},
        "wrong-scheme": {"Authorization": f"Basic {valid}"},
        "unknown": {"Authorization": f"Bearer {valid[:-4]}AAAA"},
        "revoked": {"Authorization": f"Bearer {revoked.token}"},
        "expired": {"Authorization": f"Bearer {expiring.token}"},
        "other-org": {"Authorization": f"Bearer {api.token(OTHER)}"},
    }
    for role in ROLES:
        headers[role] = {"Authorization": f"Bearer {api.token(ORG, role)}"}
    clock.advance(hours=2)  # past the expiring token, well within the others
    return Callers(headers)


def expected(route: Route, caller: str) -> int:
    if route.roles is None:
        return route.ok
    if caller in BAD_TOKENS:
        return 401
    if caller == "other-org":
        return 404 if route.owned else expected(route, "partner-system")
    return route.ok if caller in route.roles else 403


def call(
    client: httpx.Client, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> tuple[int, str, dict[str, Any] | None]:
    with client.stream(method, url, headers=headers, **kwargs) as response:
        # A live stream never ends: its status and headers are the answer.
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("text/event-stream"):
            return response.status_code, content_type, None
        response.read()
    body = response.json() if content_type.endswith("json") and response.content else None
    return response.status_code, content_type, body


def test_every_route_answers_every_caller_as_the_table_says(
    api: Api, callers: Callers, services: Services
) -> None:
    fixtures = Fixtures(api)
    wrong: list[str] = []
    with httpx.Client(base_url=api.base_url, timeout=10) as client:
        for (method, path), route in sorted(ROUTES.items()):
            for caller, headers in callers.headers.items():
                want = expected(route, caller)
                url, kwargs = route.request(fixtures)
                status, content_type, body = call(client, method, url, headers, **kwargs)
                label = f"{method} {path} as {caller}: {status}, expected {want}"
                if status != want:
                    wrong.append(f"{label} {body}")
                elif status >= 400 and (content_type != PROBLEM or body is None):
                    wrong.append(f"{label} but content-type {content_type}")
                elif status >= 400 and body is not None and body.get("status") != status:
                    wrong.append(f"{label} but the problem says {body}")
                elif status == 401 and body is not None and "bearer" not in body["detail"]:
                    wrong.append(f"{label} with detail {body['detail']!r}")
    assert not wrong, "\n".join(wrong)


def test_a_bad_token_is_never_told_apart_and_asks_for_bearer(api: Api, callers: Callers) -> None:
    answers = set()
    with httpx.Client(base_url=api.base_url) as client:
        for caller in BAD_TOKENS:
            response = client.get("/v1/feed", headers=callers.headers[caller])
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            answers.add(response.text)
    assert len(answers) == 1, answers  # unknown, revoked, expired: the same answer


def test_partner_systems_see_the_policy_without_its_rules(api: Api) -> None:
    with api.client(ORG) as partner, api.client(ORG, "privacy-officer") as officer:
        seen_by_partner = partner.get("/v1/policy").json()
        seen_by_officer = officer.get("/v1/policy").json()
    assert {"version", "region", "organisations"} <= set(seen_by_partner)
    assert not {"rules", "grounds", "authorship"} & set(seen_by_partner)
    assert {"rules", "grounds", "authorship"} <= set(seen_by_officer)
    assert seen_by_officer["version"] == seen_by_partner["version"]
