"""Pure reader of NetworkManager keyfiles (a system-connections/ directory) into Settings."""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any, Final

from app.errors import ValidationError
from app.nm.profiles import (
    CONNECTION,
    IEEE_8021X,
    WIRELESS,
    WIRELESS_SECURITY,
    WIRELESS_TYPE,
    Settings,
)
from app.rules import (
    IDENTITY_MAX_BYTES,
    WEP_KEY_TYPE_KEY,
    WEP_KEY_TYPE_PASSPHRASE,
    check_credentials,
    check_interface_name,
    display_ssid,
    has_control_character,
    is_literal_wep_key,
)
from app.wifi import Credentials, SecurityKind

# Policy: only the keys below are read, each checked and typed as NetworkManager types it over
# D-Bus; any other section or key is refused with its name. Passing unknown keys through as
# strings would hand NetworkManager wrongly typed values (refused as a whole, or worse, taken
# with another meaning), so an installer learns at import time, not at boot, what to remove.

ETHERNET: Final = "802-3-ethernet"
ETHERNET_TYPE: Final = "802-3-ethernet"
IPV4: Final = "ipv4"
IPV6: Final = "ipv6"
PROXY: Final = "proxy"

# Real keyfiles are under 2 KiB; a boot partition may hold anything, which is not slurped.
MAX_KEYFILE_BYTES: Final = 64 * 1024
# balenaOS's convention for sample files on the boot partition that must not be applied.
IGNORE_SUFFIX: Final = ".ignore"
NMCONNECTION_SUFFIX: Final = ".nmconnection"
# Besides *.ignore, what NetworkManager itself never loads from its directory: hidden files
# (also macOS's ._* litter on FAT partitions), editor backups, and 802.1X certificates.
_SKIPPED_PREFIXES: Final = (".",)
_SKIPPED_SUFFIXES: Final = (IGNORE_SUFFIX, "~", ".pem", ".der")

# Seeds the UUID of a keyfile that has none, so re-importing a file gives the same UUID and the
# caller can tell an update from a new profile instead of piling up duplicates.
_UUID_NAMESPACE: Final = uuid.UUID("6e94595b-c7e6-4795-bd49-301c9acfd396")

_SECTION_ALIASES: Final = {
    "wifi": WIRELESS,
    "wifi-security": WIRELESS_SECURITY,
    "ethernet": ETHERNET,
}
_KNOWN_SECTIONS: Final = frozenset(
    {CONNECTION, WIRELESS, WIRELESS_SECURITY, IEEE_8021X, ETHERNET, IPV4, IPV6, PROXY}
)
_TYPES: Final = {
    "wifi": WIRELESS_TYPE,
    WIRELESS_TYPE: WIRELESS_TYPE,
    "ethernet": ETHERNET_TYPE,
    ETHERNET_TYPE: ETHERNET_TYPE,
}
_CONNECTION_KEYS: Final = (
    "id",
    "uuid",
    "type",
    "autoconnect",
    "autoconnect-priority",
    "interface-name",
    "permissions",
    "secondaries",
    "timestamp",
)
_WIRELESS_KEYS: Final = (
    "ssid",
    "mode",
    "hidden",
    "mac-address",
    "mac-address-blacklist",
    "seen-bssids",
    "security",
)
_SECURITY_KEYS: Final = (
    "key-mgmt",
    "auth-alg",
    "psk",
    "psk-flags",
    "wep-key0",
    "wep-key-flags",
    "wep-key-type",
    "proto",
    "pairwise",
    "group",
    "pmf",
)
_EAP_KEYS: Final = (
    "eap",
    "identity",
    "anonymous-identity",
    "password",
    "password-flags",
    "phase2-auth",
)
_ETHERNET_KEYS: Final = ("mac-address", "mac-address-blacklist", "mtu")
_IP_KEYS: Final = (
    "method",
    "address1",
    "gateway",
    "dns",
    "dns-search",
    "may-fail",
    "ignore-auto-dns",
    "ignore-auto-routes",
    "never-default",
    "route-metric",
    "dns-priority",
)
_IPV6_KEYS: Final = (*_IP_KEYS, "addr-gen-mode", "ip6-privacy")

