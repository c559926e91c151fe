"""Pure reader of NetworkManager keyfiles (a system-connections/ directory) into Settings.

Settings, keys, D-Bus types, ranges and words are NetworkManager's own (app/nm/nm_settings.py,
generated from libnm): a key the table has is read by its type. Here are only the forms
keyfiles write their own way (addresses, routes, DNS, SSIDs, MACs, certificates, one key per
entry of a string dictionary), the defaults NetworkManager's keyfile reader fills in, and the
app's own checks of credentials; every error names the file's [section] key. A setting or key
the table lacks (newer than its libnm) is sent as text, and a security kind app.rules has no
rule for is sent as it is: NetworkManager judges both, its refusal told at the file's key
(ImportResult.refusal).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any, Final, NoReturn

from app import rules
from app.errors import ValidationError
from app.nm import glib_keyfile as glib
from app.nm import nm_settings as nm
from app.nm.glib_keyfile import SPACE, KeyfileError, Section, Value
from app.nm.profiles import (
    CONNECTION,
    IEEE_8021X,
    WIRELESS,
    WIRELESS_SECURITY,
    Settings,
    in_addr,
)
from app.wifi import Credentials, SecurityKind

_ETHERNET: Final = "802-3-ethernet"
_IPV4: Final = "ipv4"
_IPV6: Final = "ipv6"
# Real keyfiles are under 2 KiB; a boot partition may hold anything, which is not slurped.
MAX_KEYFILE_BYTES: Final = 64 * 1024
# Besides balenaOS's *.ignore samples, what NetworkManager never loads from its directory:
# hidden files (also macOS's ._* litter on FAT), editor backups and 802.1X certificates.
_SKIPPED_SUFFIXES: Final = (".ignore", "~", ".pem", ".der")
# Seeds the UUID of a keyfile that has none, so a re-import gives the same UUID and the caller
# can tell an update from a new profile instead of piling up duplicates.
_UUID_NAMESPACE: Final = uuid.UUID("6e94595b-c7e6-4795-bd49-301c9acfd396")
# Sections whose keys are the entries of a string dictionary (a{ss}), as NetworkManager's
# keyfile reader takes them: section -> (setting, key, prefix of the entries' keys). A VPN's
# [vpn] keys are its plugin's, which the plugin checks when it connects.
_DICT_SECTIONS: Final = {
    "user": ("user", "data", ""),
    "bond": ("bond", "options", ""),
    "vpn": ("vpn", "data", ""),
    "vpn-secrets": ("vpn", "secrets", ""),
    "ovs-external-ids": ("ovs-external-ids", "data", "data."),
    "ovs-other-config": ("ovs-other-config", "data", "data."),
    "ethernet-s390-options": ("802-3-ethernet", "s390-options", ""),
}
# Keys and sections in forms of NetworkManager's own that are not read here (routing rules,
# SR-IOV VFs, traffic control, WireGuard peers): refused by name rather than sent as unknown.
_UNREAD_KEY: Final = re.compile(r"routing-rule[0-9]+|vf\.[0-9]+|(qdisc|tfilter)\..+")
_UNREAD_SECTION_PREFIX: Final = "wireguard-peer."
_UNREAD: Final = "is written in a form this importer does not read; add the profile with nmcli"
# A keyfile's escape of a character a GLib key name cannot hold, such as \2F for `/`.
_KEY_ESCAPE: Final = re.compile(rb"\\([0-9A-Fa-f]{2})")
# A route attribute, NAME=VALUE with `\` escaping the next character; the words of its booleans
# (_nm_utils_ascii_str_to_bool's).
_ROUTE_ATTRIBUTE: Final = re.compile(r"((?:[^\\=]|\\.)*)=(.*)", re.DOTALL)
_ESCAPED: Final = re.compile(r"\\(.)", re.DOTALL)
_ROUTE_BOOLEANS: Final = dict.fromkeys(("true", "yes", "on", "1"), True) | dict.fromkeys(
    ("false", "no", "off", "0"), False
)
# NetworkManager's own records (last activation, BSSIDs seen) and the obsolete pointer to
# [wifi-security]: read by type, then left to NetworkManager.
_BOOKKEEPING: Final = frozenset(
    {(CONNECTION, "timestamp"), (WIRELESS, "seen-bssids"), (WIRELESS, "security")}
)

# The kinds of security whose credentials app.rules checks; NetworkManager judges the others
# (dynamic WEP, Suite-B, and any newer).
_KEY_MGMT: Final = {
    "none": SecurityKind.WEP,
    "wpa-psk": SecurityKind.WPA_PSK,
    "sae": SecurityKind.SAE,
    "owe": SecurityKind.OWE,
    "wpa-eap": SecurityKind.WPA_EAP,
}
# The secret of each kind that has one, then the keys that only go with it.
_SECRET_KEYS: Final[dict[SecurityKind, tuple[str, ...]]] = {
    SecurityKind.WEP: ("wep-key0", "wep-key-flags", "wep-key-type"),
    SecurityKind.WPA_PSK: ("psk", "psk-flags"),
    SecurityKind.SAE: ("psk", "psk-flags"),
}
_CREDENTIAL_KEYS: Final = _SECRET_KEYS[SecurityKind.WEP] + _SECRET_KEYS[SecurityKind.WPA_PSK]
_INFRASTRUCTURE: Final = "infrastructure"
# libnm's words, and those of keys it has no constants for (as its verify() takes them; 1.30
# to 1.52 agree).
_WORDS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    **nm.WORDS,
    (WIRELESS, "band"): ("a", "bg"),
    (WIRELESS_SECURITY, "auth-alg"): ("open", "shared", "leap"),
    (WIRELESS_SECURITY, "proto"): ("wpa", "rsn"),
    (WIRELESS_SECURITY, "pairwise"): ("tkip", "ccmp"),
    (WIRELESS_SECURITY, "group"): ("wep40", "wep104", "tkip", "ccmp"),
}
# Methods under which NetworkManager refuses static addresses, DNS servers and search domains.
_NO_ADDRESS_METHODS: Final = frozenset({"link-local", "disabled", "ignore"})
# NMSettingIP6ConfigAddrGenMode by value, which a keyfile names by word.
_ADDR_GEN_MODES: Final = ("eui64", "stable-privacy", "default-or-eui64", "default")
# NetworkManager's keyfile reader takes a missing addr-gen-mode in an [ipv6] section as this one
# (not D-Bus's default), so that its meaning never changes under an upgrade.
_KEYFILE_ADDR_GEN_MODE: Final = _ADDR_GEN_MODES.index("default-or-eui64")
# Secret flags 1 (agent-owned) and 2 (not saved) leave the secret out of the profile.
_SECRET_NOT_STORED: Final = 0b011
_SECRET_FLAGS_MAX: Final = 0b111

# The keyfile's numbered address and route lines (and NetworkManager's older spellings).
_IP_LINE: Final = re.compile(r"(address|addresses|route|routes)(0|[1-9][0-9]*)?(_options)?")
# Each kind of line: its form, most fields, shortest prefix, and the name of its address.
_IP_LINE_FORMS: Final = {
    "address": ("ADDRESS/PREFIX[,GATEWAY]", 3, 1, "address"),
    "route": ("DEST/PREFIX[,NEXT-HOP[,METRIC]]", 4, 0, "dest"),
}
# NetworkManager treats `/`, `,` and `;` alike between the fields of an address or route.
_FIELDS: Final = re.compile(r"[/,;]")
_MAC_TEXT: Final = re.compile(r"[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}")
_MAC_BYTES: Final = 6
_CLONED_MAC_WORDS: Final = ("preserve", "permanent", "random", "stable")
# Bytes in NetworkManager's list form: 1-3 digit numbers, each followed by `;`.
_BYTE_LIST: Final = re.compile(r"(?:[ \t\n\v\f\r]*[0-9]{1,3}[ \t\n\v\f\r]*;)+[ \t\n\v\f\r]*")
_CERT_KEY: Final = re.compile(r"(phase2-)?(ca-cert|client-cert|private-key)")
_CERT_PATH_SCHEME: Final = b"file://"
_CERT_BLOB_SCHEME: Final = "data:;base64,"


@dataclass(frozen=True)
class ImportResult:
    """One file of an imported directory: its settings, or why it was refused, or skipped."""

    filename: str
    # Holds the secrets of the file, so it stays out of repr (and so out of logs).
    settings: Settings | None = field(default=None, repr=False)
    error: str | None = None
    skipped: bool = False
    # NetworkManager's name of each key sent ("802-11-wireless.band") -> the file's "[wifi] band",
    # and of each setting ("802-11-wireless") -> its section ("[wifi]").
    places: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the file gave settings ready for Settings.AddConnection."""
        return self.settings is not None

    def refusal(self, message: str) -> str:
        """NetworkManager's refusal ("setting.key: why"), told at the key of this file."""
        names, colon, reason = message.partition(": ")
        places = [self._place(name.strip()) for name in names.split(",")]
        if not colon or None in places:
            return f"NetworkManager refused: {message}"
        return f"{', '.join(filter(None, places))}: NetworkManager refused: {reason}"

    def _place(self, name: str) -> str | None:
        """The file's place of NetworkManager's "setting.key", or None."""
        setting, _, key = name.partition(".")
        if name in self.places:
            return self.places[name]
        # A key the file left out, in the section it would go in.
        return f"{self.places[setting]} {key}" if key and setting in self.places else None


