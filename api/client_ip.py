"""Who is calling: the socket peer, or the client our own proxies say they forwarded.

Each proxy appends the address it received the request from to ``X-Forwarded-For``, so only the
right-hand end, written by proxies we run, can be believed: the client is the right-most address
that is not one of ``HOLOMATE_TRUSTED_PROXIES``. Anything left of it came from the client, and
the header counts for nothing unless the peer itself is a trusted proxy.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from starlette.types import Scope

IPV6_CLIENT_PREFIX = 64  # one IPv6 subscriber usually holds a whole /64: limit it as one client


class TrustedProxies:
    def __init__(self, networks: Iterable[str] = ()) -> None:
        self.networks = tuple(ip_network(n, strict=False) for n in networks)

    def __contains__(self, address: IPv4Address | IPv6Address) -> bool:
        return any(address in network for network in self.networks)


def client_ip(scope: Scope, trusted: TrustedProxies) -> str:
    """The client's address for this request or socket ("" when nobody says)."""
    client = scope.get("client")
    peer = _parse(client[0]) if client else None
    if client and peer is None:
        return str(client[0])  # not an IP (a test client's name)
    if peer is None and not trusted.networks:
        return ""
    if peer is not None and peer not in trusted:
        return str(peer)
    # From a trusted proxy, or over a Unix socket (only a local proxy connects there) when
    # proxies are configured at all.
    forwarded = [value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
    current: IPv4Address | IPv6Address | None = peer
    for entry in reversed(b",".join(forwarded).decode("latin-1").split(",")):
        if not entry.strip():
            continue
        address = _parse(entry)
        if address is None:
            break  # not an address: nothing further left can be trusted
        if address not in trusted:
            return str(address)
        current = address
    return "" if current is None else str(current)


def rate_key(address: str) -> str:
    """What a per-IP limit counts: the address, or its /64 for IPv6."""
    parsed = _parse(address)
    if isinstance(parsed, IPv6Address):
        return str(ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return address or "-"


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("["):  # [v6]:port
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
