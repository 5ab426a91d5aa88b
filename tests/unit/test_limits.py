"""Request limits: a token bucket per client, and a cap on the request body's size."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from casestore.entrypoints.api import problems
from casestore.entrypoints.api.limits import BodyLimit, RateLimiter
from casestore.entrypoints.api.problems import HttpProblem

MAX = 1024


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(limiter: RateLimiter, key: str) -> HttpProblem:
    with pytest.raises(HttpProblem) as caught:
        limiter.take(key)
    return caught.value


def test_a_burst_is_allowed_then_refused_with_retry_after() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=2.0, burst=3, clock=ticks)
    for _ in range(3):
        limiter.take("a")
    problem = refused(limiter, "a")
    assert (problem.status, problem.slug) == (429, "rate-limited")
    assert problem.headers == {"Retry-After": "1"}
    assert "2 requests per second" in problem.detail


def test_retry_after_says_how_long_until_a_token_is_back() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=0.1, burst=1, clock=ticks)  # one request per 10 s
    limiter.take("a")
    assert refused(limiter, "a").headers["Retry-After"] == "10"
    ticks.now += 4
    assert refused(limiter, "a").headers["Retry-After"] == "6"


def test_tokens_come_back_over_time_but_never_above_the_burst() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=2.0, burst=3, clock=ticks)
    for _ in range(3):
        limiter.take("a")
    ticks.now += 0.5  # one token back
    limiter.take("a")
    refused(limiter, "a")
    ticks.now += 3600  # a long pause refills to the burst, not beyond
    for _ in range(3):
        limiter.take("a")
    refused(limiter, "a")


def test_each_key_has_its_own_bucket() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Ticks())
    limiter.take("a")
    refused(limiter, "a")
    limiter.take("b")


def limited_app() -> BodyLimit:
    app = FastAPI()
    problems.install(app)

    @app.post("/echo")
    def echo(body: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(body)}

    return BodyLimit(app, max_bytes=MAX)


def post(content: bytes | AsyncIterator[bytes], headers: dict[str, str]) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=limited_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post("/echo", content=content, headers=headers)
            await response.aread()
            return response

    return asyncio.run(send())


def body_of(size: int) -> bytes:
    body = json.dumps({"x": "a" * (size - 9)}).encode()
    assert len(body) == size
    return body


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://casestore.example/problems/request-too-large"
    assert problem["status"] == 413
    assert problem["title"] == "Request too large"
    assert str(MAX) in problem["detail"]
    assert problem["instance"] == "/echo"


def test_a_body_within_the_limit_passes() -> None:
    response = post(body_of(MAX), {"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {"keys": 1}


def test_a_declared_oversized_body_is_refused_before_it_is_read() -> None:
    assert_too_large(post(body_of(MAX + 1), {"content-type": "application/json"}))


def test_an_oversized_body_without_a_length_is_refused_while_it_streams() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = body_of(MAX * 3)
        for start in range(0, len(body), 256):
            yield body[start : start + 256]

    response = post(chunks(), {"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_too_large(response)
