"""Pure builders of NetworkManager connection settings: a client profile and the hotspot profile."""

from __future__ import annotations

import string
import unicodedata
from ipaddress import IPv4Address
from typing import Any, Final, assert_never
from uuid import uuid4

from app.errors import ValidationError
from app.nm.const import HOTSPOT_ID_PREFIX
from app.nm.models import Credentials, SecurityKind, display_ssid

# Plain Python values only (app/nm/variants.py gives each key its D-Bus type), so this module
# and its callers never see dbus_next.
Settings = dict[str, dict[str, Any]]

CONNECTION: Final = "connection"
WIRELESS: Final = "802-11-wireless"
WIRELESS_SECURITY: Final = "802-11-wireless-security"
IEEE_8021X: Final = "802-1x"
WIRELESS_TYPE: Final = "802-11-wireless"

SSID_MAX_BYTES: Final = 32
PSK_MIN_CHARS: Final = 8
PSK_MAX_CHARS: Final = 63
PSK_HEX_CHARS: Final = 64
# NetworkManager 1.42 bounds neither an SAE nor an 802.1X password (a long SAE password goes to
# the supplicant as sae_password); this cap only keeps absurd input out.
PASSWORD_MAX_CHARS: Final = 128
WEP_ASCII_KEY_CHARS: Final = (5, 13)
WEP_HEX_KEY_CHARS: Final = (10, 26)
# The longest WEP passphrase NetworkManager accepts (wep-key-type 2).
WEP_PASSPHRASE_MAX_CHARS: Final = 64
# RFC 7542 caps a network access identifier (the 802.1X identity) at 253 octets.
IDENTITY_MAX_BYTES: Final = 253
EAP_METHODS: Final = ("peap", "ttls")
HOTSPOT_PREFIX_LENGTH: Final = 24

# NMWepKeyType: a literal key, or a passphrase NetworkManager hashes into a 104-bit key.
WEP_KEY_TYPE_KEY: Final = 1
WEP_KEY_TYPE_PASSPHRASE: Final = 2

_PRINTABLE_ASCII: Final = frozenset(chr(code) for code in range(0x20, 0x7F))
_HEX_DIGITS: Final = frozenset(string.hexdigits)
# Line breaks, tabs and other controls cannot be typed on a phone and mean a paste went wrong;
# lone surrogates (from undecodable command-line bytes) cannot even be sent over D-Bus.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cs"})

# Error messages never quote the secret: they are shown on pages and may end up in logs.
_ASCII_ONLY: Final = (
    "can only use the letters A-Z and a-z, digits, spaces and keyboard symbols "
    "(no accented letters, emoji or line breaks)"
)


def _is_printable_ascii(text: str) -> bool:
    """True when every character is printable ASCII (space to tilde)."""
    return all(char in _PRINTABLE_ASCII for char in text)


def _is_hex(text: str) -> bool:
    """True when every character is a hexadecimal digit."""
    return all(char in _HEX_DIGITS for char in text)


def _has_forbidden_character(text: str) -> bool:
    """True when the text holds a control character or a lone surrogate."""
    return any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text)


def _check_ssid(ssid: bytes) -> None:
    """Enforce 802.11's SSID rule: 1 to 32 bytes."""
    if not ssid:
        raise ValidationError("ssid", "Enter the network name: it cannot be empty.")
    if len(ssid) > SSID_MAX_BYTES:
        raise ValidationError(
            "ssid",
            f"The network name is too long: WiFi allows at most {SSID_MAX_BYTES} bytes, "
            "and letters such as é or emoji take 2 to 4 bytes each.",
        )


def _check_psk(psk: str) -> None:
    """Enforce the WPA-PSK rule: 8 to 63 printable ASCII characters, or a 64-hex-digit key."""
    if not _is_printable_ascii(psk):
        raise ValidationError("passphrase", f"A WPA password {_ASCII_ONLY}.")
    if len(psk) == PSK_HEX_CHARS:
        if not _is_hex(psk):
            raise ValidationError(
                "passphrase",
                f"A {PSK_HEX_CHARS}-character password must be a hex key (only 0-9 and a-f); "
                f"a normal password has {PSK_MIN_CHARS} to {PSK_MAX_CHARS} characters.",
            )
        return
    if len(psk) < PSK_MIN_CHARS:
        raise ValidationError(
            "passphrase",
            f"The password is too short: a WPA password has {PSK_MIN_CHARS} to "
            f"{PSK_MAX_CHARS} characters.",
        )
    if len(psk) > PSK_MAX_CHARS:
        raise ValidationError(
            "passphrase",
            f"The password is too long: a WPA password has {PSK_MIN_CHARS} to "
            f"{PSK_MAX_CHARS} characters (or is a key of exactly {PSK_HEX_CHARS} hex digits).",
        )


def _check_password(password: str) -> None:
    """Enforce the rule for free-form passwords (WPA3 SAE, 802.1X): bounded, no controls."""
    if len(password) > PASSWORD_MAX_CHARS:
        raise ValidationError(
            "passphrase",
            f"The password is too long: at most {PASSWORD_MAX_CHARS} characters.",
        )
    if _has_forbidden_character(password):
        raise ValidationError(
            "passphrase",
            "The password contains a line break or another control character, "
            "which a WiFi password cannot hold.",
        )