_KEY_MGMT: Final = {
    "none": SecurityKind.WEP,
    "wpa-psk": SecurityKind.WPA_PSK,
    "sae": SecurityKind.SAE,
    "owe": SecurityKind.OWE,
    "wpa-eap": SecurityKind.WPA_EAP,
}
# The secret of each kind that has one, then its flags key, then keys that only go with it.
_SECRET_KEYS: Final[dict[SecurityKind, tuple[str, ...]]] = {
    SecurityKind.WEP: ("wep-key0", "wep-key-flags", "wep-key-type"),
    SecurityKind.WPA_PSK: ("psk", "psk-flags"),
    SecurityKind.SAE: ("psk", "psk-flags"),
}
_PROTOS: Final = frozenset({"wpa", "rsn"})
_PAIRWISE: Final = frozenset({"tkip", "ccmp"})
_GROUP: Final = frozenset({"wep40", "wep104", "tkip", "ccmp"})
_PHASE2_AUTH: Final = "mschapv2"
_IPV4_METHODS: Final = ("auto", "manual", "link-local", "disabled")
_IPV6_METHODS: Final = ("auto", "dhcp", "manual", "link-local", "ignore", "disabled")
# Methods under which NetworkManager refuses static addresses, DNS servers and search domains.
_NO_ADDRESS_METHODS: Final = frozenset({"link-local", "disabled", "ignore"})
# NMSettingIP6ConfigAddrGenMode, sent over D-Bus as int32.
_ADDR_GEN_MODES: Final = {"eui64": 0, "stable-privacy": 1, "default-or-eui64": 2, "default": 3}
# NetworkManager's keyfile reader takes a missing addr-gen-mode in an [ipv6] section as this one
# (not D-Bus's default), so that its meaning never changes under an upgrade.
_KEYFILE_ADDR_GEN_MODE: Final = _ADDR_GEN_MODES["default-or-eui64"]
_AUTOCONNECT_PRIORITY: Final = (-999, 999)
_UINT32_MAX: Final = 2**32 - 1
_INT32: Final = (-(2**31), 2**31 - 1)

# GLib's key file escapes; `\;` is only meaningful inside lists (and NetworkManager's SSIDs).
_ESCAPES: Final = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
# g_ascii_isspace: what GLib trims around keys and values.
_SPACE: Final = " \t\n\v\f\r"
_INTEGER: Final = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_ADDRESS_KEY: Final = re.compile(r"(address|addresses)(0|[1-9][0-9]*)?")
# NetworkManager treats `/`, `,` and `;` alike between the fields of an address.
_ADDRESS_FIELDS: Final = re.compile(r"[/,;]")
_MAC_TEXT: Final = re.compile(r"[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}")
_MAC_BYTES: Final = 6
# An SSID in NetworkManager's byte-list form: 1-3 digit numbers, each followed by `;`.
_SSID_BYTE_LIST: Final = re.compile(r"(?:[ \t\n\v\f\r]*[0-9]{1,3}[ \t\n\v\f\r]*;)+[ \t\n\v\f\r]*")


class KeyfileError(ValidationError):
    """A keyfile broke a rule; `field` is the place ("[wifi-security] psk", "line 3")."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(where, f"{where}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class ImportResult:
    """One file of an imported directory: its settings, or why it was refused, or skipped."""

    filename: str
    # Holds the secrets of the file, so it stays out of repr (and so out of logs).
    settings: Settings | None = field(default=None, repr=False)
    error: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True when the file gave settings ready for Settings.AddConnection."""
        return self.settings is not None


@dataclass(frozen=True)
class _Value:
    """One key=value line as read: where it is, and its raw text (possibly a secret)."""

    section: str
    key: str
    # Never put into a message: it may be a password.
    raw: str = field(repr=False)

    @property
    def where(self) -> str:
        """The place as the file names it, e.g. [wifi-security] psk."""
        return f"[{self.section}] {self.key}"

    def error(self, reason: str) -> KeyfileError:
        """An error naming this key."""
        return KeyfileError(self.where, reason)


@dataclass(frozen=True)
class _Section:
    """One [section] of the file: its spelling in the file and its keys in file order."""

    name: str
    values: dict[str, _Value]

    def get(self, key: str) -> _Value | None:
        """The value of `key`, or None when the file does not set it."""
        return self.values.get(key)

    def error(self, reason: str) -> KeyfileError:
        """An error naming this section."""
        return KeyfileError(f"[{self.name}]", reason)

    def place(self, key: str) -> str:
        """How a message names `key` of this section, set or not."""
        return f"[{self.name}] {key}"


# ---------------------------------------------------------------------------------------------
# The file: GLib's key file syntax, as NetworkManager loads it.


def _read_sections(text: str) -> dict[str, _Section]:
    """The file's sections by setting name (aliases resolved); syntax errors name the line."""
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    # GLib drops the \r of a \r\n line end, so a file saved on Windows reads the same.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r").lstrip(_SPACE)
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = _start_section(line, number, sections)
            continue
        key, equals, raw = line.partition("=")
        key = key.rstrip(_SPACE)
        if not equals or not key:
            raise KeyfileError(f"line {number}", "is neither [section], key=value nor a # comment")
        if current is None:
            raise KeyfileError(f"line {number}", "a key=value line comes before any [section]")
        if "[" in key or "]" in key:
            raise KeyfileError(f"line {number}", "translated keys (key[locale]=) are not used")
        if key in current.values:
            # GLib would keep the last one silently; two psk lines are a mistake to point out.
            raise KeyfileError(current.place(key), "is set twice")
        # GLib trims the space after `=` but keeps trailing space, which a password may hold.
        current.values[key] = _Value(current.name, key, raw.lstrip(_SPACE))
    return sections


