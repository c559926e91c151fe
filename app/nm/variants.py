"""Plain-Python connection settings to D-Bus variants and back (a{sa{sv}})."""

from __future__ import annotations

from typing import Any

from dbus_next.signature import Variant

from app.nm.bus import unwrap
from app.nm.profiles import Settings

# Keys whose D-Bus type cannot be told from the Python value: an int is `u` unless listed here.
_SIGNATURES: dict[tuple[str, str], str] = {
    ("connection", "autoconnect-priority"): "i",
    ("connection", "autoconnect-retries"): "i",
    ("connection", "auth-retries"): "i",
    ("802-11-wireless-security", "wep-tx-keyidx"): "u",
    ("802-11-wireless-security", "wep-key-type"): "u",
    ("802-11-wireless-security", "pmf"): "i",
    ("802-11-wireless", "powersave"): "u",
    ("ipv4", "route-metric"): "x",
    ("ipv6", "route-metric"): "x",
    ("ipv4", "dns-priority"): "i",
    ("ipv6", "dns-priority"): "i",
    ("ipv4", "dns"): "au",
    ("ipv6", "addr-gen-mode"): "i",
    # -1 is a valid ip6-privacy; sent as `u`, NM accepts the profile and silently drops the key.
    ("ipv6", "ip6-privacy"): "i",
    ("ipv4", "may-fail"): "b",
}


def _signature_of(value: Any) -> str:
    """The D-Bus signature for a plain value; lists must be non-empty or of a known key."""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "u"
    if isinstance(value, str):
        return "s"
    if isinstance(value, bytes):
        return "ay"
    if isinstance(value, list):
        if not value or all(isinstance(item, str) for item in value):
            return "as"
        if all(isinstance(item, dict) for item in value):
            return "aa{sv}"
        if all(isinstance(item, bytes) for item in value):
            return "aay"
        if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return "au"
    raise TypeError(f"no D-Bus type for {type(value).__name__} value")


def _variant(signature: str, value: Any) -> Variant:
    if signature == "aa{sv}":
        # address-data, route-data, dns-data: each entry a dict of small variants.
        return Variant(
            signature,
            [
                {key: Variant(_signature_of(item), item) for key, item in entry.items()}
                for entry in value
            ],
        )
    return Variant(signature, value)


def to_dbus(settings: Settings) -> dict[str, dict[str, Variant]]:
    """Wrap every value of a settings dict in a Variant of NetworkManager's type for that key."""
    return {
        setting: {
            key: _variant(_SIGNATURES.get((setting, key)) or _signature_of(value), value)
            for key, value in values.items()
        }
        for setting, values in settings.items()
    }


def from_dbus(settings: Any) -> Settings:
    """Unwrap a{sa{sv}} as NetworkManager sends it into plain Python values."""
    result: Settings = unwrap(settings)
    if not isinstance(result, dict) or not all(isinstance(v, dict) for v in result.values()):
        raise ValueError("connection settings are not a{sa{sv}}")
    return result
