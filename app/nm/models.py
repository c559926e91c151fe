"""Frozen dataclasses the adapter hands to callers: no D-Bus type ever leaves app/nm."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.nm.const import (
    ActiveConnectionState,
    Connectivity,
    DeviceState,
    DeviceStateReason,
    DeviceType,
    NMState,
)


class SecurityKind(StrEnum):
    """What an access point asks of a client; the value is the API's precise `auth` string."""

    OPEN = "open"
    OWE = "owe"
    # An open BSS that advertises an OWE twin: every client can join it, so we treat it as open
    # when building a profile, but report it as Enhanced Open to the user.
    OWE_TRANSITION = "owe-transition"
    WEP = "wep"
    WPA_PSK = "wpa-psk"
    SAE = "sae"
    WPA_PSK_SAE = "wpa-psk+sae"
    WPA_EAP = "wpa-eap"

    @property
    def auth(self) -> str:
        """The `auth` value of GET /networks."""
        return "owe" if self is SecurityKind.OWE_TRANSITION else self.value

    @property
    def legacy(self) -> str:
        """balena wifi-connect's `security` value: none, wep, wpa or enterprise."""
        return _LEGACY[self]

    @property
    def needs_passphrase(self) -> bool:
        """True when the user must type a password (or a WEP key)."""
        return self not in (SecurityKind.OPEN, SecurityKind.OWE, SecurityKind.OWE_TRANSITION)

    @property
    def needs_identity(self) -> bool:
        """True for 802.1X networks, which need a user name as well."""
        return self is SecurityKind.WPA_EAP


def infer_security(passphrase: str | None, identity: str | None) -> SecurityKind:
    """The likeliest security of a network no scan showed, from the credentials given for it."""
    if identity:
        return SecurityKind.WPA_EAP
    if passphrase:
        return SecurityKind.WPA_PSK
    return SecurityKind.OPEN


_LEGACY = {
    SecurityKind.OPEN: "none",
    SecurityKind.OWE: "none",
    SecurityKind.OWE_TRANSITION: "none",
    SecurityKind.WEP: "wep",
    SecurityKind.WPA_PSK: "wpa",
    SecurityKind.SAE: "wpa",
    SecurityKind.WPA_PSK_SAE: "wpa",
    SecurityKind.WPA_EAP: "enterprise",
}


def display_ssid(raw: bytes) -> str:
    """A printable form of an SSID that never fails: invalid UTF-8 and control bytes are escaped."""
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


@dataclass(frozen=True)
class WifiNetwork:
    """One network from a scan: the strongest access point seen for its SSID."""

    ssid: bytes
    strength: int
    frequency: int
    bssid: str
    security: SecurityKind

    @property
    def display_ssid(self) -> str:
        """The SSID as text for pages, logs and JSON."""
        return display_ssid(self.ssid)


@dataclass(frozen=True)
class Credentials:
    """What a user (or installer) submitted for one network; the secrets never show in repr."""

    ssid: bytes
    security: SecurityKind
    passphrase: str | None = field(default=None, repr=False)
    identity: str | None = None
    hidden: bool = False
    eap_method: str = "peap"


@dataclass(frozen=True)
class Device:
    """A network device NetworkManager knows."""

    path: str
    interface: str
    device_type: DeviceType
    state: DeviceState
    managed: bool


@dataclass(frozen=True)
class SavedConnection:
    """A connection profile stored in NetworkManager's settings."""

    path: str
    uuid: str
    id: str
    connection_type: str
    ssid: bytes | None = None
    mode: str | None = None
    interface_name: str | None = None
    filename: str | None = None


class FailureKind(StrEnum):
    """Why an activation failed, in the terms a user is told."""

    WRONG_PASSWORD = "wrong-password"
    NOT_FOUND = "not-found"
    NO_ADDRESS = "no-address"
    TIMEOUT = "timeout"
    OTHER = "other"


_FAILURE_BY_REASON = {
    # What NM ends on when the supplicant could not authenticate: in practice a wrong password.
    DeviceStateReason.NO_SECRETS: FailureKind.WRONG_PASSWORD,
    DeviceStateReason.SUPPLICANT_DISCONNECT: FailureKind.WRONG_PASSWORD,
    DeviceStateReason.SUPPLICANT_CONFIG_FAILED: FailureKind.WRONG_PASSWORD,
    DeviceStateReason.SUPPLICANT_FAILED: FailureKind.WRONG_PASSWORD,
    DeviceStateReason.SUPPLICANT_TIMEOUT: FailureKind.WRONG_PASSWORD,
    DeviceStateReason.SSID_NOT_FOUND: FailureKind.NOT_FOUND,
    DeviceStateReason.IP_CONFIG_UNAVAILABLE: FailureKind.NO_ADDRESS,
    DeviceStateReason.IP_CONFIG_EXPIRED: FailureKind.NO_ADDRESS,
    DeviceStateReason.DHCP_START_FAILED: FailureKind.NO_ADDRESS,
    DeviceStateReason.DHCP_ERROR: FailureKind.NO_ADDRESS,
    DeviceStateReason.DHCP_FAILED: FailureKind.NO_ADDRESS,
}


def failure_for_reason(reason: DeviceStateReason) -> FailureKind:
    """What a device state reason means to the user."""
    return _FAILURE_BY_REASON.get(reason, FailureKind.OTHER)


@dataclass(frozen=True)
class ActivationResult:
    """The outcome of activating a connection on a device."""

    state: ActiveConnectionState
    failure: FailureKind | None = None
    reason: DeviceStateReason = DeviceStateReason.NONE
    active_path: str | None = None

    @property
    def ok(self) -> bool:
        """True when the connection reached ACTIVATED."""
        return self.failure is None and self.state is ActiveConnectionState.ACTIVATED


@dataclass(frozen=True)
class Uplink:
    """NetworkManager's primary connection: its name, interfaces and IPv4 DNS servers."""

    name: str
    interfaces: tuple[str, ...]
    resolvers: tuple[str, ...]


@dataclass(frozen=True)
class NetworkStatus:
    """NetworkManager's overall view of the uplink."""

    state: NMState
    connectivity: Connectivity