def _start_section(line: str, number: int, sections: dict[str, _Section]) -> _Section:
    """Open the [section] of a header line, refusing unknown and repeated sections."""
    header = line.rstrip(" \t")
    name = header[1:-1]
    if not header.endswith("]") or not name or any(ch in "[]" for ch in name):
        raise KeyfileError(f"line {number}", "is not a valid [section] header")
    if has_control_character(name):
        raise KeyfileError(f"line {number}", "the section name holds a control character")
    setting = _SECTION_ALIASES.get(name, name)
    if setting not in _KNOWN_SECTIONS:
        raise KeyfileError(
            f"[{name}]",
            "this section is not supported; a keyfile here may hold [connection], [wifi], "
            "[wifi-security], [802-1x], [ethernet], [ipv4], [ipv6] and an empty [proxy]",
        )
    if setting in sections:
        raise KeyfileError(
            f"[{name}]", f"the section appears twice (also as [{sections[setting].name}])"
        )
    section = _Section(name, {})
    sections[setting] = section
    return section


def _unescape(value: _Value, *, in_list: bool, ssid: bool = False) -> list[str]:
    """GLib's reading of a value: escapes decoded, and a list split at each unescaped `;`."""
    items: list[str] = []
    current: list[str] = []
    raw = value.raw
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == ";" and in_list:
            items.append("".join(current))
            current = []
        elif char != "\\":
            current.append(char)
        elif index + 1 == len(raw):
            raise value.error("the value ends in a lone backslash (write \\\\ for one)")
        else:
            index += 1
            escaped = raw[index]
            if escaped in _ESCAPES:
                current.append(_ESCAPES[escaped])
            elif escaped == ";" and in_list:
                current.append(";")
            elif escaped == ";" and ssid:
                # Kept for NetworkManager's own SSID unescaping, done after its byte-list test.
                current.append("\\;")
            else:
                # GLib refuses it and NetworkManager then drops the key: say so, at import.
                raise value.error(
                    "the value holds an escape sequence GLib does not know "
                    "(known: \\s \\n \\t \\r \\\\, and \\; in lists)"
                )
        index += 1
    # GLib's lists end with an optional `;`: "a;b;" and "a;b" are both [a, b].
    if current or not in_list:
        items.append("".join(current))
    return items


def _secret(value: _Value) -> str:
    """A secret string, unescaped; its rules are the credential rules of app.rules."""
    return _unescape(value, in_list=False)[0]


def _text(value: _Value) -> str:
    """A plain string setting: unescaped, with no control characters."""
    text = _unescape(value, in_list=False)[0]
    _refuse_controls(value, text)
    return text


def _items(value: _Value) -> list[str]:
    """A `;`-separated list setting, unescaped, with no control characters."""
    items = _unescape(value, in_list=True)
    for item in items:
        _refuse_controls(value, item)
    return items


def _refuse_controls(value: _Value, text: str) -> None:
    """Refuse tabs, line breaks and other controls: in a setting they are a broken paste."""
    if has_control_character(text):
        raise value.error("holds a control character (such as \\t or \\n)")


def _boolean(value: _Value) -> bool:
    """GLib's boolean: true or 1, false or 0 (trailing space ignored)."""
    word = value.raw.rstrip(_SPACE)
    if word in ("true", "1"):
        return True
    if word in ("false", "0"):
        return False
    raise value.error("must be true or false")


def _integer(value: _Value, low: int, high: int) -> int:
    """A decimal integer in [low, high]."""
    # NetworkManager reads numbers with strtol's base 0, where 010 means 8: refuse the doubt.
    word = value.raw.strip(_SPACE)
    if not _INTEGER.fullmatch(word):
        raise value.error("must be a whole number in decimal, without leading zeros")
    number = int(word)
    if not low <= number <= high:
        raise value.error(f"must be between {low} and {high}")
    return number


def _choice(value: _Value, choices: Collection[str]) -> str:
    """A value from a fixed set of words."""
    word = _text(value)
    if word not in choices:
        # NetworkManager keeps trailing spaces too, and then refuses the word.
        hint = "; remove the spaces after it" if word.rstrip(_SPACE) in choices else ""
        raise value.error(f"must be one of: {', '.join(choices)}{hint}")
    return word


