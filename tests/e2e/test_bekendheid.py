"""Whether a person has a levensloop case is itself sensitive: an aanmelding must not tell.

A partner outside the network of a person's open case that refers the person gets what a
referral of anyone else gets — a new case of its own, 201, the same body, in about the
same time — and the ZVH sees the referral linked to the open case (the bekendheid check)
and handles it there. Only members of the open case's network are told of it (409 with
its id). Both backends, through a real server.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from casestore.settings import Settings
from tests.e2e.api import Api
from tests.factories import (
    GGZ,
    POLITIE,
    ZVH,
    aanmelding,
    demo_settings,
    fresh_bsn,
    netwerk,
    open_case,
)

TRIES = 200
WARM_UP = 20
PROBLEM = "application/problem+json"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The demo region, its rate limit out of the way of a few hundred probes."""
    return demo_settings(database_url, tmp_path).model_copy(
        update={"rate_limit": 10_000.0, "rate_burst": 10_000}
    )


@pytest.fixture
def outsider(api: Api) -> Iterator[httpx.Client]:
    with api.client(POLITIE) as client:
        yield client


def refer(client: httpx.Client, bsn: str) -> httpx.Response:
    return client.post("/v1/cases", json={"payload": aanmelding(bsn)})


def shape(response: httpx.Response) -> tuple[Any, ...]:
    """All an answer shows besides the values that differ for every referral anyway."""
    body = response.json()
    return (
        response.status_code,
        response.headers["content-type"],
        tuple(sorted(body)),
        tuple(sorted((k, type(v).__name__) for k, v in body.items())),
        body.get("version"),
        body.get("replayed"),
        response.headers.get("location") == f"/v1/cases/{body.get('case_id')}",
    )


def superiority(first: list[float], second: list[float]) -> float:
    """P(a time of `first` exceeds one of `second`), ties half: the Mann-Whitney U over
    n·m. 0.5 when nothing tells them apart; it is also how often the best guess from one
    probe's time alone would be right."""
    wins = sum((a > b) + 0.5 * (a == b) for a in first for b in second)
    return wins / (len(first) * len(second))


def test_an_outsider_cannot_tell_by_status_body_or_timing_whether_a_person_has_a_case(
    api: Api, outsider: httpx.Client
) -> None:
    known = [fresh_bsn() for _ in range(TRIES + WARM_UP)]
    for bsn in known:
        open_case(api.services.store, bsn)  # by the GGZ: the police are not in the network
    probes = [(True, bsn) for bsn in known] + [(False, fresh_bsn()) for _ in known]
    random.Random(12).shuffle(probes)  # interleaved: drifts of the machine hit both alike

    seconds: dict[bool, list[float]] = {True: [], False: []}
    shapes: dict[bool, set[tuple[Any, ...]]] = {True: set(), False: set()}
    for number, (has_case, bsn) in enumerate(probes):
        started = time.perf_counter()
        answer = refer(outsider, bsn)
        elapsed = time.perf_counter() - started
        shapes[has_case].add(shape(answer))
        if number >= 2 * WARM_UP:
            seconds[has_case].append(elapsed)

    assert shapes[True] == shapes[False]
    assert len(shapes[True]) == 1 and next(iter(shapes[True]))[0] == 201
    with_case, without = seconds[True], seconds[False]
    median = statistics.median(with_case + without)
    difference = statistics.median(with_case) - statistics.median(without)
    auc = superiority(with_case, without)
    noise = statistics.quantiles(with_case + without, n=4)
    spread = noise[2] - noise[0]
    summary = (
        f"medians differ by {difference * 1000:.2f} ms of {median * 1000:.1f} ms; AUC {auc:.3f}"
    )
    assert abs(auc - 0.5) < 0.1, summary
    assert abs(difference) < max(0.25 * spread, 0.05 * median), summary


def test_the_custodian_sees_the_referral_linked_to_the_open_case(
    api: Api, outsider: httpx.Client
) -> None:
    bsn = fresh_bsn()
    opened = open_case(api.services.store, bsn)
    with structlog.testing.capture_logs() as logs:
        referral = refer(outsider, bsn)
    assert referral.status_code == 201, referral.text
    referral_id = referral.json()["case_id"]

    with api.client(ZVH, "coordinator") as zvh:
        checked = zvh.get(f"/v1/cases/{referral_id}/bekendheid")
        assert checked.status_code == 200, checked.text
        assert checked.json() == {
            "case_id": referral_id,
            "lopende_casus": str(opened.case_id),
            "casussen": [
                {"case_id": str(opened.case_id), "status": "aangemeld", "lopend": True},
                {"case_id": referral_id, "status": "aangemeld", "lopend": True},
            ],
            "zelfde_naam_andere_persoon": [],
        }
        of_open_case = zvh.get(f"/v1/cases/{opened.case_id}/bekendheid").json()
        assert of_open_case["lopende_casus"] is None
        assert [c["case_id"] for c in of_open_case["casussen"]] == [
            str(opened.case_id),
            referral_id,
        ]
    # Nobody but the custodian asks the person index, not even the referrer of its own case.
    with api.client(GGZ) as ggz:
        for client in (outsider, ggz):
            refused = client.get(f"/v1/cases/{referral_id}/bekendheid")
            assert refused.status_code == 404
            assert refused.headers["content-type"] == PROBLEM
    # The referrer's own case looks as any it opened: nothing in it names the open case.
    own = outsider.get(f"/v1/cases/{referral_id}/events").json()
    assert str(opened.case_id) not in str(own)
    assert sorted(own[0]["control"]) == sorted(
        outsider.get(f"/v1/cases/{refer(outsider, fresh_bsn()).json()['case_id']}/events").json()[
            0
        ]["control"]
    )
    attempt = next(e for e in logs if e["event"] == "aanmelding")
    assert attempt["organisation"] == POLITIE
    assert attempt["client"].startswith("client:")
    assert (attempt["case_id"], attempt["lopende_casus"]) == (referral_id, str(opened.case_id))
    assert bsn not in str(logs)


def test_members_of_the_open_case_network_are_told_of_it(api: Api, outsider: httpx.Client) -> None:
    bsn = fresh_bsn()
    opened = open_case(api.services.store, bsn)
    with api.client(GGZ) as ggz, api.client(ZVH) as zvh:
        for member in (ggz, zvh):
            told = refer(member, bsn)
            assert told.status_code == 409, told.text
            assert told.json()["case_id"] == str(opened.case_id)
        joined = zvh.post(
            f"/v1/cases/{opened.case_id}/events",
            json={"type": "netwerkwijziging", "payload": netwerk(POLITIE)},
        )
        assert joined.status_code == 201, joined.text
    now_a_member = refer(outsider, bsn)
    assert now_a_member.status_code == 409
    assert now_a_member.json()["case_id"] == str(opened.case_id)


def test_a_second_referral_by_an_outsider_is_answered_as_for_a_person_without_a_case(
    outsider: httpx.Client, api: Api
) -> None:
    known, unknown = fresh_bsn(), fresh_bsn()
    open_case(api.services.store, known)
    answers = {}
    for bsn in (known, unknown):
        first = refer(outsider, bsn)
        second = refer(outsider, bsn)
        assert (first.status_code, second.status_code) == (201, 409)
        # Each names the referrer's own first referral, never someone else's case.
        assert second.json()["case_id"] == first.json()["case_id"]
        answers[bsn] = sorted(second.json())
    assert answers[known] == answers[unknown]
