"""Pure reader of NetworkManager keyfiles (a system-connections/ directory) into Settings.

Which settings and keys exist, and the D-Bus type of each, is NetworkManager's own table
(app/nm/nm_settings.py, generated from libnm), so every key NetworkManager takes is imported
and any other is refused by name. On top of the types come the forms the keyfile format writes
its own way (addresses, routes, DNS servers, SSIDs, MAC addresses, certificates), the defaults
NetworkManager's keyfile reader fills in, and the checks NetworkManager would make only at
AddConnection, or never (a secret left to an agent this device does not run), each reported
on the file's own [section] key.

The table is the host libnm's (1.42 on bookworm). A key only a newer NetworkManager has is
refused here as unknown; a key an older one lacks is sent, and that NetworkManager's refusal is
told at the file's key (ImportResult.refusal). Every example of the balenaOS guide is accepted
alike by NetworkManager 1.30, 1.42 and 1.52 (the contract tier), gsm.number included, which
NetworkManager deprecates but still takes.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any, Final, NoReturn

from app.errors import ValidationError
from app.nm.glib_keyfile import (
    SPACE,
    KeyfileError,
    Section,
    Value,
    bool_value,
    int_value,
    is_empty,
    list_value,
    read_sections,
    secret_value,
    text_value,
    unescape,
    word_value,
)
from app.nm.nm_settings import ALIASES, LIBNM_VERSION, RANGES, SECRET_FLAGS, SECRETS, SETTINGS
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
    check_credentials,
    check_interface_name,
    display_ssid,
    is_literal_wep_key,
)
from app.wifi import Credentials, SecurityKind

ETHERNET: Final = "802-3-ethernet"
ETHERNET_TYPE: Final = "802-3-ethernet"
IPV4: Final = "ipv4"
IPV6: Final = "ipv6"

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

# A VPN's [vpn] keys are its plugin's, typed by no table of NetworkManager's.
_UNTYPED_SETTINGS: Final = {
    "vpn": "a VPN's keys belong to its plugin, which NetworkManager's settings table does not "
    "describe; add a VPN with nmcli or its plugin's editor",
}
# NetworkManager's own records (last activation, BSSIDs seen) and the obsolete pointer to
# [wifi-security]: read by type, then left to NetworkManager.
_BOOKKEEPING: Final = frozenset(
    {(CONNECTION, "timestamp"), (WIRELESS, "seen-bssids"), (WIRELESS, "security")}
)
_INT_RANGES: Final = {
    "y": (0, 2**8 - 1),
    "n": (-(2**15), 2**15 - 1),
    "q": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "u": (0, 2**32 - 1),
    "x": (-(2**63), 2**63 - 1),
    "t": (0, 2**64 - 1),
}

# The kinds of security whose credentials app.rules checks; dynamic WEP and Suite-B are not.
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
_CREDENTIAL_KEYS: Final = ("psk", "psk-flags", "wep-key0", "wep-key-flags", "wep-key-type")
_INFRASTRUCTURE: Final = "infrastructure"
# The words NetworkManager's verify() takes for these string keys (libnm types them only as
# strings). NetworkManager 1.30 to 1.52 agree on every list here.
_WORDS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    (WIRELESS, "mode"): (_INFRASTRUCTURE, "mesh", "adhoc", "ap"),
    (WIRELESS, "band"): ("a", "bg"),
    (WIRELESS_SECURITY, "key-mgmt"): tuple(_KEY_MGMT),
    (WIRELESS_SECURITY, "auth-alg"): ("open", "shared", "leap"),
    (WIRELESS_SECURITY, "proto"): ("wpa", "rsn"),
    (WIRELESS_SECURITY, "pairwise"): ("tkip", "ccmp"),
    (WIRELESS_SECURITY, "group"): ("wep40", "wep104", "tkip", "ccmp"),
    (IPV4, "method"): ("auto", "manual", "link-local", "shared", "disabled"),
    (IPV6, "method"): ("auto", "dhcp", "manual", "link-local", "ignore", "shared", "disabled"),
}
# Methods under which NetworkManager refuses static addresses, DNS servers and search domains.
_NO_ADDRESS_METHODS: Final = frozenset({"link-local", "disabled", "ignore"})
# NMSettingIP6ConfigAddrGenMode, which a keyfile names by word; sent over D-Bus as int32.
_ADDR_GEN_MODES: Final = {"eui64": 0, "stable-privacy": 1, "default-or-eui64": 2, "default": 3}
# NetworkManager's keyfile reader takes a missing addr-gen-mode in an [ipv6] section as this one
# (not D-Bus's default), so that its meaning never changes under an upgrade.
_KEYFILE_ADDR_GEN_MODE: Final = _ADDR_GEN_MODES["default-or-eui64"]
# Secret flags 1 (agent-owned) and 2 (not saved) leave the secret out of the profile.
_SECRET_NOT_STORED: Final = 0b011
_SECRET_FLAGS_MAX: Final = 0b111

# The keyfile's numbered address and route lines (and NetworkManager's older spellings).
_IP_LINE: Final = re.compile(r"(address|addresses|route|routes)(0|[1-9][0-9]*)?(_options)?")
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


# ---------------------------------------------------------------------------------------------
# One key, read by its D-Bus type, or by the keyfile's own form of it.


def _bytes(value: Value) -> bytes:
    """Bytes: NetworkManager's list form such as 72;111;109;101;, else the text as UTF-8."""
    text = unescape(value, in_list=False, keep_semicolon=True)[0]
    # The same test as NetworkManager's reader: only digits, spaces and `;`, each number ends
    # in `;`. So "65;66;" is the bytes AB, while "65;66" is the five characters 6 5 ; 6 6.
    if _BYTE_LIST.fullmatch(text):
        numbers = [int(item) for item in text.split(";") if item.strip(SPACE)]
        if all(number <= 0xFF for number in numbers):
            return bytes(numbers)
    return text.replace("\\;", ";").encode("utf-8")


