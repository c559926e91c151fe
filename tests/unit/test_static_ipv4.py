"""A static IPv4 set-up: the three fields as typed, their rules, and the profile they make."""

from __future__ import annotations

import sys
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.errors import ValidationError
from app.flow.attempt import stated_dns
from app.nm.keyfile import parse_keyfile
from app.nm.models import ActiveLink
from app.nm.profiles import client_profile, in_addr, ipv4_setting
from app.nm.variants import to_dbus
from app.rules import (
    IPV4_ADDRESS,
    IPV4_DNS,
    IPV4_GATEWAY,
    check_credentials,
    parse_static_ipv4,
    unicast_problem,
)
from app.wifi import Credentials, SecurityKind, StaticIPv4

FIELDS = {IPV4_ADDRESS, IPV4_GATEWAY, IPV4_DNS}
TEN_ONE = IPv4Address("10.0.0.1")
KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"
GUIDE = StaticIPv4(
    IPv4Interface("192.168.1.127/24"),
    IPv4Address("192.168.1.1"),
    (IPv4Address("8.8.8.8"), IPv4Address("8.8.4.4")),
)


@pytest.mark.parametrize(
    ("address", "gateway", "dns", "expected"),
    [
        (None, None, None, None),
        ("", " ", "", None),
        ("192.168.1.127/24", "192.168.1.1", "8.8.8.8,8.8.4.4", GUIDE),
        (" 192.168.1.127/24 ", " 192.168.1.1 ", " 8.8.8.8 , 8.8.4.4 ", GUIDE),
        ("192.168.1.127/24", "192.168.1.1", "8.8.8.8 8.8.4.4,", GUIDE),
        (
            "10.1.2.3/8",
            "10.0.0.1",
            "10.0.0.1",
            StaticIPv4(IPv4Interface("10.1.2.3/8"), TEN_ONE, (TEN_ONE,)),
        ),
    ],
)  # fmt: skip
def test_good_set_ups(
    address: str | None, gateway: str | None, dns: str | None, expected: StaticIPv4 | None
) -> None:
    assert parse_static_ipv4(address, gateway, dns) == expected


ADDRESS, GATEWAY, DNS = "192.168.1.127/24", "192.168.1.1", "192.168.1.1"