def _check_keys(section: _Section, allowed: Collection[str]) -> None:
    """Refuse any key of `section` outside `allowed`, naming the keys this importer reads."""
    for key, value in section.values.items():
        if key in allowed or (_ADDRESS_KEY.fullmatch(key) and "address1" in allowed):
            continue
        if not allowed:
            raise value.error(f"is not imported: leave [{section.name}] empty")
        shown = ", ".join(
            "address1..N" if name == "address1" else name
            for name in allowed
            if name not in _BOOKKEEPING_KEYS
        )
        raise value.error(f"is not supported; [{section.name}] may set: {shown}")


def _empty(value: _Value) -> bool:
    """True for `key=` with nothing after it, which NetworkManager writes for empty lists."""
    return not value.raw.strip(_SPACE)


def _zero_flags(value: _Value | None) -> None:
    """Require secret flags of 0: the secret is in the file, as no secret agent runs here."""
    if value is not None and _integer(value, 0, 7) != 0:
        raise value.error(
            "must be 0: the secret has to be stored in this file, "
            "as no agent on this device can ask for it"
        )


# Keys NetworkManager writes for its own bookkeeping or as empty defaults: checked, then dropped.
_BOOKKEEPING_KEYS: Final = frozenset(
    {"permissions", "secondaries", "timestamp", "seen-bssids", "security"}
)


# ---------------------------------------------------------------------------------------------
# The settings.


def parse_keyfile(text: str, *, filename: str | None = None) -> Settings:
    """Settings for Settings.AddConnection from a keyfile's text; KeyfileError names a bad key."""
    sections = _read_sections(text.removeprefix("\ufeff"))
    connection = sections.get(CONNECTION) or _Section(CONNECTION, {})
    _check_keys(connection, _CONNECTION_KEYS)
    connection_type = _connection_type(connection, sections)

    settings: Settings = {}
    ssid: bytes | None = None
    if connection_type == WIRELESS_TYPE:
        if ETHERNET in sections:
            raise sections[ETHERNET].error("is not used by a wifi connection")
        wireless, ssid = _wireless(sections.get(WIRELESS))
        settings[WIRELESS] = wireless
        settings.update(
            _security(
                ssid,
                bool(wireless.get("hidden")),
                wireless_name=sections[WIRELESS].name,
                security=sections.get(WIRELESS_SECURITY),
                eap=sections.get(IEEE_8021X),
            )
        )
    else:
        for setting in (WIRELESS, WIRELESS_SECURITY, IEEE_8021X):
            if setting in sections:
                raise sections[setting].error("is not used by an ethernet connection")
        settings[ETHERNET] = _ethernet(sections.get(ETHERNET))

    proxy = sections.get(PROXY)
    if proxy is not None:
        # NetworkManager writes an empty [proxy]; proxy settings themselves are not imported.
        _check_keys(proxy, ())

    settings[IPV4] = _ip(sections.get(IPV4), version=4)
    settings[IPV6] = _ip(sections.get(IPV6), version=6)
    settings[CONNECTION] = _connection(connection, connection_type, filename, ssid)
    return settings


def _connection_type(connection: _Section, sections: dict[str, _Section]) -> str:
    """The connection type, from [connection] type or else from the sections present."""
    value = connection.get("type")
    if value is not None:
        word = _text(value)
        if word not in _TYPES:
            raise value.error("only wifi (802-11-wireless) and ethernet connections are imported")
        return _TYPES[word]
    # NetworkManager too guesses a missing type from the type-specific section.
    if WIRELESS in sections:
        return WIRELESS_TYPE
    if ETHERNET in sections:
        return ETHERNET_TYPE
    raise KeyfileError(connection.place("type"), "missing: set type=wifi or type=ethernet")


def _connection(
    section: _Section, connection_type: str, filename: str | None, ssid: bytes | None
) -> dict[str, Any]:
    """The [connection] setting: id and uuid (filled in when missing), type, autoconnect."""
    connection_id = _optional_text(section.get("id"))
    base = Path(filename).name if filename else None
    if connection_id is None and base:
        # NetworkManager's own fallback: the file name without .nmconnection.
        connection_id = base.removesuffix(NMCONNECTION_SUFFIX) or base
    if connection_id is None and ssid is not None:
        connection_id = display_ssid(ssid)
    if connection_id is None:
        raise KeyfileError(section.place("id"), "missing")

    uuid_value = section.get("uuid")
    if uuid_value is not None and not _empty(uuid_value):
        try:
            connection_uuid = str(uuid.UUID(_text(uuid_value)))
        except ValueError:
            raise uuid_value.error(
                "is not a UUID (like 6e94595b-c7e6-4795-bd49-301c9acfd396)"
            ) from None
    else:
        connection_uuid = str(uuid.uuid5(_UUID_NAMESPACE, base or connection_id))

    result: dict[str, Any] = {
        "type": connection_type,
        "id": connection_id,
        "uuid": connection_uuid,
        "autoconnect": _optional(section.get("autoconnect"), _boolean, default=True),
    }
    priority = section.get("autoconnect-priority")
    if priority is not None:
        result["autoconnect-priority"] = _integer(priority, *_AUTOCONNECT_PRIORITY)
    interface = section.get("interface-name")
    if interface is not None and not _empty(interface):
        try:
            result["interface-name"] = check_interface_name(_text(interface))
        except ValidationError:
            raise interface.error(
                "is not a network interface name (1 to 15 characters, no / : or spaces)"
            ) from None
    for key in ("permissions", "secondaries"):
        value = section.get(key)
        if value is not None and not _empty(value):
            raise value.error("is not supported: leave it empty")
    timestamp = section.get("timestamp")
    if timestamp is not None:
        # NetworkManager's record of the last activation: checked, then left to NetworkManager.
        _integer(timestamp, 0, 2**64 - 1)
    return result