def _mac_address(value: Value) -> bytes:
    """A MAC address: aa:bb:cc:dd:ee:ff (or with -), or the obsolete list of 6 byte values."""
    text = text_value(value).strip()
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


def _mac_text(value: Value, text: str) -> str:
    """One MAC address in text, normalised to NetworkManager's upper-case colon form."""
    if not _MAC_TEXT.fullmatch(text.strip()):
        raise value.error("holds an entry that is not a MAC address (like 00:22:68:12:79:a2)")
    return ":".join(f"{byte:02X}" for byte in bytes.fromhex(re.sub("[:-]", "", text.strip())))


def _mac_list(value: Value) -> list[str]:
    """A list of MAC addresses, normalised to upper-case colon form."""
    return [_mac_text(value, item) for item in list_value(value)]


def _cloned_mac(value: Value) -> str:
    """cloned-mac-address: a MAC or one of NetworkManager's words, sent as assigned-mac-address."""
    text = text_value(value).strip(SPACE)
    return text if text in _CLONED_MAC_WORDS else _mac_text(value, text)


def _certificate(value: Value) -> bytes:
    """An 802.1X certificate or key: a path (the keyfile's form) or an inline base64 blob."""
    text = text_value(value)
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
    flags = int_value(value, 0, _SECRET_FLAGS_MAX)
    if flags & _SECRET_NOT_STORED:
        raise value.error(
            "must be 0 (or 4): the secret has to be stored in this file, "
            "as no agent on this device can ask for it"
        )
    return flags or None


def _uuid(value: Value) -> str:
    """A UUID in its canonical form."""
    try:
        return str(uuid.UUID(text_value(value)))
    except ValueError:
        raise value.error("is not a UUID (like 6e94595b-c7e6-4795-bd49-301c9acfd396)") from None


def _interface_name(value: Value) -> str:
    """A network interface name."""
    try:
        return check_interface_name(text_value(value))
    except ValidationError:
        raise value.error(
            "is not a network interface name (1 to 15 characters, no / : or spaces)"
        ) from None


def _connection_type(value: Value) -> str:
    """connection.type: a setting name, or its keyfile alias (wifi, ethernet)."""
    word = text_value(value)
    name = ALIASES.get(word, word)
    if name not in SETTINGS or name in (CONNECTION, IPV4, IPV6):
        raise value.error(f"is not a NetworkManager {LIBNM_VERSION} connection type")
    return name


