"""Which webhook destinations count as public, and which URL hosts are refused outright."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casestore.services.webhooks.destinations import check_host, is_public

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # shared address space (carrier NAT)
    "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2001:db8::1",  # documentation
]
PUBLIC = ["8.8.8.8", "145.97.39.155", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not is_public(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are(address: str) -> None:
    assert is_public(ip_address(address))


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_judged_the_same_however_it_is_carried(address: IPv4Address) -> None:
    mapped = IPv6Address(f"::ffff:{address}")
    nat64 = IPv6Address(int(IPv6Address("64:ff9b::")) | int(address))
    assert is_public(mapped) == is_public(address) == is_public(nat64)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "[::1]", "10.0.0.7", "[fe80::1]"],
)
def test_a_url_host_naming_a_non_public_place_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="must not point at"):
        check_host(host)


@pytest.mark.parametrize(
    "host", ["partner.example", "hooks.ggz-partner.nl", "8.8.8.8", "[2001:4860::1]"]
)
def test_other_hosts_are_left_to_the_check_at_connect_time(host: str) -> None:
    check_host(host)  # names are resolved, and checked, only when the worker connects
