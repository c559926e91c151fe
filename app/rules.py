"""Every rule that input from outside must follow, written once: SSIDs, secrets, names, addresses.

Config, the connection profiles, keyfile import, the portal's forms and the CLI all call these.
A broken rule raises ValidationError naming its field, with a message a user can act on; a
message never quotes a secret.
"""

from __future__ import annotations

import functools
import os
import re
import string
import unicodedata
from ipaddress import AddressValueError, IPv4Address, IPv4Interface, IPv4Network
from typing import Final

from app.countries import COUNTRY_CODES
from app.errors import ValidationError
from app.wifi import Credentials, SecurityKind, StaticIPv4

# --- characters --------------------------------------------------------------------------------

# Control characters (C0, DEL, C1) cannot be typed on a phone and mean a paste or an env file
# went wrong; lone surrogates stand for bytes that were not UTF-8 and cannot go over D-Bus.
_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Cs"})


def has_control_character(text: str) -> bool:
    """True when the text holds a control character or a lone surrogate."""
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in text)


# --- SSIDs -------------------------------------------------------------------------------------

SSID_MAX_BYTES: Final = 32


def check_ssid(ssid: bytes) -> bytes:
    """802.11's SSID rule: 1 to 32 bytes, any bytes (the air carries SSIDs that are not text)."""
    if not ssid:
        raise ValidationError("ssid", "Enter the network name: it cannot be empty.")
    if len(ssid) > SSID_MAX_BYTES:
        raise ValidationError(
            "ssid",
            f"The network name is too long: WiFi allows at most {SSID_MAX_BYTES} bytes, "
            "and letters such as é or emoji take 2 to 4 bytes each.",
        )
    return ssid


def ssid_from_text(text: str) -> bytes:
    """The bytes of an SSID typed as text (UTF-8), checked against the SSID rule."""
    try:
        # A command line's bytes that are not UTF-8 arrive as lone surrogates (os.fsdecode);
        # this turns them back, so such an SSID can be given as the router sends it.
        raw = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raise ValidationError("ssid", "The network name is not valid text.") from None
    return check_ssid(raw)


def hotspot_ssid(text: str) -> str:
    """The portal's own SSID: 1 to 32 bytes of UTF-8 text without control characters."""
    # The hotspot's name is shown on phones and in the portal's title, so it must be text; a
    # carriage return from a CRLF env file is the usual way a control character gets in.
    if has_control_character(text):
        raise ValidationError(
            "ssid", "The network name holds a control character or bytes that are not UTF-8."
        )
    check_ssid(text.encode("utf-8"))
    return text


# NetworkManager's own fallbacks for an SSID that is not UTF-8 (nm_utils_ssid_to_utf8): the
# encodings of the locale's language, then Latin-1, which decodes any bytes. Names as Python's
# codecs know them; NetworkManager's euc-tw has no Python codec and is left out.
_ENCODINGS_BY_LOCALE: Final = {
    "zh_cn": ("gb2312", "gb18030"),
    "zh_sg": ("gb2312", "gb18030"),
    "zh_tw": ("big5",),
    "zh_hk": ("big5", "big5hkscs"),
    "zh_mo": ("big5",),
    "ja": ("euc_jp", "shift_jis", "iso2022_jp"),
    "ko": ("euc_kr", "iso2022_kr", "johab"),
    "th": ("iso8859_11", "cp874"),
    **dict.fromkeys(("hu", "cs", "hr", "pl", "ro", "sk", "sl", "sh"), ("iso8859_2", "cp1250")),
    **dict.fromkeys(("ru", "be", "mk", "sr"), ("koi8_r", "cp1251", "iso8859_5")),
    "bg": ("cp1251", "koi8_r", "iso8859_5"),
    "uk": ("koi8_u", "koi8_r", "cp1251"),
    "ar": ("iso8859_6", "cp1256"),
    **dict.fromkeys(("et", "lt", "lv"), ("iso8859_4", "cp1257")),
    "el": ("iso8859_7", "cp1253"),
    **dict.fromkeys(("he", "iw"), ("iso8859_8", "cp1255")),
    "tr": ("iso8859_9", "cp1254"),
}
# Shown as an escape: controls, format characters (bidi overrides, zero-width characters),
# private-use and unassigned code points, and line or paragraph separators. Each could make
# two different SSIDs look alike, flip the text around them, or reach a terminal raw.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ZWJ: Final = "\u200d"
_ZWNJ: Final = "\u200c"
_EMOJI_PRESENTATION: Final = "\ufe0f"


