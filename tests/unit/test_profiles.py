"""Credentials and hotspot options to NetworkManager settings, and every validation rule."""

from __future__ import annotations

import uuid
from ipaddress import IPv4Address
from typing import Any, cast

import pytest

from app.errors import ValidationError
from app.nm.const import HOTSPOT_ID_PREFIX
from app.nm.profiles import (
    PENDING_KEY,
    Settings,
    client_profile,
    finished_profile,
    hotspot_profile,
    is_pending,
    pending_profile,
)
from app.nm.variants import to_dbus
from app.rules import check_credentials
from app.wifi import Credentials, SecurityKind

UUID = "0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a10"
HEX64 = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789"
GATEWAY = IPv4Address("192.168.42.1")


def creds(
    security: SecurityKind,
    passphrase: str | None = None,
    *,
    ssid: bytes = b"Cafe",
    identity: str | None = None,
    hidden: bool = False,
    eap_method: str = "peap",
) -> Credentials:
    return Credentials(
        ssid=ssid,
        security=security,
        passphrase=passphrase,
        identity=identity,
        hidden=hidden,
        eap_method=eap_method,
    )


def base_profile(ssid: bytes = b"Cafe", connection_id: str = "Cafe") -> Settings:
    return {
        "connection": {
            "type": "802-11-wireless",
            "id": connection_id,
            "uuid": UUID,
            "autoconnect": True,
        },
        "802-11-wireless": {"ssid": ssid, "mode": "infrastructure"},
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto"},
    }


# --- client profiles: the security part of each kind -------------------------------------------

SECURITY_SECTIONS: dict[str, tuple[Credentials, Settings]] = {
    "open": (creds(SecurityKind.OPEN), {}),
    "open, empty passphrase": (creds(SecurityKind.OPEN, ""), {}),
    "owe transition joins as open": (creds(SecurityKind.OWE_TRANSITION), {}),
    "owe": (creds(SecurityKind.OWE), {"802-11-wireless-security": {"key-mgmt": "owe"}}),
    "wpa-psk": (
        creds(SecurityKind.WPA_PSK, "correct horse"),
        {"802-11-wireless-security": {"key-mgmt": "wpa-psk", "psk": "correct horse"}},
    ),
    "wpa-psk hex key": (
        creds(SecurityKind.WPA_PSK, HEX64),
        {"802-11-wireless-security": {"key-mgmt": "wpa-psk", "psk": HEX64}},
    ),
    "wpa2/wpa3 transition uses wpa-psk": (
        creds(SecurityKind.WPA_PSK_SAE, "correct horse"),
        {"802-11-wireless-security": {"key-mgmt": "wpa-psk", "psk": "correct horse"}},
    ),
    "sae": (
        creds(SecurityKind.SAE, "short"),
        {"802-11-wireless-security": {"key-mgmt": "sae", "psk": "short"}},
    ),
    "wep ascii key": (
        creds(SecurityKind.WEP, "abcde"),
        {
            "802-11-wireless-security": {
                "key-mgmt": "none",
                "auth-alg": "open",
                "wep-key0": "abcde",
                "wep-key-type": 1,
            }
        },
    ),
    "wep passphrase": (
        creds(SecurityKind.WEP, "a wep passphrase"),
        {
            "802-11-wireless-security": {
                "key-mgmt": "none",
                "auth-alg": "open",
                "wep-key0": "a wep passphrase",
                "wep-key-type": 2,
            }
        },
    ),
    "enterprise peap": (
        creds(SecurityKind.WPA_EAP, "s3cret", identity="alice@example.org"),
        {
            "802-11-wireless-security": {"key-mgmt": "wpa-eap"},
            "802-1x": {
                "eap": ["peap"],
                "identity": "alice@example.org",
                "password": "s3cret",
                "phase2-auth": "mschapv2",
            },
        },
    ),
    "enterprise ttls": (
        creds(SecurityKind.WPA_EAP, "s3cret", identity="alice", eap_method="ttls"),
        {
            "802-11-wireless-security": {"key-mgmt": "wpa-eap"},
            "802-1x": {
                "eap": ["ttls"],
                "identity": "alice",
                "password": "s3cret",
                "phase2-auth": "mschapv2",
            },
        },
    ),
}