def _permissions(value: Value) -> NoReturn:
    """connection.permissions: left empty, since no user logs in on this device."""
    raise value.error("is not supported: leave it empty (no user logs in on this device)")


def _addr_gen_mode(value: Value) -> int:
    """ipv6.addr-gen-mode, which a keyfile names by word."""
    return _ADDR_GEN_MODES[word_value(value, tuple(_ADDR_GEN_MODES))]


def _ip_address(value: Value, text: str, version: int) -> IPv4Address | IPv6Address:
    """An address of the section's IP version."""
    try:
        # A scope (%eth0) has no place in a profile: the profile names its interface.
        if "%" in text:
            raise ValueError(text)
        return IPv6Address(text) if version == 6 else IPv4Address(text)
    except ValueError:
        raise value.error(f"holds something that is not an IPv{version} address") from None


def _dns_server(value: Value, text: str, version: int) -> int | bytes:
    """A DNS server in the form of NetworkManager's `dns` property (the one every version has)."""
    if "#" in text:
        # NetworkManager 1.48 and later read 1.1.1.1#name into dns-data; 1.42's `dns` cannot.
        raise value.error("DNS-over-TLS server names (#name) are not supported")
    address = _ip_address(value, text.strip(SPACE), version)
    if version == 6:
        return address.packed
    # ipv4.dns is `au` of in_addr_t: the uint32 whose bytes in memory are the address, in the
    # byte order of this host, which is also NetworkManager's host.
    return int.from_bytes(address.packed, sys.byteorder)


def _dns(version: int) -> Callable[[Value], list[int | bytes]]:
    def read(value: Value) -> list[int | bytes]:
        return [_dns_server(value, item, version) for item in list_value(value)]

    return read


def _gateway(version: int) -> Callable[[Value], str]:
    def read(value: Value) -> str:
        return str(_ip_address(value, text_value(value).strip(SPACE), version))

    return read


def _domains(value: Value) -> list[str]:
    """dns-search: a list of domains, none empty."""
    domains = list_value(value)
    if any(not domain.strip() for domain in domains):
        raise value.error("holds an empty domain")
    return domains


# The keys the keyfile format writes in a form of its own, by (setting, key); "*" is any setting.
_READERS: Final[dict[tuple[str, str], Callable[[Value], Any]]] = {
    (CONNECTION, "type"): _connection_type,
    (CONNECTION, "uuid"): _uuid,
    (CONNECTION, "interface-name"): _interface_name,
    (CONNECTION, "permissions"): _permissions,
    (WIRELESS, "ssid"): _bytes,
    ("*", "mac-address"): _mac_address,
    ("*", "bssid"): _mac_address,
    ("*", "mac-address-blacklist"): _mac_list,
    (IPV4, "dns"): _dns(4),
    (IPV6, "dns"): _dns(6),
    (IPV4, "gateway"): _gateway(4),
    (IPV6, "gateway"): _gateway(6),
    (IPV4, "dns-search"): _domains,
    (IPV6, "dns-search"): _domains,
    (IPV6, "addr-gen-mode"): _addr_gen_mode,
}
# What a keyfile key becomes on D-Bus when the two names differ.
_DBUS_NAMES: Final = {"cloned-mac-address": "assigned-mac-address"}


def _setting_of(section: str) -> str:
    """The setting a [section] holds: its name, or an alias such as [wifi]."""
    setting = ALIASES.get(section, section)
    if setting in _UNTYPED_SETTINGS:
        reason = _UNTYPED_SETTINGS[setting]
    elif setting not in SETTINGS:
        reason = f"NetworkManager {LIBNM_VERSION} has no setting of that name"
    else:
        return setting
    raise KeyfileError(f"[{section}]", f"this section is not supported: {reason}")


