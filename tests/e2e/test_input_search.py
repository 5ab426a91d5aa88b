"""Searches for input that makes the API fail: every request gets a 4xx problem or succeeds.

Hypothesis generates the values that broke the service before — times at the edges of
the calendar and of UTC offsets, path parameters of arbitrary bytes, integers beyond what
JSON, signatures or a bigint column hold, strings with NUL and lone surrogates — and sends
them to a real server on SQLite and PostgreSQL. Whatever the input, the answer must not be
a server error, and an error must be a problem+json. The schemathesis fuzz test
(test_openapi_fuzz.py) covers the documented shapes; these searches go where the schema
says nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.api import Api
from tests.factories import GGZ, ZVH, aanmelding, fresh_bsn, signalering

PROBLEM = "application/problem+json"
SEARCH = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, response.text
        assert response.json()["status"] == response.status_code


@pytest.fixture
def partner(api: Api) -> Iterator[httpx.Client]:
    with api.client(GGZ) as client:
        yield client


@pytest.fixture
def case_id(partner: httpx.Client) -> str:
    opened = partner.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


# ---- times --------------------------------------------------------------------------------

OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
MOMENTS = st.one_of(
    st.datetimes(timezones=OFFSETS),
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ]
    ),
)
TIME_TEXT = st.one_of(
    MOMENTS.map(datetime.isoformat),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([+-]\d{2}:\d{2}|Z)?\Z"),
)


def test_no_occurred_at_is_a_server_error(api: Api, partner: httpx.Client, case_id: str) -> None:
    @given(moment=TIME_TEXT)
    @SEARCH
    def search(moment: str) -> None:
        opened = partner.post(
            "/v1/cases", json={"payload": aanmelding(fresh_bsn()), "occurred_at": moment}
        )
        assert_answered(opened)
        appended = partner.post(
            f"/v1/cases/{case_id}/events",
            json={"type": "signalering", "payload": signalering(), "occurred_at": moment},
        )
        assert_answered(appended)

    search()


def test_the_two_times_that_failed_before_are_refused_naming_the_field(
    partner: httpx.Client,
) -> None:
    for moment in ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"):
        answer = partner.post(
            "/v1/cases", json={"payload": aanmelding(fresh_bsn()), "occurred_at": moment}
        )
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["occurred_at"]


# ---- path parameters ------------------------------------------------------------------------

SEGMENTS = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\x00", b"ab\x00cd", b"\xed\xa0\x80", b"..", b"%", b"a" * 2000]),
)


def test_no_path_parameter_is_a_server_error(api: Api, partner: httpx.Client, case_id: str) -> None:
    with api.client(GGZ, "auditor") as auditor:

        @given(segment=SEGMENTS.map(lambda raw: quote_from_bytes(raw, safe="")))
        @SEARCH
        def search(segment: str) -> None:
            for method, path, client in (
                ("GET", f"/v1/subscriptions/{segment}", partner),
                ("GET", f"/v1/subscriptions/{segment}/deliveries", auditor),
                ("DELETE", f"/v1/subscriptions/{segment}", partner),
                ("POST", f"/v1/subscriptions/{segment}/resume", partner),
                ("GET", f"/v1/cases/{segment}/events", partner),
                ("GET", f"/v1/cases/{case_id}/events/{segment}", partner),
            ):
                assert_answered(client.request(method, path))

        search()


def test_a_nul_byte_in_a_subscription_id_is_not_found(partner: httpx.Client) -> None:
    answer = partner.get("/v1/subscriptions/ab%00cd")
    assert answer.status_code == 404, answer.text


# ---- integers -------------------------------------------------------------------------------

INTEGERS = st.one_of(
    st.integers(),
    st.sampled_from([2**31, 2**53, 2**60, 2**63 - 1, 2**63, 2**64, 2**70, -(2**63) - 1]),
)


def test_no_integer_is_a_server_error(api: Api, partner: httpx.Client, case_id: str) -> None:
    @given(number=INTEGERS)
    @SEARCH
    def search(number: int) -> None:
        plan = {
            "planversie": number,
            "doelen": [{"levensdomein": "wonen", "doel": "Zelfstandig wonen."}],
            "acties": [{"organisatie": GGZ, "actie": "Huisbezoek."}],
            "casusregisseur_contact": "gemeente",
        }
        for body in (
            {"type": "planwijziging", "payload": plan},
            {"type": "signalering", "payload": {**signalering(), "ernst": number}},
            {"type": "signalering", "payload": signalering(), "expected_version": number},
        ):
            assert_answered(partner.post(f"/v1/cases/{case_id}/events", json=body))
        assert_answered(partner.get("/v1/feed", params={"after": number}))
        assert_answered(partner.get("/v1/feed", params={"limit": number}))
        assert_answered(
            partner.post("/v1/subscriptions", json={"url": "https://x.example/", "after": number})
        )

    search()


def test_a_plan_version_no_json_number_holds_exactly_is_refused_naming_it(
    partner: httpx.Client, case_id: str
) -> None:
    plan = {
        "planversie": 2**60,
        "doelen": [{"levensdomein": "wonen", "doel": "Zelfstandig wonen."}],
        "acties": [{"organisatie": GGZ, "actie": "Huisbezoek."}],
        "casusregisseur_contact": "gemeente",
    }
    answer = partner.post(
        f"/v1/cases/{case_id}/events", json={"type": "planwijziging", "payload": plan}
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["planversie"]


def test_a_resume_position_beyond_a_bigint_is_refused(api: Api) -> None:
    with api.client(ZVH) as client:
        for name, value in (("after", str(2**64)), ("limit", str(2**64))):
            assert_answered(client.get("/v1/feed", params={name: value}))
        with client.stream("GET", "/v1/feed/stream", headers={"Last-Event-ID": str(2**64)}) as r:
            assert r.status_code == 422


# ---- text -----------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d\ude00", "\u2028"]),
)


def raw_json(value: Any) -> bytes:
    """JSON with lone surrogates written as escapes, as another client's encoder might."""
    return json.dumps(value, ensure_ascii=True).encode()


def test_no_string_is_a_server_error(api: Api, partner: httpx.Client, case_id: str) -> None:
    headers = {"content-type": "application/json"}

    @given(text=TEXT)
    @SEARCH
    def search(text: str) -> None:
        for path, body in (
            ("/v1/cases", {"payload": {**aanmelding(fresh_bsn()), "naam": text}}),
            ("/v1/cases", {"payload": aanmelding(fresh_bsn()), "event_id": text or "x"}),
            (f"/v1/cases/{case_id}/events", {"type": text, "payload": {}}),
            (
                f"/v1/cases/{case_id}/events",
                {"type": "signalering", "payload": {**signalering(), "toelichting": text}},
            ),
            (
                f"/v1/cases/{case_id}/events",
                {"type": "signalering", "payload": signalering(), "signature": {text: text}},
            ),
            ("/v1/subscriptions", {"url": "https://x.example/", "description": text}),
            ("/v1/subscriptions", {"url": f"https://x.example/{text}"}),
        ):
            assert_answered(partner.post(path, content=raw_json(body), headers=headers))
        query = quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
        assert_answered(partner.get(f"/v1/policy/explain?organisation={query}&event_type=x"))

    search()
