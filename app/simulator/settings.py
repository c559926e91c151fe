"""Connection settings as NetworkManager 1.42 checks them: the same D-Bus error names and messages.

Settings travel as a{sa{sv}}: a dict of settings, each a dict of variants. The checks below run
in NetworkManager's order: decoding each property (unknown settings and keys, wrong types), then
each setting's own verification in setting-priority order (connection, the base setting, the
security settings, IP), then the secrets (psk, WEP keys). Every message was compared with a real
NetworkManager 1.42.4 on a private bus (see tests/simulator/test_settings.py for the cases).

Not modelled: settings the app never sends are accepted without checks beyond key and type.
"""

from __future__ import annotations

import copy
import uuid as uuid_module
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import Any

from dbus_next.signature import Variant

from app.nm.bus import unwrap
from app.rules import channel_frequency, channel_problem

Wire = dict[str, dict[str, Variant]]

_CONNECTION_ERROR = "org.freedesktop.NetworkManager.Settings.Connection"
INVALID_PROPERTY = f"{_CONNECTION_ERROR}.InvalidProperty"
MISSING_PROPERTY = f"{_CONNECTION_ERROR}.MissingProperty"
INVALID_SETTING = f"{_CONNECTION_ERROR}.InvalidSetting"
MISSING_SETTING = f"{_CONNECTION_ERROR}.MissingSetting"
SETTING_NOT_FOUND = f"{_CONNECTION_ERROR}.SettingNotFound"
CONNECTION_FAILED = f"{_CONNECTION_ERROR}.Failed"
NO_SECRETS = "org.freedesktop.NetworkManager.AgentManager.NoSecrets"

WIRELESS = "802-11-wireless"
WIRELESS_SECURITY = "802-11-wireless-security"
IEEE_8021X = "802-1x"
ETHERNET = "802-3-ethernet"


