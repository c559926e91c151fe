"""NetworkManager keyfiles to connection settings: every form, every refusal, a whole directory."""

from __future__ import annotations

import base64
import os
import sys
import uuid
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from app.errors import ValidationError
from app.nm.keyfile import (
    MAX_KEYFILE_BYTES,
    ImportResult,
    KeyfileError,
    import_directory,
    is_skipped_filename,
    parse_keyfile,
)
from app.nm.profiles import Settings
from app.nm.variants import to_dbus

KEYFILES = Path(__file__).parents[1] / "data" / "keyfiles"


def dns4(address: str) -> int:
    """ipv4.dns's form: the uint32 whose bytes in this host's memory are the address."""
    return int.from_bytes(IPv4Address(address).packed, sys.byteorder)


def parse_error(text: str, filename: str | None = None) -> KeyfileError:
    with pytest.raises(KeyfileError) as caught:
        parse_keyfile(text, filename=filename)
    return caught.value


def wifi(*lines: str, security: tuple[str, ...] = ()) -> str:
    """A small wifi keyfile: [connection] and [wifi] lines, then optional [wifi-security]."""
    text = "[connection]\nid=Net\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a10\ntype=wifi\n"
    text += "[wifi]\nssid=Net\n" + "".join(f"{line}\n" for line in lines)
    if security:
        text += "[wifi-security]\n" + "".join(f"{line}\n" for line in security)
    return text


def pem_blob(filename: str, key: str) -> bytes:
    """The PEM text a certificate key of an example file holds inline (data:;base64,...)."""
    prefix = f"{key}=data:;base64,"
    [line] = [
        line for line in (KEYFILES / filename).read_text().splitlines() if line.startswith(prefix)
    ]
    pem = base64.b64decode(line.removeprefix(prefix))
    assert pem.startswith(b"-----BEGIN ")
    return pem


# --- every example keyfile parses into exactly these settings ----------------------------------

AUTO: dict[str, object] = {"method": "auto"}


def wifi_settings(
    connection: dict[str, object],
    wireless: dict[str, object],
    security: dict[str, object] | None = None,
    *,
    eap: dict[str, object] | None = None,
    ipv4: dict[str, object] = AUTO,
    ipv6: dict[str, object] = AUTO,
) -> Settings:
    """A client profile as the importer must give it; the keys every profile has filled in."""
    settings: Settings = {
        "connection": {"type": "802-11-wireless", "autoconnect": True, **connection},
        "802-11-wireless": {"mode": "infrastructure", **wireless},
        "ipv4": ipv4,
        "ipv6": ipv6,
    }
    if security is not None:
        settings["802-11-wireless-security"] = security
    if eap is not None:
        settings["802-1x"] = eap
    return settings


