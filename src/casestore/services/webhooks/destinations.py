"""Where webhooks may go: public addresses only, unless the operator allows private ones.

A webhook URL is chosen by a partner, and the worker posts to it from inside the region's
network. Left unchecked, a partner-system token would make the service reach what only it
can reach — the database, a cloud's metadata endpoint, internal admin pages — and the
delivery attempts it can read back would report what answered. So a URL whose host is a
non-public address literal (or `localhost`) is refused when the subscription is made, and
every connection the worker opens is checked again after the name is resolved: a name
may resolve differently at delivery time than it did at creation (or be made to, by its
owner's DNS). The worker connects to the very address it checked, never resolving twice.

The demo, and a region whose receivers live on its own private network, allow private
destinations (`CASESTORE_WEBHOOK_PRIVATE_DESTINATIONS`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import httpcore
import httpx

IPAddress = IPv4Address | IPv6Address

NAT64 = ip_network("64:ff9b::/96")  # an IPv4 address inside: judged as that address


class DestinationRefused(httpcore.ConnectError):
    """The host resolves to an address webhooks may not go to. A connect error to httpx,
    so a refused delivery is a failed attempt like any other (retried, then parked)."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(f"{host} resolves to {address}, which is not a public address")
        self.host = host
        self.address = address


def is_public(address: IPAddress) -> bool:
    """Globally reachable unicast, as IANA's special-purpose registries say; an IPv4
    address carried in IPv6 (mapped, or NAT64) is judged as itself."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in NAT64:
            return is_public(IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not address.is_multicast


def check_host(host: str) -> None:
    """Refuse, with ValueError, a URL host that names a non-public place outright: an
    address literal, or localhost. Other names are checked as they are resolved."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise ValueError("must not point at this machine (localhost)")
    try:
        address = ip_address(name)
    except ValueError:
        return
    if not is_public(address):
        raise ValueError(f"must not point at a non-public address ({address})")


class PublicOnlyBackend(httpcore.SyncBackend):
    """httpcore's own sockets, opened only to addresses that pass `is_public`: the name is
    resolved here, every address it resolves to must pass, and the connection goes to an
    address from that same answer. TLS still verifies the certificate against the name."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        for address in addresses:
            if not is_public(address):
                raise DestinationRefused(host, address)
        last: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # the next address may answer
                last = exc
        raise last or httpcore.ConnectError(f"{host} has no address")


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host} does not resolve ({exc})") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ip_address(str(sockaddr[0]).partition("%")[0])  # no IPv6 zone ids
        if address not in addresses:
            addresses.append(address)
    return addresses


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport, with its connection pool opening sockets through
    `PublicOnlyBackend` (httpx takes no network backend of its own, so the pool it built
    is replaced by one built the same way around ours)."""

    def __init__(self, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(),
        )


def http_client(timeout: float, *, private_destinations: bool) -> httpx.Client:
    """The worker's HTTP client: no redirects followed (a 3xx is an answer), no proxy
    from the environment, and unless allowed, public destinations only."""
    transport = None if private_destinations else PublicOnlyTransport()
    return httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
    )


def refused(exc: BaseException) -> DestinationRefused | None:
    """The refusal behind an httpx error, if that is what it was."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DestinationRefused):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None