def display_ssid(ssid: bytes) -> str:
    """An SSID as every page, JSON body, log and table shows it; never fails, never ambiguous.

    Decoded as NetworkManager decodes it for display (UTF-8, then the locale's fallbacks, then
    Latin-1). A backslash shows as `\\\\` and each hidden character as `\\u{XXXX}`, so two SSIDs
    that differ in such characters never show alike; joiners inside emoji (and between letters
    of scripts that need them) are kept, as they only shape what is visible.
    """
    return _shown(_decode_like_networkmanager(ssid), backslash="\\\\")


def inert_text(text: str) -> str:
    """Text with every hidden character shown as `\\u{XXXX}`, as display_ssid shows them.

    For what goes to a terminal or the journal (log lines): no control byte, ANSI escape or
    bidi override reaches it raw. A name display_ssid made passes through unchanged.
    """
    return _shown(text, backslash="\\")


def _shown(text: str, *, backslash: str) -> str:
    """`text` with hidden characters escaped and each backslash written as `backslash`."""
    shown = []
    for index, char in enumerate(text):
        if char == "\\":
            shown.append(backslash)
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES and not _joins(text, index):
            shown.append(f"\\u{{{ord(char):X}}}")
        else:
            shown.append(char)
    return "".join(shown)


def _decode_like_networkmanager(ssid: bytes) -> str:
    try:
        return ssid.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in _locale_encodings(_locale_language()):
        try:
            return ssid.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ssid.decode("latin-1")


def _locale_language() -> str:
    """The locale's language as NetworkManager reads it: LC_ALL, LC_CTYPE, then LANG."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(name)
        if value:
            return value.lower().partition(".")[0]
    return ""


@functools.cache
def _locale_encodings(language: str) -> tuple[str, ...]:
    return _ENCODINGS_BY_LOCALE.get(language) or _ENCODINGS_BY_LOCALE.get(language[:2], ())


def _joins(text: str, index: int) -> bool:
    """True for a joiner that only shapes visible neighbours: in an emoji, or between letters."""
    char = text[index]
    if char not in (_ZWJ, _ZWNJ) or index == 0 or index + 1 == len(text):
        return False
    before, after = text[index - 1], text[index + 1]
    emoji_before = unicodedata.category(before) in ("So", "Sk") or before == _EMOJI_PRESENTATION
    if char == _ZWJ and emoji_before and unicodedata.category(after) == "So":
        return True
    # Persian, Indic and other scripts need joiners between letters; next to ASCII they only
    # hide a difference.
    return _is_script_letter(before) and _is_script_letter(after)


def _is_script_letter(char: str) -> bool:
    return not char.isascii() and unicodedata.category(char)[0] in "LM"


# --- secrets -----------------------------------------------------------------------------------

PSK_MIN_CHARS: Final = 8
PSK_MAX_CHARS: Final = 63
PSK_HEX_CHARS: Final = 64
# NetworkManager bounds neither an SAE nor an 802.1X password (a long SAE password goes to the
# supplicant as sae_password); this cap only keeps absurd input out.
PASSWORD_MAX_CHARS: Final = 128
WEP_ASCII_KEY_CHARS: Final = (5, 13)
WEP_HEX_KEY_CHARS: Final = (10, 26)
# The longest WEP passphrase NetworkManager accepts (wep-key-type 2).
WEP_PASSPHRASE_MAX_CHARS: Final = 64
# NMWepKeyType: a literal key, or a passphrase NetworkManager hashes into a 104-bit key.
WEP_KEY_TYPE_KEY: Final = 1
WEP_KEY_TYPE_PASSPHRASE: Final = 2
# RFC 7542 caps a network access identifier (the 802.1X identity) at 253 octets.
IDENTITY_MAX_BYTES: Final = 253
EAP_METHODS: Final = ("peap", "ttls")

_PRINTABLE_ASCII: Final = frozenset(chr(code) for code in range(0x20, 0x7F))
_HEX_DIGITS: Final = frozenset(string.hexdigits)
_ASCII_ONLY: Final = (
    "can only use the letters A-Z and a-z, digits, spaces and keyboard symbols "
    "(no accented letters, emoji or line breaks)"
)


def _is_printable_ascii(text: str) -> bool:
    return all(char in _PRINTABLE_ASCII for char in text)


def _is_hex(text: str) -> bool:
    return all(char in _HEX_DIGITS for char in text)


def check_psk(psk: str) -> str:
    """The WPA-PSK rule: 8 to 63 printable ASCII characters, or a key of 64 hex digits."""
    if not _is_printable_ascii(psk):
        raise ValidationError("passphrase", f"A WPA password {_ASCII_ONLY}.")
    if len(psk) == PSK_HEX_CHARS:
        if not _is_hex(psk):
            raise ValidationError(
                "passphrase",
                f"A {PSK_HEX_CHARS}-character password must be a hex key (only 0-9 and a-f); "
                f"a normal password has {PSK_MIN_CHARS} to {PSK_MAX_CHARS} characters.",
            )
        return psk
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
    return psk


def _check_password(password: str) -> None:
    """The rule of free-form passwords (WPA3 SAE, 802.1X): bounded, no control characters."""
    if len(password) > PASSWORD_MAX_CHARS:
        raise ValidationError(
            "passphrase", f"The password is too long: at most {PASSWORD_MAX_CHARS} characters."
        )
    if has_control_character(password):
        raise ValidationError(
            "passphrase",
            "The password contains a line break or another control character, "
            "which a WiFi password cannot hold.",
        )


def _check_wep_key(key: str) -> None:
    """The WEP rule: printable ASCII, at most 64 characters (longer is no WEP key)."""
    # Lengths other than a literal key's are taken as a WEP passphrase, which NetworkManager
    # hashes: some routers derive their key that way, and a mistyped key then fails as a wrong
    # password instead of locking those networks out.
    if not _is_printable_ascii(key):
        raise ValidationError("passphrase", f"A WEP key {_ASCII_ONLY}.")
    if len(key) > WEP_PASSPHRASE_MAX_CHARS:
        raise ValidationError(
            "passphrase",
            f"The WEP key is too long: a WEP key has 5 or 13 characters, or 10 or 26 hex "
            f"digits, and a WEP passphrase at most {WEP_PASSPHRASE_MAX_CHARS} characters.",
        )


def is_literal_wep_key(key: str) -> bool:
    """True for a literal WEP key: 5 or 13 characters, or 10 or 26 hex digits."""
    return len(key) in WEP_ASCII_KEY_CHARS or (len(key) in WEP_HEX_KEY_CHARS and _is_hex(key))


def wep_key_type(key: str) -> int:
    """NetworkManager's wep-key-type for a key: a literal key (1), else a passphrase (2)."""
    return WEP_KEY_TYPE_KEY if is_literal_wep_key(key) else WEP_KEY_TYPE_PASSPHRASE


