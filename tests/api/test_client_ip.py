"""Who the client is: X-Forwarded-For counts only as far as our own proxies wrote it."""

from __future__ import annotations

from typing import Any

import pytest

from api.client_ip import TrustedProxies, client_ip, rate_key

PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1"])


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"client": (peer, 50000) if peer else None, "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("8.8.8.8", ["1.1.1.1"], "8.8.8.8"),  # not a proxy: the header is the client's word
        ("127.0.0.1", ["1.1.1.1, 2.2.2.2, 10.0.0.5"], "2.2.2.2"),  # right-most not ours
        ("127.0.0.1", ["1.1.1.1", "2.2.2.2"], "2.2.2.2"),  # several headers read as one list
        ("127.0.0.1", ["not-an-ip, 3.3.3.3"], "3.3.3.3"),  # junk left of the client is ignored
        ("127.0.0.1", ["3.3.3.3, junk"], "127.0.0.1"),  # junk from a proxy: stop at the proxy
        ("127.0.0.1", ["10.1.1.1"], "10.1.1.1"),  # only proxies: the left-most of them
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["[2001:db8::7]:443, 4.4.4.4:80"], "4.4.4.4"),  # ports dropped
        ("::ffff:127.0.0.1", ["5.5.5.5"], "5.5.5.5"),  # IPv4-mapped peer is the IPv4 proxy
        (None, ["6.6.6.6"], "6.6.6.6"),  # a Unix socket: only a local proxy connects there
    ],
)
def test_the_client_is_the_right_most_address_our_proxies_did_not_write(
    peer: str | None, forwarded: list[str], client: str
) -> None:
    assert client_ip(scope(peer, *forwarded), PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_ip(scope("127.0.0.1", "1.1.1.1"), TrustedProxies()) == "127.0.0.1"
    assert client_ip(scope(None, "1.1.1.1"), TrustedProxies()) == ""


def test_an_ipv6_client_is_limited_by_its_slash_64() -> None:
    assert (
        rate_key("2001:db8:1:2:aaaa::1") == rate_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    )
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("192.0.2.1") == "192.0.2.1"
    assert rate_key("") == "-"
