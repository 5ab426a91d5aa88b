"""/docs works on a network without internet and runs no third-party script: every asset
comes from the service itself, under a content security policy naming no other origin.
The OpenAPI document names every operation and lists per route only its errors."""

from __future__ import annotations

import re

import httpx

from tests.e2e.api import Api


def test_docs_load_everything_from_the_service_under_a_strict_policy(api: Api) -> None:
    page = httpx.get(f"{api.base_url}/docs", timeout=10)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "http" not in policy and "unsafe-inline" not in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert "<script>" not in page.text  # no inline script: the policy would refuse it
    for source in sources:
        asset = httpx.get(f"{api.base_url}{source}", timeout=10)
        assert asset.status_code == 200 and len(asset.content) > 100, source
        assert "cdn" not in asset.text[:2000].lower() or source.endswith(".css")
    assert httpx.get(f"{api.base_url}/redoc", timeout=10).status_code == 404


def test_every_operation_is_named_and_lists_only_its_own_errors(api: Api) -> None:
    document = httpx.get(f"{api.base_url}/openapi.json", timeout=10).json()
    operations = {
        (method, path): op for path, ops in document["paths"].items() for method, op in ops.items()
    }
    names = [op["operationId"] for op in operations.values()]
    assert len(names) == len(set(names))
    assert operations[("post", "/v1/cases")]["operationId"] == "open_case"

    def errors(method: str, path: str) -> set[str]:
        return {s for s in operations[(method, path)]["responses"] if s >= "400"}

    assert errors("get", "/healthz") == set()
    assert errors("get", "/v1/policy") == {"401", "429", "503"}  # any role, no parameters
    assert "409" not in errors("get", "/v1/feed") and "404" not in errors("get", "/v1/feed")
    assert {"403", "404", "409", "413"} <= errors("post", "/v1/cases/{case_id}/events")
    assert "409" not in errors("get", "/v1/cases/{case_id}/events")


def test_every_answer_carries_a_security_policy(api: Api) -> None:
    answer = httpx.get(f"{api.base_url}/healthz", timeout=10)
    assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answer.headers["x-content-type-options"] == "nosniff"