def check_passphrase(security: SecurityKind, passphrase: str) -> str:
    """The password rule of a security kind that takes one."""
    if security in (SecurityKind.WPA_PSK, SecurityKind.WPA_PSK_SAE):
        check_psk(passphrase)
    elif security is SecurityKind.WEP:
        _check_wep_key(passphrase)
    else:
        _check_password(passphrase)
    return passphrase


def check_identity(identity: str) -> str:
    """The 802.1X identity rule: no control characters, at most 253 bytes."""
    if has_control_character(identity):
        raise ValidationError(
            "identity", "The user name contains a line break or another control character."
        )
    if len(identity.encode("utf-8", errors="surrogatepass")) > IDENTITY_MAX_BYTES:
        raise ValidationError(
            "identity", f"The user name is too long: at most {IDENTITY_MAX_BYTES} bytes."
        )
    return identity


def check_credentials(creds: Credentials) -> Credentials:
    """Every rule of `creds`' network; raises ValidationError naming the first field at fault."""
    if not isinstance(creds.security, SecurityKind):
        raise ValidationError("security", "Unknown network security type.")
    check_ssid(creds.ssid)
    # An empty string means "not given", as balena's UI always sends every field.
    passphrase = creds.passphrase or None
    identity = creds.identity or None
    kind = creds.security
    if kind.needs_identity:
        if creds.eap_method not in EAP_METHODS:
            raise ValidationError(
                "security",
                "This enterprise network type is not supported: only PEAP and TTLS are.",
            )
        if identity is None:
            raise ValidationError("identity", "This network needs your user name (identity).")
        check_identity(identity)
    elif identity is not None:
        raise ValidationError("identity", "This network does not use a user name: leave it empty.")
    if not kind.needs_passphrase:
        if passphrase is not None:
            raise ValidationError(
                "passphrase", "This network is open and needs no password: leave it empty."
            )
    elif passphrase is None:
        what = "its WEP key" if kind is SecurityKind.WEP else "a password"
        raise ValidationError("passphrase", f"This network needs {what}.")
    else:
        check_passphrase(kind, passphrase)
    if creds.ipv4 is not None:
        check_static_ipv4(creds.ipv4)
    return creds