@pytest.mark.parametrize(("given", "security"), SECURITY_SECTIONS.values(), ids=SECURITY_SECTIONS)
def test_client_profile_per_security_kind(given: Credentials, security: Settings) -> None:
    assert client_profile(given, uuid=UUID) == base_profile() | security


def test_every_security_kind_has_a_profile_case() -> None:
    covered = {given.security for given, _ in SECURITY_SECTIONS.values()}
    assert covered == set(SecurityKind)


WEP_KEY_TYPES: dict[str, tuple[str, int]] = {
    "5 ascii": ("ab!de", 1),
    "13 ascii": ("abcdefghijk m", 1),
    "10 hex": ("0123456789", 1),
    "26 hex": ("0123456789abcdefABCDEF0123", 1),
    "10 non-hex is a passphrase": ("0123456789"[:9] + "g", 2),
    "26 non-hex is a passphrase": ("0123456789abcdefABCDEF012z", 2),
    "1 character passphrase": ("x", 2),
    "6 characters passphrase": ("abcdef", 2),
    "64 characters passphrase": ("p" * 64, 2),
}


@pytest.mark.parametrize(("key", "key_type"), WEP_KEY_TYPES.values(), ids=WEP_KEY_TYPES)
def test_wep_key_type_follows_the_key_form(key: str, key_type: int) -> None:
    security = client_profile(creds(SecurityKind.WEP, key))["802-11-wireless-security"]
    assert security["wep-key0"] == key
    assert security["wep-key-type"] == key_type


def test_client_profile_defaults_to_display_ssid_and_a_fresh_uuid() -> None:
    first = client_profile(creds(SecurityKind.OPEN, ssid=b"Caf\xc3\xa9"))
    second = client_profile(creds(SecurityKind.OPEN, ssid=b"Caf\xc3\xa9"))
    assert first["connection"]["id"] == "Café"
    assert uuid.UUID(first["connection"]["uuid"]).version == 4
    assert first["connection"]["uuid"] != second["connection"]["uuid"]


def test_client_profile_takes_a_given_id() -> None:
    profile = client_profile(creds(SecurityKind.OPEN), uuid=UUID, connection_id="Office")
    assert profile == base_profile(connection_id="Office")


def test_client_profile_keeps_raw_non_utf8_ssid_bytes() -> None:
    raw = b"\xff\xfeCaf\xe9\x00"
    profile = client_profile(creds(SecurityKind.OPEN, ssid=raw), uuid=UUID)
    assert profile["802-11-wireless"]["ssid"] == raw
    assert profile["connection"]["id"] == "\xff\xfeCaf\xe9\\u{0}"


def test_client_profile_marks_only_hidden_networks_hidden() -> None:
    hidden = client_profile(creds(SecurityKind.WPA_PSK, "password", hidden=True))
    visible = client_profile(creds(SecurityKind.WPA_PSK, "password"))
    assert hidden["802-11-wireless"]["hidden"] is True
    assert "hidden" not in visible["802-11-wireless"]


def test_client_profile_validates_first() -> None:
    with pytest.raises(ValidationError) as caught:
        client_profile(creds(SecurityKind.WPA_PSK, "short"))
    assert caught.value.field == "passphrase"


# --- validation: accepted inputs ----------------------------------------------------------------