EXAMPLES: dict[str, Settings] = {
    "wpa-psk.nmconnection": wifi_settings(
        {"id": "Home", "uuid": "3ffa64f7-62bd-4e99-97f8-72aed645a6f3"},
        {"ssid": b"Home Net"},
        {"key-mgmt": "wpa-psk", "auth-alg": "open", "psk": "correct horse battery"},
        ipv6={"method": "auto", "addr-gen-mode": 1},
    ),
    "hidden.nmconnection": wifi_settings(
        # NetworkManager's fallback id: the file name without .nmconnection; the UUID is
        # derived from the file name, so that a re-import gives the same UUID.
        {"id": "hidden", "uuid": "b0a59949-4e48-5729-9352-edf1b39dfb43"},
        {"ssid": b"Caf\xe9", "hidden": True},
        {"key-mgmt": "wpa-psk", "psk": "0123456789abcdef" * 4},
    ),
    "enterprise-peap.nmconnection": wifi_settings(
        {"id": "Corp", "uuid": "cdac6154-a33b-4b15-9904-666772cfa5ee", "autoconnect": False},
        {"ssid": b"CorpWLAN"},
        {"key-mgmt": "wpa-eap"},
        eap={
            "eap": ["peap"],
            "identity": "joe@example.com",
            "anonymous-identity": "anonymous@example.com",
            # `\s` is a space; `;` is plain text outside a list.
            "password": "s3cret;with spaces ",
            "phase2-auth": "mschapv2",
        },
        # An [ipv6] section without addr-gen-mode means default-or-eui64 in a keyfile.
        ipv6={"method": "ignore", "addr-gen-mode": 2},
    ),
    "static-ipv4.nmconnection": wifi_settings(
        {"id": "Office", "uuid": "5916841b-58c0-4c75-85e2-91025243eef7"},
        {"ssid": b"Office"},
        {"key-mgmt": "wpa-psk", "psk": "office-password"},
        ipv4={
            "method": "manual",
            "address-data": [
                {"address": "192.168.1.127", "prefix": 24},
                {"address": "10.0.0.5", "prefix": 8},
            ],
            "gateway": "192.168.1.1",
            "dns": [dns4("8.8.8.8"), dns4("8.8.4.4")],
            "dns-search": ["example.com"],
            "may-fail": False,
        },
        ipv6={"method": "auto", "addr-gen-mode": 0},
    ),
    "priority.nmconnection": wifi_settings(
        {
            "id": "Preferred",
            "uuid": "b1e0f5b2-3c5d-4f7a-9e2b-6d8c1a0f4e37",
            "autoconnect-priority": 10,
            "interface-name": "wlan0",
        },
        {"ssid": b"Preferred", "mac-address": bytes([0x00, 0x22, 0x68, 0x12, 0x79, 0xA2])},
        {"key-mgmt": "sae", "psk": "a WPA3 passphrase"},
    ),
    "ethernet.nmconnection": {
        "connection": {
            "type": "802-3-ethernet",
            "id": "my-ethernet",
            "uuid": "ec01f84d-4280-55d2-a79c-fb8274984156",
            "autoconnect": True,
            "interface-name": "eth0",
        },
        "802-3-ethernet": {},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": "192.168.1.111", "prefix": 24}],
            "gateway": "192.168.1.1",
            "dns": [dns4("8.8.8.8"), dns4("8.8.4.4")],
        },
        "ipv6": {"method": "auto", "addr-gen-mode": 1},
    },
    "wep.nmconnection": wifi_settings(
        {"id": "Old router", "uuid": "0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a10"},
        {"ssid": b"Old router"},
        {
            "key-mgmt": "none",
            "auth-alg": "shared",
            "wep-key0": "0123456789abcdef0123456789",
            "wep-key-type": 1,
        },
    ),
    # The balenaOS networking guide's examples, with our own names and secrets.
    "guide-hidden-wifi.nmconnection": wifi_settings(
        {"id": "guide-wifi", "uuid": "6b2f2863-d777-5854-9f75-4a2b7cace9ed"},
        {"ssid": b"Guide Hidden Net", "hidden": True},
        {"key-mgmt": "wpa-psk", "auth-alg": "open", "psk": "guide wifi passphrase"},
        ipv6={"method": "auto", "addr-gen-mode": 1},
    ),
    "guide-ethernet-metric.nmconnection": {
        "connection": {
            "type": "802-3-ethernet",
            "id": "guide-ethernet",
            "uuid": "7a2afd43-0dc0-55d7-90eb-63aa33ec39f9",
            "autoconnect": True,
            "interface-name": "eth0",
        },
        "802-3-ethernet": {},
        "ipv4": {
            "method": "auto",
            "ignore-auto-routes": True,
            "never-default": True,
            "route-metric": 2000,
        },
        "ipv6": {"method": "auto", "addr-gen-mode": 1},
    },
    "guide-enterprise-peap.nmconnection": wifi_settings(
        {"id": "guide-eap", "uuid": "39d984bd-2301-5b82-95c8-45f65ff2065c"},
        {"ssid": b"Guide Campus"},
        {"key-mgmt": "wpa-eap", "auth-alg": "open"},
        eap={
            "eap": ["peap"],
            "identity": "student@example.org",
            "password": "campus passphrase",
            "phase2-auth": "mschapv2",
        },
        ipv6={"method": "auto", "addr-gen-mode": 1},
    ),
    "guide-static-ipv4.nmconnection": wifi_settings(
        {"id": "guide-static", "uuid": "ed9a47dc-1338-5fc4-9724-9ee8a1b1d5fe"},
        {"ssid": b"Guide Office"},
        {"key-mgmt": "wpa-psk", "auth-alg": "open", "psk": "office passphrase"},
        ipv4={
            "method": "manual",
            "address-data": [{"address": "192.168.7.20", "prefix": 24}],
            "gateway": "192.168.7.1",
            "dns": [dns4("8.8.8.8"), dns4("8.8.4.4")],
        },
        ipv6={"method": "auto", "addr-gen-mode": 1},
    ),
    "guide-hotspot.nmconnection": wifi_settings(
        {
            "id": "guide-hotspot",
            "uuid": "6848eeaa-a267-5534-a652-97f8acdbe4a7",
            "interface-name": "wlan0",
        },
        {"ssid": b"Guide Hotspot", "mode": "ap", "band": "bg", "mac-address-randomization": 0},
        # The empty group=, pairwise=, permissions=, secondaries= and seen-bssids= are defaults.
        {"key-mgmt": "wpa-psk", "proto": ["rsn"], "psk": "hotspot passphrase"},
        ipv4={"method": "shared"},
        ipv6={"method": "auto", "addr-gen-mode": 1},
    ),
    "guide-cellular.nmconnection": {
        "connection": {
            "type": "gsm",
            "id": "guide-cellular",
            "uuid": "32a9001b-5924-5185-aef0-81090ee60cf2",
            "autoconnect": True,
        },
        "gsm": {
            "apn": "internet.example",
            "number": "*99#",
            "username": "cellular-user",
            "password": "cellular passphrase",
        },
        "serial": {"baud": 115200},
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto", "addr-gen-mode": 1},
    },
    "bond-options.nmconnection": {
        "connection": {
            "id": "Bond",
            "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e02",
            "type": "bond",
            "interface-name": "bond0",
            "autoconnect": False,
        },
        "bond": {"options": {"mode": "active-backup", "miimon": "100"}},
        "ipv4": {"method": "auto"},
        # dns= (an empty aay) is NetworkManager's unset list.
        "ipv6": {"method": "ignore", "addr-gen-mode": 2},
    },
    "vpn.nmconnection": {
        "connection": {
            "id": "Office VPN",
            "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e01",
            "type": "vpn",
            "autoconnect": False,
        },
        "vpn": {
            "service-type": "org.freedesktop.NetworkManager.openvpn",
            "data": {
                "connection-type": "password",
                "remote": "vpn.example.com",
                "username": "device",
                "password-flags": "0",
            },
            "secrets": {"password": "vpn passphrase"},
        },
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto", "addr-gen-mode": 2},
    },
    "wifi-user-data.nmconnection": {
        **wifi_settings(
            {
                "id": "Pending",
                "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e03",
                "autoconnect": False,
            },
            {"ssid": b"Pending"},
            {"key-mgmt": "wpa-psk", "psk": "pending passphrase"},
        ),
        "user": {
            "data": {"wifi-connect.pending": "unproven", "org.example.note": "set by the factory"}
        },
    },
    "ethernet-ethtool.nmconnection": {
        "connection": {
            "id": "Wired tuned",
            "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e04",
            "type": "802-3-ethernet",
            "autoconnect": True,
        },
        "802-3-ethernet": {},
        "ethtool": {"feature-tso": False, "ring-rx": 1024, "coalesce-rx-usecs": 100},
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto"},
    },
    "route-options.nmconnection": {
        "connection": {
            "id": "Routed",
            "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e05",
            "type": "802-3-ethernet",
            "autoconnect": True,
        },
        "802-3-ethernet": {},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": "192.0.2.10", "prefix": 24}],
            "gateway": "192.0.2.1",
            "route-data": [
                {
                    "dest": "198.51.100.0",
                    "prefix": 24,
                    "next-hop": "192.0.2.254",
                    "metric": 50,
                    "mtu": 1400,
                    "lock-mtu": True,
                    "table": 100,
                    "onlink": True,
                    "tos": 16,
                }
            ],
        },
        "ipv6": {"method": "auto"},
    },
    "enterprise-tls.nmconnection": wifi_settings(
        {"id": "Enterprise TLS", "uuid": "5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e06"},
        {"ssid": b"Enterprise TLS"},
        {"key-mgmt": "wpa-eap"},
        eap={
            "eap": ["tls"],
            "identity": "device",
            "ca-cert": pem_blob("enterprise-tls.nmconnection", "ca-cert"),
            "client-cert": pem_blob("enterprise-tls.nmconnection", "client-cert"),
            "private-key": pem_blob("enterprise-tls.nmconnection", "private-key"),
            "private-key-password": "unused-key-password",
        },
    ),
}


@pytest.mark.parametrize(("filename", "expected"), EXAMPLES.items(), ids=EXAMPLES)
def test_example_keyfile_parses_into_exact_settings(filename: str, expected: Settings) -> None:
    text = (KEYFILES / filename).read_text()
    assert parse_keyfile(text, filename=filename) == expected


@pytest.mark.parametrize("filename", EXAMPLES)
def test_example_settings_have_a_dbus_type_for_every_key(filename: str) -> None:
    settings = parse_keyfile((KEYFILES / filename).read_text(), filename=filename)
    wrapped = to_dbus(settings)
    assert {name: set(values) for name, values in wrapped.items()} == {
        name: set(values) for name, values in settings.items()
    }