class SettingsError(Exception):
    """NetworkManager would refuse these settings with D-Bus error `name` and `message`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _table(spec: str) -> dict[str, str]:
    return dict(item.split(":", 1) for item in spec.split())


# Property name -> D-Bus signature, for the settings the app's profiles use (man nm-settings-dbus).
PROPERTIES: dict[str, dict[str, str]] = {
    "connection": _table(
        "auth-retries:i autoconnect:b autoconnect-priority:i autoconnect-retries:i"
        " autoconnect-slaves:i dns-over-tls:i gateway-ping-timeout:u id:s interface-name:s"
        " lldp:i llmnr:i master:s mdns:i metered:i mptcp-flags:u mud-url:s multi-connect:i"
        " permissions:as read-only:b secondaries:as slave-type:s stable-id:s timestamp:t type:s"
        " uuid:s wait-activation-delay:i wait-device-timeout:i zone:s"
    ),
    WIRELESS: _table(
        "ap-isolation:i assigned-mac-address:s band:s bssid:ay channel:u cloned-mac-address:ay"
        " generate-mac-address-mask:s hidden:b mac-address:ay mac-address-blacklist:as"
        " mac-address-randomization:u mode:s mtu:u powersave:u rate:u security:s seen-bssids:as"
        " ssid:ay tx-power:u wake-on-wlan:u"
    ),
    WIRELESS_SECURITY: _table(
        "auth-alg:s fils:i group:as key-mgmt:s leap-password:s leap-password-flags:u"
        " leap-username:s pairwise:as pmf:i proto:as psk:s psk-flags:u wep-key-flags:u"
        " wep-key-type:u wep-key0:s wep-key1:s wep-key2:s wep-key3:s wep-tx-keyidx:u wps-method:u"
    ),
    IEEE_8021X: _table(
        "altsubject-matches:as anonymous-identity:s auth-timeout:i ca-cert:ay ca-cert-password:s"
        " ca-cert-password-flags:u ca-path:s client-cert:ay client-cert-password:s"
        " client-cert-password-flags:u domain-match:s domain-suffix-match:s eap:as identity:s"
        " optional:b pac-file:s password:s password-flags:u password-raw:ay password-raw-flags:u"
        " phase1-auth-flags:u phase1-fast-provisioning:s phase1-peaplabel:s phase1-peapver:s"
        " phase2-altsubject-matches:as phase2-auth:s phase2-autheap:s phase2-ca-cert:ay"
        " phase2-ca-cert-password:s phase2-ca-cert-password-flags:u phase2-ca-path:s"
        " phase2-client-cert:ay phase2-client-cert-password:s phase2-client-cert-password-flags:u"
        " phase2-domain-match:s phase2-domain-suffix-match:s phase2-private-key:ay"
        " phase2-private-key-password:s phase2-private-key-password-flags:u"
        " phase2-subject-match:s pin:s pin-flags:u private-key:ay private-key-password:s"
        " private-key-password-flags:u subject-match:s system-ca-certs:b"
    ),
    "ipv4": _table(
        "address-data:aa{sv} addresses:aau auto-route-ext-gw:i dad-timeout:i dhcp-client-id:s"
        " dhcp-fqdn:s dhcp-hostname:s dhcp-hostname-flags:u dhcp-iaid:s dhcp-reject-servers:as"
        " dhcp-send-hostname:b dhcp-timeout:i dhcp-vendor-class-identifier:s dns:au dns-data:as"
        " dns-options:as dns-priority:i dns-search:as gateway:s ignore-auto-dns:b"
        " ignore-auto-routes:b link-local:i may-fail:b method:s never-default:b"
        " replace-local-rule:i required-timeout:i route-data:aa{sv} route-metric:x route-table:u"
        " routes:aau routing-rules:aa{sv}"
    ),
    "ipv6": _table(
        "addr-gen-mode:i address-data:aa{sv} addresses:a(ayuay) auto-route-ext-gw:i"
        " dad-timeout:i dhcp-duid:s dhcp-hostname:s dhcp-hostname-flags:u dhcp-iaid:s"
        " dhcp-reject-servers:as dhcp-send-hostname:b dhcp-timeout:i dns:aay dns-data:as"
        " dns-options:as dns-priority:i dns-search:as gateway:s ignore-auto-dns:b"
        " ignore-auto-routes:b ip6-privacy:i may-fail:b method:s mtu:u never-default:b"
        " ra-timeout:i replace-local-rule:i required-timeout:i route-data:aa{sv} route-metric:x"
        " route-table:u routes:a(ayuayu) routing-rules:aa{sv} token:s"
    ),
    ETHERNET: _table(
        "accept-all-mac-addresses:i assigned-mac-address:s auto-negotiate:b"
        " cloned-mac-address:ay duplex:s generate-mac-address-mask:s mac-address:ay"
        " mac-address-blacklist:as mtu:u port:s s390-nettype:s s390-options:a{ss}"
        " s390-subchannels:as speed:u wake-on-lan:u wake-on-lan-password:s"
    ),
    "proxy": _table("browser-only:b method:i pac-script:s pac-url:s"),
    # Since NetworkManager 1.8: free-form strings for the user, such as the app's pending mark.
    "user": _table("data:a{ss}"),
}

# Other settings NetworkManager knows: accepted as they come, since the app never sends them.
_OTHER = """
    6lowpan 802-11-olpc-mesh adsl bluetooth bond bond-port bridge bridge-port cdma dcb dummy
    ethtool generic gsm hostname infiniband ip-tunnel loopback macsec macvlan match ovs-bridge
    ovs-dpdk ovs-external-ids ovs-interface ovs-other-config ovs-patch ovs-port ppp pppoe
    serial sriov tc team team-port tun veth vlan vpn vrf vxlan wifi-p2p wimax wireguard wpan