ACCEPTED: dict[str, Credentials] = {
    "ssid 1 byte": creds(SecurityKind.OPEN, ssid=b"x"),
    "ssid 32 bytes": creds(SecurityKind.OPEN, ssid=b"x" * 32),
    "ssid 16 two-byte letters": creds(SecurityKind.OPEN, ssid="é".encode() * 16),
    "ssid 8 four-byte emoji": creds(SecurityKind.OPEN, ssid="📶".encode() * 8),
    "ssid not utf-8": creds(SecurityKind.OPEN, ssid=b"\xff" * 32),
    "psk 8": creds(SecurityKind.WPA_PSK, "a" * 8),
    "psk 63": creds(SecurityKind.WPA_PSK, "a" * 63),
    "psk 64 hex": creds(SecurityKind.WPA_PSK, HEX64),
    "psk spaces and symbols": creds(SecurityKind.WPA_PSK, ' ~!@#$%^&*()_+{}|:"<>? '),
    "transition psk 8": creds(SecurityKind.WPA_PSK_SAE, "a" * 8),
    "transition psk 64 hex": creds(SecurityKind.WPA_PSK_SAE, HEX64),
    "sae 1": creds(SecurityKind.SAE, "a"),
    "sae 128": creds(SecurityKind.SAE, "a" * 128),
    "sae non-ascii": creds(SecurityKind.SAE, "пароль для WiFi 📶"),
    "wep 5": creds(SecurityKind.WEP, "a" * 5),
    "wep 13": creds(SecurityKind.WEP, "a" * 13),
    "wep 10 hex": creds(SecurityKind.WEP, "a1" * 5),
    "wep 26 hex": creds(SecurityKind.WEP, "a1" * 13),
    "wep passphrase 64": creds(SecurityKind.WEP, "a" * 64),
    "eap identity 253 bytes": creds(SecurityKind.WPA_EAP, "pw", identity="u" * 253),
    "eap password 128": creds(SecurityKind.WPA_EAP, "p" * 128, identity="alice"),
    "eap ttls": creds(SecurityKind.WPA_EAP, "pw", identity="alice", eap_method="ttls"),
    "empty identity means absent": creds(SecurityKind.WPA_PSK, "password", identity=""),
    "owe without passphrase": creds(SecurityKind.OWE, ""),
    "owe transition without passphrase": creds(SecurityKind.OWE_TRANSITION),
}


@pytest.mark.parametrize("given", ACCEPTED.values(), ids=ACCEPTED)
def test_validate_credentials_accepts(given: Credentials) -> None:
    check_credentials(given)
    profile = client_profile(given)
    assert profile["802-11-wireless"]["ssid"] == given.ssid


# --- validation: rejected inputs, each with the field it names -----------------------------------

