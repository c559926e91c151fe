"""Pure builders of NetworkManager connection settings: a client profile and the hotspot profile."""

from __future__ import annotations

import sys
from ipaddress import IPv4Address
from typing import Any, Final, assert_never
from uuid import uuid4

from app.errors import ValidationError
from app.nm.const import HOTSPOT_ID_PREFIX
from app.rules import (
    PORTAL_PREFIX_LENGTH,
    channel_problem,
    check_credentials,
    check_psk,
    display_ssid,
    hotspot_ssid,
    wep_key_type,
)
from app.wifi import Credentials, SecurityKind, StaticIPv4

# Plain Python values only (app/nm/variants.py gives each key its D-Bus type), so this module
# and its callers never see dbus_next.
Settings = dict[str, dict[str, Any]]

CONNECTION: Final = "connection"
WIRELESS: Final = "802-11-wireless"
WIRELESS_SECURITY: Final = "802-11-wireless-security"
IEEE_8021X: Final = "802-1x"
WIRELESS_TYPE: Final = "802-11-wireless"
USER: Final = "user"
# The mark of a profile saved but not yet proven, in NetworkManager's `user` setting (since
# 1.8; its data keys need a dot). Such a profile never autoconnects: a run killed before the
# proof leaves nothing that NetworkManager would bring up by itself, and the next start knows it.
PENDING_KEY: Final = "wifi-connect.pending"
PENDING_VALUE: Final = "unproven"


def _security_settings(creds: Credentials) -> Settings:
    """The security settings for validated credentials (none for an open network)."""
    secret = creds.passphrase or ""
    kind = creds.security
    match kind:
        case SecurityKind.OPEN | SecurityKind.OWE_TRANSITION:
            # The open BSS of an OWE transition pair takes any client, even one without OWE.
            return {}
        case SecurityKind.OWE:
            return {WIRELESS_SECURITY: {"key-mgmt": "owe"}}
        case SecurityKind.WPA_PSK | SecurityKind.WPA_PSK_SAE:
            # For a WPA2/WPA3 transition network `wpa-psk` is what NetworkManager itself picks:
            # it also offers SAE when the driver can, and still joins on chips that cannot.
            return {WIRELESS_SECURITY: {"key-mgmt": "wpa-psk", "psk": secret}}
        case SecurityKind.SAE:
            return {WIRELESS_SECURITY: {"key-mgmt": "sae", "psk": secret}}
        case SecurityKind.WEP:
            return {
                WIRELESS_SECURITY: {
                    "key-mgmt": "none",
                    "auth-alg": "open",
                    "wep-key0": secret,
                    "wep-key-type": wep_key_type(secret),
                }
            }
        case SecurityKind.WPA_EAP:
            return {
                WIRELESS_SECURITY: {"key-mgmt": "wpa-eap"},
                IEEE_8021X: {
                    "eap": [creds.eap_method],
                    "identity": creds.identity or "",
                    "password": secret,
                    "phase2-auth": "mschapv2",
                },
            }
        case _:
            assert_never(kind)


def in_addr(address: IPv4Address) -> int:
    """An IPv4 address as ipv4.dns (`au`) carries it: in_addr_t, the uint32 whose bytes in memory
    are the address, read in this host's byte order (NetworkManager's host too)."""
    return int.from_bytes(address.packed, sys.byteorder)


def ipv4_setting(static: StaticIPv4 | None) -> dict[str, Any]:
    """The ipv4 setting: DHCP, or the static address, gateway and DNS servers (method manual)."""
    if static is None:
        return {"method": "auto"}
    return {
        "method": "manual",
        "address-data": [
            {"address": str(static.address.ip), "prefix": static.address.network.prefixlen}
        ],
        "gateway": str(static.gateway),
        "dns": [in_addr(server) for server in static.dns],
    }


def client_profile(
    creds: Credentials, *, uuid: str | None = None, connection_id: str | None = None
) -> Settings:
    """A new infrastructure-mode connection profile for `creds`, validated first."""
    check_credentials(creds)
    wireless: dict[str, Any] = {"ssid": bytes(creds.ssid), "mode": "infrastructure"}
    if creds.hidden:
        wireless["hidden"] = True
    settings: Settings = {
        CONNECTION: {
            "type": WIRELESS_TYPE,
            "id": connection_id or display_ssid(creds.ssid),
            "uuid": uuid or str(uuid4()),
            "autoconnect": True,
        },
        WIRELESS: wireless,
        "ipv4": ipv4_setting(creds.ipv4),
        "ipv6": {"method": "auto"},
    }
    settings.update(_security_settings(creds))
    return settings


def pending_profile(settings: Settings) -> Settings:
    """`settings` saved before the proof: autoconnect off and the pending mark in `user.data`."""
    marked = {name: dict(values) for name, values in settings.items()}
    marked[CONNECTION]["autoconnect"] = False
    user = marked.setdefault(USER, {})
    user["data"] = {**user.get("data", {}), PENDING_KEY: PENDING_VALUE}
    return marked


def finished_profile(settings: Settings) -> Settings:
    """A proven pending profile as an ordinary one: autoconnect on, the mark gone."""
    finished = {name: dict(values) for name, values in settings.items()}
    finished[CONNECTION]["autoconnect"] = True
    user = finished.get(USER)
    if user is not None:
        data = {k: v for k, v in user.get("data", {}).items() if k != PENDING_KEY}
        if data:
            user["data"] = data
        else:
            user.pop("data", None)
        if not user:
            del finished[USER]
    return finished


def is_pending(settings: Settings) -> bool:
    """Whether stored settings carry the pending mark."""
    data = settings.get(USER, {}).get("data")
    return isinstance(data, dict) and PENDING_KEY in data


def hotspot_profile(
    *,
    ssid: str,
    interface: str,
    gateway: IPv4Address,
    passphrase: str | None,
    band: str = "bg",
    channel: int | None = None,
    uuid: str | None = None,
) -> Settings:
    """The portal's access-point profile on `interface`; open when `passphrase` is empty."""
    wireless: dict[str, Any] = {"ssid": hotspot_ssid(ssid).encode(), "mode": "ap", "band": band}
    if channel is not None:
        # NetworkManager refuses a channel outside the band; say which, before it is asked.
        problem = channel_problem(band, channel)
        if problem is not None:
            raise ValidationError("channel", problem)
        wireless["channel"] = channel
    settings: Settings = {
        CONNECTION: {
            "type": WIRELESS_TYPE,
            "id": HOTSPOT_ID_PREFIX,
            "uuid": uuid or str(uuid4()),
            # Never brought up by NetworkManager on its own: only the portal run owns it.
            "autoconnect": False,
            "interface-name": interface,
        },
        WIRELESS: wireless,
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": str(gateway), "prefix": PORTAL_PREFIX_LENGTH}],
        },
        "ipv6": {"method": "ignore"},
    }
    if passphrase:
        check_psk(passphrase)
        # WPA2 with CCMP only: the one combination every phone supports in AP mode.
        settings[WIRELESS_SECURITY] = {
            "key-mgmt": "wpa-psk",
            "psk": passphrase,
            "proto": ["rsn"],
            "pairwise": ["ccmp"],
            "group": ["ccmp"],
        }
    return settings