"""
OTHER_SETTINGS = frozenset(_OTHER.split())

SECRETS: dict[str, frozenset[str]] = {
    WIRELESS_SECURITY: frozenset(
        {"psk", "wep-key0", "wep-key1", "wep-key2", "wep-key3", "leap-password"}
    ),
    IEEE_8021X: frozenset(
        {
            "password",
            "password-raw",
            "pin",
            "ca-cert-password",
            "client-cert-password",
            "private-key-password",
            "phase2-ca-cert-password",
            "phase2-client-cert-password",
            "phase2-private-key-password",
        }
    ),
}

# GLib converts freely between its integer and boolean types, so NetworkManager does too.
_NUMERIC = frozenset("ybnqiuxt")
# Properties NetworkManager decodes by hand, with a shorter message for a wrong type.
_CUSTOM_DECODED = frozenset(
    {"address-data", "route-data", "routing-rules", "addresses", "routes", "dns"}
)
_WEP_KEY_TYPE_LAST = 2

_KEY_MGMT = ("none", "ieee8021x", "wpa-psk", "wpa-eap", "wpa-eap-suite-b-192", "sae", "owe")
_WIFI_MODES = ("infrastructure", "mesh", "adhoc", "ap")
_BANDS = ("a", "bg")
_EAP = ("leap", "md5", "tls", "peap", "ttls", "sim", "fast", "pwd", "external")
_PHASE2_AUTH = ("pap", "chap", "mschap", "mschapv2", "gtc", "otp", "md5", "tls")
_PHASE2_AUTHEAP = ("md5", "mschapv2", "otp", "gtc", "tls")
_IP4_METHODS = ("auto", "link-local", "manual", "shared", "disabled")
_IP6_METHODS = ("ignore", "auto", "dhcp", "link-local", "manual", "shared", "disabled")
# NetworkManager verifies settings in this priority order (nm-meta-setting-base-impl.c).
_PRIORITY = {"connection": 1, WIRELESS: 2, ETHERNET: 2, WIRELESS_SECURITY: 4, IEEE_8021X: 4}


def _invalid(setting: str, key: str, message: str = "property is invalid") -> SettingsError:
    return SettingsError(INVALID_PROPERTY, f"{setting}.{key}: {message}")


def _missing(setting: str, key: str, message: str = "property is missing") -> SettingsError:
    return SettingsError(MISSING_PROPERTY, f"{setting}.{key}: {message}")


def _decode(settings: Mapping[str, Mapping[str, Variant]]) -> None:
    """The errors NetworkManager finds while turning the D-Bus dict into setting objects."""
    for setting, values in settings.items():
        table = PROPERTIES.get(setting)
        if table is None:
            if setting in OTHER_SETTINGS:
                continue
            raise SettingsError(INVALID_SETTING, f"{setting}: unknown setting name")
        for key, variant in values.items():
            expected = table.get(key)
            if expected is None:
                raise _invalid(setting, key, "unknown property")
            got = variant.signature
            if got != expected and not (got in _NUMERIC and expected in _NUMERIC):
                reason = f"can't set property of type '{expected}' from value of type '{got}'"
                if key in _CUSTOM_DECODED:
                    raise _invalid(setting, key, reason)
                raise _invalid(setting, key, f"failed to set property: {setting}.{key}: {reason}")
        if setting == "user" and "data" in values:
            _check_user_data(values["data"].value)
        key_type = values.get("wep-key-type") if setting == WIRELESS_SECURITY else None
        if key_type is not None and not 0 <= int(key_type.value) <= _WEP_KEY_TYPE_LAST:
            raise _invalid(
                setting,
                "wep-key-type",
                f"failed to set property: {setting}.wep-key-type: can not set property: "
                f"value \"((NMWepKeyType) {int(key_type.value)})\" of type 'NMWepKeyType' "
                "is invalid or out of range for property 'wep-key-type' of type 'NMWepKeyType'",
            )


# libnm's bound on one user.data value, in bytes.
_USER_VALUE_MAX = 8 * 1024


def _user_key_problem(key: str) -> str | None:
    """What NetworkManager finds wrong with a user.data key, or None."""
    if not key:
        return "missing key"
    allowed = all(c.isascii() and (c.isalnum() or c in "-_.") for c in key)
    if not allowed or key.startswith(".") or key.endswith("."):
        return "key contains invalid characters"
    if ".." in key:
        return 'key cannot contain ".."'
    if "." not in key:
        return "key requires a '.' for a namespace"
    return None


def _check_user_data(data: Mapping[str, str]) -> None:
    """user.data as NetworkManager decodes it (messages of a real 1.42.4)."""
    for key, text in data.items():
        problem = _user_key_problem(key)
        if problem is not None:
            raise SettingsError(CONNECTION_FAILED, f'user.data: invalid key "{key}": {problem}')
        if len(text.encode()) > _USER_VALUE_MAX:
            raise SettingsError(
                CONNECTION_FAILED, f'user.data: invalid value for "{key}": value is too large'
            )


def _value(settings: Mapping[str, Mapping[str, Variant]], setting: str, key: str) -> Any:
    variant = settings.get(setting, {}).get(key)
    return None if variant is None else variant.value


def _ifname_problem(name: str) -> str | None:
    """What the kernel (and so NetworkManager) finds wrong with an interface name, or None."""
    raw = name.encode()
    if not raw:
        return "interface name must not be empty"
    if raw in (b".", b".."):
        return "interface name is reserved"
    if any(byte in b"/: \t\n\v\f\r" for byte in raw[:16]):
        return "interface name contains an invalid character"
    if len(raw) > 15:
        return "interface name is longer than 15 characters"
    return None


def _verify_connection(settings: Wire) -> None:
    ident = _value(settings, "connection", "id")
    if ident is None:
        raise _missing("connection", "id")
    if ident == "":
        raise _invalid("connection", "id", "property is empty")
    uuid = _value(settings, "connection", "uuid")
    try:
        uuid_module.UUID(str(uuid))
    except ValueError:
        raise _invalid("connection", "uuid", f"'{uuid}' is not a valid UUID") from None
    kind = settings["connection"]["type"].value
    if kind == "":
        raise _invalid("connection", "type", "property is empty")
    if kind in ("connection", "ipv4", "ipv6", "proxy") or (
        kind not in PROPERTIES and kind not in OTHER_SETTINGS
    ):
        raise _invalid("connection", "type", f"connection type '{kind}' is not valid")
    if kind not in settings:
        raise SettingsError(
            MISSING_SETTING, f"{kind}: setting required for connection of type '{kind}'"
        )
    ifname = _value(settings, "connection", "interface-name")
    problem = None if ifname is None else _ifname_problem(ifname)
    if problem is not None:
        raise _invalid("connection", "interface-name", f"'{ifname}': {problem}")


def _verify_wireless(settings: Wire) -> None:
    ssid = _value(settings, WIRELESS, "ssid")
    if ssid is None:
        raise _missing(WIRELESS, "ssid")
    if not 1 <= len(ssid) <= 32:
        raise _invalid(WIRELESS, "ssid", "SSID length is out of range <1-32> bytes")
    mode = _value(settings, WIRELESS, "mode")
    if mode is not None and mode not in _WIFI_MODES:
        raise _invalid(WIRELESS, "mode", f"'{mode}' is not a valid Wi-Fi mode")
    band = _value(settings, WIRELESS, "band")
    if band is not None and band not in _BANDS:
        raise _invalid(WIRELESS, "band", f"'{band}' is not a valid band")
    channel = _value(settings, WIRELESS, "channel")
    if channel:
        if band is None:
            raise _missing(WIRELESS, "band", "'channel' requires setting 'band' property")
        # NetworkManager's tables hold a few more 5 GHz numbers than the standard set; the
        # standard set is all the app ever sends.
        if channel_problem(band, channel) is not None:
            raise _invalid(WIRELESS, "channel", f"'{channel}' is not a valid channel")


def _verify_security(settings: Wire) -> None:
    s = WIRELESS_SECURITY
    key_mgmt = _value(settings, s, "key-mgmt")
    if key_mgmt is None:
        raise _missing(s, "key-mgmt")
    if key_mgmt not in _KEY_MGMT:
        raise _invalid(s, "key-mgmt", f"'{key_mgmt}' is not a valid value for the property")
    if key_mgmt in ("ieee8021x", "wpa-eap", "wpa-eap-suite-b-192") and IEEE_8021X not in settings:
        message = f"'{key_mgmt}' security requires '{IEEE_8021X}' setting presence"
        raise SettingsError(MISSING_SETTING, f"{IEEE_8021X}: {message}")
    for key, allowed in (
        ("auth-alg", ("open", "shared", "leap")),
        ("proto", ("wpa", "rsn")),
        ("pairwise", ("tkip", "ccmp")),
        ("group", ("wep40", "wep104", "tkip", "ccmp")),
    ):
        value = _value(settings, s, key)
        values = [value] if isinstance(value, str) else value or []
        if any(v not in allowed for v in values):
            raise _invalid(s, key)


def _verify_8021x(settings: Wire) -> None:
    s = IEEE_8021X
    eap = _value(settings, s, "eap")
    if not eap:
        raise _missing(s, "eap")
    if any(method not in _EAP for method in eap):
        raise _invalid(s, "eap")
    for method in eap:
        if method in ("leap", "pwd", "md5", "fast", "peap", "ttls"):
            identity = _value(settings, s, "identity")
            if identity is None:
                raise _missing(s, "identity")
            if identity == "":
                raise _invalid(s, "identity", "property is empty")
        if method in ("peap", "ttls"):
            auth = _value(settings, s, "phase2-auth")
            autheap = _value(settings, s, "phase2-autheap")
            if (auth is None) == (autheap is None):
                raise SettingsError(
                    MISSING_PROPERTY,
                    f"{s}.phase2-auth, {s}.phase2-autheap: exactly one property must be set",
                )
        if method == "tls":
            for key in ("client-cert", "private-key"):
                blob = _value(settings, s, key)
                if blob is None:
                    raise _missing(s, key)
                if len(blob) == 0:
                    raise _invalid(s, key, "property is empty")
    for key, allowed in (("phase2-auth", _PHASE2_AUTH), ("phase2-autheap", _PHASE2_AUTHEAP)):
        value = _value(settings, s, key)
        if value is not None and value not in allowed:
            message = "property is empty"
            if value:
                message = f"'{value}' is not a valid value for the property"
            raise _invalid(s, key, message)


def _addresses(entries: Any, family: int) -> list[str]:
    """The valid entries of address-data; NetworkManager silently drops malformed ones."""
    found = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        address = entry.get("address")
        prefix = entry.get("prefix")
        if not isinstance(address, Variant) or not isinstance(prefix, Variant):
            continue
        try:
            iface = IPv4Interface if family == 4 else IPv6Interface
            found.append(str(iface(f"{address.value}/{int(prefix.value)}")))
        except (ValueError, TypeError):
            continue
    return found


def _verify_ip(settings: Wire, setting: str) -> None:
    family = 4 if setting == "ipv4" else 6
    method = _value(settings, setting, "method")
    if method is not None and method not in (_IP4_METHODS if family == 4 else _IP6_METHODS):
        raise _invalid(setting, "method")
    has_addresses = bool(_addresses(_value(settings, setting, "address-data"), family)) or bool(
        _value(settings, setting, "addresses")
    )
    if method == "manual" and not has_addresses:
        raise _missing(setting, "addresses", "this property cannot be empty for 'method=manual'")
    gateway = _value(settings, setting, "gateway")
    if gateway is not None:
        try:
            IPv4Address(gateway) if family == 4 else IPv6Address(gateway)
        except ValueError:
            raise _invalid(setting, "gateway", "gateway is invalid") from None


def _wep_key_valid(key: str, key_type: int) -> bool:
    if key_type == 0:
        return _wep_key_valid(key, 1) or _wep_key_valid(key, 2)
    if key_type == 1:
        if len(key) in (10, 26):
            return all(c in "0123456789abcdefABCDEF" for c in key)
        if len(key) in (5, 13):
            return all(" " <= c <= "~" for c in key)
        return False
    return 0 < len(key.encode()) <= 64


def psk_valid(psk: str) -> bool:
    """NetworkManager's rule for a WPA passphrase: 8-63 bytes, or 64 hex digits (a raw key)."""
    size = len(psk.encode())
    if size == 64:
        return all(c in "0123456789abcdefABCDEF" for c in psk)
    return 8 <= size <= 63