@pytest.mark.parametrize(
    ("address", "gateway", "dns", "field", "words"),
    [
        # A gateway or DNS servers alone: never a silent DHCP.
        ("", GATEWAY, "", IPV4_GATEWAY, "A gateway goes with a static address"),
        ("", "", DNS, IPV4_DNS, "DNS servers go with a static address"),
        # The address.
        ("192.168.1.127", GATEWAY, DNS, IPV4_ADDRESS, "with its prefix length"),
        ("192.168.1/24", GATEWAY, DNS, IPV4_ADDRESS, "not an IPv4 address"),
        ("192.168.001.127/24", GATEWAY, DNS, IPV4_ADDRESS, "not an IPv4 address"),
        ("192.168.1.127/24/8", GATEWAY, DNS, IPV4_ADDRESS, "not an IPv4 address with a prefix"),
        ("192.168.1.127/33", GATEWAY, DNS, IPV4_ADDRESS, "/33 is not a prefix length"),
        ("192.168.1.127/0", GATEWAY, DNS, IPV4_ADDRESS, "from /1 to /30"),
        ("192.168.1.127/31", GATEWAY, DNS, IPV4_ADDRESS, "from /1 to /30"),
        ("192.168.1.127/32", GATEWAY, DNS, IPV4_ADDRESS, "from /1 to /30"),
        ("192.168.1.0/24", GATEWAY, DNS, IPV4_ADDRESS, "network address of 192.168.1.0/24"),
        ("192.168.1.255/24", GATEWAY, DNS, IPV4_ADDRESS, "broadcast address of 192.168.1.0/24"),
        ("0.0.0.0/8", "0.0.0.1", DNS, IPV4_ADDRESS, "unspecified"),
        ("0.1.2.3/8", "0.0.0.1", DNS, IPV4_ADDRESS, "this network"),
        ("127.0.0.2/8", "127.0.0.1", DNS, IPV4_ADDRESS, "loopback"),
        ("169.254.7.7/16", "169.254.0.1", DNS, IPV4_ADDRESS, "link-local"),
        ("224.0.0.5/24", "224.0.0.1", DNS, IPV4_ADDRESS, "multicast"),
        ("240.0.0.5/24", "240.0.0.1", DNS, IPV4_ADDRESS, "reserved"),
        # The gateway.
        (ADDRESS, "", DNS, IPV4_GATEWAY, "Enter the gateway"),
        (ADDRESS, "192.168.1", DNS, IPV4_GATEWAY, "not an IPv4 address"),
        (ADDRESS, "10.0.0.1", DNS, IPV4_GATEWAY, "outside 192.168.1.0/24"),
        (ADDRESS, "192.168.1.0", DNS, IPV4_GATEWAY, "network address"),
        (ADDRESS, "192.168.1.255", DNS, IPV4_GATEWAY, "broadcast address"),
        (ADDRESS, "192.168.1.127", DNS, IPV4_GATEWAY, "the device's own address"),
        ("127.1.1.1/8", "127.0.0.1", DNS, IPV4_ADDRESS, "loopback"),
        ("10.0.0.2/8", "0.0.0.0", DNS, IPV4_GATEWAY, "unspecified"),
        # The DNS servers.
        (ADDRESS, GATEWAY, "", IPV4_DNS, "at least one DNS server"),
        (ADDRESS, GATEWAY, " , ", IPV4_DNS, "at least one DNS server"),
        (ADDRESS, GATEWAY, "1.1.1.1,8.8.8.8,9.9.9.9,8.8.4.4", IPV4_DNS, "at most 3"),
        (ADDRESS, GATEWAY, "1.1.1.1;8.8.8.8", IPV4_DNS, "not an IPv4 address"),
        (ADDRESS, GATEWAY, "dns.google", IPV4_DNS, "not an IPv4 address"),
        (ADDRESS, GATEWAY, "1.1.1.1, 1.1.1.1", IPV4_DNS, "listed twice"),
        (ADDRESS, GATEWAY, "127.0.0.53", IPV4_DNS, "loopback"),
        (ADDRESS, GATEWAY, "224.0.0.251", IPV4_DNS, "multicast"),
        (ADDRESS, GATEWAY, "169.254.169.254", IPV4_DNS, "link-local"),
        (ADDRESS, GATEWAY, "255.255.255.255", IPV4_DNS, "the broadcast address"),
        (ADDRESS, GATEWAY, "0.0.0.0", IPV4_DNS, "unspecified"),
        (ADDRESS, GATEWAY, "192.168.1.255", IPV4_DNS, "broadcast address of 192.168.1.0/24"),
    ],
)  # fmt: skip
def test_bad_set_ups_name_their_field(
    address: str, gateway: str, dns: str, field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_static_ipv4(address, gateway, dns)
    assert caught.value.field == field
    assert words in caught.value.message


def test_credentials_carry_the_rules_too() -> None:
    """A set-up built in code (not typed) is checked with the credentials it travels in."""
    outside = StaticIPv4(GUIDE.address, IPv4Address("10.0.0.1"), GUIDE.dns)
    with pytest.raises(ValidationError) as caught:
        check_credentials(Credentials(b"Home", SecurityKind.OPEN, ipv4=outside))
    assert caught.value.field == IPV4_GATEWAY


def test_the_profile_is_manual_with_address_gateway_and_dns() -> None:
    profile = client_profile(Credentials(b"Home", SecurityKind.WPA_PSK, "password1", ipv4=GUIDE))
    assert profile["ipv4"] == {
        "method": "manual",
        "address-data": [{"address": "192.168.1.127", "prefix": 24}],
        "gateway": "192.168.1.1",
        "dns": [in_addr(IPv4Address("8.8.8.8")), in_addr(IPv4Address("8.8.4.4"))],
    }
    # Without a set-up, DHCP as before; IPv6 is untouched either way.
    assert client_profile(Credentials(b"Home", SecurityKind.OPEN))["ipv4"] == {"method": "auto"}
    assert profile["ipv6"] == {"method": "auto"}
    # The types NetworkManager wants on D-Bus.
    wire = to_dbus(profile)["ipv4"]
    assert {key: variant.signature for key, variant in wire.items()} == {
        "method": "s",
        "address-data": "aa{sv}",
        "gateway": "s",
        "dns": "au",
    }


def test_the_profile_reads_as_the_guides_static_keyfile() -> None:
    """The guide's static-IP keyfile, read by the importer, is the setting the fields make."""
    guide = KEYFILES / "guide-static-ipv4.nmconnection"
    typed = parse_static_ipv4("192.168.7.20/24", "192.168.7.1", "8.8.8.8, 8.8.4.4")
    assert parse_keyfile(guide.read_text(), filename=guide.name)["ipv4"] == ipv4_setting(typed)


def test_in_addr_is_the_address_bytes_in_host_order() -> None:
    """ipv4.dns holds in_addr_t: the packed bytes as the host reads a uint32 from memory."""
    value = in_addr(IPv4Address("192.168.1.2"))
    assert value.to_bytes(4, sys.byteorder) == bytes([192, 168, 1, 2])


def test_the_checks_ask_the_stated_dns_servers() -> None:
    link = ActiveLink("wlan0", ("10.9.9.9",))
    static = Credentials(b"Home", SecurityKind.OPEN, ipv4=GUIDE)
    assert stated_dns(link, static) == ActiveLink("wlan0", ("8.8.8.8", "8.8.4.4"))
    assert stated_dns(link, Credentials(b"Home", SecurityKind.OPEN)) is link


@given(
    address=st.text(max_size=24) | st.none(),
    gateway=st.text(max_size=18) | st.none(),
    dns=st.text(max_size=50) | st.none(),
)
@example(address="1.2.3.4/24", gateway="1.2.3.1", dns="\u0661.1.1.1")
@example(address="1.2.3.4/\u0662\u0664", gateway="1.2.3.1", dns="1.1.1.1")
def test_any_typed_fields_give_a_set_up_or_an_error_naming_one_of_them(
    address: str | None, gateway: str | None, dns: str | None
) -> None:
    """Whatever is typed: DHCP, a set-up within every rule, or a ValidationError on its field."""
    try:
        parsed = parse_static_ipv4(address, gateway, dns)
    except ValidationError as error:
        assert error.field in FIELDS
        assert error.message
        return
    if parsed is None:
        assert not any((text or "").strip() for text in (address, gateway, dns))
        return
    _assert_within_the_rules(parsed)


def _assert_within_the_rules(parsed: StaticIPv4) -> None:
    network = parsed.address.network
    assert 1 <= network.prefixlen <= 30
    for host in (parsed.address.ip, parsed.gateway):
        assert unicast_problem(host) is None
        assert host in network
        assert host not in (network.network_address, network.broadcast_address)
    assert parsed.gateway != parsed.address.ip
    assert 1 <= len(parsed.dns) <= 3
    assert len(set(parsed.dns)) == len(parsed.dns)
    assert all(unicast_problem(server) is None for server in parsed.dns)


ADDRESSES = st.integers(0, 2**32 - 1).map(IPv4Address)


@given(
    address=ADDRESSES,
    prefix=st.integers(0, 32),
    gateway=ADDRESSES,
    dns=st.lists(ADDRESSES, max_size=5),
    separator=st.sampled_from([",", ", ", " ", " , "]),
)
def test_any_addresses_typed_give_a_set_up_within_the_rules_or_name_the_field(
    address: IPv4Address, prefix: int, gateway: IPv4Address, dns: list[IPv4Address], separator: str
) -> None:
    """Well-formed addresses of any value: each rule is held, and a good set-up reads back."""
    texts = (f"{address}/{prefix}", str(gateway), separator.join(map(str, dns)))
    try:
        parsed = parse_static_ipv4(*texts)
    except ValidationError as error:
        assert error.field in FIELDS
        return
    assert parsed is not None
    _assert_within_the_rules(parsed)
    assert parsed == StaticIPv4(IPv4Interface(f"{address}/{prefix}"), gateway, tuple(dns))


@given(
    network=st.integers(8, 30).flatmap(
        lambda prefix: st.integers(0, 2**32 - 1).map(
            lambda base: IPv4Network((base, prefix), strict=False)
        )
    ),
    data=st.data(),
)
def test_a_gateway_inside_a_unicast_network_is_taken(
    network: IPv4Network, data: st.DataObject
) -> None:
    """Two different hosts of a network of usable addresses: always a good set-up."""
    hosts = st.integers(1, network.num_addresses - 2).map(lambda n: network.network_address + n)
    address = data.draw(hosts)
    gateway = data.draw(hosts.filter(lambda host: host != address))
    if any(unicast_problem(host) for host in (address, gateway)):
        return
    parsed = parse_static_ipv4(f"{address}/{network.prefixlen}", str(gateway), "9.9.9.9")
    assert parsed is not None and parsed.gateway == gateway