def _typed(setting: str, value: Value) -> Any:
    """One key's value in its D-Bus type; None for `key=` on a string, list or bytes key."""
    key = value.key
    signature = SETTINGS[setting][key]
    reader = _READERS.get((setting, key)) or _READERS.get(("*", key))
    if signature in ("s", "as", "ay", "au") and is_empty(value):
        # NetworkManager writes empty lists and unset strings as `key=`: its default.
        return None
    if reader is not None:
        return reader(value)
    if key == "cloned-mac-address":
        return _cloned_mac(value)
    if key in SECRETS.get(setting, ()) and signature == "s":
        return secret_value(value)
    if key in SECRET_FLAGS.get(setting, ()):
        return _secret_flags(value)
    if signature == "ay" and setting == IEEE_8021X and _CERT_KEY.fullmatch(key):
        return _certificate(value)
    if signature in _INT_RANGES:
        return int_value(value, *RANGES.get((setting, key), _INT_RANGES[signature]))
    words = _WORDS.get((setting, key))
    match signature:
        case "s":
            return word_value(value, words) if words else text_value(value)
        case "b":
            return bool_value(value)
        case "as":
            items = list_value(value)
            if words and (not items or any(item not in words for item in items)):
                raise value.error(f"must be a list of: {', '.join(sorted(words))}")
            return items
        case "ay":
            return _bytes(value)
        case "au":
            return [int_value(item, *_INT_RANGES["u"]) for item in _split(value)]
    raise value.error(
        f"holds a value of D-Bus type {signature}, which this importer does not read from a "
        "keyfile; add the profile with nmcli"
    )


def _split(value: Value) -> list[Value]:
    """A list value's items, each as a value of the same key (for their own checks)."""
    return [Value(value.section, value.key, item) for item in list_value(value)]


def _setting(setting: str, section: Section, places: dict[str, str]) -> dict[str, Any]:
    """One section's keys in their D-Bus types; the IP address and route lines are left out."""
    known = SETTINGS[setting]
    places[setting] = f"[{section.name}]"
    result: dict[str, Any] = {}
    for key, value in section.values.items():
        if setting in (IPV4, IPV6) and _IP_LINE.fullmatch(key):
            continue
        if key not in known:
            raise value.error(
                f"is not a key of [{section.name}]: NetworkManager {LIBNM_VERSION} has no "
                f"{setting}.{key}"
            )
        typed = _typed(setting, value)
        name = _DBUS_NAMES.get(key, key)
        places[f"{setting}.{name}"] = value.where
        if typed is not None and (setting, key) not in _BOOKKEEPING:
            result[name] = typed
    return result


# ---------------------------------------------------------------------------------------------
# The profile: what NetworkManager's keyfile reader fills in, and the rules across keys.


def parse_keyfile(text: str, *, filename: str | None = None) -> Settings:
    """Settings for Settings.AddConnection from a keyfile's text; KeyfileError names a bad key."""
    return _parse(text, filename, {})


def _parse(text: str, filename: str | None, places: dict[str, str]) -> Settings:
    """parse_keyfile(), recording in `places` where each sent key is in the file."""
    sections = read_sections(text.removeprefix("\ufeff"), _setting_of)
    connection = sections.get(CONNECTION) or Section(CONNECTION, {})
    connection_type = _type_of(connection, sections)
    _check_sections_fit(connection_type, sections)
    typed = {name: _setting(name, section, places) for name, section in sections.items()}

    # A setting without keys is left to NetworkManager's defaults, but for the connection's own.
    settings: Settings = {name: values for name, values in typed.items() if values}
    ssid: bytes | None = None
    if connection_type == WIRELESS_TYPE:
        wireless, ssid = _wireless(sections, typed)
        settings[WIRELESS] = wireless
        settings.update(_security(sections, typed, ssid, wireless))
    elif connection_type in typed:
        settings[connection_type] = typed[connection_type]
    elif connection_type == ETHERNET_TYPE:
        settings[ETHERNET] = {}
    for version, setting in ((4, IPV4), (6, IPV6)):
        settings[setting] = _ip(sections.get(setting), typed.get(setting, {}), version, places)
    if settings[IPV4]["method"] == "auto":
        _check_client_mode(sections, settings)
    settings[CONNECTION] = _connection(
        connection, typed.get(CONNECTION, {}), connection_type, filename, ssid
    )
    return settings