def _check_wep_key(key: str) -> None:
    """Enforce the WEP rule: printable ASCII, at most 64 characters (longer is no WEP key)."""
    # Lengths other than the literal-key ones (5/13 characters, 10/26 hex digits) are taken as a
    # WEP passphrase, which NetworkManager hashes: some routers derive their key that way, and a
    # mistyped key then fails as a wrong password instead of locking those networks out.
    if not _is_printable_ascii(key):
        raise ValidationError("passphrase", f"A WEP key {_ASCII_ONLY}.")
    if len(key) > WEP_PASSPHRASE_MAX_CHARS:
        raise ValidationError(
            "passphrase",
            f"The WEP key is too long: a WEP key has 5 or 13 characters, or 10 or 26 hex "
            f"digits, and a WEP passphrase at most {WEP_PASSPHRASE_MAX_CHARS} characters.",
        )


def _check_identity(identity: str) -> None:
    """Enforce the 802.1X identity rule: no control characters, at most 253 bytes."""
    if _has_forbidden_character(identity):
        raise ValidationError(
            "identity", "The user name contains a line break or another control character."
        )
    if len(identity.encode("utf-8")) > IDENTITY_MAX_BYTES:
        raise ValidationError(
            "identity", f"The user name is too long: at most {IDENTITY_MAX_BYTES} bytes."
        )


def _check_eap_method(eap_method: str) -> None:
    """Enforce the supported 802.1X methods: PEAP or TTLS, each with MSCHAPv2 inside."""
    if eap_method not in EAP_METHODS:
        raise ValidationError(
            "security", "This enterprise network type is not supported: only PEAP and TTLS are."
        )


def _wep_key_type(key: str) -> int:
    """1 when the key is a literal WEP key (5/13 ASCII or 10/26 hex), else 2 (a passphrase)."""
    if len(key) in WEP_ASCII_KEY_CHARS:
        return WEP_KEY_TYPE_KEY
    if len(key) in WEP_HEX_KEY_CHARS and _is_hex(key):
        return WEP_KEY_TYPE_KEY
    return WEP_KEY_TYPE_PASSPHRASE


def validate_credentials(creds: Credentials) -> None:
    """Raise ValidationError naming the first field of `creds` that breaks its network's rules."""
    if not isinstance(creds.security, SecurityKind):
        raise ValidationError("security", "Unknown network security type.")
    _check_ssid(creds.ssid)
    # An empty string means "not given", as balena's UI always sends every field.
    passphrase = creds.passphrase or None
    identity = creds.identity or None
    kind = creds.security

    if kind.needs_identity:
        _check_eap_method(creds.eap_method)
        if identity is None:
            raise ValidationError("identity", "This network needs your user name (identity).")
        _check_identity(identity)
    elif identity is not None:
        raise ValidationError("identity", "This network does not use a user name: leave it empty.")

    if not kind.needs_passphrase:
        if passphrase is not None:
            raise ValidationError(
                "passphrase", "This network is open and needs no password: leave it empty."
            )
        return
    if passphrase is None:
        what = "its WEP key" if kind is SecurityKind.WEP else "a password"
        raise ValidationError("passphrase", f"This network needs {what}.")
    if kind in (SecurityKind.WPA_PSK, SecurityKind.WPA_PSK_SAE):
        _check_psk(passphrase)
    elif kind is SecurityKind.WEP:
        _check_wep_key(passphrase)
    else:
        _check_password(passphrase)


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
                    "wep-key-type": _wep_key_type(secret),
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


def client_profile(
    creds: Credentials, *, uuid: str | None = None, connection_id: str | None = None
) -> Settings:
    """A new infrastructure-mode connection profile for `creds`, validated first."""
    validate_credentials(creds)
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
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto"},
    }
    settings.update(_security_settings(creds))
    return settings


def _encode_ssid(ssid: str) -> bytes:
    """The UTF-8 bytes of a textual SSID, checked against the SSID rule."""
    try:
        raw = ssid.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "ssid", "The network name holds bytes that are not valid text (UTF-8)."
        ) from None
    _check_ssid(raw)
    return raw


def hotspot_profile(
    *,
    ssid: str,
    interface: str,
    gateway: IPv4Address,
    passphrase: str | None,
    uuid: str | None = None,
) -> Settings:
    """The portal's access-point profile on `interface`; open when `passphrase` is empty."""
    settings: Settings = {
        CONNECTION: {
            "type": WIRELESS_TYPE,
            "id": HOTSPOT_ID_PREFIX,
            "uuid": uuid or str(uuid4()),
            # Never brought up by NetworkManager on its own: only the portal run owns it.
            "autoconnect": False,
            "interface-name": interface,
        },
        WIRELESS: {"ssid": _encode_ssid(ssid), "mode": "ap", "band": "bg"},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": str(gateway), "prefix": HOTSPOT_PREFIX_LENGTH}],
        },
        "ipv6": {"method": "ignore"},
    }
    if passphrase:
        _check_psk(passphrase)
        # WPA2 with CCMP only: the one combination every phone supports in AP mode.
        settings[WIRELESS_SECURITY] = {
            "key-mgmt": "wpa-psk",
            "psk": passphrase,
            "proto": ["rsn"],
            "pairwise": ["ccmp"],
            "group": ["ccmp"],
        }
    return settings


def is_hotspot_profile(settings: Settings) -> bool:
    """True for an access-point profile this app created (hotspot id prefix and mode ap)."""
    connection = settings.get(CONNECTION) or {}
    wireless = settings.get(WIRELESS) or {}
    connection_id = connection.get("id")
    return (
        isinstance(connection_id, str)
        and connection_id.startswith(HOTSPOT_ID_PREFIX)
        and wireless.get("mode") == "ap"
    )