REJECTED: dict[str, tuple[Credentials, str]] = {
    "ssid empty": (creds(SecurityKind.OPEN, ssid=b""), "ssid"),
    "ssid 33 bytes": (creds(SecurityKind.OPEN, ssid=b"x" * 33), "ssid"),
    "ssid 32 characters, 33 bytes": (
        creds(SecurityKind.OPEN, ssid=("x" * 31 + "é").encode()),
        "ssid",
    ),
    "ssid 17 two-byte letters": (creds(SecurityKind.OPEN, ssid="é".encode() * 17), "ssid"),
    "ssid 9 four-byte emoji": (creds(SecurityKind.OPEN, ssid="📶".encode() * 9), "ssid"),
    "psk missing": (creds(SecurityKind.WPA_PSK), "passphrase"),
    "psk empty": (creds(SecurityKind.WPA_PSK, ""), "passphrase"),
    "psk 7": (creds(SecurityKind.WPA_PSK, "a" * 7), "passphrase"),
    "psk 64 not hex": (creds(SecurityKind.WPA_PSK, HEX64[:-1] + "g"), "passphrase"),
    "psk 65": (creds(SecurityKind.WPA_PSK, "a" * 65), "passphrase"),
    "psk 65 hex": (creds(SecurityKind.WPA_PSK, HEX64 + "a"), "passphrase"),
    "psk non-ascii": (creds(SecurityKind.WPA_PSK, "pässwört"), "passphrase"),
    "psk emoji": (creds(SecurityKind.WPA_PSK, "password📶"), "passphrase"),
    "psk tab": (creds(SecurityKind.WPA_PSK, "pass\tword"), "passphrase"),
    "psk newline": (creds(SecurityKind.WPA_PSK, "password\n"), "passphrase"),
    "psk delete character": (creds(SecurityKind.WPA_PSK, "password\x7f"), "passphrase"),
    "transition psk 7": (creds(SecurityKind.WPA_PSK_SAE, "a" * 7), "passphrase"),
    "transition psk non-ascii": (creds(SecurityKind.WPA_PSK_SAE, "pässwört"), "passphrase"),
    "transition psk missing": (creds(SecurityKind.WPA_PSK_SAE), "passphrase"),
    "sae missing": (creds(SecurityKind.SAE), "passphrase"),
    "sae empty": (creds(SecurityKind.SAE, ""), "passphrase"),
    "sae 129": (creds(SecurityKind.SAE, "a" * 129), "passphrase"),
    "sae newline": (creds(SecurityKind.SAE, "pass\nword"), "passphrase"),
    "sae lone surrogate": (creds(SecurityKind.SAE, "pass\udcffword"), "passphrase"),
    "wep missing": (creds(SecurityKind.WEP), "passphrase"),
    "wep 65": (creds(SecurityKind.WEP, "a" * 65), "passphrase"),
    "wep non-ascii": (creds(SecurityKind.WEP, "clé12"), "passphrase"),
    "wep control character": (creds(SecurityKind.WEP, "abc\x00e"), "passphrase"),
    "eap identity missing": (creds(SecurityKind.WPA_EAP, "pw"), "identity"),
    "eap identity empty": (creds(SecurityKind.WPA_EAP, "pw", identity=""), "identity"),
    "eap identity 254 bytes": (creds(SecurityKind.WPA_EAP, "pw", identity="u" * 254), "identity"),
    "eap identity newline": (creds(SecurityKind.WPA_EAP, "pw", identity="al\nice"), "identity"),
    "eap password missing": (creds(SecurityKind.WPA_EAP, identity="alice"), "passphrase"),
    "eap password 129": (creds(SecurityKind.WPA_EAP, "p" * 129, identity="alice"), "passphrase"),
    "eap method tls": (
        creds(SecurityKind.WPA_EAP, "pw", identity="alice", eap_method="tls"),
        "security",
    ),
    "eap method empty": (
        creds(SecurityKind.WPA_EAP, "pw", identity="alice", eap_method=""),
        "security",
    ),
    "open with passphrase": (creds(SecurityKind.OPEN, "Tr0ub4dor&3"), "passphrase"),
    "owe with passphrase": (creds(SecurityKind.OWE, "Tr0ub4dor&3"), "passphrase"),
    "owe transition with passphrase": (
        creds(SecurityKind.OWE_TRANSITION, "Tr0ub4dor&3"),
        "passphrase",
    ),
    "identity on a psk network": (
        creds(SecurityKind.WPA_PSK, "password", identity="alice"),
        "identity",
    ),
    "identity on an open network": (creds(SecurityKind.OPEN, identity="alice"), "identity"),
    "security not a SecurityKind": (
        creds(cast(Any, "wpa-psk"), "password"),
        "security",
    ),
}