def test_ipv4_dns_is_network_order_uint32() -> None:
    settings = parse_keyfile((KEYFILES / "static-ipv4.nmconnection").read_text())
    # 8.8.4.4 in memory is 08 08 04 04, whatever this host's byte order.
    expected = 0x04040808 if sys.byteorder == "little" else 0x08080404
    assert settings["ipv4"]["dns"][1] == expected
    assert to_dbus(settings)["ipv4"]["dns"].signature == "au"


# --- the keyfile syntax, as GLib and NetworkManager read it -------------------------------------

SSIDS: dict[str, tuple[str, bytes]] = {
    "text": ("ssid=Home Net", b"Home Net"),
    "utf-8 text": ("ssid=Café ☕", "Café ☕".encode()),
    "byte list": ("ssid=72;105;", b"Hi"),
    "byte list, spaces around numbers": ("ssid= 72 ; 105 ;", b"Hi"),
    "non-utf-8 bytes": ("ssid=255;0;1;", b"\xff\x00\x01"),
    "digits without a final ; are text": ("ssid=65;66", b"65;66"),
    "a number over 255 makes it text": ("ssid=300;", b"300;"),
    "escaped semicolon": ("ssid=a\\;b", b"a;b"),
    "escaped leading space": ("ssid=\\sx", b" x"),
    "escaped backslash": ("ssid=a\\\\b", b"a\\b"),
    "trailing space kept": ("ssid=x  ", b"x  "),
}


@pytest.mark.parametrize(("line", "ssid"), SSIDS.values(), ids=SSIDS)
def test_ssid_forms(line: str, ssid: bytes) -> None:
    text = f"[connection]\nid=x\ntype=wifi\n[wifi]\n{line}\n"
    assert parse_keyfile(text)["802-11-wireless"]["ssid"] == ssid


def test_psk_keeps_trailing_spaces_and_drops_leading_ones() -> None:
    settings = parse_keyfile(wifi(security=("key-mgmt=wpa-psk", "psk=   pass word  ")))
    assert settings["802-11-wireless-security"]["psk"] == "pass word  "


def test_psk_escapes_are_decoded() -> None:
    settings = parse_keyfile(wifi(security=("key-mgmt=wpa-psk", "psk=\\sab\\\\cd;efgh")))
    assert settings["802-11-wireless-security"]["psk"] == " ab\\cd;efgh"


def test_windows_line_ends_comments_indentation_and_bom_are_read() -> None:
    text = (
        "\ufeff# saved in Notepad\r\n\r\n  [connection]\r\n  id = Win\r\ntype=wifi\r\n"
        "[wifi]\r\n\t# comment\r\nssid=Win\r\n[wifi-security]\r\nkey-mgmt=wpa-psk\r\n"
        "psk=windows-password\r\n"
    )
    settings = parse_keyfile(text)
    assert settings["connection"]["id"] == "Win"
    assert settings["802-11-wireless"]["ssid"] == b"Win"
    assert settings["802-11-wireless-security"]["psk"] == "windows-password"


def test_long_section_names_are_the_same_as_the_aliases() -> None:
    short = wifi(security=("key-mgmt=wpa-psk", "psk=same-password"))
    long = short.replace("[wifi]", "[802-11-wireless]").replace(
        "[wifi-security]", "[802-11-wireless-security]"
    )
    assert parse_keyfile(long) == parse_keyfile(short)


def test_type_comes_from_the_sections_when_missing() -> None:
    assert parse_keyfile("[wifi]\nssid=x\n")["connection"]["type"] == "802-11-wireless"
    assert parse_keyfile("[ethernet]\n", filename="e")["connection"]["type"] == "802-3-ethernet"


@pytest.mark.parametrize(
    ("filename", "expected_id"),
    [("home.nmconnection", "home"), ("home", "home"), ("/boot/x/Cafe.nmconnection", "Cafe")],
)
def test_missing_id_is_the_file_name(filename: str, expected_id: str) -> None:
    settings = parse_keyfile("[wifi]\nssid=Other\n", filename=filename)
    assert settings["connection"]["id"] == expected_id


def test_missing_id_without_a_file_name_is_the_ssid() -> None:
    assert parse_keyfile("[wifi]\nssid=72;105;\n")["connection"]["id"] == "Hi"


def test_missing_uuid_is_stable_per_file_name() -> None:
    text = "[wifi]\nssid=x\n"

    def made(filename: str) -> str:
        return str(parse_keyfile(text, filename=filename)["connection"]["uuid"])

    assert made("a.nmconnection") == made("a.nmconnection")
    assert made("a.nmconnection") != made("b.nmconnection")
    assert uuid.UUID(made("a.nmconnection")).version == 5


def test_uuid_is_written_in_canonical_form() -> None:
    text = "[connection]\nuuid={3FFA64F7-62BD-4E99-97F8-72AED645A6F3}\n[wifi]\nssid=x\n"
    assert parse_keyfile(text)["connection"]["uuid"] == "3ffa64f7-62bd-4e99-97f8-72aed645a6f3"


def test_booleans_take_glibs_words() -> None:
    for word, hidden in (("true", True), ("1", True), ("true  ", True), ("false", False)):
        settings = parse_keyfile(wifi(f"hidden={word}"))
        assert settings["802-11-wireless"].get("hidden", False) is hidden, word


def test_addresses_follow_networkmanagers_order_and_first_gateway() -> None:
    text = (
        "[wifi]\nssid=x\n[ipv6]\nmethod=manual\naddress2=2001:db8::3/64\n"
        "addresses1=2001:DB8::2/64,2001:db8::1\naddress=2001:db8::0:1/64\n"
        "address1=2001:db8::4/64;\n"
    )
    ipv6 = parse_keyfile(text)["ipv6"]
    assert ipv6["address-data"] == [
        {"address": "2001:db8::1", "prefix": 64},
        {"address": "2001:db8::4", "prefix": 64},
        {"address": "2001:db8::2", "prefix": 64},
        {"address": "2001:db8::3", "prefix": 64},
    ]
    assert ipv6["gateway"] == "2001:db8::1"


def test_ipv6_dns_and_options() -> None:
    text = (
        "[wifi]\nssid=x\n[ipv4]\nmethod=disabled\n[ipv6]\nmethod=auto\n"
        "dns=2001:4860:4860::8888;\ndns-search=example.com;lan;\nip6-privacy=2\n"
        "addr-gen-mode=default\nroute-metric=-1\ndns-priority=-5\nignore-auto-dns=true\n"
        "ignore-auto-routes=1\nmay-fail=false\nnever-default=false\n"
    )
    settings = parse_keyfile(text)
    assert settings["ipv4"] == {"method": "disabled"}
    assert settings["ipv6"] == {
        "method": "auto",
        "dns": [IPv6Address("2001:4860:4860::8888").packed],
        "dns-search": ["example.com", "lan"],
        "ip6-privacy": 2,
        "addr-gen-mode": 3,
        "route-metric": -1,
        "dns-priority": -5,
        "ignore-auto-dns": True,
        "ignore-auto-routes": True,
        "may-fail": False,
        "never-default": False,
    }