# --- a static IPv4 set-up ----------------------------------------------------------------------

# The fields of a static set-up, as the portal's form, its JSON API and `add`'s flags name them.
IPV4_ADDRESS: Final = "ipv4_address"
IPV4_GATEWAY: Final = "ipv4_gateway"
IPV4_DNS: Final = "ipv4_dns"
# glibc's resolver reads no more than 3 servers (MAXNS), whatever NetworkManager is given.
IPV4_DNS_MAX: Final = 3
# /31 and /32 leave no address for a gateway beside the device's own; /0 is no network.
IPV4_PREFIX_RANGE: Final = (1, 30)
_CIDR: Final = re.compile(r"([0-9.]+)/([0-9]{1,2})")
_LIST_SEPARATORS: Final = re.compile(r"[,\s]+")
_THIS_NETWORK: Final = IPv4Network("0.0.0.0/8")
_LIMITED_BROADCAST: Final = IPv4Address("255.255.255.255")


def unicast_problem(address: IPv4Address) -> str | None:
    """What makes `address` unfit for a device, its gateway or a DNS server; None when fit."""
    if address == _THIS_NETWORK.network_address:
        return "the unspecified address"
    if address in _THIS_NETWORK:
        return 'in 0.0.0.0/8, which stands for "this network"'
    if address.is_loopback:
        return "a loopback address (127.0.0.0/8), which never leaves the device"
    if address.is_link_local:
        return "a link-local address (169.254.0.0/16), which devices pick for themselves"
    if address.is_multicast:
        return "a multicast address (224.0.0.0/4)"
    if address == _LIMITED_BROADCAST:
        return "the broadcast address"
    if address.is_reserved:
        return "a reserved address (240.0.0.0/4)"
    return None


def _unicast(field: str, address: IPv4Address, role: str) -> IPv4Address:
    """`address` when it can be the `role` of a device; else an error naming `field`."""
    problem = unicast_problem(address)
    if problem is not None:
        raise ValidationError(field, f"{address} is {problem}: it cannot be {role}.")
    return address


def _host_in(field: str, address: IPv4Address, network: IPv4Network, role: str) -> None:
    """`address` is neither the network nor the broadcast address of `network` (if in it)."""
    for edge, what in (
        (network.network_address, "network"),
        (network.broadcast_address, "broadcast"),
    ):
        if address == edge:
            raise ValidationError(
                field, f"{address} is the {what} address of {network}: it cannot be {role}."
            )


def check_static_ipv4(ipv4: StaticIPv4) -> StaticIPv4:
    """A static set-up a device can use: a host address, a gateway beside it, 1 to 3 DNS servers."""
    address, network = ipv4.address.ip, ipv4.address.network
    low, high = IPV4_PREFIX_RANGE
    if not low <= network.prefixlen <= high:
        raise ValidationError(
            IPV4_ADDRESS,
            f"The prefix length must be from /{low} to /{high}, such as /24 "
            f"(not /{network.prefixlen}): /31 and /32 leave no address for a gateway.",
        )
    _unicast(IPV4_ADDRESS, address, "the device's address")
    _host_in(IPV4_ADDRESS, address, network, "the device's address")
    gateway = _unicast(IPV4_GATEWAY, ipv4.gateway, "the gateway")
    if gateway not in network:
        raise ValidationError(
            IPV4_GATEWAY,
            f"The gateway {gateway} is outside {network}, the network of the address: "
            "the router must be in the device's own network.",
        )
    _host_in(IPV4_GATEWAY, gateway, network, "the gateway")
    if gateway == address:
        raise ValidationError(
            IPV4_GATEWAY, f"The gateway {gateway} is the device's own address: enter the router's."
        )
    if not ipv4.dns:
        raise ValidationError(
            IPV4_DNS,
            "Enter at least one DNS server (often the router's address): with a static address "
            "the network gives the device none.",
        )
    if len(ipv4.dns) > IPV4_DNS_MAX:
        raise ValidationError(
            IPV4_DNS, f"Enter at most {IPV4_DNS_MAX} DNS servers: the device uses no more."
        )
    for server in ipv4.dns:
        _unicast(IPV4_DNS, server, "a DNS server")
        _host_in(IPV4_DNS, server, network, "a DNS server")
    if len(set(ipv4.dns)) != len(ipv4.dns):
        raise ValidationError(IPV4_DNS, "A DNS server is listed twice.")
    return ipv4