def _optional_text(value: _Value | None) -> str | None:
    """A string setting, or None when absent or empty."""
    if value is None:
        return None
    return _text(value) or None


def _optional(value: _Value | None, read: Callable[[_Value], Any], *, default: Any) -> Any:
    """`read(value)`, or `default` when the key is absent."""
    return default if value is None else read(value)


def _wireless(section: _Section | None) -> tuple[dict[str, Any], bytes]:
    """The [wifi] setting and its SSID; only client (infrastructure) profiles are imported."""
    if section is None:
        raise KeyfileError("[wifi] ssid", "missing: a wifi connection needs a [wifi] section")
    _check_keys(section, _WIRELESS_KEYS)
    ssid_value = section.get("ssid")
    if ssid_value is None:
        raise KeyfileError(section.place("ssid"), "missing")
    ssid = _ssid(ssid_value)

    mode = section.get("mode")
    if mode is not None and _text(mode) != "infrastructure":
        # An access-point or ad-hoc profile would take the radio at boot, away from the portal.
        raise mode.error("only infrastructure (client) profiles are imported")
    result: dict[str, Any] = {"ssid": ssid, "mode": "infrastructure"}
    if _optional(section.get("hidden"), _boolean, default=False):
        result["hidden"] = True
    result.update(_mac_keys(section))
    # seen-bssids is NetworkManager's own record, and `security` the obsolete pointer to
    # [wifi-security]: both are read over and dropped.
    return result, ssid


def _mac_keys(section: _Section) -> dict[str, Any]:
    """The hardware-address keys [wifi] and [ethernet] share, where set and not empty."""
    result: dict[str, Any] = {}
    mac = section.get("mac-address")
    if mac is not None and not _empty(mac):
        result["mac-address"] = _mac_address(mac)
    blacklist = section.get("mac-address-blacklist")
    if blacklist is not None and not _empty(blacklist):
        result["mac-address-blacklist"] = _mac_list(blacklist)
    return result


def _ssid(value: _Value) -> bytes:
    """An SSID: text (UTF-8), or NetworkManager's byte list such as 72;111;109;101;."""
    text = _unescape(value, in_list=False, ssid=True)[0]
    # The same test as NetworkManager's reader: only digits, spaces and `;`, each number ends
    # in `;`. So "65;66;" is the bytes AB, while "65;66" is the five characters 6 5 ; 6 6.
    if _SSID_BYTE_LIST.fullmatch(text):
        numbers = [int(item) for item in text.split(";") if item.strip(_SPACE)]
        if all(number <= 0xFF for number in numbers):
            return bytes(numbers)
    return text.replace("\\;", ";").encode("utf-8")


def _mac_address(value: _Value) -> bytes:
    """A MAC address: aa:bb:cc:dd:ee:ff (or with -), or the obsolete list of 6 byte values."""
    text = _text(value).strip()
    if _MAC_TEXT.fullmatch(text):
        return bytes.fromhex(re.sub("[:-]", "", text))
    items = [item.strip() for item in text.split(";")]
    if items and items[-1] == "":
        items.pop()
    if len(items) == _MAC_BYTES and all(
        item.isdigit() and item.isascii() and int(item) <= 0xFF for item in items
    ):
        return bytes(int(item) for item in items)
    raise value.error("is not a MAC address (like 00:22:68:12:79:a2)")


def _mac_list(value: _Value) -> list[str]:
    """A list of MAC addresses, normalised to upper-case colon form."""
    result: list[str] = []
    for item in _items(value):
        if not _MAC_TEXT.fullmatch(item.strip()):
            raise value.error("holds an entry that is not a MAC address (like 00:22:68:12:79:a2)")
        raw = bytes.fromhex(re.sub("[:-]", "", item.strip()))
        result.append(":".join(f"{byte:02X}" for byte in raw))
    return result