# --- One key, read by its D-Bus type, or by the keyfile's own form of it. ---------------------


def _bytes(value: Value) -> bytes:
    """Bytes: NetworkManager's list form such as 72;111;109;101;, else the text as UTF-8."""
    text = glib.unescape(value, in_list=False, keep_semicolon=True)[0]
    # The same test as NetworkManager's reader: only digits, spaces and `;`, each number ends
    # in `;`. So "65;66;" is the bytes AB, while "65;66" is the five characters 6 5 ; 6 6.
    if _BYTE_LIST.fullmatch(text):
        numbers = [int(item) for item in text.split(";") if item.strip(SPACE)]
        if all(number <= 0xFF for number in numbers):
            return bytes(numbers)
    return text.replace("\\;", ";").encode("utf-8")


def _mac(value: Value, text: str) -> bytes:
    """A MAC address: aa:bb:cc:dd:ee:ff (or with -), or the obsolete list of 6 byte values."""
    text = text.strip(SPACE)
    if _MAC_TEXT.fullmatch(text):
        return bytes.fromhex(re.sub("[:-]", "", text))
    items = [item.strip(SPACE) for item in text.removesuffix(";").split(";")]
    if len(items) == _MAC_BYTES and all(
        item.isascii() and item.isdigit() and int(item) <= 0xFF for item in items
    ):
        return bytes(int(item) for item in items)
    raise value.error("is not a MAC address (like 00:22:68:12:79:a2)")


