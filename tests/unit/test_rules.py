"""The one rules module: how SSIDs show, which names and addresses the device takes."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Address

import pytest

from app.errors import ValidationError
from app.rules import (
    check_color,
    check_dhcp_range,
    check_gateway,
    check_interface_name,
    default_dhcp_range,
    display_ssid,
    has_control_character,
    hotspot_ssid,
    ssid_from_text,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # a word that needs its ZWNJ


@pytest.mark.parametrize(
    ("ssid", "shown"),
    [
        (b"Home", "Home"),
        (b"", ""),
        # Not UTF-8: NetworkManager's fallback for a locale without a table is Latin-1.
        (bytes.fromhex("436166e920426172"), "Caf\xe9 Bar"),
        (b"\xff\xfeCaf\xe9", "\xff\xfeCaf\xe9"),
        # Hidden characters show as their code point, with a clear end.
        (b"line\nbreak", "line\\u{A}break"),
        (b"\x1b[2Jcleared", "\\u{1B}[2Jcleared"),
        (b"nul\x00", "nul\\u{0}"),
        ("abc\u202edef".encode(), "abc\\u{202E}def"),
        ("zero\u200bwidth".encode(), "zero\\u{200B}width"),
        ("Ho\u200dme".encode(), "Ho\\u{200D}me"),
        # A backslash is doubled, so no SSID can spell another's escape.
        (b"a\\b", "a\\\\b"),
        (b"abc\\u{202E}def", "abc\\\\u{202E}def"),
        # What only shapes visible text stays: emoji sequences, joiners inside a script.
        (FAMILY.encode(), FAMILY),
        (RAINBOW_FLAG.encode(), RAINBOW_FLAG),
        (PERSIAN.encode(), PERSIAN),
        (b"%s%n{0}<script>", "%s%n{0}<script>"),
    ],
)
def test_display_ssid(ssid: bytes, shown: str) -> None:
    assert display_ssid(ssid) == shown


def test_display_ssid_follows_the_locale_like_networkmanager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    koi8 = "\u043a\u0430\u0444\u0435".encode("koi8_r")  # "кафе"
    for name in ("LC_ALL", "LC_CTYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ru_RU.KOI8-R")
    assert display_ssid(koi8) == "\u043a\u0430\u0444\u0435"
    monkeypatch.setenv("LC_ALL", "C")
    assert display_ssid(koi8) == koi8.decode("latin-1")


def test_different_ssids_never_show_alike() -> None:
    # Every SSID of up to three of these characters, as text: no two show the same.
    pieces = ["a", "\\", "u", "{", "}", "\u202e", "\u200d", "\n", "\x1b", "\U0001f468"]
    ssids = {
        "".join(chars).encode()
        for size in range(4)
        for chars in itertools.product(pieces, repeat=size)
    }
    shown = [display_ssid(ssid) for ssid in ssids]
    assert len(set(shown)) == len(ssids)
    assert not any(has_control_character(text) or "\u202e" in text for text in shown)


@pytest.mark.parametrize(
    ("text", "ssid"),
    [
        ("Home", b"Home"),
        ("Caf\xe9", b"Caf\xc3\xa9"),
        # Bytes from a command line that are not UTF-8 come back as they were sent.
        ("Caf\udce9", b"Caf\xe9"),
        ("x" * 32, b"x" * 32),
    ],
)
def test_ssid_from_text(text: str, ssid: bytes) -> None:
    assert ssid_from_text(text) == ssid


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot be empty"),
        ("x" * 33, "at most 32 bytes"),
        ("\xe9" * 17, "at most 32 bytes"),
        ("\ud800", "not valid text"),
    ],
)
def test_ssid_from_text_refuses(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        ssid_from_text(text)
    assert raised.value.field == "ssid"


@pytest.mark.parametrize("text", ["Office\r", "tab\there", "\udcff", "", "x" * 33])
def test_the_hotspot_ssid_is_text_without_controls(text: str) -> None:
    with pytest.raises(ValidationError):
        hotspot_ssid(text)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a:b", "a b", "x" * 16])
def test_bad_interface_names(name: str) -> None:
    with pytest.raises(ValidationError, match="is not a network interface name"):
        check_interface_name(name)


@pytest.mark.parametrize(
    ("gateway", "message"),
    [
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.168.42.0", "network address"),
        ("192.168.42.255", "broadcast address"),
    ],
)
def test_bad_gateways(gateway: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_gateway(IPv4Address(gateway))


def test_the_default_range_is_the_larger_side_of_the_gateway() -> None:
    low, high = IPv4Address("10.0.0.10"), IPv4Address("10.0.0.250")
    assert default_dhcp_range(low) == (IPv4Address("10.0.0.11"), IPv4Address("10.0.0.254"))
    assert default_dhcp_range(high) == (IPv4Address("10.0.0.1"), IPv4Address("10.0.0.249"))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("192.168.43.2", "192.168.43.9", "outside the gateway's network"),
        ("192.168.42.9", "192.168.42.2", "comes after"),
        ("192.168.42.0", "192.168.42.9", "network address"),
        ("192.168.42.2", "192.168.42.255", "broadcast address"),
        ("192.168.42.1", "192.168.42.9", "includes the gateway"),
    ],
)
def test_bad_dhcp_ranges(start: str, end: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_dhcp_range(IPv4Address(start), IPv4Address(end), IPv4Address("192.168.42.1"))


def test_colours_are_rrggbb_in_one_spelling() -> None:
    assert check_color(" #0B5CAD ") == "#0b5cad"
    for bad in ("0b5cad", "#0b5cad0", "#fff", "red"):
        with pytest.raises(ValidationError, match="is not a #rrggbb colour"):
            check_color(bad)