def _security(
    ssid: bytes,
    hidden: bool,
    *,
    wireless_name: str,
    security: _Section | None,
    eap: _Section | None,
) -> Settings:
    """The security settings, with the credentials checked by the rules of app.rules."""
    places = {"ssid": f"[{wireless_name}] ssid"}
    if security is None:
        if eap is not None:
            raise eap.error("needs a [wifi-security] section with key-mgmt=wpa-eap")
        _validate(Credentials(ssid=ssid, security=SecurityKind.OPEN, hidden=hidden), places)
        return {}
    _check_keys(security, _SECURITY_KEYS)
    key_mgmt_value = security.get("key-mgmt")
    if key_mgmt_value is None:
        raise KeyfileError(security.place("key-mgmt"), "missing")
    key_mgmt = _choice(key_mgmt_value, tuple(_KEY_MGMT))
    kind = _KEY_MGMT[key_mgmt]
    result: dict[str, Any] = {"key-mgmt": key_mgmt}

    own_keys = _SECRET_KEYS.get(kind, ())
    for key in ("psk", "psk-flags", "wep-key0", "wep-key-flags", "wep-key-type"):
        value = security.get(key)
        if value is not None and key not in own_keys:
            raise value.error(f"is not used with key-mgmt={key_mgmt}")
    secret_key = own_keys[0] if own_keys else None
    if own_keys:
        _zero_flags(security.get(own_keys[1]))

    auth_alg = security.get("auth-alg")
    if auth_alg is not None:
        allowed = ("open", "shared") if kind is SecurityKind.WEP else ("open",)
        result["auth-alg"] = _choice(auth_alg, allowed)
    for key, choices in (("proto", _PROTOS), ("pairwise", _PAIRWISE), ("group", _GROUP)):
        value = security.get(key)
        if value is not None and not _empty(value):
            result[key] = _word_list(value, choices)
    pmf = security.get("pmf")
    if pmf is not None:
        result["pmf"] = _integer(pmf, 0, 3)

    passphrase: str | None = None
    identity: str | None = None
    eap_method = "peap"
    eap_settings: Settings = {}
    if secret_key is not None:
        places["passphrase"] = security.place(secret_key)
        secret_value = security.get(secret_key)
        passphrase = _secret(secret_value) if secret_value is not None else None
    if kind is SecurityKind.WPA_EAP:
        if eap is None:
            raise KeyfileError(
                "[802-1x] eap", "missing: key-mgmt=wpa-eap needs an [802-1x] section"
            )
        eap_settings, eap_method, identity, passphrase = _eap(eap, places)
    elif eap is not None:
        raise eap.error(f"is not used with key-mgmt={key_mgmt}")

    creds = Credentials(
        ssid=ssid,
        security=kind,
        passphrase=passphrase or None,
        identity=identity,
        hidden=hidden,
        eap_method=eap_method,
    )
    _validate(creds, places)
    if passphrase and secret_key is not None:
        result[secret_key] = passphrase
    if kind is SecurityKind.WEP:
        result.update(_stated_wep_key_type(security, passphrase or ""))
    return {WIRELESS_SECURITY: result, **eap_settings}


def _word_list(value: _Value, choices: Collection[str]) -> list[str]:
    """A list of words, each from a fixed set."""
    items = _items(value)
    if not items or any(item not in choices for item in items):
        raise value.error(f"must be a list of: {', '.join(sorted(choices))}")
    return items


def _stated_wep_key_type(security: _Section, key: str) -> dict[str, Any]:
    """wep-key-type when the file sets it, checked against the key's form."""
    value = security.get("wep-key-type")
    if value is None:
        # Left out, NetworkManager tells a literal key from a passphrase by its form.
        return {}
    key_type = _integer(value, 0, WEP_KEY_TYPE_PASSPHRASE)
    if key_type == WEP_KEY_TYPE_KEY and not is_literal_wep_key(key):
        raise KeyfileError(
            security.place("wep-key0"),
            "with wep-key-type=1 the key must be 5 or 13 characters, or 10 or 26 hex digits",
        )
    return {"wep-key-type": key_type}


def _eap(section: _Section, places: dict[str, str]) -> tuple[Settings, str, str | None, str | None]:
    """The [802-1x] setting, its EAP method, identity and password (checked by the caller)."""
    _check_keys(section, _EAP_KEYS)
    places["passphrase"] = section.place("password")
    places["identity"] = section.place("identity")
    places["security"] = section.place("eap")
    eap_value = section.get("eap")
    if eap_value is None:
        raise KeyfileError(section.place("eap"), "missing")
    methods = _items(eap_value)
    if len(methods) != 1:
        raise eap_value.error("must name one method: peap or ttls")
    _zero_flags(section.get("password-flags"))
    result: dict[str, Any] = {"eap": methods}
    identity = _optional(section.get("identity"), _secret, default=None)
    if identity:
        result["identity"] = identity
    anonymous = section.get("anonymous-identity")
    if anonymous is not None and not _empty(anonymous):
        outer = _text(anonymous)
        if len(outer.encode("utf-8")) > IDENTITY_MAX_BYTES:
            raise anonymous.error(f"is too long: at most {IDENTITY_MAX_BYTES} bytes")
        result["anonymous-identity"] = outer
    password = _optional(section.get("password"), _secret, default=None)
    if password:
        result["password"] = password
    phase2 = section.get("phase2-auth")
    if phase2 is not None:
        # The one inner method the client profiles support, with PEAP and TTLS alike.
        result["phase2-auth"] = _choice(phase2, (_PHASE2_AUTH,))
    return {IEEE_8021X: result}, methods[0], identity or None, password or None


