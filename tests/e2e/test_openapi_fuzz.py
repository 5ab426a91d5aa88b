"""The API against its own OpenAPI schema: generated requests, a real server, both backends.

Schemathesis generates valid and invalid requests for every documented operation and
checks each answer: never a 500, always a status, content type, headers and body the
schema declares, and a valid request accepted (save for the three writes whose bodies
obey rules the schema cannot say). Case ids point at a real case of the caller, so writes
and reads reach past the 404. The live stream is left out: it never ends, so it cannot
be called and checked as one response (tests/e2e/test_stream.py covers it).

The operations are driven from one test per backend (schemathesis' lazy pytest loader
does not work with this pytest), each with Hypothesis' own settings, and every failing
operation is reported, not just the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Err

from tests.e2e.api import Api
from tests.factories import GEMEENTE, GGZ, aanmelding, fresh_bsn, include, submit

if TYPE_CHECKING:  # schemathesis names its OpenAPI types for type checkers only
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation

ORG = "gemeente-amsterdam"
STREAM = ("GET", "/v1/feed/stream")
# Explaining the policy is not a partner system's business, nor are the worklist and the
# meetings: fuzz them as a coordinator.
COORDINATING = (
    "/v1/policy/explain",
    "/v1/worklist",
    "/v1/meetings",
    "/v1/meetings/{meeting_id}",
    "/v1/meetings/{meeting_id}/packs/{organisation}",
    "/v1/meetings/{meeting_id}/packs/{organisation}/pdf",
    "/v1/meetings/{meeting_id}/minutes",
)
ROLE_FOR = dict.fromkeys(COORDINATING, "coordinator")
# Schemathesis' own list of refusals, but for a server error, which is never right here.
# An invalid request is rightly refused as too large (413) when what makes it invalid is a
# string past its maxLength that also takes the body past the service's size limit.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        }
    }
)
EXAMPLES = 25
# Schema-valid requests must be accepted (no 400 or 422), except where the body obeys rules
# JSON Schema cannot say, so that a schema-valid one may rightly be refused with 422: a
# payload's schema depends on its event type and on the BSN's elfproef and "no dates in
# the future"; a subscription may not start after the current end of the feed; a meeting's
# attendees are the policy's organisations and its agenda the caller's cases, and minutes
# are a casusoverleg payload. Every other check stays on for these too.
REFUSES_SOME_VALID = {
    ("POST", "/v1/cases"),
    ("POST", "/v1/cases/{case_id}/events"),
    ("POST", "/v1/subscriptions"),
    ("POST", "/v1/meetings"),
    ("POST", "/v1/meetings/{meeting_id}/minutes"),
}


def valid(case: OpenApiCase, location: ParameterLocation) -> bool:
    component = case.meta.components.get(location) if case.meta else None
    return component is None or component.mode is GenerationMode.POSITIVE


def fuzz(operation: OpenApiOperation, base_url: str, token: str, case_id: str) -> None:
    """Generated requests for one operation, valid and invalid; raises on the first failure."""
    some_valid_refused = (operation.method.upper(), operation.path) in REFUSES_SOME_VALID
    excluded = [positive_data_acceptance] if some_valid_refused else []
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: OpenApiCase) -> None:
        # Point at the real case and carry the token, unless the case is about getting
        # exactly that part wrong (a malformed case id, a missing Authorization header).
        if "case_id" in (case.path_parameters or {}) and valid(case, ParameterLocation.PATH):
            case.path_parameters = {**(case.path_parameters or {}), "case_id": case_id}
        headers: dict[str, Any] = {}
        if valid(case, ParameterLocation.HEADER):
            headers["Authorization"] = f"Bearer {token}"
        case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=excluded)

    check()


def test_no_server_error_and_every_answer_as_documented(api: Api) -> None:
    with api.client(ORG) as client:
        opened = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
        assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    schema = schemathesis.openapi.from_dict(
        httpx.get(f"{api.base_url}/openapi.json").json(), config=CONFIG
    )

    failures: dict[str, str] = {}
    tried = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the published schema has an operation nobody can call
        operation = result.ok()
        if (operation.method.upper(), operation.path) == STREAM:
            continue
        tried.append(operation.label)
        token = api.token(ORG, ROLE_FOR.get(operation.path, "partner-system"))
        try:
            fuzz(operation, api.base_url, token, case_id)
        except (Exception, FailureGroup) as exc:  # reported per operation below
            failures[operation.label] = str(exc)
    assert len(tried) >= 10, tried
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


EVENT_POST = ("POST", "/v1/cases/{case_id}/events")
VALID_EVENT_POSTS = 150
# What a request that follows the published schema may still be refused for: the process
# (409), the policy (403), and the rules JSON Schema cannot say (422): no date in the
# future, fields that depend on each other, an author's signature. Never for its shape.
BUSINESS_REFUSALS = {
    403: {"author-not-permitted", "not-in-network", "unknown-organisation"},
    409: {"process-violation", "version-conflict", "idempotency-conflict"},
    422: {"payload-invalid", "signature-invalid", "invalid-request", "request-invalid"},
}
SHAPE_MESSAGES = ("unknown field", "required", "Input should", "String should", "List should")


def refused_for_its_shape(body: dict[str, Any]) -> list[str]:
    """The field problems of a 422 that JSON Schema could have said: a schema that let
    the request through is wrong."""
    return [
        f"{problem['field']}: {problem['message']}"
        for problem in body.get("errors", [])
        if str(problem["message"]).startswith(SHAPE_MESSAGES)
    ]


def test_every_valid_event_post_is_accepted_or_refused_for_a_business_reason(api: Api) -> None:
    """Positive data only, against an included case: the discriminated union of the event
    bodies is exact enough that every post it allows is recorded (201), or refused with a
    problem naming a rule of the process, the policy or the payload that JSON Schema
    cannot say, never for its shape, never a server error."""
    store = api.services.store
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id
    include(store, opened)  # the gemeente is the casusregisseur
    case_id = str(opened)
    schema = schemathesis.openapi.from_dict(httpx.get(f"{api.base_url}/openapi.json").json())
    operation = schema[EVENT_POST[1]][EVENT_POST[0]]
    token = api.token(GEMEENTE)
    seen: dict[int, int] = {}
    types: set[str] = set()

    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    @settings(
        max_examples=VALID_EVENT_POSTS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: OpenApiCase) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "case_id": case_id}
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call_and_validate(
            base_url=api.base_url, headers=headers, excluded_checks=[positive_data_acceptance]
        )
        status = response.status_code
        seen[status] = seen.get(status, 0) + 1
        assert isinstance(case.body, dict)
        types.add(str(case.body["type"]))
        if 200 <= status < 300:
            return
        assert status in BUSINESS_REFUSALS, f"{status} for a valid {case.body}: {response.text}"
        assert response.headers["content-type"][0].startswith("application/problem+json")
        problem = response.json()
        slug = str(problem["type"]).rsplit("/", 1)[-1]
        assert slug in BUSINESS_REFUSALS[status], problem
        assert not refused_for_its_shape(problem), (case.body, problem)

    check()
    assert seen.get(201, 0) > 0, seen  # some were recorded, not only refused
    assert len(types) >= 10, types  # the union reached many types


def test_the_event_post_body_is_a_union_of_one_body_per_type(api: Api) -> None:
    document = httpx.get(f"{api.base_url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    body = schemas["EventCreate"]
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "type"
    assert "aanmelding" not in mapping and {"signalering", "opschaling", "uitstroom"} <= set(
        mapping
    )
    opschaling = schemas[mapping["opschaling"].rsplit("/", 1)[-1]]
    payload = schemas[opschaling["properties"]["payload"]["$ref"].rsplit("/", 1)[-1]]
    assert {"niveau", "setting", "financier"} <= set(payload["properties"])
    assert payload["additionalProperties"] is False
    opening = schemas["CaseCreate"]["properties"]["payload"]["$ref"]
    assert opening.endswith("/AanmeldingPayload")
    assert "bsn" not in schemas["AanmeldingPayload"]["required"]


def test_control_characters_in_text_are_stored_sealed_never_a_server_error(api: Api) -> None:
    """PostgreSQL refuses NUL in text columns; payload text and idempotency keys never
    reach one in the clear, so they are accepted and come back intact."""
    text = "regel 1\x00\x01\u2028regel 2"
    with api.client(ORG) as client:
        body = {"payload": {**aanmelding(fresh_bsn()), "aanmeldreden": text}, "event_id": text}
        opened = client.post("/v1/cases", json=body)
        assert opened.status_code == 201, opened.text
        again = client.post("/v1/cases", json=body)
        assert again.json() == {**opened.json(), "replayed": True}
    zvh = "zvh-amsterdam-amstelland"  # hosted: the service may open it for this test
    with api.client(zvh) as custodian:
        read = custodian.get(f"/v1/cases/{opened.json()['case_id']}/events?decrypt=true")
    assert read.json()[0]["payload"]["aanmeldreden"] == text