def _mac_text(value: Value, text: str, words: tuple[str, ...] = ()) -> str:
    """A MAC address in NetworkManager's text form (upper case, colons), or one of `words`."""
    if text.strip(SPACE) in words:
        return text.strip(SPACE)
    return ":".join(f"{byte:02X}" for byte in _mac(value, text))


def _certificate(value: Value) -> bytes:
    """An 802.1X certificate or key: a path (the keyfile's form) or an inline base64 blob."""
    text = glib.text_value(value)
    if text.startswith(_CERT_BLOB_SCHEME):
        try:
            return base64.b64decode(text.removeprefix(_CERT_BLOB_SCHEME), validate=True)
        except binascii.Error:
            raise value.error("holds a data:;base64, blob that is not base64") from None
    path = text.encode("utf-8").removeprefix(_CERT_PATH_SCHEME)
    if not path.startswith(b"/"):
        # NetworkManager would look next to the keyfile, which is not where it is imported.
        raise value.error("must be an absolute path (or file:///path, or data:;base64,...)")
    # libnm's path scheme: the file:// URI with a closing NUL byte.
    return _CERT_PATH_SCHEME + path + b"\0"


def _secret_flags(value: Value) -> int | None:
    """Secret flags that keep the secret in this profile: 0 (the default, left out) or 4."""
    flags = glib.int_value(value, 0, _SECRET_FLAGS_MAX)
    if flags & _SECRET_NOT_STORED:
        raise value.error(
            "must be 0 (or 4): the secret has to be stored in this file, "
            "as no agent on this device can ask for it"
        )
    return flags or None


def _parsed(parse: Callable[[str], Any], reason: str) -> Callable[[Value, str], Any]:
    """A reader of text: `parse` of it, with `reason` when that refuses it."""

    def read(value: Value, text: str) -> Any:
        try:
            return parse(text)
        except (ValueError, ValidationError):
            raise value.error(reason) from None

    return read


def _connection_type(value: Value) -> str:
    """connection.type: a setting name, or its keyfile alias (wifi, ethernet)."""
    word = glib.text_value(value)
    name = nm.ALIASES.get(word, word)
    if name in (CONNECTION, _IPV4, _IPV6):
        # Any other name is NetworkManager's to judge: a newer one may be a type it has.
        raise value.error("is not a connection type")
    return name


def _permissions(value: Value, _: str) -> NoReturn:
    """connection.permissions: left empty, since no user logs in on this device."""
    raise value.error("is not supported: leave it empty (no user logs in on this device)")