def _validate(creds: Credentials, places: dict[str, str]) -> None:
    """The credential rules of app.rules, with each error moved onto the file's key."""
    try:
        check_credentials(creds)
    except ValidationError as error:
        raise KeyfileError(places.get(error.field, error.field), error.message) from None


def _ethernet(section: _Section | None) -> dict[str, Any]:
    """The [ethernet] setting (NetworkManager needs the section even when it is empty)."""
    if section is None:
        return {}
    _check_keys(section, _ETHERNET_KEYS)
    result: dict[str, Any] = {}
    result.update(_mac_keys(section))
    mtu = section.get("mtu")
    if mtu is not None:
        result["mtu"] = _integer(mtu, 0, _UINT32_MAX)
    return result


def _ip(section: _Section | None, *, version: int) -> dict[str, Any]:
    """The [ipv4] or [ipv6] setting: method, static addresses and gateway, DNS, options."""
    if section is None:
        # What NetworkManager adds to a profile without the section.
        return {"method": "auto"}
    _check_keys(section, _IPV6_KEYS if version == 6 else _IP_KEYS)
    method_value = section.get("method")
    if method_value is None:
        raise KeyfileError(section.place("method"), "missing")
    methods = _IPV6_METHODS if version == 6 else _IPV4_METHODS
    if _text(method_value) == "shared":
        raise method_value.error(
            "shared turns this device into a router for others; it is not imported"
        )
    method = _choice(method_value, methods)
    result: dict[str, Any] = {"method": method}

    addresses, gateway = _addresses(section, version)
    gateway_value = section.get("gateway")
    if gateway_value is not None and not _empty(gateway_value):
        explicit = str(_ip_address(gateway_value, _text(gateway_value).strip(_SPACE), version))
        if gateway is not None and gateway != explicit:
            raise gateway_value.error("differs from the gateway given in an address line")
        if not addresses:
            raise gateway_value.error("needs an address (address1=ADDRESS/PREFIX)")
        gateway = explicit
    if method == "manual" and not addresses:
        raise method_value.error(
            "manual needs at least one address (address1=ADDRESS/PREFIX[,GATEWAY])"
        )
    if addresses:
        if method in _NO_ADDRESS_METHODS:
            raise _first_address(section).error(f"is not allowed with method={method}")
        result["address-data"] = addresses
    if gateway is not None:
        result["gateway"] = gateway

    dns = section.get("dns")
    if dns is not None and not _empty(dns):
        if method in _NO_ADDRESS_METHODS:
            raise dns.error(f"is not allowed with method={method}")
        result["dns"] = [_dns_server(dns, item, version) for item in _items(dns)]
    search = section.get("dns-search")
    if search is not None and not _empty(search):
        if method in _NO_ADDRESS_METHODS:
            raise search.error(f"is not allowed with method={method}")
        domains = _items(search)
        if any(not domain.strip() for domain in domains):
            raise search.error("holds an empty domain")
        result["dns-search"] = domains

    for key in ("may-fail", "ignore-auto-dns", "ignore-auto-routes", "never-default"):
        value = section.get(key)
        if value is not None:
            result[key] = _boolean(value)
    never_default = section.get("never-default")
    if never_default is not None and result["never-default"] and gateway is not None:
        raise never_default.error("true contradicts the gateway this section sets")
    metric = section.get("route-metric")
    if metric is not None:
        result["route-metric"] = _integer(metric, -1, _UINT32_MAX)
    priority = section.get("dns-priority")
    if priority is not None:
        result["dns-priority"] = _integer(priority, *_INT32)

    if version == 6:
        mode = section.get("addr-gen-mode")
        result["addr-gen-mode"] = (
            _ADDR_GEN_MODES[_choice(mode, tuple(_ADDR_GEN_MODES))]
            if mode is not None
            else _KEYFILE_ADDR_GEN_MODE
        )
        privacy = section.get("ip6-privacy")
        if privacy is not None:
            result["ip6-privacy"] = _integer(privacy, -1, 2)
    return result


def _first_address(section: _Section) -> _Value:
    """The first addressN line of the section (there is one when this is called)."""
    return next(v for k, v in section.values.items() if _ADDRESS_KEY.fullmatch(k))