def test_gateway_key_and_wifi_options() -> None:
    text = wifi(
        "mac-address=0;34;104;18;121;162;",
        "mac-address-blacklist=00:11:22:33:44:55;aa-bb-cc-dd-ee-ff;",
        "seen-bssids=00:11:22:33:44:55;",
        security=(
            "key-mgmt=wpa-psk",
            "psk=12345678",
            "psk-flags=0",
            "proto=rsn;",
            "pairwise=ccmp;",
            "group=ccmp;tkip;",
            "pmf=2",
        ),
    )
    text += "[ipv4]\nmethod=auto\naddress1=192.168.5.5/24\ngateway=192.168.5.1\n"
    settings = parse_keyfile(text)
    assert settings["802-11-wireless"] == {
        "ssid": b"Net",
        "mode": "infrastructure",
        "mac-address": bytes([0, 34, 104, 18, 121, 162]),
        "mac-address-blacklist": ["00:11:22:33:44:55", "AA:BB:CC:DD:EE:FF"],
    }
    assert settings["802-11-wireless-security"] == {
        "key-mgmt": "wpa-psk",
        "psk": "12345678",
        "proto": ["rsn"],
        "pairwise": ["ccmp"],
        "group": ["ccmp", "tkip"],
        "pmf": 2,
    }
    assert settings["ipv4"] == {
        "method": "auto",
        "address-data": [{"address": "192.168.5.5", "prefix": 24}],
        "gateway": "192.168.5.1",
    }


SECURITY_FORMS: dict[str, tuple[tuple[str, ...], str, Settings]] = {
    "open": ((), "", {}),
    "owe": (("key-mgmt=owe",), "", {"802-11-wireless-security": {"key-mgmt": "owe"}}),
    "wep passphrase": (
        ("key-mgmt=none", "wep-key0=a long wep passphrase", "wep-key-type=2"),
        "",
        {
            "802-11-wireless-security": {
                "key-mgmt": "none",
                "wep-key0": "a long wep passphrase",
                "wep-key-type": 2,
            }
        },
    ),
    "wep key, type left to NetworkManager": (
        ("key-mgmt=none", "wep-key0=abcde"),
        "",
        {"802-11-wireless-security": {"key-mgmt": "none", "wep-key0": "abcde"}},
    ),
    "ttls": (
        ("key-mgmt=wpa-eap",),
        "[802-1x]\neap=ttls\nidentity=me\npassword=pw\npassword-flags=0\n",
        {
            "802-11-wireless-security": {"key-mgmt": "wpa-eap"},
            "802-1x": {"eap": ["ttls"], "identity": "me", "password": "pw"},
        },
    ),
}


@pytest.mark.parametrize(
    ("lines", "extra", "expected"), SECURITY_FORMS.values(), ids=SECURITY_FORMS
)
def test_security_forms(lines: tuple[str, ...], extra: str, expected: Settings) -> None:
    settings = parse_keyfile(wifi(security=lines) + extra)
    security = {k: v for k, v in settings.items() if k in ("802-11-wireless-security", "802-1x")}
    assert security == expected


def test_ethernet_options() -> None:
    text = (
        "[connection]\nid=e\ntype=802-3-ethernet\nautoconnect=false\n[802-3-ethernet]\n"
        "mtu=1400\nmac-address=52:54:00:12:34:56\n[ipv4]\nmethod=link-local\n"
        "[ipv6]\nmethod=disabled\n"
    )
    settings = parse_keyfile(text)
    assert settings["802-3-ethernet"] == {
        "mtu": 1400,
        "mac-address": bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
    }
    assert settings["connection"]["autoconnect"] is False
    assert settings["ipv4"] == {"method": "link-local"}
    assert settings["ipv6"] == {"method": "disabled", "addr-gen-mode": 2}


def test_any_key_networkmanager_takes_is_read_by_its_type() -> None:
    text = wifi(
        "mode=ap",
        "band=a",
        "channel=36",
        "cloned-mac-address=random",
        "powersave=2",
        security=("key-mgmt=wpa-psk", "psk=12345678", "psk-flags=4", "pmf=1"),
    )
    text += (
        "[ipv4]\nmethod=shared\naddress1=10.42.0.1/24\n"
        "route1=10.9.0.0/16,10.42.0.254,50\nroute2=192.0.2.0/24\n"
        "[ipv6]\nmethod=ignore\n"
    )
    settings = parse_keyfile(text)
    assert settings["802-11-wireless"] == {
        "ssid": b"Net",
        "mode": "ap",
        "band": "a",
        "channel": 36,
        "assigned-mac-address": "random",
        "powersave": 2,
    }
    assert settings["802-11-wireless-security"]["psk-flags"] == 4
    assert settings["ipv4"] == {
        "method": "shared",
        "address-data": [{"address": "10.42.0.1", "prefix": 24}],
        "route-data": [
            {"dest": "10.9.0.0", "prefix": 16, "next-hop": "10.42.0.254", "metric": 50},
            {"dest": "192.0.2.0", "prefix": 24},
        ],
    }
    wrapped = to_dbus(settings)
    assert wrapped["802-11-wireless"]["channel"].signature == "u"
    assert wrapped["802-11-wireless-security"]["pmf"].signature == "i"
    assert wrapped["ipv4"]["route-data"].signature == "aa{sv}"


def test_enterprise_keys_beyond_the_portals_are_read() -> None:
    text = wifi(security=("key-mgmt=wpa-eap",))
    text += (
        "[802-1x]\neap=ttls;\nidentity=me\npassword=pw\nphase2-auth=pap\n"
        "ca-cert=/etc/ssl/ca.pem\nclient-cert=data:;base64,AAEC\n"
        "domain-suffix-match=example.org\nsystem-ca-certs=false\n"
    )
    assert parse_keyfile(text)["802-1x"] == {
        "eap": ["ttls"],
        "identity": "me",
        "password": "pw",
        "phase2-auth": "pap",
        # libnm's path scheme: a file:// URI closed by a NUL byte.
        "ca-cert": b"file:///etc/ssl/ca.pem\0",
        "client-cert": b"\x00\x01\x02",
        "domain-suffix-match": "example.org",
        "system-ca-certs": False,
    }


def test_guide_examples_get_networkmanagers_types() -> None:
    hotspot = to_dbus(parse_keyfile((KEYFILES / "guide-hotspot.nmconnection").read_text()))
    assert hotspot["802-11-wireless"]["mac-address-randomization"].signature == "u"
    assert hotspot["802-11-wireless-security"]["proto"].signature == "as"
    cellular = to_dbus(parse_keyfile((KEYFILES / "guide-cellular.nmconnection").read_text()))
    assert cellular["serial"]["baud"].signature == "u"
    assert cellular["gsm"]["apn"].signature == "s"
    wired = to_dbus(parse_keyfile((KEYFILES / "guide-ethernet-metric.nmconnection").read_text()))
    assert wired["ipv4"]["route-metric"].signature == "x"


