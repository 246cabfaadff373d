"""Who a request comes from (bot.channels.web.clients): the key per-address limits count under."""

from __future__ import annotations

import ipaddress

from hypothesis import given, strategies as st

from bot.channels.web.clients import client_address, trusted_proxies

PROXY = trusted_proxies("10.0.0.0/8, fd00::/8")
hops = st.lists(st.one_of(st.ip_addresses().map(str), st.text(max_size=12)), max_size=5)


def test_the_peer_is_the_client_without_a_proxy() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"


def test_behind_proxies_the_last_address_they_did_not_write() -> None:
    chain = ["6.6.6.6, 203.0.113.7", "10.1.1.1"]  # client's lie, client, inner proxy
    assert client_address("10.2.2.2", chain, PROXY) == "203.0.113.7"


def test_ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() -> None:
    one = client_address("2001:db8:1:2::5", [], ())
    other = client_address("2001:db8:1:2:ffff::9", [], ())
    assert one == other == "2001:db8:1:2::/64"
    assert client_address("::ffff:203.0.113.7", [], ()) == "203.0.113.7"
    assert client_address("10.0.0.1", ["[2001:db8::1]:443"], PROXY) == "2001:db8::/64"
    assert client_address("10.0.0.1", ["203.0.113.7:51000"], PROXY) == "203.0.113.7"


@given(peer=st.ip_addresses().map(str), forwarded=hops)
def test_an_untrusted_peer_cannot_choose_its_address(peer, forwarded) -> None:
    expected = client_address(peer, [], ())
    address = ipaddress.ip_address(peer)
    address = getattr(address, "ipv4_mapped", None) or address
    if not any(address in net for net in PROXY):
        assert client_address(peer, forwarded, PROXY) == expected


@given(forwarded=hops)
def test_any_header_gives_an_address_or_unknown(forwarded) -> None:
    key = client_address("10.0.0.1", forwarded, PROXY)
    assert key == "unknown" or ipaddress.ip_network(key, strict=False)
