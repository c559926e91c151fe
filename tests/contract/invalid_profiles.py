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


def hotspot_on_channel() -> Settings:
    """A valid hotspot profile on a fixed 2.4 GHz channel."""
    return hotspot_profile(
        ssid="ct-invalid-portal",
        interface="ctv0",
        gateway=IPv4Address("192.168.42.1"),
        passphrase=None,
        channel=6,
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
class OtherAnswer:
    """How NetworkManager from `since` up to (not including) `before` refuses a case instead."""

    since: tuple[int, int]
    before: tuple[int, int] | None
    error: str
    blames: str


@dataclass(frozen=True)
class InvalidCase:
    """One valid profile with one key broken, and how NetworkManager refuses it.

    `error` and `blames` are the answer of NetworkManager 1.42 (Debian bookworm), which the
    simulator gives; `others` lists the versions that answer otherwise.
    """

    id: str
    base: Callable[[], Settings]
    breaks: Break
    error: str
    blames: str
    others: tuple[OtherAnswer, ...] = ()

    def expected(self, version: tuple[int, int]) -> tuple[str, str]:
        """(error, blames) of NetworkManager `version`."""
        for other in self.others:
            if other.since <= version and (other.before is None or version < other.before):
                return other.error, other.blames
        return self.error, self.blames

    def settings(self) -> Settings:
        """The broken profile, built fresh for each use."""
        settings = copy.deepcopy(self.base())
        self.breaks(settings)
        return settings


def bad(
    case_id: str, base: Callable[[], Settings], setting: str, key: str, value: Any
) -> InvalidCase:
    """One key set to a value NetworkManager refuses as an invalid property, naming that key."""
    breaks = setting_to(setting, key, value)
    return InvalidCase(case_id, base, breaks, INVALID_PROPERTY, f"{setting}.{key}")


def missing(
    case_id: str, base: Callable[[], Settings], setting: str, key: str | None = None
) -> InvalidCase:
    """A key (or, without one, a whole setting) NetworkManager needs, left out."""
    if key is None:
        return InvalidCase(case_id, base, without(setting), MISSING_SETTING, setting)
    return InvalidCase(case_id, base, without(setting, key), MISSING_PROPERTY, f"{setting}.{key}")


INVALID_CASES: tuple[InvalidCase, ...] = (
    bad("psk-too-short", wpa_psk, SECURITY, "psk", "7 chars"),
    bad("psk-too-long", wpa_psk, SECURITY, "psk", "x" * 65),
    bad("psk-64-chars-not-hex", wpa_psk, SECURITY, "psk", "g" * 64),
    bad("hotspot-psk-too-short", hotspot, SECURITY, "psk", "short"),
    bad("wep-key-wrong-length", wep, SECURITY, "wep-key0", "abcdefg"),
    bad("wep-hex-key-not-hex", wep, SECURITY, "wep-key0", "0123456789abcdef012345678g"),
    bad("wep-key-type-out-of-range", wep, SECURITY, "wep-key-type", 9),
    bad("ssid-too-long", wpa_psk, WIRELESS, "ssid", b"x" * 33),
    InvalidCase(
        "ssid-empty",
        wpa_psk,
        setting_to(WIRELESS, "ssid", b""),
        INVALID_PROPERTY,
        f"{WIRELESS}.ssid",
        # NetworkManager 1.30 takes an empty SSID for none at all; 1.42 and 1.52 call it invalid.
        (OtherAnswer((1, 0), (1, 42), MISSING_PROPERTY, f"{WIRELESS}.ssid"),),
    ),
    # The SSID must go over D-Bus as bytes (ay); a string (s) is refused.
    bad("ssid-sent-as-text", wpa_psk, WIRELESS, "ssid", "ct-invalid"),
    bad("wifi-mode-unknown", wpa_psk, WIRELESS, "mode", "bogus"),
    bad("hotspot-band-unknown", hotspot, WIRELESS, "band", "zz"),
    # What hotspot_profile refuses itself (channel_problem), NetworkManager refuses too.
    bad("hotspot-channel-outside-band", hotspot_on_channel, WIRELESS, "channel", 36),
    # Every version names the band as missing, not the channel as invalid.
    missing("hotspot-channel-without-band", hotspot_on_channel, WIRELESS, "band"),
    bad("key-mgmt-unknown", wpa_psk, SECURITY, "key-mgmt", "bogus"),
    missing("key-mgmt-missing", wpa_psk, SECURITY, "key-mgmt"),
    bad("hotspot-pairwise-unknown", hotspot, SECURITY, "pairwise", ["bogus"]),
    bad("hotspot-proto-unknown", hotspot, SECURITY, "proto", ["bogus"]),
    missing("wpa-eap-without-802-1x", eap, "802-1x"),
    missing("eap-without-identity", eap, "802-1x", "identity"),
    bad("eap-method-unknown", eap, "802-1x", "eap", ["bogus"]),
    bad("eap-phase2-unknown", eap, "802-1x", "phase2-auth", "bogus"),
    missing("ttls-without-phase2", lambda: eap("ttls"), "802-1x", "phase2-auth"),
    # Without address-data NetworkManager names ipv4.addresses, the property it derives it from.
    # 1.52 names ipv4.method instead ("method 'manual' requires at least an address or a
    # route": manual may now have routes alone); 1.30 and 1.42 name ipv4.addresses.
    InvalidCase(
        "hotspot-manual-without-address",
        hotspot,
        without("ipv4", "address-data"),
        MISSING_PROPERTY,
        "ipv4.addresses",
        (OtherAnswer((1, 52), None, MISSING_PROPERTY, "ipv4.method"),),
    ),
    bad("ipv4-method-unknown", wpa_psk, "ipv4", "method", "bogus"),
    bad("uuid-malformed", wpa_psk, "connection", "uuid", "not-a-uuid"),
    bad("id-empty", wpa_psk, "connection", "id", ""),
    bad("hotspot-interface-name-invalid", hotspot, "connection", "interface-name", "ct/0"),
    missing("wireless-setting-missing", wpa_psk, WIRELESS),
    InvalidCase(
        "unknown-setting",
        wpa_psk,
        setting_to("ct-bogus", "key", "value"),
        INVALID_SETTING,
        "ct-bogus",
    ),
    bad("unknown-property", wpa_psk, WIRELESS, "ct-bogus", "value"),
)