def _verify_secrets(settings: Wire) -> None:
    s = WIRELESS_SECURITY
    if s not in settings:
        return
    key_type = int(_value(settings, s, "wep-key-type") or 0)
    for index in range(4):
        key = _value(settings, s, f"wep-key{index}")
        if key is not None and not _wep_key_valid(key, key_type):
            raise _invalid(s, f"wep-key{index}")
    psk = _value(settings, s, "psk")
    if psk is not None and _value(settings, s, "key-mgmt") != "sae" and not psk_valid(psk):
        raise _invalid(s, "psk")


def _infer_type(settings: Mapping[str, Any]) -> str | None:
    for base in (WIRELESS, ETHERNET):
        if base in settings:
            return base
    return None


def check_settings(received: Mapping[str, Mapping[str, Variant]]) -> Wire:
    """Validate settings as AddConnection/Update does; return them normalized like NetworkManager.

    Normalizing fills in what NetworkManager fills in: a missing connection.type (from the base
    setting), a missing uuid, absent ipv4/ipv6 settings and the legacy 802-11-wireless.security.
    """
    _decode(received)
    settings: Wire = {name: dict(values) for name, values in received.items()}
    if "connection" not in settings:
        raise SettingsError(MISSING_SETTING, "connection: setting not found")
    conn = settings["connection"]
    if "type" not in conn:
        inferred = _infer_type(settings)
        if inferred is None:
            raise _missing("connection", "type")
        conn["type"] = Variant("s", inferred)
    if "uuid" not in conn:
        conn["uuid"] = Variant("s", str(uuid_module.uuid4()))
    order = sorted(settings, key=lambda name: (_PRIORITY.get(name, 6), name))
    verifiers: dict[str, Callable[[Wire], None]] = {
        "connection": _verify_connection,
        WIRELESS: _verify_wireless,
        WIRELESS_SECURITY: _verify_security,
        IEEE_8021X: _verify_8021x,
        "ipv4": lambda s: _verify_ip(s, "ipv4"),
        "ipv6": lambda s: _verify_ip(s, "ipv6"),
    }
    for name in order:
        verify = verifiers.get(name)
        if verify is not None:
            verify(settings)
    _verify_secrets(settings)
    kind = conn["type"].value
    if kind in (WIRELESS, ETHERNET):
        is_ap = _value(settings, WIRELESS, "mode") == "ap"
        settings.setdefault("ipv4", {"method": Variant("s", "shared" if is_ap else "auto")})
        settings.setdefault("ipv6", {"method": Variant("s", "auto")})
        settings.setdefault("proxy", {})
    if WIRELESS_SECURITY in settings and WIRELESS in settings:
        settings[WIRELESS].setdefault("security", Variant("s", WIRELESS_SECURITY))
    return settings


