"""Plain-Python connection settings to D-Bus variants and back (a{sa{sv}})."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbus_next.signature import Variant

from app.nm.bus import unwrap
from app.nm.nm_settings import ROUTE_ATTRIBUTES, SETTINGS
from app.nm.profiles import Settings

_INTEGERS = frozenset("ynqiuxt")
_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "b": bool,
    "s": str,
    "ay": bytes,
    "a{ss}": dict,
}
_LIST_ELEMENTS: dict[str, type] = {"as": str, "aay": bytes, "aa{sv}": dict}


def _signature_of(value: Any) -> str:
    """The D-Bus signature of a value inside a dict entry (address-data's address, prefix)."""
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


def _entry_signature(key: str, value: Any) -> str:
    """The type of one field of an address-data or route-data entry (a route's tos is a byte)."""
    signature = ROUTE_ATTRIBUTES.get(key)
    return signature if signature is not None and _fits(signature, value) else _signature_of(value)


def _variant(signature: str, value: Any) -> Variant:
    if signature == "aa{sv}":
        # address-data, route-data, dns-data: each entry a dict of small variants.
        return Variant(
            signature,
            [
                {key: Variant(_entry_signature(key, item), item) for key, item in entry.items()}
                for entry in value
            ],
        )
    return Variant(signature, value)


def to_dbus(
    settings: Settings, known: Mapping[tuple[str, str], str] | None = None
) -> dict[str, dict[str, Variant]]:
    """Wrap every value of a settings dict in a Variant of NetworkManager's type for that key.

    The type is libnm's (app/nm/nm_settings.py). A key libnm does not know, or a value that is
    not of the key's type, is typed by its value, so that NetworkManager, not this function,
    names it in its refusal. `known` gives the types a running NetworkManager itself sent for
    settings read back from it (see signatures_of): they win, whatever its version.
    """
    known = known or {}
    return {
        setting: {
            key: _variant(known.get((setting, key)) or _key_signature(setting, key, value), value)
            for key, value in values.items()
        }
        for setting, values in settings.items()
    }


def signatures_of(settings: Mapping[str, Mapping[str, Variant]]) -> dict[tuple[str, str], str]:
    """The D-Bus type of every key of settings as NetworkManager sent them."""
    return {
        (setting, key): variant.signature
        for setting, values in settings.items()
        for key, variant in values.items()
    }


def _key_signature(setting: str, key: str, value: Any) -> str:
    signature = SETTINGS.get(setting, {}).get(key)
    if signature is not None and _fits(signature, value):
        return signature
    return _signature_of(value)


def _fits(signature: str, value: Any) -> bool:
    """True when `value` can go over D-Bus as `signature` (the types settings use)."""
    if signature in _INTEGERS:
        return isinstance(value, int) and not isinstance(value, bool)
    if signature.startswith("a") and signature[1:] in _INTEGERS:
        return isinstance(value, list) and all(_fits(signature[1:], item) for item in value)
    if signature in _PYTHON_TYPES:
        return isinstance(value, _PYTHON_TYPES[signature])
    element = _LIST_ELEMENTS.get(signature)
    if element is not None:
        return isinstance(value, list) and all(isinstance(item, element) for item in value)
    return True


def from_dbus(settings: Any) -> Settings:
    """Unwrap a{sa{sv}} as NetworkManager sends it into plain Python values."""
    result: Settings = unwrap(settings)
    if not isinstance(result, dict) or not all(isinstance(v, dict) for v in result.values()):
        raise ValueError("connection settings are not a{sa{sv}}")
    return result