def _ip_address(value: Value, text: str) -> IPv4Address | IPv6Address:
    """An address of the IP version of the value's section, [ipv4] or [ipv6]."""
    version = 6 if value.section == _IPV6 else 4
    try:
        # A scope (%eth0) has no place in a profile: the profile names its interface.
        if "%" in text:
            raise ValueError(text)
        return IPv6Address(text) if version == 6 else IPv4Address(text)
    except ValueError:
        raise value.error(f"holds something that is not an IPv{version} address") from None


def _dns_server(value: Value, text: str) -> int | bytes:
    """A DNS server in the form of NetworkManager's `dns` property (the one every version has)."""
    if "#" in text:
        # NetworkManager 1.48 and later read 1.1.1.1#name into dns-data; 1.42's `dns` cannot.
        raise value.error("DNS-over-TLS server names (#name) are not supported")
    address = _ip_address(value, text.strip(SPACE))
    return in_addr(address) if isinstance(address, IPv4Address) else address.packed


def _domain(value: Value, text: str) -> str:
    """A search domain of dns-search, not empty."""
    if not text.strip():
        raise value.error("holds an empty domain")
    return text


# The keys the keyfile format writes in a form of its own, by (setting, key); "*" is any setting.
# A list key's reader reads each item, any other key's its text.
_READERS: Final[dict[tuple[str, str], Callable[[Value, str], Any]]] = {
    (CONNECTION, "type"): lambda value, _: _connection_type(value),
    (CONNECTION, "uuid"): _parsed(
        lambda text: str(uuid.UUID(text)),
        "is not a UUID (like 6e94595b-c7e6-4795-bd49-301c9acfd396)",
    ),
    (CONNECTION, "interface-name"): _parsed(
        rules.check_interface_name,
        "is not a network interface name (1 to 15 characters, no / : or spaces)",
    ),
    (CONNECTION, "permissions"): _permissions,
    ("*", "mac-address"): _mac,
    ("*", "bssid"): _mac,
    ("*", "mac-address-blacklist"): _mac_text,
    ("*", "cloned-mac-address"): partial(_mac_text, words=_CLONED_MAC_WORDS),
    ("*", "dns"): _dns_server,
    ("*", "gateway"): lambda value, text: str(_ip_address(value, text.strip(SPACE))),
    ("*", "dns-search"): _domain,
    (_IPV6, "addr-gen-mode"): lambda value, text: _ADDR_GEN_MODES.index(
        glib.word_value(value, _ADDR_GEN_MODES)
    ),
}
# What a keyfile key becomes on D-Bus when the two names differ.
_DBUS_NAMES: Final = {"cloned-mac-address": "assigned-mac-address"}


def _setting_of(section: str) -> str:
    """The setting a [section] holds: its name, or an alias such as [wifi]."""
    if section.startswith(_UNREAD_SECTION_PREFIX):
        raise KeyfileError(f"[{section}]", _UNREAD)
    return nm.ALIASES.get(section, section)


def _typed(setting: str, value: Value) -> Any:
    """One key's value in its D-Bus type; None for `key=` on a string, list or bytes key."""
    key = value.key
    signature = nm.SETTINGS.get(setting, {}).get(key, "s")
    reader = _READERS.get((setting, key)) or _READERS.get(("*", key))
    words = _WORDS.get((setting, key))
    if (signature == "s" or signature.startswith("a")) and glib.is_empty(value):
        # NetworkManager writes empty lists and unset strings as `key=`: its default.
        return None
    if reader is not None and signature.startswith("a") and signature != "ay":
        return [reader(value, item) for item in glib.list_value(value)]
    if reader is not None:
        return reader(value, glib.text_value(value))
    if key in nm.SECRET_FLAGS.get(setting, ()):
        return _secret_flags(value)
    if signature in nm.INT_RANGES:
        return glib.int_value(value, *nm.RANGES.get((setting, key), nm.INT_RANGES[signature]))
    match signature:
        case "s" if key in nm.SECRETS.get(setting, ()):
            return glib.secret_value(value)
        case "s":
            return glib.word_value(value, words) if words else glib.text_value(value)
        case "b":
            return glib.bool_value(value)
        case "as":
            items = glib.list_value(value)
            if words and (not items or any(item not in words for item in items)):
                raise value.error(f"must be a list of: {', '.join(sorted(words))}")
            return items
        case "ay" if setting == IEEE_8021X and _CERT_KEY.fullmatch(key):
            return _certificate(value)
        case "ay":
            return _bytes(value)
        case "au":
            numbers = [Value(value.section, key, item) for item in glib.list_value(value)]
            return [glib.int_value(number, *nm.INT_RANGES["u"]) for number in numbers]
    raise value.error(f"holds a value of D-Bus type {signature} and {_UNREAD}")