def test_refusal_by_networkmanager_is_told_at_the_files_key(tmp_path: Path) -> None:
    (tmp_path / "hotspot.nmconnection").write_text(
        (KEYFILES / "guide-hotspot.nmconnection").read_text()
    )
    [result] = import_directory(tmp_path)
    assert result.refusal("802-11-wireless.band: 'bg' is not valid") == (
        "[wifi] band: NetworkManager refused: 'bg' is not valid"
    )
    assert result.refusal("ipv4.method: shared needs a device") == (
        "[ipv4] method: NetworkManager refused: shared needs a device"
    )
    assert result.refusal("802-11-wireless-security.pmf: must be 0-3") == (
        "[wifi-security] pmf: NetworkManager refused: must be 0-3"
    )
    assert result.refusal("something else went wrong") == (
        "NetworkManager refused: something else went wrong"
    )


# --- what NetworkManager's keyfile reader takes beyond the typed keys --------------------------

ETHERNET = "[connection]\nid=x\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a10\ntype=ethernet\n"


def test_string_dictionaries_take_one_key_per_entry() -> None:
    settings = parse_keyfile(
        ETHERNET
        + "[ethernet]\n[ethernet-s390-options]\nportname=P1\n"
        + "[user]\nmy\\2Dnote.x=a\\sb\nwifi-connect.pending=unproven\n"
        + "[ovs-external-ids]\ndata.owner=factory\n[ovs-other-config]\ndata.tx=1\n"
    )
    assert settings["802-3-ethernet"] == {"s390-options": {"portname": "P1"}}
    assert settings["user"] == {"data": {"my-note.x": "a b", "wifi-connect.pending": "unproven"}}
    assert settings["ovs-external-ids"] == {"data": {"owner": "factory"}}
    assert settings["ovs-other-config"] == {"data": {"tx": "1"}}


def test_bond_keys_are_options_and_its_old_interface_name_is_the_connections() -> None:
    text = "[connection]\nid=b\ntype=bond\n[bond]\nmode=802.3ad\ninterface-name=bond1\n"
    settings = parse_keyfile(text)
    assert settings["bond"] == {"options": {"mode": "802.3ad"}}
    assert settings["connection"]["interface-name"] == "bond1"
    given = parse_keyfile(text.replace("type=bond\n", "type=bond\ninterface-name=bond7\n"))
    assert given["connection"]["interface-name"] == "bond7"


def test_vpn_keys_are_its_data_and_vpn_secrets_its_secrets(tmp_path: Path) -> None:
    text = (
        "[connection]\nid=v\ntype=vpn\n[vpn]\nservice-type=org.example.vpn\nuser-name=me\n"
        "gateway=vpn.example.com\n[vpn-secrets]\npassword=trailing space \n"
    )
    settings = parse_keyfile(text)
    assert settings["vpn"] == {
        "service-type": "org.example.vpn",
        "user-name": "me",
        "data": {"gateway": "vpn.example.com"},
        "secrets": {"password": "trailing space "},
    }
    (tmp_path / "v.nmconnection").write_text(text)
    [result] = import_directory(tmp_path)
    assert result.refusal("vpn.secrets: bad") == "[vpn-secrets]: NetworkManager refused: bad"
    assert result.refusal("vpn.data: bad") == "[vpn]: NetworkManager refused: bad"


def test_route_options_are_route_attributes_typed_as_libnm_types_them() -> None:
    settings = parse_keyfile(
        IPV4 + "method=auto\nroute1=10.0.0.0/8\nroute2=10.1.0.0/16\n"
        "route1_options=table=100,lock-mtu=yes,mtu=1400,scope=253,src=10.0.0.5\n"
        "route2_options=type=unicast,newer-attribute=a\\\\,b\n"
        "route3_options=mtu=1\n"
    )
    assert settings["ipv4"]["route-data"] == [
        {
            "dest": "10.0.0.0",
            "prefix": 8,
            "table": 100,
            "lock-mtu": True,
            "mtu": 1400,
            "scope": 253,
            "src": "10.0.0.5",
        },
        # An attribute newer than the table goes as text; the escaped comma is no separator.
        {"dest": "10.1.0.0", "prefix": 16, "type": "unicast", "newer-attribute": "a,b"},
    ]
    wire = to_dbus(settings)["ipv4"]["route-data"].value
    assert [wire[0][key].signature for key in ("table", "lock-mtu", "scope", "src")] == [
        "u",
        "b",
        "y",
        "s",
    ]


@pytest.mark.parametrize(
    "security",
    [
        ("key-mgmt=ieee8021x",),
        ("key-mgmt=wpa-eap-suite-b-192",),
        ("key-mgmt=a-kind-newer-than-libnm",),
    ],
)
def test_a_security_kind_without_app_rules_is_sent_for_networkmanager_to_judge(
    security: tuple[str, ...],
) -> None:
    text = wifi(security=security) + "[802-1x]\neap=tls;\nidentity=me\n"
    settings = parse_keyfile(text)
    assert settings["802-11-wireless-security"] == {"key-mgmt": security[0].split("=")[1]}
    assert settings["802-1x"] == {"eap": ["tls"], "identity": "me"}


@pytest.mark.parametrize("methods", ["tls;", "peap;ttls;", "pwd;"])
def test_eap_methods_without_app_rules_are_sent_for_networkmanager_to_judge(methods: str) -> None:
    settings = parse_keyfile(EAP + f"eap={methods}\nidentity=me\n")
    assert settings["802-1x"] == {"eap": methods.rstrip(";").split(";"), "identity": "me"}


def test_app_rules_still_check_what_they_cover() -> None:
    # No rule for TLS, but the SSID rule holds for every kind.
    error = parse_error(EAP.replace("ssid=x", "ssid=" + "x" * 33) + "eap=tls;\n")
    assert error.field == "[wifi] ssid"
    error = parse_error(wifi(security=("key-mgmt=wpa-psk", "psk=short")))
    assert error.field == "[wifi-security] psk"


def test_keys_and_settings_newer_than_the_table_are_sent_as_text(tmp_path: Path) -> None:
    text = wifi("a-newer-key=some value") + "[a-newer-setting]\nkey=1\n"
    settings = parse_keyfile(text)
    assert settings["802-11-wireless"]["a-newer-key"] == "some value"
    assert settings["a-newer-setting"] == {"key": "1"}
    (tmp_path / "newer.nmconnection").write_text(text)
    [result] = import_directory(tmp_path)
    # An older NetworkManager names what it lacks, which is told at the file's place.
    assert result.refusal("802-11-wireless.a-newer-key: unknown property") == (
        "[wifi] a-newer-key: NetworkManager refused: unknown property"
    )
    assert result.refusal("a-newer-setting: unknown setting name") == (
        "[a-newer-setting]: NetworkManager refused: unknown setting name"
    )


