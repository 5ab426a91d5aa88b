"""API clients: a token is shown once and stored only as a hash; every way a token can be
wrong looks the same to the caller. Runs on SQLite and PostgreSQL (the client table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from datetime import timedelta

import pytest

from casestore.bootstrap import Services
from casestore.services.clients import PREFIX, ClientError, ClientRole, Clients, Unauthenticated
from tests.factories import Clock

ORG = "arkin"


@pytest.fixture
def clients(services: Services) -> Clients:
    return services.clients


def test_an_issued_token_authenticates_as_its_client(clients: Clients, clock: Clock) -> None:
    issued = clients.add(ORG, "partner-system", "  EPD-koppeling  ")
    assert issued.token.startswith(f"{PREFIX}{issued.client.client_id}_")
    client = clients.authenticate(issued.token)
    assert client == issued.client
    assert (client.org_id, client.role, client.name) == (
        ORG,
        ClientRole.partner_system,
        "EPD-koppeling",
    )
    assert client.expires_at == clock() + timedelta(days=365)
    assert client.revoked_at is None


def test_only_a_hash_of_the_token_is_stored(clients: Clients, services: Services) -> None:
    issued = clients.add(ORG, ClientRole.coordinator, "regie")
    secret = issued.token.rpartition("_")[2]
    rows = services.clients.table.all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in astuple(rows[0]))
    assert issued.client.client_id in stored
    assert issued.token not in stored
    assert secret not in stored
    assert len(rows[0].token_hash) == 64  # BLAKE2b-256, hex


def test_listing_shows_clients_never_tokens(clients: Clients) -> None:
    first = clients.add(ORG, "partner-system", "a")
    clients.add("ymere", "partner-system", "b")
    listed = clients.list()
    assert {c.org_id for c in listed} == {ORG, "ymere"}
    assert clients.list(ORG) == [first.client]
    assert first.token not in repr(listed)


def test_two_clients_never_share_a_token(clients: Clients) -> None:
    tokens = {clients.add(ORG, "partner-system", f"c{i}").token for i in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # wrong secret
        lambda token: token.replace(PREFIX, "xx_", 1),  # wrong prefix
        lambda token: token.rpartition("_")[0],  # no secret
        lambda token: PREFIX + "0000000000000000_" + token.rpartition("_")[2],  # unknown id
        lambda token: "",
        lambda token: "not-a-token",
        lambda token: PREFIX + "_",
    ],
    ids=["wrong-secret", "wrong-prefix", "no-secret", "unknown-id", "empty", "garbage", "bare"],
)
def test_a_malformed_or_unknown_token_is_unauthenticated(
    clients: Clients, mangle: Callable[[str], str]
) -> None:
    token = clients.add(ORG, "partner-system", "x").token
    with pytest.raises(Unauthenticated) as caught:
        clients.authenticate(mangle(token))
    assert str(caught.value) == "a valid bearer token is required"


def test_a_revoked_token_stops_working_at_once(clients: Clients, clock: Clock) -> None:
    issued = clients.add(ORG, "partner-system", "x")
    other = clients.add(ORG, "partner-system", "y")
    clock.advance(minutes=5)
    revoked = clients.revoke(issued.client.client_id)
    assert revoked.revoked_at == clock()
    with pytest.raises(Unauthenticated) as caught:
        clients.authenticate(issued.token)
    assert str(caught.value) == "a valid bearer token is required"
    assert clients.authenticate(other.token) == other.client
    clock.advance(minutes=5)
    assert clients.revoke(issued.client.client_id).revoked_at == revoked.revoked_at
    with pytest.raises(ClientError, match="no client"):
        clients.revoke("0000000000000000")


def test_a_token_expires(clients: Clients, clock: Clock) -> None:
    issued = clients.add(ORG, "auditor", "x", valid_for=timedelta(hours=1))
    clock.advance(minutes=59)
    assert clients.authenticate(issued.token).role is ClientRole.auditor
    clock.advance(minutes=1)
    with pytest.raises(Unauthenticated) as caught:
        clients.authenticate(issued.token)
    assert str(caught.value) == "a valid bearer token is required"


@pytest.mark.parametrize(
    ("org", "role", "name", "valid_for", "message"),
    [
        ("acme", "partner-system", "x", timedelta(days=1), "unknown organisation 'acme'"),
        (ORG, "admin", "x", timedelta(days=1), "unknown role 'admin'"),
        (ORG, "auditor", "   ", timedelta(days=1), "needs a name"),
        (ORG, "auditor", "x", timedelta(0), "valid for some time"),
    ],
)
def test_a_client_is_only_issued_for_a_known_organisation_and_role(
    clients: Clients,
    services: Services,
    org: str,
    role: str,
    name: str,
    valid_for: timedelta,
    message: str,
) -> None:
    with pytest.raises(ClientError, match=message):
        clients.add(org, role, name, valid_for)
    assert services.clients.table.all() == []