def _dict_key(value: Value, key: str) -> str:
    """An entry's name from its keyfile key, whose \\XX escapes stand for bytes."""
    decoded = _KEY_ESCAPE.sub(
        lambda match: bytes([int(match[1], 16)]) if int(match[1], 16) else match[0],
        key.encode("utf-8"),
    )
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise value.error("is escaped to a name that is not UTF-8") from None


def _entries(
    name: str, section: Section, places: dict[str, str]
) -> tuple[dict[str, Any], set[str]]:
    """The string dictionary whose entries are the section's keys, and the keys it took."""
    setting, key, prefix = _DICT_SECTIONS[name]
    # A VPN's own keys (service-type, ...) are read by their types, as is a key of an OVS
    # section without the data. prefix.
    own = nm.SETTINGS[setting].keys() if name == "vpn" else ()
    taken = {entry for entry in section.values if entry.startswith(prefix) and entry not in own}
    read = glib.secret_value if key == "secrets" else glib.text_value
    entries = {
        _dict_key(section.values[entry], entry.removeprefix(prefix)): read(section.values[entry])
        for entry in taken
        # The old place of connection.interface-name, which _parse reads.
        if (name, entry) != ("bond", "interface-name")
    }
    places[f"{setting}.{key}"] = f"[{section.name}]"
    return ({key: dict(sorted(entries.items()))} if entries else {}), taken


def _setting(setting: str, section: Section, places: dict[str, str]) -> dict[str, Any]:
    """One section's keys in their D-Bus types; the IP address and route lines are left out."""
    places.setdefault(setting, f"[{section.name}]")
    result, taken = _entries(setting, section, places) if setting in _DICT_SECTIONS else ({}, set())
    for key, value in section.values.items():
        if key in taken or (setting in (_IPV4, _IPV6) and _IP_LINE.fullmatch(key)):
            continue
        if _UNREAD_KEY.fullmatch(key):
            raise value.error(_UNREAD)
        typed = _typed(setting, value)
        name = _DBUS_NAMES.get(key, key)
        places[f"{setting}.{name}"] = value.where
        if typed is not None and (setting, key) not in _BOOKKEEPING:
            result[name] = typed
    return result


# --- The profile: what NetworkManager's keyfile reader fills in, and the rules across keys. ---


def parse_keyfile(text: str, *, filename: str | None = None) -> Settings:
    """Settings for Settings.AddConnection from a keyfile's text; KeyfileError names a bad key."""
    return _parse(text, filename, {})


def _parse(text: str, filename: str | None, places: dict[str, str]) -> Settings:
    """parse_keyfile(), recording in `places` where each sent key is in the file."""
    sections = glib.read_sections(text.removeprefix("\ufeff"), _setting_of)
    connection = sections.get(CONNECTION) or Section(CONNECTION, {})
    connection_type = _type_of(connection, sections)
    typed = {name: _setting(name, section, places) for name, section in sections.items()}
    for name, (setting, _, _) in _DICT_SECTIONS.items():
        if name != setting and name in typed:
            # [vpn-secrets] and [ethernet-s390-options] fill a key of another setting.
            typed.setdefault(setting, {}).update(typed.pop(name))
    bond = sections.get("bond")
    # NetworkManager still reads a bond's interface-name there when [connection] has none.
    if bond is not None and "interface-name" in bond.values:
        typed.setdefault(CONNECTION, {}).setdefault(
            "interface-name", _typed(CONNECTION, bond.values["interface-name"])
        )

    # A setting without keys is left to NetworkManager's defaults, but for the connection's own.
    settings: Settings = {name: values for name, values in typed.items() if values}
    ssid: bytes | None = None
    if connection_type == WIRELESS:
        wifi = sections.get(WIRELESS) or Section("wifi", {})
        if wifi.get("ssid") is None:
            need = "" if WIRELESS in sections else ": a wifi connection needs a [wifi] section"
            raise KeyfileError(wifi.place("ssid"), f"missing{need}")
        # An empty ssid= stays empty, for the SSID rules of app.rules to name.
        settings[WIRELESS] = {"mode": _INFRASTRUCTURE, "ssid": b"", **typed[WIRELESS]}
        ssid = settings[WIRELESS]["ssid"]
        settings.update(_security(sections, typed, settings[WIRELESS]))
    elif connection_type in typed or connection_type == _ETHERNET:
        settings[connection_type] = typed.get(connection_type, {})
    for setting in (_IPV4, _IPV6):
        settings[setting] = _ip(sections.get(setting), typed.get(setting, {}), places)
    mode = settings.get(WIRELESS, {}).get("mode", _INFRASTRUCTURE)
    if mode != _INFRASTRUCTURE and settings[_IPV4]["method"] == "auto":
        raise KeyfileError(
            sections[WIRELESS].place("mode"),
            f"mode={mode} needs [ipv4] method=shared (or manual): with method=auto the device "
            f"waits for an address nobody on its own network gives; a client is {_INFRASTRUCTURE}",
        )
    settings[CONNECTION] = _connection(
        connection, typed.get(CONNECTION, {}), connection_type, filename, ssid
    )
    return settings