@pytest.mark.parametrize(("given", "field"), REJECTED.values(), ids=REJECTED)
def test_validate_credentials_rejects(given: Credentials, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_credentials(given)
    assert caught.value.field == field
    assert caught.value.message.endswith(".")
    if given.passphrase and len(given.passphrase) >= 4:
        assert given.passphrase not in str(caught.value)


def test_psk_messages_name_the_rule() -> None:
    cases = {
        "a" * 7: "too short",
        "a" * 65: "too long",
        HEX64[:-1] + "g": "hex",
        "pässwört": "A-Z",
    }
    for passphrase, rule in cases.items():
        with pytest.raises(ValidationError, match=rule):
            check_credentials(creds(SecurityKind.WPA_PSK, passphrase))


def test_credentials_repr_hides_the_passphrase() -> None:
    given = creds(SecurityKind.WPA_EAP, "hunter2-secret", identity="alice")
    assert "hunter2-secret" not in repr(given)
    assert "alice" in repr(given)


# --- hotspot -------------------------------------------------------------------------------------


def hotspot_base() -> Settings:
    return {
        "connection": {
            "type": "802-11-wireless",
            "id": HOTSPOT_ID_PREFIX,
            "uuid": UUID,
            "autoconnect": False,
            "interface-name": "wlan0",
        },
        "802-11-wireless": {"ssid": b"WiFi Connect", "mode": "ap", "band": "bg"},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": "192.168.42.1", "prefix": 24}],
        },
        "ipv6": {"method": "ignore"},
    }


@pytest.mark.parametrize("passphrase", [None, ""], ids=["none", "empty"])
def test_open_hotspot(passphrase: str | None) -> None:
    profile = hotspot_profile(
        ssid="WiFi Connect", interface="wlan0", gateway=GATEWAY, passphrase=passphrase, uuid=UUID
    )
    assert profile == hotspot_base()


def test_protected_hotspot_is_wpa2_ccmp() -> None:
    profile = hotspot_profile(
        ssid="WiFi Connect", interface="wlan0", gateway=GATEWAY, passphrase="portal-pass", uuid=UUID
    )
    assert profile == hotspot_base() | {
        "802-11-wireless-security": {
            "key-mgmt": "wpa-psk",
            "psk": "portal-pass",
            "proto": ["rsn"],
            "pairwise": ["ccmp"],
            "group": ["ccmp"],
        }
    }


def test_hotspot_follows_gateway_and_makes_a_fresh_uuid() -> None:
    profile = hotspot_profile(
        ssid="Setup", interface="wlp2s0", gateway=IPv4Address("10.9.8.1"), passphrase=None
    )
    assert profile["ipv4"]["address-data"] == [{"address": "10.9.8.1", "prefix": 24}]
    assert profile["connection"]["interface-name"] == "wlp2s0"
    assert uuid.UUID(profile["connection"]["uuid"]).version == 4


def test_hotspot_ssid_is_utf8_bytes() -> None:
    profile = hotspot_profile(ssid="é" * 16, interface="wlan0", gateway=GATEWAY, passphrase=None)
    assert profile["802-11-wireless"]["ssid"] == "é".encode() * 16


HOTSPOT_REJECTED: dict[str, tuple[str, str | None, str]] = {
    "ssid empty": ("", None, "ssid"),
    "ssid 33 bytes": ("x" * 33, None, "ssid"),
    "ssid 17 two-byte letters": ("é" * 17, None, "ssid"),
    "ssid not encodable": ("bad\udcff", None, "ssid"),
    "passphrase 7": ("Setup", "a" * 7, "passphrase"),
    "passphrase 65": ("Setup", "a" * 65, "passphrase"),
    "passphrase non-ascii": ("Setup", "pässwört", "passphrase"),
    "passphrase control character": ("Setup", "password\n", "passphrase"),
}