def _addresses(section: _Section, version: int) -> tuple[list[dict[str, Any]], str | None]:
    """address, address1..N (and NetworkManager's older addressesN) in NetworkManager's order."""
    keyed: list[tuple[int, str, _Value]] = []
    for key, value in section.values.items():
        match = _ADDRESS_KEY.fullmatch(key)
        if match:
            index = int(match.group(2)) if match.group(2) is not None else -1
            keyed.append((index, match.group(1), value))
    addresses: list[dict[str, Any]] = []
    gateway: str | None = None
    # The same order as NetworkManager: by number, a bare `address` first.
    for _, _, value in sorted(keyed, key=lambda item: (item[0], item[1])):
        address, address_gateway = _address(value, version)
        addresses.append(address)
        if address_gateway is not None:
            if gateway is not None and gateway != address_gateway:
                # NetworkManager would silently keep the first: a second one is a mistake.
                raise value.error("gives a second, different gateway: a profile has one")
            gateway = address_gateway
    return addresses, gateway


def _address(value: _Value, version: int) -> tuple[dict[str, Any], str | None]:
    """ADDRESS/PREFIX[,GATEWAY] as address-data, and the gateway."""
    text = _text(value).strip(_SPACE)
    # A trailing `;` is an old form NetworkManager still reads.
    fields = _ADDRESS_FIELDS.split(text.removesuffix(";"))
    if len(fields) not in (2, 3):
        raise value.error("must be ADDRESS/PREFIX or ADDRESS/PREFIX,GATEWAY")
    address = _ip_address(value, fields[0], version)
    max_prefix = 128 if version == 6 else 32
    if not fields[1].isdigit() or not fields[1].isascii() or not 1 <= int(fields[1]) <= max_prefix:
        raise value.error(f"needs a prefix length from 1 to {max_prefix} after the /")
    gateway = str(_ip_address(value, fields[2], version)) if len(fields) == 3 else None
    return {"address": str(address), "prefix": int(fields[1])}, gateway


def _ip_address(value: _Value, text: str, version: int) -> IPv4Address | IPv6Address:
    """An address of the section's IP version."""
    try:
        # A scope (%eth0) has no place in a profile: the profile names its interface.
        if "%" in text:
            raise ValueError(text)
        return IPv6Address(text) if version == 6 else IPv4Address(text)
    except ValueError:
        raise value.error(f"holds something that is not an IPv{version} address") from None


def _dns_server(value: _Value, text: str, version: int) -> int | bytes:
    """A DNS server in the form of NetworkManager's `dns` property (the one every version has)."""
    if "#" in text:
        raise value.error("DNS-over-TLS server names (#name) are not supported")
    address = _ip_address(value, text.strip(_SPACE), version)
    if version == 6:
        return address.packed
    # ipv4.dns is `au` of in_addr_t: the uint32 whose bytes in memory are the address, in the
    # byte order of this host, which is also NetworkManager's host.
    return int.from_bytes(address.packed, sys.byteorder)


# ---------------------------------------------------------------------------------------------
# A directory.


def is_skipped_filename(name: str) -> bool:
    """True for files an import passes over: *.ignore, hidden files, backups, certificates."""
    lowered = name.lower()
    return name.startswith(_SKIPPED_PREFIXES) or lowered.endswith(_SKIPPED_SUFFIXES)


def import_directory(directory: Path | str) -> list[ImportResult]:
    """Every regular file of `directory`, by name, parsed on its own: one bad file stops none."""
    results: list[ImportResult] = []
    with os.scandir(directory) as entries:
        # Only regular files: a FIFO would block the read, and a symlink may point anywhere.
        names = sorted(entry.name for entry in entries if entry.is_file(follow_symlinks=False))
    for name in names:
        if is_skipped_filename(name):
            results.append(ImportResult(name, skipped=True))
            continue
        results.append(_import_file(Path(directory) / name))
    return results


def _import_file(path: Path) -> ImportResult:
    """One file's result; an unreadable file or a bad key becomes its error."""
    name = path.name
    try:
        with path.open("rb") as file:
            data = file.read(MAX_KEYFILE_BYTES + 1)
    except OSError as error:
        return ImportResult(name, error=f"cannot be read: {error.strerror or error}")
    if len(data) > MAX_KEYFILE_BYTES:
        return ImportResult(
            name, error=f"is larger than {MAX_KEYFILE_BYTES // 1024} KiB: not a keyfile"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ImportResult(
            name,
            error="is not UTF-8 text (write a non-UTF-8 SSID as bytes, e.g. ssid=72;105;)",
        )
    try:
        return ImportResult(name, settings=parse_keyfile(text, filename=name))
    except KeyfileError as error:
        return ImportResult(name, error=str(error))