def _ipv4_interface(text: str) -> IPv4Interface:
    """ADDRESS/PREFIX as typed; the error says what the field needs."""
    found = _CIDR.fullmatch(text)
    if found is None:
        example = "e.g. 192.168.1.127/24"
        if "/" not in text:
            raise ValidationError(
                IPV4_ADDRESS, f"Enter the address with its prefix length, {example}."
            )
        raise ValidationError(
            IPV4_ADDRESS, f"This is not an IPv4 address with a prefix length, {example}."
        )
    address, prefix = found.groups()
    try:
        return IPv4Interface((_ipv4_address(IPV4_ADDRESS, address), int(prefix)))
    except ValueError:
        raise ValidationError(
            IPV4_ADDRESS, f"/{prefix} is not a prefix length: it goes from /0 to /32."
        ) from None


def _ipv4_address(field: str, text: str) -> IPv4Address:
    """A dotted-quad IPv4 address as typed (no leading zeros: they would read as octal)."""
    try:
        return IPv4Address(text)
    except AddressValueError:
        what = "A DNS server" if field == IPV4_DNS else "This"
        raise ValidationError(
            field, f"{what} is not an IPv4 address such as 192.168.1.1 (four numbers 0 to 255)."
        ) from None


def parse_static_ipv4(
    address: str | None, gateway: str | None, dns: str | None
) -> StaticIPv4 | None:
    """The static set-up typed in the three fields (DNS servers comma-separated); None for DHCP.

    Empty fields are absent. A gateway or DNS servers without an address is an error naming
    their field, never a silent DHCP.
    """
    texts = [(text or "").strip() for text in (address, gateway, dns)]
    address_text, gateway_text, dns_text = texts
    if not address_text:
        for field, text, what in (
            (IPV4_GATEWAY, gateway_text, "A gateway goes"),
            (IPV4_DNS, dns_text, "DNS servers go"),
        ):
            if text:
                raise ValidationError(
                    field,
                    f"{what} with a static address: enter the IPv4 address too, or leave "
                    "this empty to let the network's DHCP set everything.",
                )
        return None
    interface = _ipv4_interface(address_text)
    if not gateway_text:
        raise ValidationError(
            IPV4_GATEWAY,
            "Enter the gateway (the router's address): without it the device cannot reach "
            "the internet.",
        )
    servers = tuple(
        _ipv4_address(IPV4_DNS, item) for item in _LIST_SEPARATORS.split(dns_text) if item
    )
    return check_static_ipv4(
        StaticIPv4(interface, _ipv4_address(IPV4_GATEWAY, gateway_text), servers)
    )


# --- the device's own names and addresses ------------------------------------------------------

# The portal network is always a /24 (the hotspot profile's address, dnsmasq's netmask).
PORTAL_PREFIX_LENGTH: Final = 24
_COLOR: Final = re.compile(r"#[0-9a-fA-F]{6}")


def check_interface_name(name: str) -> str:
    """A Linux network interface name, as the kernel's dev_valid_name allows it."""
    # Shorter than IFNAMSIZ, not . or .., no / : or white space.
    if (
        not 0 < len(name.encode("utf-8", errors="surrogatepass")) < 16
        or name in (".", "..")
        or any(char in "/:" or char.isspace() for char in name)
    ):
        raise ValidationError(
            "interface", f"{name!r} is not a network interface name (1 to 15 bytes, no / : space)"
        )
    return name


def portal_network(gateway: IPv4Address) -> IPv4Network:
    """The portal network a gateway address stands in."""
    return IPv4Network(f"{gateway}/{PORTAL_PREFIX_LENGTH}", strict=False)


def check_gateway(gateway: IPv4Address) -> IPv4Address:
    """A unicast address that is neither the network nor the broadcast address of its /24."""
    special = (
        (gateway.is_unspecified, "the unspecified address"),
        (gateway.is_loopback, "a loopback address"),
        (gateway.is_multicast, "a multicast address"),
        (gateway.is_reserved, "a reserved address"),
    )
    for is_special, what in special:
        if is_special:
            raise ValidationError("gateway", f"'{gateway}' is {what}")
    network = portal_network(gateway)
    if gateway == network.network_address:
        raise ValidationError("gateway", f"'{gateway}' is the network address of {network}")
    if gateway == network.broadcast_address:
        raise ValidationError("gateway", f"'{gateway}' is the broadcast address of {network}")
    return gateway


