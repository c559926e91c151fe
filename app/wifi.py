"""What the whole app says of a WiFi network: its security kinds and a user's credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface


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

# What a user may state as a network's security (the portal's `security` field, `add
# --security`): the precise `auth` values, and wifi-connect's coarse `security` values, which
# name the common kind of each group.
STATED_SECURITY = {
    "open": SecurityKind.OPEN,
    "none": SecurityKind.OPEN,
    "owe": SecurityKind.OWE,
    "wep": SecurityKind.WEP,
    "wpa-psk": SecurityKind.WPA_PSK,
    "wpa": SecurityKind.WPA_PSK,
    "sae": SecurityKind.SAE,
    "wpa-psk+sae": SecurityKind.WPA_PSK_SAE,
    "wpa-eap": SecurityKind.WPA_EAP,
    "enterprise": SecurityKind.WPA_EAP,
}


def stated_security(text: str) -> SecurityKind | None:
    """The security a user named (any case, spaces around ignored); None for an unknown name."""
    return STATED_SECURITY.get(text.strip().lower())


def infer_security(passphrase: str | None, identity: str | None) -> SecurityKind:
    """The likeliest security of a network no scan showed, from the credentials given for it."""
    if identity:
        return SecurityKind.WPA_EAP
    if passphrase:
        return SecurityKind.WPA_PSK
    return SecurityKind.OPEN


@dataclass(frozen=True)
class StaticIPv4:
    """A fixed IPv4 set-up in place of DHCP, as an installer states it (app.rules checks it)."""

    # The device's address with the network's prefix length, e.g. 192.168.1.127/24.
    address: IPv4Interface
    gateway: IPv4Address
    dns: tuple[IPv4Address, ...]


@dataclass(frozen=True)
class Credentials:
    """What a user (or installer) submitted for one network; the secrets never show in repr."""

    ssid: bytes
    security: SecurityKind
    passphrase: str | None = field(default=None, repr=False)
    identity: str | None = None
    hidden: bool = False
    eap_method: str = "peap"
    # None: the network's DHCP gives the address, gateway and DNS servers.
    ipv4: StaticIPv4 | None = None
