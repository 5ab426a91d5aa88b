"""The server answers on loopback, and errors come back as problem details."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_health_and_an_unauthenticated_request(api: Api) -> None:
    import httpx

    assert httpx.get(f"{api.base_url}/healthz").json() == {"status": "ok"}
    response = httpx.get(f"{api.base_url}/v1/feed")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    with api.client("arkin") as client:
        assert client.get("/v1/feed").json() == {"items": [], "next_after": 0}