def _type_of(connection: Section, sections: dict[str, Section]) -> str:
    """The connection type, given or guessed; the sections of another type are refused."""
    value = connection.get("type")
    # NetworkManager too guesses a missing type from the type-specific section.
    guessed = [setting for setting in (WIRELESS, _ETHERNET) if setting in sections]
    if value is None and not guessed:
        raise KeyfileError(connection.place("type"), "missing: set type=wifi or type=ethernet")
    connection_type = guessed[0] if value is None else _connection_type(value)
    kind = {WIRELESS: "a wifi", _ETHERNET: "an ethernet"}.get(
        connection_type, f"a {connection_type}"
    )
    foreign = (_ETHERNET,) if connection_type == WIRELESS else (WIRELESS, WIRELESS_SECURITY)
    for setting in foreign:
        if setting in sections:
            raise sections[setting].error(f"is not used by {kind} connection")
    return connection_type


def _connection(
    section: Section,
    typed: dict[str, Any],
    connection_type: str,
    filename: str | None,
    ssid: bytes | None,
) -> dict[str, Any]:
    """The [connection] setting with id, uuid and autoconnect filled in when missing."""
    base = Path(filename).name if filename else None
    connection_id = typed.get("id")
    if connection_id is None and base:
        # NetworkManager's own fallback: the file name without .nmconnection.
        connection_id = base.removesuffix(".nmconnection") or base
    if connection_id is None and ssid is not None:
        connection_id = rules.display_ssid(ssid)
    if connection_id is None:
        raise KeyfileError(section.place("id"), "missing")
    return {
        **typed,
        "type": connection_type,
        "id": connection_id,
        "uuid": typed.get("uuid") or str(uuid.uuid5(_UUID_NAMESPACE, base or connection_id)),
        "autoconnect": typed.get("autoconnect", True),
    }


def _security(
    sections: dict[str, Section], typed: dict[str, Any], wireless: dict[str, Any]
) -> Settings:
    """The security settings, with the credentials checked by the rules of app.rules."""
    security = sections.get(WIRELESS_SECURITY) or Section("wifi-security", {})
    eap = sections.get(IEEE_8021X)
    result = typed.get(WIRELESS_SECURITY, {})
    key_mgmt = result.get("key-mgmt")
    if WIRELESS_SECURITY in sections and key_mgmt is None:
        raise KeyfileError(security.place("key-mgmt"), "missing")
    kind = _KEY_MGMT.get(key_mgmt) if key_mgmt else SecurityKind.OPEN
    if kind is None and key_mgmt.rstrip(SPACE) in _KEY_MGMT:
        # NetworkManager keeps the spaces, and then refuses the word.
        raise security.values["key-mgmt"].error("remove the spaces after it")
    if kind is None:
        # A kind app.rules has no rule for (ieee8021x, wpa-eap-suite-b-192, ...).
        _check(rules.check_ssid, wireless["ssid"], {"ssid": sections[WIRELESS].place("ssid")})
        return {
            setting: typed[setting]
            for setting in (WIRELESS_SECURITY, IEEE_8021X)
            if setting in typed
        }
    if eap is not None and kind is not SecurityKind.WPA_EAP:
        need = "is not used with" if key_mgmt else "needs a [wifi-security] section with"
        raise eap.error(f"{need} key-mgmt={key_mgmt or 'wpa-eap'}")
    own_keys = _SECRET_KEYS.get(kind, ())
    for key in _CREDENTIAL_KEYS:
        value = security.get(key)
        if value is not None and key not in own_keys:
            raise value.error(f"is not used with key-mgmt={key_mgmt}")
    auth_alg = security.get("auth-alg")
    if auth_alg is not None and kind is not SecurityKind.WEP:
        glib.word_value(auth_alg, ("open",))
    places = {"ssid": sections[WIRELESS].place("ssid")}
    hidden = bool(wireless.get("hidden"))
    creds = Credentials(ssid=wireless["ssid"], security=kind, hidden=hidden)
    if own_keys:
        places["passphrase"] = security.place(own_keys[0])
        creds = replace(creds, passphrase=result.get(own_keys[0]))
    settings: Settings = {WIRELESS_SECURITY: result} if key_mgmt else {}
    if kind is SecurityKind.WPA_EAP:
        if eap is None:
            raise KeyfileError(
                "[802-1x] eap", "missing: key-mgmt=wpa-eap needs an [802-1x] section"
            )
        settings[IEEE_8021X] = found = typed.get(IEEE_8021X, {})
        places.update(
            passphrase=eap.place("password"),
            identity=eap.place("identity"),
            security=eap.place("eap"),
        )
        methods = found.get("eap", [])
        if not methods:
            raise KeyfileError(eap.place("eap"), "missing")
        if len(methods) != 1 or methods[0] not in rules.EAP_METHODS:
            # Methods app.rules has no rule for (tls, several at once): NetworkManager's call.
            _check(rules.check_ssid, creds.ssid, places)
            return settings
        anonymous = found.get("anonymous-identity", "")
        _check(rules.check_identity, anonymous, {"identity": eap.place("anonymous-identity")})
        creds = replace(
            creds,
            eap_method=methods[0],
            identity=found.get("identity"),
            passphrase=found.get("password"),
        )
    _check(rules.check_credentials, creds, places)
    # Left out, NetworkManager tells a literal WEP key from a passphrase by its form.
    if result.get("wep-key-type") == rules.WEP_KEY_TYPE_KEY and not rules.is_literal_wep_key(
        creds.passphrase or ""
    ):
        raise KeyfileError(
            places["passphrase"],
            "with wep-key-type=1 the key must be 5 or 13 characters, or 10 or 26 hex digits",
        )
    return settings