def test_a_connection_type_newer_than_the_table_is_sent() -> None:
    settings = parse_keyfile("[connection]\nid=n\ntype=hsr\n[hsr]\nport1=eth0\n")
    assert settings["connection"]["type"] == "hsr"
    assert settings["hsr"] == {"port1": "eth0"}


@pytest.mark.parametrize("key", ["dns", "dns-search", "dns-options"])
def test_an_empty_list_of_any_type_is_unset(key: str) -> None:
    settings = parse_keyfile(SECTIONS_ONLY + f"[ipv6]\nmethod=ignore\n{key}=\n")
    assert settings["ipv6"] == {"method": "ignore", "addr-gen-mode": 2}


# --- every refusal names the file's bad key ------------------------------------------------------

BROKEN_FILES: dict[str, tuple[str, str]] = {
    "broken-short-psk.nmconnection": ("[wifi-security] psk", "too short"),
    "broken-unknown-key.nmconnection": ("[wifi] band", "must be one of: a, bg"),
    "broken-address.nmconnection": ("[ipv4] address1", "not an IPv4 address"),
    "broken-syntax.nmconnection": ("line 6", "neither [section], key=value"),
    "broken-access-point.nmconnection": ("[wifi] mode", "infrastructure"),
}


@pytest.mark.parametrize(
    ("filename", "where", "reason"), [(f, *w) for f, w in BROKEN_FILES.items()]
)
def test_broken_keyfile_names_its_bad_key(filename: str, where: str, reason: str) -> None:
    error = parse_error((KEYFILES / filename).read_text(), filename)
    assert error.field == where
    assert str(error).startswith(f"{where}: ")
    assert reason in error.reason
    assert isinstance(error, ValidationError)


SECTIONS_ONLY = "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=x\n"
EAP = SECTIONS_ONLY + "[wifi-security]\nkey-mgmt=wpa-eap\n[802-1x]\n"
IPV4 = SECTIONS_ONLY + "[ipv4]\n"

