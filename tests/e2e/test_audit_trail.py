"""The audit trail over HTTP: every operation has a decision on what it chains, and real
calls leave exactly those entries; traces pass from a partner's request to the webhook a
second partner receives; `GET /v1/audit` pages and filters for privacy officers only; the
CLI verifies and exports. Both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from casestore.bootstrap import Services
from casestore.entrypoints.api.app import create_app
from casestore.entrypoints.api.audit_decisions import DECISIONS
from casestore.services.audit import WEBHOOK_DELIVERED
from casestore.services.webhooks.backoff import Backoff
from tests.e2e.api import Api
from tests.e2e.receiver import receiving
from tests.factories import (
    GGZ,
    ZVH,
    aanmelding,
    fresh_bsn,
    include,
    open_case,
    run,
    signalering,
    worker_thread,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{PARENT}-01"


def test_every_operation_has_a_decision_on_its_audit_entries(services: Services) -> None:
    document = create_app(services).openapi()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    undecided = operations - set(DECISIONS)
    assert not undecided, f"no audit decision for {sorted(undecided)} (audit_decisions.py)"
    assert not set(DECISIONS) - operations, "decisions for operations that no longer exist"


def seq(services: Services) -> int:
    last = services.audit.table.last()
    return 0 if last is None else last[0]


def since(services: Services, start: int) -> list[dict[str, Any]]:
    return [json.loads(r.entry) for r in services.audit.page(after=start, limit=1000)]


@dataclass(frozen=True)
class Call:
    operation: str
    send: Callable[[Api, dict[str, str]], httpx.Response]
    status: int = 200


def _case(api: Api) -> dict[str, str]:
    """A case ZVH and GGZ receive, with one signalering; its ids."""
    with api.client(GGZ) as ggz:
        opened = ggz.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())}).json()
    case_id = opened["case_id"]
    include(api.services.store, UUID(case_id))
    with api.client(ZVH) as zvh:
        signal = zvh.post(
            f"/v1/cases/{case_id}/events", json={"type": "signalering", "payload": signalering()}
        ).json()
    return {"case_id": case_id, "event_id": signal["event_id"]}


CALLS = [
    Call(
        "open_case",
        lambda api, ids: api.client(GGZ).post(
            "/v1/cases", json={"payload": aanmelding(fresh_bsn())}
        ),
        201,
    ),
    Call(
        "append_event",
        lambda api, ids: api.client(ZVH).post(
            f"/v1/cases/{ids['case_id']}/events",
            json={"type": "signalering", "payload": signalering()},
        ),
        201,
    ),
    Call("read_events", lambda api, ids: api.client(ZVH).get(f"/v1/cases/{ids['case_id']}/events")),
    Call(
        "read_event",
        lambda api, ids: api.client(ZVH).get(
            f"/v1/cases/{ids['case_id']}/events/{ids['event_id']}"
        ),
    ),
    Call(
        "check_bekendheid",
        lambda api, ids: api.client(ZVH).get(f"/v1/cases/{ids['case_id']}/bekendheid"),
    ),
    Call("read_feed", lambda api, ids: api.client(GGZ).get("/v1/feed", params={"limit": 1000})),
    Call(
        "explain",
        lambda api, ids: api.client(ZVH, "privacy-officer").get(
            "/v1/policy/explain", params={"organisation": GGZ, "event_type": "signalering"}
        ),
    ),
    Call("read_audit", lambda api, ids: api.client(ZVH, "auditor").get("/v1/audit")),
    Call(
        "verstrekkingsprotocol",
        lambda api, ids: api.client(ZVH, "privacy-officer").get(f"/v1/audit/protocol/{GGZ}"),
    ),
    Call(
        "blast_radius",
        lambda api, ids: api.client(ZVH, "privacy-officer").post(
            "/v1/audit/blast-radius", json={"organisation": ZVH, "generation": 1}
        ),
    ),
    Call(
        "access_review",
        lambda api, ids: api.client(ZVH, "auditor").get("/v1/audit/access-review"),
    ),
    Call("read_policy", lambda api, ids: api.client(GGZ).get("/v1/policy")),
    Call("read_keys", lambda api, ids: api.client(GGZ).get("/v1/keys")),
    Call("healthz", lambda api, ids: httpx.get(f"{api.base_url}/healthz")),
    Call("list_subscriptions", lambda api, ids: api.client(GGZ).get("/v1/subscriptions")),
    Call("read_worklist", lambda api, ids: api.client(ZVH, "coordinator").get("/v1/worklist")),
]


def test_each_call_leaves_exactly_the_entries_decided_for_its_operation(api: Api) -> None:
    ids = _case(api)
    for call in CALLS:
        start = seq(api.services)
        response = call.send(api, ids)
        assert response.status_code == call.status, (call.operation, response.text)
        left = since(api.services, start)
        found = [e["action"] for e in left]
        expected = DECISIONS[call.operation]
        assert set(found) == set(expected), call.operation
        # One entry per action and case (a grant: per receiving organisation as well).
        keys = [(e["action"], e["case"], e["receiver"]) for e in left]
        assert len(keys) == len(set(keys)), (call.operation, keys)
    assert api.services.audit.verify().ok


def test_a_call_that_is_refused_leaves_nothing(api: Api) -> None:
    ids = _case(api)
    start = seq(api.services)
    outsider = api.client("politie-amsterdam")
    assert outsider.get(f"/v1/cases/{ids['case_id']}/events").status_code == 404
    assert api.client(GGZ).get("/v1/audit").status_code == 403
    partner = api.client(GGZ)
    assert partner.get(f"/v1/audit/protocol/{GGZ}").status_code == 403
    assert partner.get("/v1/audit/access-review").status_code == 403
    officer = api.client(ZVH, "privacy-officer")
    radius = officer.post("/v1/audit/blast-radius", json={"client": "x", "organisation": GGZ})
    assert radius.status_code == 422
    assert officer.get("/v1/audit/protocol/acme").status_code == 404
    unknown = officer.post("/v1/audit/blast-radius", json={"organisation": GGZ, "generation": 7})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert since(api.services, start) == []


def test_who_on_whose_behalf_and_the_partners_trace_are_recorded(api: Api) -> None:
    headers = {"X-On-Behalf-Of": "wijkagent 4471", "traceparent": TRACEPARENT}
    start = seq(api.services)
    with api.client(GGZ) as ggz:
        opened = ggz.post(
            "/v1/cases", json={"payload": aanmelding(fresh_bsn())}, headers=headers
        ).json()
        client_id = api.token(GGZ).removeprefix("cs_").split("_")[0]
    recorded = since(api.services, start)[0]
    assert recorded["action"] == "event.recorded"
    assert recorded["events"] == [opened["event_id"]]
    assert recorded["client"] == client_id
    assert recorded["organisation"] == GGZ and recorded["role"] == "partner-system"
    assert recorded["on_behalf_of"] == "wijkagent 4471"
    assert recorded["trace_id"] == TRACE and recorded["parent_operation_id"] == PARENT
    assert recorded["operation_id"] != PARENT


def test_the_trace_goes_on_in_the_webhook_the_receiver_gets(api: Api) -> None:
    with receiving() as receiver, api.client(GGZ) as ggz:
        created = ggz.post("/v1/subscriptions", json={"url": receiver.url()}).json()
        receiver.secrets["/hook"] = created["secret"]
        opened = api.client(GGZ).post(
            "/v1/cases",
            json={"payload": aanmelding(fresh_bsn())},
            headers={"traceparent": TRACEPARENT},
        )
        assert opened.status_code == 201
        fast = Backoff(base=timedelta(milliseconds=50))
        with worker_thread(api.services, poll_interval=0.05, backoff=fast):
            receiver.wait_for(lambda: len(receiver.of()) >= 1)
        sent = receiver.of()[0].headers["traceparent"]
    _, trace, operation, _ = sent.split("-")
    assert trace == TRACE
    entries = [e["entry"] for e in api.services.audit.export()]
    delivered = [e for e in entries if e["action"] == WEBHOOK_DELIVERED]
    recorded = next(e for e in entries if e["action"] == "event.recorded")
    assert delivered and delivered[0]["operation_id"] == operation
    assert delivered[0]["trace_id"] == TRACE
    assert delivered[0]["parent_operation_id"] == recorded["operation_id"]
    assert delivered[0]["receiver"] == GGZ


def test_the_trail_pages_and_filters_for_privacy_officers(api: Api) -> None:
    first, second = _case(api), _case(api)
    officer = api.client(ZVH, "privacy-officer")
    page = officer.get("/v1/audit", params={"case": first["case_id"], "limit": 2}).json()
    assert len(page["items"]) == 2
    seen = list(page["items"])
    while page["items"]:
        page = officer.get(
            "/v1/audit", params={"case": first["case_id"], "after": page["next_after"]}
        ).json()
        seen += page["items"]
    assert {i["entry"]["case"] for i in seen} == {first["case_id"]}
    assert [i["seq"] for i in seen] == sorted({i["seq"] for i in seen})
    assert second["case_id"] not in json.dumps(seen)
    by_org = officer.get("/v1/audit", params={"organisation": GGZ, "limit": 1000}).json()
    assert by_org["items"] and all(
        GGZ in (i["entry"]["receiver"], i["entry"]["organisation"]) for i in by_org["items"]
    )
    future = officer.get("/v1/audit", params={"from": "2999-01-01T00:00:00Z"}).json()
    assert future["items"] == []
    bad = officer.get("/v1/audit", params={"from": "yesterday"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    refused = api.client(GGZ, "coordinator").get("/v1/audit")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_the_cli_verifies_exports_and_exits_non_zero_on_tampering(
    services: Services, tmp_path: Path
) -> None:
    url = services.settings.database_url
    assert url is not None
    env = {"CASESTORE_DEMO": "true", "CASESTORE_DATABASE_URL": url}
    env["CASESTORE_VAR_DIR"] = str(services.settings.var_dir)
    open_case(services.store)
    assert run(["audit", "checkpoint"], tmp_path, **env).returncode == 0
    verified = run(["audit", "verify"], tmp_path, **env)
    assert verified.returncode == 0, verified.stderr
    assert "intact" in verified.stdout
    exported = run(["audit", "export"], tmp_path, **env)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [item["seq"] for item in lines] == list(range(1, len(lines) + 1))
    table = services.audit.table.backend.table("audit")
    services.audit.table.backend.write(f"DELETE FROM {table} WHERE seq = 2")
    broken = run(["audit", "verify"], tmp_path, **env)
    assert broken.returncode != 0
    assert "entry 2 is missing" in broken.stderr


def test_the_accountability_reports_over_the_cli(services: Services, tmp_path: Path) -> None:
    url = services.settings.database_url
    assert url is not None
    env = {"CASESTORE_DEMO": "true", "CASESTORE_DATABASE_URL": url}
    env["CASESTORE_VAR_DIR"] = str(services.settings.var_dir)
    opened = open_case(services.store)
    include(services.store, opened.case_id)  # the levensloopaanbieder gets the aanmelding
    protocol = run(["audit", "protocol", GGZ], tmp_path, **env)
    assert protocol.returncode == 0, protocol.stderr
    provided = json.loads(protocol.stdout)["verstrekkingen"]
    assert {v["zaak"] for v in provided} == {str(opened.case_id)}
    radius = run(["audit", "blast-radius", "--org", ZVH, "--generation", "1"], tmp_path, **env)
    assert radius.returncode == 0, radius.stderr
    assert "AVG art. 33" in json.loads(radius.stdout)["concept_melding_ap"]
    window = run(
        ["audit", "blast-radius", "--from", "2000-01-01", "--to", "2000-01-02"], tmp_path, **env
    )
    assert window.returncode == 0 and json.loads(window.stdout)["personen"] == 0
    review = run(["audit", "access-review", "--stale-days", "30"], tmp_path, **env)
    assert review.returncode == 0 and "organisaties" in json.loads(review.stdout)
    unknown = run(["audit", "blast-radius", "--org", ZVH, "--generation", "9"], tmp_path, **env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == f"error: {ZVH} has no key generation 9"
    both = run(["audit", "blast-radius", "--client", "x", "--from", "2000-01-01"], tmp_path, **env)
    assert both.returncode == 2 and both.stderr.startswith("error: give one of")
    nobody = run(["audit", "protocol", "acme"], tmp_path, **env)
    assert nobody.returncode == 1 and "acme" in nobody.stderr