@pytest.mark.parametrize(
    ("ssid", "passphrase", "field"), HOTSPOT_REJECTED.values(), ids=HOTSPOT_REJECTED
)
def test_hotspot_rejects(ssid: str, passphrase: str | None, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        hotspot_profile(ssid=ssid, interface="wlan0", gateway=GATEWAY, passphrase=passphrase)
    assert caught.value.field == field


@pytest.mark.parametrize("passphrase", ["a" * 8, "a" * 63, HEX64], ids=["8", "63", "64 hex"])
def test_hotspot_accepts_the_wpa_psk_rule(passphrase: str) -> None:
    profile = hotspot_profile(
        ssid="Setup", interface="wlan0", gateway=GATEWAY, passphrase=passphrase
    )
    assert profile["802-11-wireless-security"]["psk"] == passphrase


# --- the D-Bus type each key gets, as `man 5 nm-settings-dbus` (NetworkManager 1.42) lists it ----

NM_SIGNATURES: dict[tuple[str, str], str] = {
    ("connection", "type"): "s",
    ("connection", "id"): "s",
    ("connection", "uuid"): "s",
    ("connection", "autoconnect"): "b",
    ("connection", "interface-name"): "s",
    ("802-11-wireless", "ssid"): "ay",
    ("802-11-wireless", "mode"): "s",
    ("802-11-wireless", "hidden"): "b",
    ("802-11-wireless", "band"): "s",
    ("802-11-wireless-security", "key-mgmt"): "s",
    ("802-11-wireless-security", "psk"): "s",
    ("802-11-wireless-security", "auth-alg"): "s",
    ("802-11-wireless-security", "wep-key0"): "s",
    ("802-11-wireless-security", "wep-key-type"): "u",
    ("802-11-wireless-security", "proto"): "as",
    ("802-11-wireless-security", "pairwise"): "as",
    ("802-11-wireless-security", "group"): "as",
    ("802-1x", "eap"): "as",
    ("802-1x", "identity"): "s",
    ("802-1x", "password"): "s",
    ("802-1x", "phase2-auth"): "s",
    ("ipv4", "method"): "s",
    ("ipv4", "address-data"): "aa{sv}",
    ("ipv6", "method"): "s",
}


def every_profile() -> list[Settings]:
    profiles = [client_profile(given) for given, _ in SECURITY_SECTIONS.values()]
    profiles.append(client_profile(creds(SecurityKind.OPEN, hidden=True)))
    profiles.append(
        hotspot_profile(ssid="Setup", interface="wlan0", gateway=GATEWAY, passphrase="password")
    )
    return profiles


def test_every_emitted_key_gets_networkmanagers_type() -> None:
    seen: set[tuple[str, str]] = set()
    for profile in every_profile():
        for setting, values in to_dbus(profile).items():
            for key, variant in values.items():
                assert variant.signature == NM_SIGNATURES[(setting, key)], (setting, key)
                seen.add((setting, key))
    assert seen == set(NM_SIGNATURES)


def test_address_data_entries_are_typed() -> None:
    hotspot = hotspot_profile(ssid="Setup", interface="wlan0", gateway=GATEWAY, passphrase=None)
    (entry,) = to_dbus(hotspot)["ipv4"]["address-data"].value
    assert entry["address"].signature == "s"
    assert entry["prefix"].signature == "u"


@pytest.mark.parametrize(
    "credentials",
    [
        creds(SecurityKind.WPA_PSK, "password1"),
        creds(SecurityKind.OPEN),
        creds(SecurityKind.WPA_EAP, "pw", identity="alice"),
    ],
    ids=["psk", "open", "eap"],
)
def test_a_pending_profile_never_autoconnects_and_finishes_into_the_built_one(
    credentials: Credentials,
) -> None:
    built = client_profile(credentials, uuid=UUID)
    pending = pending_profile(built)
    assert pending["connection"]["autoconnect"] is False
    assert pending["user"] == {"data": {PENDING_KEY: "unproven"}}
    assert is_pending(pending) and not is_pending(built)
    # Only the mark and autoconnect differ; the builder's own dict is left alone.
    assert {k: v for k, v in pending.items() if k != "user"} == {
        **built,
        "connection": {**built["connection"], "autoconnect": False},
    }
    assert built["connection"]["autoconnect"] is True and "user" not in built
    assert finished_profile(pending) == built
    assert to_dbus(pending)["user"]["data"].signature == "a{ss}"


def test_finishing_keeps_other_user_data() -> None:
    built = client_profile(creds(SecurityKind.OPEN), uuid=UUID)
    built["user"] = {"data": {"org.example.owner": "kiosk"}}
    finished = finished_profile(pending_profile(built))
    assert finished["user"] == {"data": {"org.example.owner": "kiosk"}}
    assert not is_pending(finished)