REFUSALS: dict[str, tuple[str, str, str]] = {
    # syntax
    "key before any section": ("ssid=x\n", "line 1", "before any [section]"),
    "no equals sign": ("[wifi]\nssid\n", "line 2", "neither"),
    "unclosed section": ("[wifi\nssid=x\n", "line 1", "not a valid [section]"),
    "translated key": ("[wifi]\nssid[de]=x\n", "line 2", "translated"),
    "key set twice": (
        wifi(security=("key-mgmt=wpa-psk", "psk=first-one", "psk=second-one")),
        "[wifi-security] psk",
        "set twice",
    ),
    "section twice under both names": (
        "[wifi]\nssid=x\n[802-11-wireless]\nhidden=true\n",
        "[802-11-wireless]",
        "twice (also as [wifi])",
    ),
    "unknown escape": ("[wifi]\nssid=a\\xb\n", "[wifi] ssid", "escape sequence"),
    "lone backslash": ("[wifi]\nssid=ab\\\n", "[wifi] ssid", "lone backslash"),
    "control character": (
        "[connection]\nid=a\\tb\n[wifi]\nssid=x\n",
        "[connection] id",
        "control character",
    ),
    # [connection]
    "bad boolean": (wifi("hidden=yes"), "[wifi] hidden", "true or false"),
    "priority out of range": (
        "[connection]\nautoconnect-priority=1000\n[wifi]\nssid=x\n",
        "[connection] autoconnect-priority",
        "between -999 and 999",
    ),
    "octal-looking number": (
        "[connection]\nautoconnect-priority=010\n[wifi]\nssid=x\n",
        "[connection] autoconnect-priority",
        "without leading zeros",
    ),
    "bad uuid": ("[connection]\nuuid=1234\n[wifi]\nssid=x\n", "[connection] uuid", "not a UUID"),
    "bad interface": (
        "[connection]\ninterface-name=wlan/0\n[wifi]\nssid=x\n",
        "[connection] interface-name",
        "not a network interface name",
    ),
    "permissions": (
        "[connection]\npermissions=user:alice;\n[wifi]\nssid=x\n",
        "[connection] permissions",
        "leave it empty",
    ),
    "a setting as the type": ("[connection]\ntype=ipv4\n", "[connection] type", "not a connection"),
    "a type no keyfile line gives": (
        "[connection]\ntype=ethernet\n[ethernet]\ns390-options=a\n",
        "[ethernet] s390-options",
        "D-Bus type a{ss}",
    ),
    "routing rule": (
        IPV4 + "method=auto\nrouting-rule1=priority 5 table 100\n",
        "[ipv4] routing-rule1",
        "does not read",
    ),
    "sr-iov vf": (
        ETHERNET + "[sriov]\nvf.0=mac=00:11:22:33:44:55\n",
        "[sriov] vf.0",
        "does not read",
    ),
    "traffic control": (
        ETHERNET + "[tc]\nqdisc.root=fq_codel\n",
        "[tc] qdisc.root",
        "does not read",
    ),
    "wireguard peer": (
        "[connection]\nid=wg\ntype=wireguard\n[wireguard-peer.cGVlcg==]\nendpoint=x:1\n",
        "[wireguard-peer.cGVlcg==]",
        "does not read",
    ),
    "bridge vlans": (
        ETHERNET + "[bridge]\nvlans=1 pvid untagged\n",
        "[bridge] vlans",
        "does not read",
    ),
    "user data key escaped to no UTF-8": (
        SECTIONS_ONLY + "[user]\nmy.\\FF=1\n",
        "[user] my.\\FF",
        "not UTF-8",
    ),
    "secret not stored": (
        wifi(security=("key-mgmt=wpa-psk", "psk=12345678", "psk-flags=2")),
        "[wifi-security] psk-flags",
        "must be 0",
    ),
    "no type at all": ("[connection]\nid=x\n", "[connection] type", "missing"),
    "no id at all": ("[ethernet]\n", "[connection] id", "missing"),
    "wifi with an ethernet section": (
        SECTIONS_ONLY + "[ethernet]\n",
        "[ethernet]",
        "not used by a wifi connection",
    ),
    "ethernet with a wifi section": (
        "[connection]\ntype=ethernet\n[wifi]\nssid=x\n",
        "[wifi]",
        "not used by an ethernet connection",
    ),
    # [wifi]
    "no wifi section": ("[connection]\ntype=wifi\n", "[wifi] ssid", "missing"),
    "no ssid": ("[wifi]\nhidden=true\n", "[wifi] ssid", "missing"),
    "empty ssid": ("[wifi]\nssid=\n", "[wifi] ssid", "cannot be empty"),
    "ssid over 32 bytes": ("[wifi]\nssid=" + "x" * 33 + "\n", "[wifi] ssid", "too long"),
    "ad-hoc mode": (wifi("mode=adhoc"), "[wifi] mode", "infrastructure"),
    "bad mac": (wifi("mac-address=00:11:22:33:44"), "[wifi] mac-address", "not a MAC"),
    # [wifi-security]
    "no key-mgmt": (wifi(security=("psk=12345678",)), "[wifi-security] key-mgmt", "missing"),
    "method with a trailing space": (
        wifi(security=("key-mgmt=owe ",)),
        "[wifi-security] key-mgmt",
        "remove the spaces",
    ),
    "psk missing": (
        wifi(security=("key-mgmt=wpa-psk",)),
        "[wifi-security] psk",
        "needs a password",
    ),
    "wep key missing": (
        wifi(security=("key-mgmt=none",)),
        "[wifi-security] wep-key0",
        "needs its WEP key",
    ),
    "agent-owned psk": (
        wifi(security=("key-mgmt=wpa-psk", "psk-flags=1")),
        "[wifi-security] psk-flags",
        "must be 0",
    ),
    "psk on an owe network": (
        wifi(security=("key-mgmt=owe", "psk=12345678")),
        "[wifi-security] psk",
        "not used with key-mgmt=owe",
    ),
    "wep key type on wpa": (
        wifi(security=("key-mgmt=wpa-psk", "psk=12345678", "wep-key-type=1")),
        "[wifi-security] wep-key-type",
        "not used with key-mgmt=wpa-psk",
    ),
    "shared auth on wpa": (
        wifi(security=("key-mgmt=wpa-psk", "psk=12345678", "auth-alg=shared")),
        "[wifi-security] auth-alg",
        "must be one of: open",
    ),
    "wep key of the wrong form": (
        wifi(security=("key-mgmt=none", "wep-key0=abcdefg", "wep-key-type=1")),
        "[wifi-security] wep-key0",
        "5 or 13 characters",
    ),
    "unknown cipher": (
        wifi(security=("key-mgmt=wpa-psk", "psk=12345678", "pairwise=gcmp;")),
        "[wifi-security] pairwise",
        "list of: ccmp, tkip",
    ),
    # [802-1x]
    "802-1x without security": (
        SECTIONS_ONLY + "[802-1x]\neap=peap\n",
        "[802-1x]",
        "needs a [wifi-security] section",
    ),
    "802-1x with wpa-psk": (
        wifi(security=("key-mgmt=wpa-psk", "psk=12345678")) + "[802-1x]\neap=peap\n",
        "[802-1x]",
        "not used with key-mgmt=wpa-psk",
    ),
    "wpa-eap without 802-1x": (
        wifi(security=("key-mgmt=wpa-eap",)),
        "[802-1x] eap",
        "needs an [802-1x] section",
    ),
    "no eap method": (EAP + "identity=me\n", "[802-1x] eap", "missing"),
    "identity missing": (EAP + "eap=peap\npassword=pw\n", "[802-1x] identity", "user name"),
    "password missing": (EAP + "eap=peap\nidentity=me\n", "[802-1x] password", "password"),
    # [ipv4] / [ipv6]
    "no method": (IPV4 + "dns=8.8.8.8;\n", "[ipv4] method", "missing"),
    "manual without address": (IPV4 + "method=manual\n", "[ipv4] method", "at least one address"),
    "address without prefix": (
        IPV4 + "method=manual\naddress1=192.168.1.5\n",
        "[ipv4] address1",
        "ADDRESS/PREFIX",
    ),
    "prefix too long": (
        IPV4 + "method=manual\naddress1=192.168.1.5/33\n",
        "[ipv4] address1",
        "prefix length from 1 to 32",
    ),
    "ipv6 address in ipv4": (
        IPV4 + "method=manual\naddress1=2001:db8::1/64\n",
        "[ipv4] address1",
        "not an IPv4 address",
    ),
    "two gateways": (
        IPV4 + "method=manual\naddress1=10.0.0.5/8,10.0.0.1\naddress2=10.1.0.5/16,10.1.0.1\n",
        "[ipv4] address2",
        "second, different gateway",
    ),
    "gateway key differs": (
        IPV4 + "method=manual\naddress1=10.0.0.5/8,10.0.0.1\ngateway=10.0.0.2\n",
        "[ipv4] gateway",
        "differs",
    ),
    "gateway without address": (
        IPV4 + "method=auto\ngateway=10.0.0.1\n",
        "[ipv4] gateway",
        "needs an address",
    ),
    "address with link-local": (
        IPV4 + "method=link-local\naddress1=169.254.1.1/16\n",
        "[ipv4] address1",
        "not allowed with method=link-local",
    ),
    "dns with disabled": (
        IPV4 + "method=disabled\ndns=8.8.8.8;\n",
        "[ipv4] dns",
        "not allowed with method=disabled",
    ),
    "dns-search with ignore": (
        SECTIONS_ONLY + "[ipv6]\nmethod=ignore\ndns-search=lan;\n",
        "[ipv6] dns-search",
        "not allowed with method=ignore",
    ),
    "bad dns": (IPV4 + "method=auto\ndns=8.8.8.888;\n", "[ipv4] dns", "not an IPv4 address"),
    "dns over tls name": (
        IPV4 + "method=auto\ndns=1.1.1.1#one.one.one.one;\n",
        "[ipv4] dns",
        "DNS-over-TLS",
    ),
    "never-default with gateway": (
        IPV4 + "method=manual\naddress1=10.0.0.5/8,10.0.0.1\nnever-default=true\n",
        "[ipv4] never-default",
        "contradicts the gateway",
    ),
    "bad addr-gen-mode": (
        SECTIONS_ONLY + "[ipv6]\nmethod=auto\naddr-gen-mode=random\n",
        "[ipv6] addr-gen-mode",
        "must be one of",
    ),
    "proxy method as a word": (
        SECTIONS_ONLY + "[proxy]\nmethod=auto\n",
        "[proxy] method",
        "whole number",
    ),
    "hotspot waiting for dhcp": (
        wifi("mode=ap", security=("key-mgmt=wpa-psk", "psk=12345678")),
        "[wifi] mode",
        "needs [ipv4] method=shared",
    ),
    "route option without a value": (
        IPV4 + "method=auto\nroute1=10.0.0.0/8\nroute1_options=onlink\n",
        "[ipv4] route1_options",
        "has no =VALUE",
    ),
    "route option not a boolean": (
        IPV4 + "method=auto\nroute1=10.0.0.0/8\nroute1_options=onlink=maybe\n",
        "[ipv4] route1_options",
        "onlink must be true or false",
    ),
    "route option out of range": (
        IPV4 + "method=auto\nroute1=10.0.0.0/8\nroute1_options=tos=256\n",
        "[ipv4] route1_options",
        "between 0 and 255",
    ),
    "route without prefix": (IPV4 + "method=auto\nroute1=10.0.0.0\n", "[ipv4] route1", "DEST/"),
    "relative certificate path": (
        EAP + "eap=peap\nidentity=me\npassword=pw\nca-cert=ca.pem\n",
        "[802-1x] ca-cert",
        "absolute path",
    ),
}


