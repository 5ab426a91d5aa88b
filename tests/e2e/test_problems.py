"""Every error is answered with the problem details the OpenAPI document publishes.

The answers made outside the routes' own error handling are the ones most likely to drift:
readiness, the body limit (raw ASGI, before FastAPI sees the request) and the rate limit.
Each must carry type, title, status, detail and instance and fit the `ProblemDetails` schema
every documented error response refers to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import IntegrityError

from casestore.bootstrap import Services, build
from casestore.entrypoints.api.app import create_app
from casestore.entrypoints.api.schemas import ProblemDetails
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.e2e.server import serve_in_thread
from tests.factories import Clock, aanmelding, fresh_bsn, signalering

ORG = "arkin"
MEMBERS = {"type", "title", "status", "detail", "instance"}
PROBLEM = "application/problem+json"
REFERENCE = {"$ref": "#/components/schemas/ProblemDetails"}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """How an error is written down does not depend on the storage: SQLite is enough."""
    return f"sqlite:///{tmp_path / 'casestore.sqlite3'}"


def assert_problem(response: httpx.Response, status: int, type_: str, title: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body.keys() >= MEMBERS, body
    assert (body["type"], body["title"], body["status"]) == (type_, title, status)
    assert body["instance"] == response.request.url.path
    ProblemDetails.model_validate(body, strict=True)


def test_not_ready_is_a_problem_with_all_five_members(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: object) -> object:
        raise ConnectionError("the database is down")

    monkeypatch.setattr(api.services.store.records.backend, "one", unreachable)
    response = httpx.get(f"{api.base_url}/readyz")
    assert_problem(response, 503, "about:blank", "Not ready")


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_a_body_over_the_limit_is_a_problem_with_all_five_members(api: Api, streamed: bool) -> None:
    body = b'{"payload": {"naam": "' + b"x" * api.services.settings.max_request_bytes + b'"}}'
    content: bytes | Iterator[bytes] = iter([body]) if streamed else body
    with api.client(ORG) as client:
        response = client.post(
            "/v1/cases", content=content, headers={"content-type": "application/json"}
        )
    assert ("content-length" in response.request.headers) is not streamed
    assert_problem(
        response, 413, "https://casestore.example/problems/request-too-large", "Request too large"
    )


def test_a_client_over_its_rate_gets_a_problem_with_all_five_members(
    settings: Settings, clock: Clock
) -> None:
    services = build(settings.model_copy(update={"rate_limit": 0.01, "rate_burst": 1}), clock=clock)
    token = services.clients.add(ORG, "partner-system", "busy").token
    with (
        serve_in_thread(services) as base_url,
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        assert client.get("/v1/feed").status_code == 200
        response = client.get("/v1/feed")
    assert_problem(
        response, 429, "https://casestore.example/problems/rate-limited", "Too many requests"
    )
    assert response.headers["retry-after"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"not json", "application/json"),
        (b'{"payload": {}', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"", "application/json"),
        (b"not json", "text/plain"),
        (b'{"payload": {}}', "text/plain"),
    ],
    ids=["garbage", "truncated", "bytes", "empty", "text", "json-as-text"],
)
def test_a_body_that_is_not_json_is_a_400_as_documented(
    api: Api, content: bytes, content_type: str
) -> None:
    with api.client(ORG) as client:
        response = client.post("/v1/cases", content=content, headers={"content-type": content_type})
    assert_problem(response, 400, "https://casestore.example/problems/body-not-json", "Bad request")
    assert "errors" not in response.json()


def test_json_that_is_not_an_object_is_a_422_not_a_400(api: Api) -> None:
    with api.client(ORG) as client:
        response = client.post("/v1/cases", json=[1])
    assert_problem(
        response, 422, "https://casestore.example/problems/request-invalid", "Invalid request"
    )


def test_a_case_too_busy_to_write_is_a_503_with_retry_after_never_a_conflict(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api.client(ORG) as client:
        opened = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())}).json()

        def always_beaten(*args: object, **kwargs: object) -> None:
            raise IntegrityError("another writer took this version")

        monkeypatch.setattr(api.services.store, "write_patience", 0.05)
        monkeypatch.setattr(api.services.store, "save", always_beaten)
        response = client.post(
            f"/v1/cases/{opened['case_id']}/events",
            json={"type": "signalering", "payload": signalering()},
        )
    assert_problem(response, 503, "https://casestore.example/problems/case-busy", "Case busy")
    assert response.headers["retry-after"] == "1"


def error_responses(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    yield f"{method.upper()} {path} {status}", response


def test_every_documented_error_response_is_a_problem_details(services: Services) -> None:
    document = create_app(services).openapi()
    responses = dict(error_responses(document))
    assert "GET /readyz 503" in responses
    assert "POST /v1/cases 413" in responses
    assert "GET /v1/feed 429" in responses
    for label, response in responses.items():
        assert response["content"] == {PROBLEM: {"schema": REFERENCE}}, label


def test_the_published_problem_schema_names_the_optional_members(services: Services) -> None:
    schemas = create_app(services).openapi()["components"]["schemas"]
    problem = schemas["ProblemDetails"]
    assert set(problem["required"]) == MEMBERS
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert problem["properties"]["current_version"]["type"] == "integer"
    assert problem["properties"]["case_id"]["type"] == "string"
    assert set(schemas["FieldProblem"]["required"]) == {"field", "message"}
