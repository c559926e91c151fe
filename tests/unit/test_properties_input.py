"""Property tests of what the air, NetworkManager and a boot partition hand the app.

SSIDs are any 0 to 32 bytes; D-Bus replies may carry any type under any key; a keyfile may hold
anything. The only outcomes allowed are a well-formed result or the typed error the parser
documents, naming the field or the place in the file. Never another exception, never a profile
that cannot be sent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from app.errors import ValidationError
from app.flow.networks import find_network
from app.flow.report import networks_json
from app.nm.client import (
    access_point_network,
    nameservers_from_data,
    nameservers_from_legacy,
    strongest_per_ssid,
)
from app.nm.glib_keyfile import KeyfileError
from app.nm.keyfile import import_directory, parse_keyfile
from app.nm.models import WifiNetwork
from app.nm.nm_settings import ALIASES, SETTINGS
from app.nm.variants import to_dbus
from app.rules import display_ssid, inert_text, ssid_from_text
from app.simulator import parse_scenario
from app.simulator.scenario import ScenarioError
from app.wifi import SecurityKind

SSIDS = st.binary(min_size=0, max_size=32)
# Characters a display may never carry raw: they flip, hide or drive a terminal.
_RAW_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@given(ssid=SSIDS)
def test_any_ssid_shows_as_inert_text(ssid: bytes) -> None:
    """display_ssid never fails, and what it shows holds no control or hidden character raw."""
    shown = display_ssid(ssid)
    assert not _RAW_FORBIDDEN.search(shown)
    assert all(unicodedata.category(char) not in ("Cc", "Cs", "Zl", "Zp") for char in shown)
    # A JSON body carries it as the same text.
    assert json.loads(json.dumps(shown)) == shown


NETWORKS = st.lists(
    st.builds(
        WifiNetwork,
        ssid=SSIDS,
        strength=st.integers(0, 100),
        frequency=st.sampled_from([2412, 2437, 5180]),
        bssid=st.just("02:00:00:00:00:01"),
        security=st.sampled_from(list(SecurityKind)),
    ),
    max_size=8,
)


@given(networks=NETWORKS)
def test_each_listed_name_reaches_the_very_network_listed(networks: list[WifiNetwork]) -> None:
    """The name GET /networks lists is what /connect takes back, and it finds those bytes."""
    listed = networks_json(networks)
    names = [entry["ssid"] for entry in listed]
    assert len(names) == len(set(names))
    for entry in listed:
        found = find_network(networks, entry["ssid"])
        assert found is not None
        assert found.display_ssid == entry["ssid"]
        assert found.security.legacy == entry["security"]
        assert found.strength == entry["strength"]


@given(text=st.text(max_size=40))
def test_a_typed_name_is_its_bytes_or_an_error_naming_ssid(text: str) -> None:
    """Text typed as an SSID: its UTF-8 bytes (1 to 32), or a ValidationError on `ssid`."""
    try:
        raw = ssid_from_text(text)
    except ValidationError as error:
        assert error.field == "ssid"
        return
    assert 1 <= len(raw) <= 32


# --- D-Bus replies: any type under any key ----------------------------------------------------

ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
AP_KEYS = ["Ssid", "Strength", "Frequency", "HwAddress", "Flags", "WpaFlags", "RsnFlags"]
AP_GOOD = {
    "Ssid": SSIDS | st.lists(st.integers(0, 255), max_size=32),
    "Strength": st.integers(0, 255),
    "Frequency": st.integers(0, 2**32 - 1),
    "HwAddress": st.text(max_size=17),
    "Flags": st.integers(0, 2**32 - 1),
    "WpaFlags": st.integers(0, 2**32 - 1),
    "RsnFlags": st.integers(0, 2**32 - 1),
}
AP_PROPS = st.fixed_dictionaries(
    {}, optional={key: AP_GOOD[key] | ANY_VALUE for key in AP_KEYS}
).flatmap(
    lambda props: st.dictionaries(st.text(max_size=10), ANY_VALUE, max_size=2).map(
        lambda extra: {**extra, **props}
    )
)


@given(props=AP_PROPS)
# Found by this test: an Ssid list of other than 0-255 integers crashed bytes() (TypeError).
@example(props={"Ssid": [None]})
@example(props={"Ssid": [256]})
def test_any_access_point_reply_is_a_network_or_a_value_error(props: dict[str, Any]) -> None:
    """AccessPoint properties of any type: a WifiNetwork within the rules, or ValueError."""
    try:
        network = access_point_network(props)
    except ValueError as error:
        assert any(key in str(error) for key in AP_KEYS), str(error)
        return
    assert isinstance(network.ssid, bytes) and len(network.ssid) <= 32
    assert 0 <= network.strength <= 100
    assert isinstance(network.frequency, int)
    assert isinstance(network.security, SecurityKind)
    assert strongest_per_ssid([network]) in ([], [network])
    assert len(networks_json([network])) <= 1


NAMESERVER_ENTRY = st.one_of(
    ANY_VALUE,
    st.fixed_dictionaries(
        {"address": st.ip_addresses(v=4).map(str) | ANY_VALUE}, optional={"uri": ANY_VALUE}
    ),
)


@given(data=ANY_VALUE | st.lists(NAMESERVER_ENTRY, max_size=5))
def test_any_nameserver_data_gives_addresses(data: Any) -> None:
    """IP4Config.NameserverData of any shape: only well-formed addresses, once each."""
    servers = nameservers_from_data(data)
    assert len(servers) == len(set(servers))
    assert all(re.fullmatch(r"[0-9.]+", server) for server in servers)


@given(data=ANY_VALUE | st.lists(st.integers(-10, 2**33) | ANY_VALUE, max_size=5))
def test_any_legacy_nameservers_give_addresses(data: Any) -> None:
    """IP4Config.Nameservers of any shape: only well-formed addresses, once each."""
    servers = nameservers_from_legacy(data)
    assert len(servers) == len(set(servers))
    assert all(re.fullmatch(r"[0-9.]+", server) for server in servers)


# --- keyfiles for `import` ----------------------------------------------------------------------

_SECTIONS = sorted({*SETTINGS, *ALIASES, "wifi", "wifi-security", "ipv4", "ipv6", "802-1x"})
_TYPES = ["wifi", "802-11-wireless", "ethernet", "gsm", "vpn", "bond", "", "nonsense"]


def _keys_of(section: str) -> list[str]:
    setting = ALIASES.get(section, section)
    return sorted(SETTINGS.get(setting, {})) or ["key"]


VALUE_TEXT = st.one_of(
    st.text(st.characters(exclude_characters="\n\r"), max_size=30),
    st.from_regex(r"\A([0-9]{1,4};){1,40}\Z"),
    st.sampled_from(
        [
            "true",
            "false",
            "0",
            "-1",
            "4294967296",
            "auto",
            "manual",
            "shared",
            "ap",
            "wpa-psk",
            "sae",
            "none",
            "10.0.0.1/24",
            "::1/128,::2",
            "192.168.1.1/33",
            "aa:bb:cc:dd:ee:ff",
            "file:///nonexistent",
            "data:;base64,!!",
            "\\x00",
            "\\",
            "\\s\\t",
            "\u202e",
        ]
    ),
)


@st.composite
def keyfiles(draw: st.DrawFn) -> str:
    """A keyfile of known sections and keys (and a few unknown) with any values."""
    name = draw(st.text(st.characters(exclude_characters="\n\r"), max_size=12))
    lines = ["[connection]", f"id={name}"]
    lines.append(f"type={draw(st.sampled_from(_TYPES))}")
    for section in draw(st.lists(st.sampled_from([*_SECTIONS, "bogus"]), max_size=4)):
        lines.append(f"[{section}]")
        keys = _keys_of(section)
        for key in draw(st.lists(st.sampled_from([*keys, "address1", "dns", "ssid"]), max_size=5)):
            lines.append(f"{key}={draw(VALUE_TEXT)}")
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=20)))
    return "\n".join(lines) + "\n"


def _assert_sendable_or_named(text: str) -> None:
    try:
        settings = parse_keyfile(text, filename="fuzz.nmconnection")
    except KeyfileError as error:
        assert error.field and (error.field.startswith("[") or error.field.startswith("line")), (
            error.field
        )
        return
    # Not a partial profile: the whole of it types for Settings.AddConnection.
    assert "connection" in settings
    to_dbus(settings)


@given(text=keyfiles())
def test_any_keyfile_gives_a_profile_or_names_the_key(text: str) -> None:
    """A keyfile of any values: settings that type for D-Bus, or a KeyfileError at its place."""
    _assert_sendable_or_named(text)


@given(text=st.text(max_size=200))
def test_any_text_gives_a_profile_or_names_the_line(text: str) -> None:
    """Text that may not even be a keyfile: the same two outcomes."""
    _assert_sendable_or_named(text)


@given(data=st.binary(max_size=300))
def test_any_file_imports_to_one_result_line(tmp_path_factory: Any, data: bytes) -> None:
    """`import` of a file of any bytes: one result, ok or with its error, never an exception."""
    directory: Path = tmp_path_factory.mktemp("keyfiles")
    (directory / "fuzz.nmconnection").write_bytes(data)
    (result,) = import_directory(directory)
    assert result.ok != (result.error is not None)


@given(text=st.text(max_size=60))
def test_any_log_text_is_made_inert(text: str) -> None:
    """inert_text (every log line on stderr): nothing hidden raw; a shown name passes unchanged."""
    assert not _RAW_FORBIDDEN.search(inert_text(text).replace("\n", "").replace("\t", ""))
    shown = display_ssid(text.encode("utf-8", errors="surrogateescape"))
    assert inert_text(shown) == shown


# --- scenario files for `simulate --scenario` ---------------------------------------------------

# What json.load can give: no bytes.
JSON_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
SCENARIO_KEYS = ["devices", "networks", "faults", "outages", "nm_version", "scan_delay_ms"]
NETWORK_KEYS = ["ssid", "ssid_hex", "security", "passphrase", "strength", "hidden", "failure"]


@given(
    data=JSON_ANY
    | st.dictionaries(st.sampled_from(SCENARIO_KEYS), JSON_ANY, max_size=3)
    | st.fixed_dictionaries(
        {
            "networks": st.lists(
                st.dictionaries(st.sampled_from(NETWORK_KEYS), JSON_ANY, max_size=4), max_size=3
            )
        }
    )
)
def test_any_scenario_is_one_or_a_scenario_error(data: Any) -> None:
    """A scenario of any JSON shape: a Scenario, or ScenarioError (exit 2 for `simulate`)."""
    try:
        parse_scenario(data)
    except ScenarioError as error:
        assert str(error)