def _check(rule: Callable[[Any], object], subject: object, places: dict[str, str]) -> None:
    """A rule of app.rules, with its error moved onto the file's key."""
    try:
        rule(subject)
    except ValidationError as error:
        raise KeyfileError(places.get(error.field, error.field), error.message) from None


def _ip(section: Section | None, typed: dict[str, Any], places: dict[str, str]) -> dict[str, Any]:
    """The [ipv4] or [ipv6] setting: its keys, the address and route lines, and their rules."""
    if section is None:
        # What NetworkManager adds to a profile without the section.
        return {"method": "auto"}
    setting, result = section.name, dict(typed)
    method = result.get("method")
    if method is None:
        raise KeyfileError(section.place("method"), "missing")
    addresses, gateway = [], None
    for value, fields, address in _lines(section, "address", places):
        addresses.append(address)
        if len(fields) == 3:
            address_gateway = str(_ip_address(value, fields[2]))
            if gateway not in (None, address_gateway):
                # NetworkManager would silently keep the first: a second one is a mistake.
                raise value.error("gives a second, different gateway: a profile has one")
            gateway = address_gateway
    if "gateway" in result:
        if gateway not in (None, result["gateway"]):
            raise section.values["gateway"].error(
                "differs from the gateway given in an address line"
            )
        if not addresses:
            raise section.values["gateway"].error("needs an address (address1=ADDRESS/PREFIX)")
    elif gateway is not None:
        result["gateway"] = gateway
        places[f"{setting}.gateway"] = places[f"{setting}.address-data"]
    if method == "manual" and not addresses:
        raise section.values["method"].error(
            "manual needs at least one address (address1=ADDRESS/PREFIX[,GATEWAY])"
        )
    routes = []
    for value, fields, route in _lines(section, "route", places):
        hop = _ip_address(value, fields[2]) if len(fields) > 2 and fields[2] else None
        if hop is not None and not hop.is_unspecified:
            route["next-hop"] = str(hop)
        if len(fields) > 3:
            metric = Value(value.section, value.key, fields[3])
            route["metric"] = glib.int_value(metric, *nm.INT_RANGES["u"])
        options = section.get(f"{value.key}_options")
        if options is not None:
            route.update(_route_options(options))
        routes.append(route)
    result.update(
        {
            key: found
            for key, found in (("address-data", addresses), ("route-data", routes))
            if found
        }
    )
    for key in ("address-data", "dns", "dns-search"):
        if key in result and method in _NO_ADDRESS_METHODS:
            raise KeyfileError(places[f"{setting}.{key}"], f"is not allowed with method={method}")
    if result.get("never-default") and "gateway" in result:
        raise section.values["never-default"].error(
            "true contradicts the gateway this section sets"
        )
    if setting == _IPV6 and "addr-gen-mode" not in result:
        result["addr-gen-mode"] = _KEYFILE_ADDR_GEN_MODE
    return result