def _type_of(connection: Section, sections: dict[str, Section]) -> str:
    """The connection type, from [connection] type or else from the sections present."""
    value = connection.get("type")
    if value is not None:
        return _connection_type(value)
    # NetworkManager too guesses a missing type from the type-specific section.
    if WIRELESS in sections:
        return WIRELESS_TYPE
    if ETHERNET in sections:
        return ETHERNET_TYPE
    raise KeyfileError(connection.place("type"), "missing: set type=wifi or type=ethernet")


def _check_sections_fit(connection_type: str, sections: dict[str, Section]) -> None:
    """Refuse the type-specific sections of another kind of connection."""
    kind = {WIRELESS_TYPE: "a wifi", ETHERNET_TYPE: "an ethernet"}.get(
        connection_type, f"a {connection_type}"
    )
    foreign = (ETHERNET,) if connection_type == WIRELESS_TYPE else (WIRELESS, WIRELESS_SECURITY)
    for setting in foreign:
        if setting in sections:
            raise sections[setting].error(f"is not used by {kind} connection")


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
        connection_id = base.removesuffix(NMCONNECTION_SUFFIX) or base
    if connection_id is None and ssid is not None:
        connection_id = display_ssid(ssid)
    if connection_id is None:
        raise KeyfileError(section.place("id"), "missing")
    return {
        **typed,
        "type": connection_type,
        "id": connection_id,
        "uuid": typed.get("uuid") or str(uuid.uuid5(_UUID_NAMESPACE, base or connection_id)),
        "autoconnect": typed.get("autoconnect", True),
    }


