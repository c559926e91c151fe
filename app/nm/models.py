"""Frozen dataclasses the adapter hands to callers: no D-Bus type ever leaves app/nm."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.nm.const import (
    ActiveConnectionState,
    Connectivity,
    DeviceState,
    DeviceStateReason,
    DeviceType,
    NMState,
)
from app.rules import display_ssid
from app.wifi import SecurityKind


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
    # Saved by an attempt and not yet proven (app.nm.profiles.pending_profile).
    pending: bool = False


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
class ActiveLink:
    """Where an active connection's traffic goes: its IP interface and its IPv4 DNS servers."""

    # Device.IpInterface: what sockets bind to (SO_BINDTODEVICE) to use only this link.
    interface: str
    resolvers: tuple[str, ...]


@dataclass(frozen=True)
class NetworkStatus:
    """NetworkManager's overall view of the uplink."""

    state: NMState
    connectivity: Connectivity


@dataclass(frozen=True)
class MdnsHost:
    """The names Avahi answers for this device: `raspberrypi` and `raspberrypi.local`."""

    host_name: str
    fqdn: str