def _route_options(value: Value) -> dict[str, Any]:
    """A route's attributes from its routeN_options line: NAME=VALUE,NAME=VALUE."""
    attributes: dict[str, Any] = {}
    for item in filter(None, re.split(r"(?<!\\),", glib.text_value(value))):
        match = _ROUTE_ATTRIBUTE.fullmatch(item)
        if match is None:
            raise value.error("must be NAME=VALUE,NAME=VALUE (an attribute has no =VALUE)")
        name, text = (_ESCAPED.sub(r"\1", part) for part in match.groups())
        # An attribute newer than the table goes as text, for NetworkManager to judge.
        signature = nm.ROUTE_ATTRIBUTES.get(name, "s")
        if signature == "b" and text.lower() not in _ROUTE_BOOLEANS:
            raise value.error(f"{name} must be true or false")
        if signature == "b":
            attributes[name] = _ROUTE_BOOLEANS[text.lower()]
        elif signature in nm.INT_RANGES:
            number = Value(value.section, value.key, text)
            attributes[name] = glib.int_value(number, *nm.INT_RANGES[signature])
        else:
            attributes[name] = text
    return attributes


def _lines(
    section: Section, kind: str, places: dict[str, str]
) -> list[tuple[Value, list[str], dict[str, Any]]]:
    """The section's address (or route) lines, with their fields and {address, prefix}.

    In NetworkManager's order: by number, the bare line first, then the older spelling.
    """
    form, most, low, name = _IP_LINE_FORMS[kind]
    found: list[tuple[int, str, Value]] = []
    for key, value in section.values.items():
        match = _IP_LINE.fullmatch(key)
        # A route's options line is read with its route; NetworkManager ignores one without.
        if match and match[1].startswith(kind) and not match[3]:
            found.append((int(match[2]) if match[2] is not None else -1, match[1], value))
    lines = []
    for *_, value in sorted(found, key=lambda item: item[:2]):
        # A trailing `;` is an old form NetworkManager still reads.
        fields = _FIELDS.split(glib.text_value(value).strip(SPACE).removesuffix(";"))
        if not 2 <= len(fields) <= most:
            raise value.error(f"must be {form}")
        address = _ip_address(value, fields[0])
        high, prefix = address.max_prefixlen, fields[1]
        if not prefix.isdigit() or not prefix.isascii() or not low <= int(prefix) <= high:
            raise value.error(f"needs a prefix length from {low} to {high} after the /")
        lines.append((value, fields, {name: str(address), "prefix": int(prefix)}))
        places.setdefault(f"{section.name}.{kind}-data", value.where)
    return lines


# --- A directory. ----------------------------------------------------------------------------


def is_skipped_filename(name: str) -> bool:
    """True for files an import passes over: *.ignore, hidden files, backups, certificates."""
    return name.startswith(".") or name.lower().endswith(_SKIPPED_SUFFIXES)


def import_directory(directory: Path | str) -> list[ImportResult]:
    """Every regular file of `directory`, by name, parsed on its own: one bad file stops none."""
    with os.scandir(directory) as entries:
        # Only regular files: a FIFO would block the read, and a symlink may point anywhere.
        names = sorted(entry.name for entry in entries if entry.is_file(follow_symlinks=False))
    return [
        ImportResult(name, skipped=True) if is_skipped_filename(name) else _import(directory, name)
        for name in names
    ]


def _import(directory: Path | str, name: str) -> ImportResult:
    """One file's result; an unreadable file or a bad key becomes its error."""
    try:
        with (Path(directory) / name).open("rb") as file:
            data = file.read(MAX_KEYFILE_BYTES + 1)
        if len(data) > MAX_KEYFILE_BYTES:
            return ImportResult(
                name, error=f"is larger than {MAX_KEYFILE_BYTES // 1024} KiB: not a keyfile"
            )
        places: dict[str, str] = {}
        return ImportResult(
            name, settings=_parse(data.decode("utf-8"), name, places), places=places
        )
    except OSError as error:
        return ImportResult(name, error=f"cannot be read: {error.strerror or error}")
    except UnicodeDecodeError:
        return ImportResult(
            name, error="is not UTF-8 text (write a non-UTF-8 SSID as bytes, e.g. ssid=72;105;)"
        )
    except KeyfileError as error:
        return ImportResult(name, error=str(error))
