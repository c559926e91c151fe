"""Profiles real NetworkManager refuses, and the D-Bus error it answers with: one table, two tiers.

Each case takes a valid profile the app builds and breaks one key of it (the app's own validation
refuses to build broken ones). The contract tier proves every row against real NetworkManager;
the simulator tier runs the same rows, so what real NetworkManager rejects, the simulator rejects
with the same error name. `blames` is how NetworkManager's message starts: the setting or
setting.property it names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from app.nm.profiles import Settings, client_profile, hotspot_profile
from app.wifi import Credentials, SecurityKind

_ERROR = "org.freedesktop.NetworkManager.Settings.Connection."
INVALID_PROPERTY = _ERROR + "InvalidProperty"
MISSING_PROPERTY = _ERROR + "MissingProperty"
INVALID_SETTING = _ERROR + "InvalidSetting"
MISSING_SETTING = _ERROR + "MissingSetting"

SECURITY = "802-11-wireless-security"
WIRELESS = "802-11-wireless"


def wpa_psk() -> Settings:
    """A valid WPA2 client profile."""
    return client_profile(Credentials(b"ct-invalid", SecurityKind.WPA_PSK, "valid passphrase"))


def wep() -> Settings:
    """A valid WEP client profile with a 5-character key."""
    return client_profile(Credentials(b"ct-invalid", SecurityKind.WEP, "abcde"))


def eap(method: str = "peap") -> Settings:
    """A valid WPA-Enterprise client profile."""
    return client_profile(
        Credentials(b"ct-invalid", SecurityKind.WPA_EAP, "s3cret", "alice", eap_method=method)
    )


def hotspot(passphrase: str | None = "portal-pass") -> Settings:
    """A valid hotspot profile."""
    return hotspot_profile(
        ssid="ct-invalid-portal",
        interface="ctv0",
        gateway=IPv4Address("192.168.42.1"),
        passphrase=passphrase,
    )


Break = Callable[[Settings], None]


def setting_to(setting: str, key: str, value: Any) -> Break:
    """Set one key."""

    def apply(settings: Settings) -> None:
        settings.setdefault(setting, {})[key] = value

    return apply


def without(setting: str, key: str | None = None) -> Break:
    """Remove one key, or a whole setting when no key is given."""

    def apply(settings: Settings) -> None:
        if key is None:
            del settings[setting]
        else:
            del settings[setting][key]

    return apply


@dataclass(frozen=True)
class InvalidCase:
    """One valid profile with one key broken, and how NetworkManager refuses it."""

    id: str
    base: Callable[[], Settings]
    breaks: Break
    error: str
    blames: str

    def settings(self) -> Settings:
        """The broken profile, built fresh for each use."""
        settings = copy.deepcopy(self.base())
        self.breaks(settings)
        return settings


INVALID_CASES: tuple[InvalidCase, ...] = (
    InvalidCase(
        "psk-too-short", wpa_psk, setting_to(SECURITY, "psk", "7 chars"),
        INVALID_PROPERTY, f"{SECURITY}.psk",
    ),
    InvalidCase(
        "psk-too-long", wpa_psk, setting_to(SECURITY, "psk", "x" * 65),
        INVALID_PROPERTY, f"{SECURITY}.psk",
    ),
    InvalidCase(
        "psk-64-chars-not-hex", wpa_psk, setting_to(SECURITY, "psk", "g" * 64),
        INVALID_PROPERTY, f"{SECURITY}.psk",
    ),
    InvalidCase(
        "hotspot-psk-too-short", hotspot, setting_to(SECURITY, "psk", "short"),
        INVALID_PROPERTY, f"{SECURITY}.psk",
    ),
    InvalidCase(
        "wep-key-wrong-length", wep, setting_to(SECURITY, "wep-key0", "abcdefg"),
        INVALID_PROPERTY, f"{SECURITY}.wep-key0",
    ),
    InvalidCase(
        "wep-hex-key-not-hex", wep,
        setting_to(SECURITY, "wep-key0", "0123456789abcdef012345678g"),
        INVALID_PROPERTY, f"{SECURITY}.wep-key0",
    ),
    InvalidCase(
        "wep-key-type-out-of-range", wep, setting_to(SECURITY, "wep-key-type", 9),
        INVALID_PROPERTY, f"{SECURITY}.wep-key-type",
    ),
    InvalidCase(
        "ssid-too-long", wpa_psk, setting_to(WIRELESS, "ssid", b"x" * 33),
        INVALID_PROPERTY, f"{WIRELESS}.ssid",
    ),
    InvalidCase(
        "ssid-empty", wpa_psk, setting_to(WIRELESS, "ssid", b""),
        INVALID_PROPERTY, f"{WIRELESS}.ssid",
    ),
    InvalidCase(
        # The SSID must go over D-Bus as bytes (ay); a string (s) is refused.
        "ssid-sent-as-text", wpa_psk, setting_to(WIRELESS, "ssid", "ct-invalid"),
        INVALID_PROPERTY, f"{WIRELESS}.ssid",
    ),
    InvalidCase(
        "wifi-mode-unknown", wpa_psk, setting_to(WIRELESS, "mode", "bogus"),
        INVALID_PROPERTY, f"{WIRELESS}.mode",
    ),
    InvalidCase(
        "hotspot-band-unknown", hotspot, setting_to(WIRELESS, "band", "zz"),
        INVALID_PROPERTY, f"{WIRELESS}.band",
    ),
    InvalidCase(
        "key-mgmt-unknown", wpa_psk, setting_to(SECURITY, "key-mgmt", "bogus"),
        INVALID_PROPERTY, f"{SECURITY}.key-mgmt",
    ),
    InvalidCase(
        "key-mgmt-missing", wpa_psk, without(SECURITY, "key-mgmt"),
        MISSING_PROPERTY, f"{SECURITY}.key-mgmt",
    ),
    InvalidCase(
        "hotspot-pairwise-unknown", hotspot, setting_to(SECURITY, "pairwise", ["bogus"]),
        INVALID_PROPERTY, f"{SECURITY}.pairwise",
    ),
    InvalidCase(
        "hotspot-proto-unknown", hotspot, setting_to(SECURITY, "proto", ["bogus"]),
        INVALID_PROPERTY, f"{SECURITY}.proto",
    ),
    InvalidCase(
        "wpa-eap-without-802-1x", eap, without("802-1x"),
        MISSING_SETTING, "802-1x",
    ),
    InvalidCase(
        "eap-without-identity", eap, without("802-1x", "identity"),
        MISSING_PROPERTY, "802-1x.identity",
    ),
    InvalidCase(
        "eap-method-unknown", eap, setting_to("802-1x", "eap", ["bogus"]),
        INVALID_PROPERTY, "802-1x.eap",
    ),
    InvalidCase(
        "eap-phase2-unknown", eap, setting_to("802-1x", "phase2-auth", "bogus"),
        INVALID_PROPERTY, "802-1x.phase2-auth",
    ),
    InvalidCase(
        "ttls-without-phase2", lambda: eap("ttls"), without("802-1x", "phase2-auth"),
        MISSING_PROPERTY, "802-1x.phase2-auth",
    ),
    InvalidCase(
        "hotspot-manual-without-address", hotspot, without("ipv4", "address-data"),
        MISSING_PROPERTY, "ipv4.addresses",
    ),
    InvalidCase(
        "ipv4-method-unknown", wpa_psk, setting_to("ipv4", "method", "bogus"),
        INVALID_PROPERTY, "ipv4.method",
    ),
    InvalidCase(
        "uuid-malformed", wpa_psk, setting_to("connection", "uuid", "not-a-uuid"),
        INVALID_PROPERTY, "connection.uuid",
    ),
    InvalidCase(
        "id-empty", wpa_psk, setting_to("connection", "id", ""),
        INVALID_PROPERTY, "connection.id",
    ),
    InvalidCase(
        "hotspot-interface-name-invalid", hotspot,
        setting_to("connection", "interface-name", "ct/0"),
        INVALID_PROPERTY, "connection.interface-name",
    ),
    InvalidCase(
        "wireless-setting-missing", wpa_psk, without(WIRELESS),
        MISSING_SETTING, WIRELESS,
    ),
    InvalidCase(
        "unknown-setting", wpa_psk, setting_to("ct-bogus", "key", "value"),
        INVALID_SETTING, "ct-bogus",
    ),
    InvalidCase(
        "unknown-property", wpa_psk, setting_to(WIRELESS, "ct-bogus", "value"),
        INVALID_PROPERTY, f"{WIRELESS}.ct-bogus",
    ),
)  # fmt: skip