def without_secrets(settings: Wire) -> Wire:
    """What GetSettings returns: everything but the secrets."""
    return {
        name: {k: v for k, v in values.items() if k not in SECRETS.get(name, frozenset())}
        for name, values in settings.items()
    }


def secrets_of(settings: Wire, setting: str) -> Wire:
    """What GetSecrets(setting) returns: every setting present, only `setting` filled in."""
    if setting not in settings:
        raise SettingsError(
            SETTING_NOT_FOUND, f"Connection didn't have requested setting '{setting}'."
        )
    names = SECRETS.get(setting, frozenset())
    found = {k: v for k, v in settings[setting].items() if k in names}
    if not found:
        # NetworkManager holds none itself and asks the secret agents; there are none here.
        raise SettingsError(NO_SECRETS, "No agents were available for this request.")
    result: Wire = {name: {} for name in settings}
    result[setting] = found
    return result


def plain(settings: Mapping[str, Mapping[str, Variant]]) -> dict[str, dict[str, Any]]:
    """A deep, Variant-free copy of settings, for tests to compare with what they sent."""
    result: dict[str, dict[str, Any]] = unwrap(copy.deepcopy(dict(settings)))
    return result


def text(settings: Wire, setting: str, key: str) -> str | None:
    """A string property, or None."""
    value = _value(settings, setting, key)
    return value if isinstance(value, str) else None


def value(settings: Wire, setting: str, key: str) -> Any:
    """Any property's plain value, or None."""
    return unwrap(_value(settings, setting, key))


def hotspot_frequency(settings: Wire) -> int:
    """The MHz an access-point profile comes up on: its channel, else its band's first one."""
    band = text(settings, WIRELESS, "band") or "bg"
    channel = value(settings, WIRELESS, "channel") or (1 if band == "bg" else 36)
    return channel_frequency(band, channel)