@pytest.mark.parametrize(("text", "where", "reason"), REFUSALS.values(), ids=REFUSALS)
def test_refusal_names_the_bad_key(text: str, where: str, reason: str) -> None:
    error = parse_error(text)
    assert error.field == where
    assert str(error) == f"{where}: {error.reason}"
    assert reason in error.reason


# --- secrets never reach a message ----------------------------------------------------------------

SECRET = "Zq7-secret"
SECRET_FILES: dict[str, str] = {
    "too long": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}" + "x" * 60)),
    "too short": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET[:7]}")),
    "not ascii": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}é")),
    "control character": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}\\n")),
    "64 characters, not hex": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET:z<64}")),
    "unknown escape": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}\\q")),
    "lone backslash": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}\\")),
    "set twice": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}", f"psk={SECRET}")),
    "psk where none is used": wifi(security=("key-mgmt=owe", f"psk={SECRET}")),
    "flags not zero": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}", "psk-flags=1")),
    "wep key of the wrong form": wifi(
        security=("key-mgmt=none", f"wep-key0={SECRET}", "wep-key-type=1")
    ),
    "eap password too long": EAP + f"eap=peap\nidentity=me\npassword={SECRET * 20}\n",
    "a later key is bad": wifi(security=("key-mgmt=wpa-psk", f"psk={SECRET}"))
    + "[ipv4]\nmethod=bogus\n",
}


@pytest.mark.parametrize("text", SECRET_FILES.values(), ids=SECRET_FILES)
def test_a_secret_never_appears_in_an_error(text: str, tmp_path: Path) -> None:
    error = parse_error(text)
    for shown in (str(error), repr(error), error.field, error.reason):
        assert SECRET[:7] not in shown
    (tmp_path / "net.nmconnection").write_text(text)
    [result] = import_directory(tmp_path)
    assert result.error is not None
    assert SECRET[:7] not in result.error
    assert SECRET[:7] not in repr(result)


def test_import_result_repr_hides_the_settings() -> None:
    settings = parse_keyfile(wifi(security=("key-mgmt=sae", f"psk={SECRET}")))
    result = ImportResult("home", settings=settings)
    assert result.ok
    assert SECRET not in repr(result)


# --- a directory ----------------------------------------------------------------------------------


def test_example_directory_report() -> None:
    report = {result.filename: result for result in import_directory(KEYFILES)}
    assert list(report) == sorted(report)
    assert set(report) == {*EXAMPLES, *BROKEN_FILES, "resin-sample.ignore"}
    for filename, expected in EXAMPLES.items():
        assert report[filename] == ImportResult(filename, settings=expected)
    for filename, (where, _) in BROKEN_FILES.items():
        result = report[filename]
        assert (result.settings, result.skipped, result.ok) == (None, False, False)
        assert result.error is not None and result.error.startswith(f"{where}: ")
    assert report["resin-sample.ignore"] == ImportResult("resin-sample.ignore", skipped=True)


def test_directory_with_good_broken_and_skipped_files(tmp_path: Path) -> None:
    good = wifi(security=("key-mgmt=wpa-psk", "psk=good-password"))
    (tmp_path / "a-broken.nmconnection").write_text(good.replace("psk=good-password", "psk=short"))
    (tmp_path / "b-good.nmconnection").write_text(good)
    (tmp_path / "c-sample.ignore").write_text("not even a keyfile")
    (tmp_path / ".hidden").write_text("not even a keyfile")
    (tmp_path / "._b-good.nmconnection").write_bytes(b"\x00\x05\x16\x07 macOS litter")
    (tmp_path / "d-backup.nmconnection~").write_text(good)
    (tmp_path / "e-ca.PEM").write_text("-----BEGIN CERTIFICATE-----")
    (tmp_path / "f-latin1.nmconnection").write_bytes(b"[wifi]\nssid=Caf\xe9\n")
    (tmp_path / "g-huge.nmconnection").write_text("#" * (MAX_KEYFILE_BYTES + 1))
    (tmp_path / "h-empty.nmconnection").write_text("")
    (tmp_path / "z-good-too").write_text(good.replace("id=Net", "id=Other"))
    (tmp_path / "subdirectory").mkdir()
    (tmp_path / "link.nmconnection").symlink_to(tmp_path / "b-good.nmconnection")
    os.mkfifo(tmp_path / "pipe.nmconnection")

    report = import_directory(tmp_path)

    outcome: list[tuple[str, str]] = []
    for result in report:
        if result.skipped:
            outcome.append((result.filename, "skipped"))
        elif result.ok:
            outcome.append((result.filename, "ok"))
        else:
            assert result.error is not None
            outcome.append((result.filename, result.error))
    assert outcome == [
        ("._b-good.nmconnection", "skipped"),
        (".hidden", "skipped"),
        (
            "a-broken.nmconnection",
            "[wifi-security] psk: The password is too short: a WPA password has 8 to 63 "
            "characters.",
        ),
        ("b-good.nmconnection", "ok"),
        ("c-sample.ignore", "skipped"),
        ("d-backup.nmconnection~", "skipped"),
        ("e-ca.PEM", "skipped"),
        (
            "f-latin1.nmconnection",
            "is not UTF-8 text (write a non-UTF-8 SSID as bytes, e.g. ssid=72;105;)",
        ),
        ("g-huge.nmconnection", f"is larger than {MAX_KEYFILE_BYTES // 1024} KiB: not a keyfile"),
        ("h-empty.nmconnection", "[connection] type: missing: set type=wifi or type=ethernet"),
        ("z-good-too", "ok"),
    ]
    by_name = {result.filename: result for result in report}
    assert by_name["b-good.nmconnection"].settings == parse_keyfile(good)
    assert by_name["z-good-too"].settings is not None
    assert by_name["z-good-too"].settings["connection"]["id"] == "Other"


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("home.nmconnection", False),
        ("home", False),
        ("resin-sample.ignore", True),
        ("Sample.IGNORE", True),
        (".home.nmconnection", True),
        ("home.nmconnection~", True),
        ("ca.pem", True),
        ("ca.der", True),
        ("ignore", False),
        ("home.ignore.nmconnection", False),
    ],
)
def test_skipped_file_names(name: str, skipped: bool) -> None:
    assert is_skipped_filename(name) is skipped


def test_directory_that_does_not_exist_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        import_directory(tmp_path / "missing")