def default_dhcp_range(gateway: IPv4Address) -> tuple[IPv4Address, IPv4Address]:
    """The larger side of the gateway's /24, so moving the gateway needs no new range."""
    network = portal_network(gateway)
    first = network.network_address + 1
    last = network.broadcast_address - 1
    below = int(gateway) - int(first)
    above = int(last) - int(gateway)
    return (gateway + 1, last) if above >= below else (first, gateway - 1)


def check_dhcp_range(
    start: IPv4Address, end: IPv4Address, gateway: IPv4Address
) -> tuple[IPv4Address, IPv4Address]:
    """Addresses lent to phones: inside the gateway's /24, in order, without the gateway."""
    network = portal_network(gateway)
    for address in (start, end):
        if address not in network:
            raise ValidationError(
                "dhcp_range", f"{address} is outside the gateway's network {network}"
            )
    if start > end:
        raise ValidationError("dhcp_range", f"the start {start} comes after the end {end}")
    if start == network.network_address:
        raise ValidationError("dhcp_range", f"{start} is the network address of {network}")
    if end == network.broadcast_address:
        raise ValidationError("dhcp_range", f"{end} is the broadcast address of {network}")
    if start <= gateway <= end:
        raise ValidationError("dhcp_range", f"{start},{end} includes the gateway {gateway}")
    return start, end


def check_color(text: str) -> str:
    """A #rrggbb colour, lower-cased so templates and CSS see one spelling."""
    color = text.strip()
    if not _COLOR.fullmatch(color):
        raise ValidationError("brand_color", f"{text!r} is not a #rrggbb colour")
    return color.lower()


# --- the hotspot's radio -----------------------------------------------------------------------

# NetworkManager's 802-11-wireless.band: "bg" is 2.4 GHz, "a" is 5 GHz.
BANDS: Final = ("bg", "a")
_BG_CHANNELS: Final = frozenset(range(1, 15))
# The 20 MHz channels of 5 GHz that regulators assign (UNII-1 to UNII-3); which of them a
# radio may use is the regulatory domain's business, not ours.
_A_CHANNELS: Final = frozenset((*range(36, 65, 4), *range(100, 145, 4), *range(149, 166, 4)))
_CHANNELS: Final = {"bg": _BG_CHANNELS, "a": _A_CHANNELS}


def check_band(text: str) -> str:
    """A hotspot band: bg (2.4 GHz) or a (5 GHz), lower-cased."""
    band = text.strip().lower()
    if band not in BANDS:
        raise ValidationError("band", f"{text!r} is not a band (bg for 2.4 GHz, a for 5 GHz)")
    return band


def check_channel(text: str) -> int:
    """A WiFi channel number of either band: 1 to 14, or a 5 GHz channel such as 36 or 149."""
    word = text.strip()
    channel = int(word) if word.isascii() and word.isdigit() and len(word) <= 3 else 0
    if channel not in _BG_CHANNELS | _A_CHANNELS:
        raise ValidationError(
            "channel", f"{text!r} is not a WiFi channel (1 to 14, or 5 GHz: 36 to 165)"
        )
    return channel


def band_of_channel(channel: int) -> str:
    """The band a valid channel number belongs to (the two bands' numbers do not overlap)."""
    return "bg" if channel in _BG_CHANNELS else "a"


def channel_problem(band: str, channel: int) -> str | None:
    """Why `channel` cannot be used on `band`, or None when it can."""
    if channel in _CHANNELS[band]:
        return None
    low, high = min(_CHANNELS[band]), max(_CHANNELS[band])
    return f"channel {channel} is not in band {band} (its channels are {low} to {high})"


def channel_frequency(band: str, channel: int) -> int:
    """The centre frequency in MHz of a channel (802.11's numbering; 14 is the odd one)."""
    if band == "bg":
        return 2484 if channel == 14 else 2407 + 5 * channel
    return 5000 + 5 * channel


def check_country(text: str) -> str:
    """An officially assigned ISO 3166-1 alpha-2 country code, upper-cased (de -> DE)."""
    code = text.strip().upper()
    if code not in COUNTRY_CODES:
        raise ValidationError(
            "country", f"{text!r} is not an ISO 3166-1 alpha-2 country code such as DE or US"
        )
    return code