def _wireless(sections: dict[str, Section], typed: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The [wifi] setting, its mode filled in, and its SSID."""
    if WIRELESS not in sections:
        raise KeyfileError("[wifi] ssid", "missing: a wifi connection needs a [wifi] section")
    if sections[WIRELESS].get("ssid") is None:
        raise KeyfileError(sections[WIRELESS].place("ssid"), "missing")
    # An empty ssid= stays empty, for the SSID rules of app.rules to name.
    wireless = {"mode": _INFRASTRUCTURE, "ssid": b"", **typed.get(WIRELESS, {})}
    return wireless, wireless["ssid"]


def _check_client_mode(sections: dict[str, Section], settings: Settings) -> None:
    """An access point, ad-hoc or mesh profile must not wait as a DHCP client of itself."""
    mode = settings.get(WIRELESS, {}).get("mode", _INFRASTRUCTURE)
    if mode != _INFRASTRUCTURE:
        raise KeyfileError(
            sections[WIRELESS].place("mode"),
            f"mode={mode} needs [ipv4] method=shared (or manual): with method=auto the device "
            f"waits for an address nobody on its own network gives; a client is {_INFRASTRUCTURE}",
        )


def _security(
    sections: dict[str, Section], typed: dict[str, Any], ssid: bytes, wireless: dict[str, Any]
) -> Settings:
    """The security settings, with the credentials checked by the rules of app.rules."""
    hidden = bool(wireless.get("hidden"))
    places = {"ssid": sections[WIRELESS].place("ssid")}
    security, eap = sections.get(WIRELESS_SECURITY), sections.get(IEEE_8021X)
    if security is None:
        if eap is not None:
            raise eap.error("needs a [wifi-security] section with key-mgmt=wpa-eap")
        _validate(Credentials(ssid=ssid, security=SecurityKind.OPEN, hidden=hidden), places)
        return {}
    result = typed.get(WIRELESS_SECURITY, {})
    if "key-mgmt" not in result:
        raise KeyfileError(security.place("key-mgmt"), "missing")
    key_mgmt = result["key-mgmt"]
    kind = _KEY_MGMT[key_mgmt]
    own_keys = _SECRET_KEYS.get(kind, ())
    for key in _CREDENTIAL_KEYS:
        value = security.get(key)
        if value is not None and key not in own_keys:
            raise value.error(f"is not used with key-mgmt={key_mgmt}")
    auth_alg = security.get("auth-alg")
    if auth_alg is not None and kind is not SecurityKind.WEP:
        word_value(auth_alg, ("open",))

    secret_key = own_keys[0] if own_keys else None
    passphrase: str | None = result.get(secret_key) if secret_key else None
    identity: str | None = None
    eap_method = "peap"
    if secret_key is not None:
        places["passphrase"] = security.place(secret_key)
    settings: Settings = {WIRELESS_SECURITY: result}
    if kind is SecurityKind.WPA_EAP:
        if eap is None:
            raise KeyfileError(
                "[802-1x] eap", "missing: key-mgmt=wpa-eap needs an [802-1x] section"
            )
        settings[IEEE_8021X] = eap_settings = typed.get(IEEE_8021X, {})
        eap_method, identity, passphrase = _eap(eap, eap_settings, places)
    elif eap is not None:
        raise eap.error(f"is not used with key-mgmt={key_mgmt}")

    creds = Credentials(
        ssid=ssid,
        security=kind,
        passphrase=passphrase,
        identity=identity,
        hidden=hidden,
        eap_method=eap_method,
    )
    _validate(creds, places)
    if kind is SecurityKind.WEP and "wep-key-type" in result:
        _check_wep_key_type(security, result["wep-key-type"], passphrase or "")
    return settings


def _check_wep_key_type(security: Section, key_type: int, key: str) -> None:
    """wep-key-type, when the file sets it, fits the key's form."""
    # Left out, NetworkManager tells a literal key from a passphrase by its form.
    if key_type == WEP_KEY_TYPE_KEY and not is_literal_wep_key(key):
        raise KeyfileError(
            security.place("wep-key0"),
            "with wep-key-type=1 the key must be 5 or 13 characters, or 10 or 26 hex digits",
        )


def _eap(
    section: Section, settings: dict[str, Any], places: dict[str, str]
) -> tuple[str, str | None, str | None]:
    """The [802-1x] setting's EAP method, identity and password (checked by the caller)."""
    places["passphrase"] = section.place("password")
    places["identity"] = section.place("identity")
    places["security"] = section.place("eap")
    methods = settings.get("eap")
    if methods is None:
        raise KeyfileError(section.place("eap"), "missing")
    if len(methods) != 1:
        raise KeyfileError(section.place("eap"), "must name one method: peap or ttls")
    anonymous = settings.get("anonymous-identity")
    if anonymous is not None and len(anonymous.encode("utf-8")) > IDENTITY_MAX_BYTES:
        raise KeyfileError(
            section.place("anonymous-identity"), f"is too long: at most {IDENTITY_MAX_BYTES} bytes"
        )
    return methods[0], settings.get("identity"), settings.get("password")


def _validate(creds: Credentials, places: dict[str, str]) -> None:
    """The credential rules of app.rules, with each error moved onto the file's key."""
    try:
        check_credentials(creds)
    except ValidationError as error:
        raise KeyfileError(places.get(error.field, error.field), error.message) from None


def _ip(
    section: Section | None, typed: dict[str, Any], version: int, places: dict[str, str]
) -> dict[str, Any]:
    """The [ipv4] or [ipv6] setting: its keys, the address and route lines, and their rules."""
    if section is None:
        # What NetworkManager adds to a profile without the section.
        return {"method": "auto"}
    result = dict(typed)
    method = result.get("method")
    if method is None:
        raise KeyfileError(section.place("method"), "missing")
    addresses, gateway = _addresses(section, version, places)
    gateway_value = section.get("gateway")
    if "gateway" in result and gateway_value is not None:
        if gateway is not None and gateway != result["gateway"]:
            raise gateway_value.error("differs from the gateway given in an address line")
        if not addresses:
            raise gateway_value.error("needs an address (address1=ADDRESS/PREFIX)")
    elif gateway is not None:
        result["gateway"] = gateway
        places[f"{_ip_setting(version)}.gateway"] = places[f"{_ip_setting(version)}.address-data"]
    method_value = section.values["method"]
    if method == "manual" and not addresses:
        raise method_value.error(
            "manual needs at least one address (address1=ADDRESS/PREFIX[,GATEWAY])"
        )
    if addresses:
        if method in _NO_ADDRESS_METHODS:
            raise _ip_lines(section, "address")[0][1].error(f"is not allowed with method={method}")
        result["address-data"] = addresses
    routes = _routes(section, version, places)
    if routes:
        result["route-data"] = routes
    for key in ("dns", "dns-search"):
        value = section.get(key)
        if key in result and value is not None and method in _NO_ADDRESS_METHODS:
            raise value.error(f"is not allowed with method={method}")
    never_default = section.get("never-default")
    if never_default is not None and result.get("never-default") and "gateway" in result:
        raise never_default.error("true contradicts the gateway this section sets")
    if version == 6 and "addr-gen-mode" not in result:
        result["addr-gen-mode"] = _KEYFILE_ADDR_GEN_MODE
    return result


def _ip_lines(section: Section, kind: str) -> list[tuple[int, Value]]:
    """The section's address (or route) lines in NetworkManager's order: by number, bare first."""
    found: list[tuple[int, str, Value]] = []
    for key, value in section.values.items():
        match = _IP_LINE.fullmatch(key)
        if match and match[1].startswith(kind):
            if match[3]:
                raise value.error(f"{kind} options are not read by this importer")
            found.append((int(match[2]) if match[2] is not None else -1, match[1], value))
    return [(index, value) for index, _, value in sorted(found, key=lambda item: item[:2])]


def _addresses(
    section: Section, version: int, places: dict[str, str]
) -> tuple[list[dict[str, Any]], str | None]:
    """address, address1..N (and NetworkManager's older addressesN) as address-data."""
    addresses: list[dict[str, Any]] = []
    gateway: str | None = None
    for _, value in _ip_lines(section, "address"):
        fields = _fields(value, (2, 3), "ADDRESS/PREFIX or ADDRESS/PREFIX,GATEWAY")
        addresses.append(_network(value, fields, version, "address"))
        if len(fields) == 3:
            address_gateway = str(_ip_address(value, fields[2], version))
            if gateway is not None and gateway != address_gateway:
                # NetworkManager would silently keep the first: a second one is a mistake.
                raise value.error("gives a second, different gateway: a profile has one")
            gateway = address_gateway
        places.setdefault(f"{_ip_setting(version)}.address-data", value.where)
    return addresses, gateway


def _routes(section: Section, version: int, places: dict[str, str]) -> list[dict[str, Any]]:
    """route, route1..N (and the older routesN) as route-data: DEST/PREFIX[,NEXT-HOP[,METRIC]]."""
    routes: list[dict[str, Any]] = []
    for _, value in _ip_lines(section, "route"):
        fields = _fields(value, (2, 3, 4), "DEST/PREFIX[,NEXT-HOP[,METRIC]]")
        route = _network(value, fields, version, "dest")
        if len(fields) > 2 and fields[2]:
            hop = _ip_address(value, fields[2], version)
            if not hop.is_unspecified:
                route["next-hop"] = str(hop)
        if len(fields) > 3:
            route["metric"] = int_value(Value(value.section, value.key, fields[3]), 0, 2**32 - 1)
        routes.append(route)
        places.setdefault(f"{_ip_setting(version)}.route-data", value.where)
    return routes


def _ip_setting(version: int) -> str:
    return IPV6 if version == 6 else IPV4


def _fields(value: Value, counts: tuple[int, ...], form: str) -> list[str]:
    """An address or route line split into its fields (`/`, `,` and `;` alike)."""
    # A trailing `;` is an old form NetworkManager still reads.
    fields = _FIELDS.split(text_value(value).strip(SPACE).removesuffix(";"))
    if len(fields) not in counts:
        raise value.error(f"must be {form}")
    return fields


def _network(value: Value, fields: list[str], version: int, name: str) -> dict[str, Any]:
    """ADDRESS/PREFIX as {name: address, "prefix": prefix}."""
    address = _ip_address(value, fields[0], version)
    max_prefix = 128 if version == 6 else 32
    low = 0 if name == "dest" else 1
    prefix = fields[1]
    if not prefix.isdigit() or not prefix.isascii() or not low <= int(prefix) <= max_prefix:
        raise value.error(f"needs a prefix length from {low} to {max_prefix} after the /")
    return {name: str(address), "prefix": int(prefix)}


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
    places: dict[str, str] = {}
    try:
        return ImportResult(name, settings=_parse(text, name, places), places=places)
    except KeyfileError as error:
        return ImportResult(name, error=str(error))
