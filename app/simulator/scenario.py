"""Scenario files: the simulated radio's devices, the networks in the air and how each behaves.

A scenario is a JSON object; every key is optional unless marked required, and an unknown key
is an error (so a typo never passes silently). Times are in milliseconds.

Top level:
  activation_delay_ms   time from ActivateConnection to the last state change (default 50)
  deactivation_delay_ms time from DEACTIVATING to DISCONNECTED (default 10)
  scan_delay_ms         time from RequestScan to the scan completing (default 50)
  startup_delay_ms      how long the manager's Startup property stays true (default 0)
  connectivity_delay_ms after a client activation, how long Connectivity reads limited (and
                        State 60) before the connectivity check answers (default 0); a
                        CheckConnectivity call ends the wait at once, as it does in NetworkManager
  connectivity          after a successful client activation: none|portal|limited|full (full)
  nm_version            the NetworkManager release whose D-Bus API the simulator shows, "1.2" to
                        "1.52" (default "1.52", the newest): every property, method and
                        signal NetworkManager added later is gone (app/simulator/versions.py
                        says which): a property is left out of GetAll and Get answers
                        missing_property_error, a method answers UnknownMethod, a signal is
                        never sent, and introspection leaves them out. The app supports 1.10
                        and later; older values let tests show the adapter's fallbacks (before
                        1.8 an active connection sends no StateChanged)
  missing_property_error  the D-Bus error name a Get of an unknown (or hidden) property answers
                        (default "org.freedesktop.DBus.Error.InvalidArgs", what real
                        NetworkManager 1.30, 1.42 and 1.52 answer; other services say
                        UnknownProperty), so tests can show a client does not rely on it
  version               the manager's Version property (default: nm_version, e.g. "1.52.0")
  avahi_host_name       an Avahi daemon runs beside NetworkManager, this its host name (the
                        device is then HOSTNAME.local; see app/simulator/avahi.py); default
                        none, no Avahi on the bus. `wifi-connect simulate` starts it
  devices               list of devices (default: one WiFi device "wlan0")
  networks              list of access points in the air (default: none)
  outages               list of {"after_ms", "duration_ms"}: NetworkManager leaves the bus
                        after_ms after the simulator starts and returns duration_ms later,
                        with new object paths, as after a real restart
  faults                list of {"method", "action", "skip", "times"}: calls of a method
                        (NetworkManager's member name, e.g. "Update") answered badly. action
                        fail (default) answers org.freedesktop.NetworkManager.Failed; hang
                        never answers (the caller's own bound ends the call). The first `skip`
                        calls (default 0) are answered as usual, then the next `times` calls
                        (default 1; 0: every later call) get the fault

A device:
  interface     required, e.g. "wlan0"
  type          wifi|ethernet (default wifi)
  managed       default true; an unmanaged device is UNMANAGED and cannot be activated
  hw_address    default 02:00:00:00:00:NN
  single_radio  default true: the chip cannot scan while it is an access point
  ap_mode_scan  what RequestScan does while in AP mode: refuse (NotAllowed "Scanning not
                allowed at this time", NetworkManager up to 1.22), empty (accepted, LastScan
                moves, no networks found: NetworkManager 1.24 and later on a single-radio chip),
                works (a second radio scans); default refuse when single_radio, else works
  scan          ok|refuse|hang: refuse answers every RequestScan with NotAllowed "Scanning
                not allowed while unavailable"; hang accepts it but the scan never completes
  supports_ap   default true; false makes an ap-mode profile incompatible with the device
  carrier       ethernet only: a cable is plugged in (default true); without it the device
                is UNAVAILABLE and cannot be activated
  connected     ethernet only: an active uplink at start (default false)
  connectivity  ethernet only: the uplink's connectivity (default: the top-level value)
  ap_link       wifi only: a real interface (e.g. a veth end) that stands for the radio in
                AP mode. When an ap-mode profile activates on the device, the simulator adds
                the profile's ipv4 address-data (gateway/prefix) to it and brings it up; when
                the hotspot goes down it removes that address again. Runs `ip`, so it needs
                root (CAP_NET_ADMIN) in the network namespace the simulator runs in
  uplink_link   a real interface that stands for the device as a client: when a client
                profile activates, the joined network's ip4 address goes on it, with a
                default route (metric 100) via its gateway unless the profile says
                never-default; both are removed on deactivation. IP4Config reports the
                network's dns, as always. What either key put on an interface also comes off
                when the simulator leaves the bus (an outage, or its exit). A failing `ip`
                command fails the activation with reason 5 (ip-config-unavailable). While
                either key's link is configured, the device's IpInterface names it, so
                sockets bound to IpInterface use the real link. Without these two keys no
                real interface is touched
  ip_interface  what IpInterface names while the device is activated, without the simulator
                touching it: a real interface a client's sockets can bind to (e.g. "lo" where
                a test's servers listen on loopback). Default: the link ap_link or
                uplink_link configured, else the device's interface

A network (one access point; several entries may share an SSID):
  ssid | ssid_hex   required: the name as text, or its raw bytes in hex for non-UTF-8 names
  security          open|owe|owe-transition|wep|wpa-psk|sae|wpa-psk+sae|wpa-eap (default open),
                    or instead the raw "flags", "wpa_flags", "rsn_flags" integers NM reports
  strength          0-100 (default 70)
  frequency         MHz (default 2437)
  bssid             default 02:00:00:00:01:NN
  hidden            default false: the beacon carries an empty SSID; only profiles with
                    802-11-wireless.hidden=true reach it, and a scan names it only when probed
  passphrase        the PSK/SAE password, WEP key, or 802.1X password the network accepts
  identity          the 802.1X identity the network accepts
  failure           wrong_password (every password is refused), dhcp_fails, hang (activation
                    never ends), not_found (in the scan list but association finds nothing)
  failure_reason    the device state reason to fail with instead of the usual one
  connectivity      overrides the top-level value after joining this network
  ip4               {"address": "192.168.1.50/24", "gateway": "192.168.1.1", "dns": [...]}
  max_bitrate       kbit/s (default 54000)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any, TypeVar

from app.nm.const import ApFlags, ApSecurityFlags
from app.simulator.versions import NEWEST, Version, parse_version, version_text
from app.wifi import SecurityKind

_E = TypeVar("_E", bound=StrEnum)
_V = TypeVar("_V")


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the bad key."""


# What an access point asks of a client: the kinds (and names) the app itself uses.
Security = SecurityKind


class Failure(StrEnum):
    """How joining a network goes wrong, whatever the client does."""

    WRONG_PASSWORD = "wrong_password"
    DHCP_FAILS = "dhcp_fails"
    HANG = "hang"
    NOT_FOUND = "not_found"


class DeviceKind(StrEnum):
    WIFI = "wifi"
    ETHERNET = "ethernet"


class ApModeScan(StrEnum):
    """RequestScan while the device is an access point."""

    REFUSE = "refuse"
    EMPTY = "empty"
    WORKS = "works"


class ScanBehaviour(StrEnum):
    OK = "ok"
    REFUSE = "refuse"
    HANG = "hang"


CONNECTIVITY = {"none": 1, "portal": 2, "limited": 3, "full": 4}

# What NetworkManager (GDBus) answers a Get of a property it does not have: seen on 1.30-1.52.
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
# A D-Bus error name: two or more dot-separated elements of letters, digits and _, no leading digit.
_ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")

# The flag values are NetworkManager's (app.nm.const); what they mean is decided here, apart
# from app.nm.security, so that the simulator stays an independent check of the app.
_CCMP = ApSecurityFlags.PAIR_CCMP | ApSecurityFlags.GROUP_CCMP
# (Flags, WpaFlags, RsnFlags) of a WPA2/WPA3-era access point of each kind.
_FLAGS: dict[Security, tuple[int, int, int]] = {
    Security.OPEN: (0, 0, 0),
    Security.OWE: (ApFlags.PRIVACY, 0, ApSecurityFlags.KEY_MGMT_OWE | _CCMP),
    Security.OWE_TRANSITION: (0, 0, ApSecurityFlags.KEY_MGMT_OWE_TM),
    Security.WEP: (ApFlags.PRIVACY, 0, 0),
    Security.WPA_PSK: (ApFlags.PRIVACY, 0, ApSecurityFlags.KEY_MGMT_PSK | _CCMP),
    Security.SAE: (ApFlags.PRIVACY, 0, ApSecurityFlags.KEY_MGMT_SAE | _CCMP),
    Security.WPA_PSK_SAE: (
        ApFlags.PRIVACY,
        0,
        ApSecurityFlags.KEY_MGMT_PSK | ApSecurityFlags.KEY_MGMT_SAE | _CCMP,
    ),
    Security.WPA_EAP: (ApFlags.PRIVACY, 0, ApSecurityFlags.KEY_MGMT_802_1X | _CCMP),
}


def security_from_flags(flags: int, wpa_flags: int, rsn_flags: int) -> Security:
    """The kind of network raw AP flags describe, as a client's supplicant would see it."""
    sec = wpa_flags | rsn_flags
    psk, sae = bool(sec & ApSecurityFlags.KEY_MGMT_PSK), bool(sec & ApSecurityFlags.KEY_MGMT_SAE)
    if sec & ApSecurityFlags.KEY_MGMT_802_1X:
        return Security.WPA_EAP
    if psk and sae:
        return Security.WPA_PSK_SAE
    if sae:
        return Security.SAE
    if psk:
        return Security.WPA_PSK
    if sec & ApSecurityFlags.KEY_MGMT_OWE:
        return Security.OWE
    if sec & ApSecurityFlags.KEY_MGMT_OWE_TM:
        return Security.OWE_TRANSITION
    if flags & ApFlags.PRIVACY:
        return Security.WEP
    return Security.OPEN


@dataclass(frozen=True)
class Ip4Spec:
    """The IPv4 configuration a client gets from a network's DHCP server."""

    address: IPv4Interface
    gateway: IPv4Address | None
    dns: tuple[IPv4Address, ...]


@dataclass(frozen=True)
class NetworkSpec:
    """One access point in the air, and what it accepts."""

    ssid: bytes
    security: Security
    flags: int
    wpa_flags: int
    rsn_flags: int
    bssid: str
    ip4: Ip4Spec
    strength: int = 70
    frequency: int = 2437
    hidden: bool = False
    passphrase: str | None = field(default=None, repr=False)
    identity: str | None = None
    failure: Failure | None = None
    failure_reason: int | None = None
    connectivity: int | None = None
    max_bitrate: int = 54000


@dataclass(frozen=True)
class DeviceSpec:
    """A network device NetworkManager manages."""

    interface: str
    kind: DeviceKind
    hw_address: str
    managed: bool = True
    single_radio: bool = True
    supports_ap: bool = True
    ap_mode_scan: ApModeScan = ApModeScan.REFUSE
    scan: ScanBehaviour = ScanBehaviour.OK
    carrier: bool = True
    connected: bool = False
    connectivity: int | None = None
    ap_link: str | None = None
    uplink_link: str | None = None
    ip_interface: str | None = None


@dataclass(frozen=True)
class Outage:
    """NetworkManager leaves the bus after `after_ms` and comes back `duration_ms` later."""

    after_ms: int
    duration_ms: int


class FaultAction(StrEnum):
    """What an injected fault does to a method call."""

    FAIL = "fail"
    HANG = "hang"


@dataclass(frozen=True)
class Fault:
    """Calls `skip`+1 to `skip`+`times` of a method (every later one when `times` is 0) fail."""

    method: str
    action: FaultAction = FaultAction.FAIL
    skip: int = 0
    times: int = 1

    def applies(self, call: int) -> bool:
        """Whether the method's call number `call` (counted from 0) gets the fault."""
        return call >= self.skip and (self.times == 0 or call < self.skip + self.times)


@dataclass(frozen=True)
class Scenario:
    """Everything the simulator needs to know; build it with parse_scenario or load_scenario."""

    devices: tuple[DeviceSpec, ...]
    networks: tuple[NetworkSpec, ...] = ()
    activation_delay_ms: int = 50
    deactivation_delay_ms: int = 10
    scan_delay_ms: int = 50
    startup_delay_ms: int = 0
    connectivity_delay_ms: int = 0
    connectivity: int = CONNECTIVITY["full"]
    nm_version: Version = NEWEST
    missing_property_error: str = INVALID_ARGS
    version: str = f"{version_text(NEWEST)}.0"
    outages: tuple[Outage, ...] = ()
    faults: tuple[Fault, ...] = ()
    avahi_host_name: str | None = None


class _Object:
    """Typed, key-checked reads from one JSON object; errors name the file and the key path."""

    def __init__(self, value: Any, where: str, source: str) -> None:
        if not isinstance(value, dict):
            raise ScenarioError(f"{source}: {where or 'the top level'} must be a JSON object")
        self._data: dict[str, Any] = value
        self._where = where
        self._source = source
        self._read: set[str] = set()

    def error(self, key: str, message: str) -> ScenarioError:
        name = f"{self._where}.{key}" if self._where else key
        return ScenarioError(f"{self._source}: {name}: {message}")

    def has(self, key: str) -> bool:
        return key in self._data

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._data.get(key)

    def _typed(self, key: str, kind: type[_V], what: str) -> _V | None:
        """The value of `key` if it is of `kind` (bool is not an int here), None when unset."""
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"must be {what}, not {json.dumps(value)}")
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._typed(key, str, "a string")
        return default if value is None else value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "is required")
        return value

    def integer(self, key: str, default: int, low: int = 0, high: int = 2**31 - 1) -> int:
        value = self._typed(key, int, "an integer")
        if value is None:
            return default
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high}, not {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._typed(key, bool, "true or false")
        return default if value is None else value

    def choice(self, key: str, enum: type[_E], default: _E | None) -> _E | None:
        value = self.text(key)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise self.error(key, f"'{value}' is not one of {allowed}") from None

    def connectivity(self, key: str, default: int | None) -> int | None:
        value = self.text(key)
        if value is None:
            return default
        if value not in CONNECTIVITY:
            raise self.error(key, f"'{value}' is not one of {', '.join(CONNECTIVITY)}")
        return CONNECTIVITY[value]

    def objects(self, key: str) -> list[_Object]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, "must be a list")
        prefix = f"{self._where}.{key}" if self._where else key
        return [_Object(item, f"{prefix}[{i}]", self._source) for i, item in enumerate(value)]

    def child(self, key: str) -> _Object | None:
        value = self._get(key)
        if value is None:
            return None
        prefix = f"{self._where}.{key}" if self._where else key
        return _Object(value, prefix, self._source)

    def raw(self, key: str) -> Any:
        return self._get(key)

    def check_unknown(self) -> None:
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def _mac(value: str, obj: _Object, key: str) -> str:
    parts = value.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise obj.error(key, f"'{value}' is not a MAC address like 02:00:00:00:00:01")
    try:
        bytes.fromhex("".join(parts))
    except ValueError:
        raise obj.error(key, f"'{value}' is not a MAC address like 02:00:00:00:00:01") from None
    return value.upper()


def _link_name(obj: _Object, key: str) -> str | None:
    name = obj.text(key)
    # The kernel's own rule (dev_valid_name): 1-15 bytes, no '/' or whitespace, not . or ..
    if name is not None and (
        not 1 <= len(name.encode()) <= 15
        or name in (".", "..")
        or any(c == "/" or c.isspace() for c in name)
    ):
        raise obj.error(key, f"'{name}' is not a Linux interface name (1-15 characters)")
    return name


def _device(obj: _Object, index: int) -> DeviceSpec:
    interface = obj.required_text("interface")
    if not 1 <= len(interface) <= 15:
        raise obj.error("interface", "must be 1-15 characters (a Linux interface name)")
    kind = obj.choice("type", DeviceKind, DeviceKind.WIFI) or DeviceKind.WIFI
    single_radio = obj.boolean("single_radio", True)
    default_ap_scan = ApModeScan.REFUSE if single_radio else ApModeScan.WORKS
    connected = obj.boolean("connected", False)
    if connected and kind is not DeviceKind.ETHERNET:
        raise obj.error("connected", "only an ethernet device can start connected")
    carrier = obj.boolean("carrier", True)
    if connected and not carrier:
        raise obj.error("connected", "a device without carrier cannot be connected")
    ap_link = _link_name(obj, "ap_link")
    if ap_link is not None and kind is not DeviceKind.WIFI:
        raise obj.error("ap_link", "only a WiFi device can be an access point")
    spec = DeviceSpec(
        interface=interface,
        kind=kind,
        hw_address=_mac(
            obj.text("hw_address") or f"02:00:00:00:00:{index + 1:02X}", obj, "hw_address"
        ),
        managed=obj.boolean("managed", True),
        single_radio=single_radio,
        supports_ap=obj.boolean("supports_ap", True),
        ap_mode_scan=obj.choice("ap_mode_scan", ApModeScan, default_ap_scan) or default_ap_scan,
        scan=obj.choice("scan", ScanBehaviour, ScanBehaviour.OK) or ScanBehaviour.OK,
        carrier=carrier,
        connected=connected,
        connectivity=obj.connectivity("connectivity", None),
        ap_link=ap_link,
        uplink_link=_link_name(obj, "uplink_link"),
        ip_interface=_link_name(obj, "ip_interface"),
    )
    obj.check_unknown()
    return spec


def _ssid(obj: _Object) -> bytes:
    if obj.has("ssid") and obj.has("ssid_hex"):
        raise obj.error("ssid_hex", "give either ssid or ssid_hex, not both")
    if obj.has("ssid_hex"):
        text = obj.required_text("ssid_hex")
        try:
            ssid = bytes.fromhex(text)
        except ValueError:
            raise obj.error("ssid_hex", f"'{text}' is not hex digits") from None
        key = "ssid_hex"
    else:
        ssid = obj.required_text("ssid").encode()
        key = "ssid"
    if not 1 <= len(ssid) <= 32:
        raise obj.error(key, f"must be 1-32 bytes, not {len(ssid)}")
    return ssid


def _ip4(obj: _Object | None, index: int) -> Ip4Spec:
    if obj is None:
        # A distinct subnet per network, so a test can tell which one it joined.
        subnet = 100 + index % 150
        router = IPv4Address(f"192.168.{subnet}.1")
        return Ip4Spec(IPv4Interface(f"192.168.{subnet}.23/24"), router, (router,))
    try:
        address = IPv4Interface(obj.required_text("address"))
    except ValueError as err:
        raise obj.error("address", str(err)) from None
    gateway_text = obj.text("gateway")
    try:
        gateway = IPv4Address(gateway_text) if gateway_text else None
    except ValueError as err:
        raise obj.error("gateway", str(err)) from None
    dns_value = obj.raw("dns")
    if dns_value is None:
        dns_value = [str(gateway)] if gateway else []
    if not isinstance(dns_value, list) or not all(isinstance(d, str) for d in dns_value):
        raise obj.error("dns", "must be a list of IPv4 addresses")
    try:
        dns = tuple(IPv4Address(d) for d in dns_value)
    except ValueError as err:
        raise obj.error("dns", str(err)) from None
    obj.check_unknown()
    return Ip4Spec(address, gateway, dns)


def _network(obj: _Object, index: int) -> NetworkSpec:
    ssid = _ssid(obj)
    raw_keys = [k for k in ("flags", "wpa_flags", "rsn_flags") if obj.has(k)]
    if raw_keys and obj.has("security"):
        raise obj.error("security", f"give either security or {raw_keys[0]}, not both")
    if raw_keys:
        flags = obj.integer("flags", 0, 0, 0xFFFF)
        wpa_flags = obj.integer("wpa_flags", 0, 0, 0xFFFF)
        rsn_flags = obj.integer("rsn_flags", 0, 0, 0xFFFF)
        security = security_from_flags(flags, wpa_flags, rsn_flags)
    else:
        security = obj.choice("security", Security, Security.OPEN) or Security.OPEN
        flags, wpa_flags, rsn_flags = _FLAGS[security]
    passphrase = obj.text("passphrase")
    identity = obj.text("identity")
    needs_secret = security not in (Security.OPEN, Security.OWE, Security.OWE_TRANSITION)
    if needs_secret and passphrase is None:
        raise obj.error("passphrase", f"is required for a {security.value} network")
    if security is Security.WPA_EAP and identity is None:
        raise obj.error("identity", "is required for a wpa-eap network")
    failure = obj.choice("failure", Failure, None)
    if failure is Failure.WRONG_PASSWORD and not needs_secret:
        raise obj.error("failure", f"a {security.value} network has no password to refuse")
    spec = NetworkSpec(
        ssid=ssid,
        security=security,
        flags=flags,
        wpa_flags=wpa_flags,
        rsn_flags=rsn_flags,
        bssid=_mac(obj.text("bssid") or f"02:00:00:00:01:{index + 1:02X}", obj, "bssid"),
        ip4=_ip4(obj.child("ip4"), index),
        strength=obj.integer("strength", 70, 0, 100),
        frequency=obj.integer("frequency", 2437, 1, 100_000),
        hidden=obj.boolean("hidden", False),
        passphrase=passphrase,
        identity=identity,
        failure=failure,
        failure_reason=obj.integer("failure_reason", 0, 0, 1000) or None,
        connectivity=obj.connectivity("connectivity", None),
        max_bitrate=obj.integer("max_bitrate", 54000, 0, 10_000_000),
    )
    obj.check_unknown()
    return spec


def _nm_version(obj: _Object) -> Version:
    text = obj.text("nm_version")
    if text is None:
        return NEWEST
    try:
        return parse_version(text)
    except ValueError as err:
        raise obj.error("nm_version", str(err)) from None


def _error_name(obj: _Object, key: str, default: str) -> str:
    name = obj.text(key, default) or default
    if len(name) > 255 or not _ERROR_NAME.fullmatch(name):
        raise obj.error(key, f"'{name}' is not a D-Bus error name like {INVALID_ARGS}")
    return name


def _host_label(obj: _Object, key: str) -> str | None:
    """A host name as Avahi has one: one DNS label, or None when the key is absent."""
    name = obj.text(key)
    if name is None:
        return None
    if not _HOST_LABEL.fullmatch(name):
        raise obj.error(key, f"'{name}' is not a host name (letters, digits and -, up to 63)")
    return name


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    """Validate a decoded JSON document into a Scenario; raises ScenarioError naming the key."""
    top = _Object(data, "", source)
    device_objects = top.objects("devices")
    devices = tuple(_device(obj, i) for i, obj in enumerate(device_objects))
    if not top.has("devices"):
        devices = (DeviceSpec("wlan0", DeviceKind.WIFI, "02:00:00:00:00:01"),)
    names = [d.interface for d in devices]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ScenarioError(f"{source}: devices[{i}].interface: '{name}' appears twice")
    outages = []
    for obj in top.objects("outages"):
        outages.append(Outage(obj.integer("after_ms", 0), obj.integer("duration_ms", 0)))
        obj.check_unknown()
    faults = []
    for obj in top.objects("faults"):
        action = obj.choice("action", FaultAction, FaultAction.FAIL) or FaultAction.FAIL
        skip, times = obj.integer("skip", 0), obj.integer("times", 1)
        faults.append(Fault(obj.required_text("method"), action, skip, times))
        obj.check_unknown()
    networks = tuple(_network(obj, i) for i, obj in enumerate(top.objects("networks")))
    bssids = [n.bssid for n in networks]
    for i, bssid in enumerate(bssids):
        if bssid in bssids[:i]:
            raise ScenarioError(f"{source}: networks[{i}].bssid: '{bssid}' appears twice")
    nm_version = _nm_version(top)
    scenario = Scenario(
        devices=devices,
        networks=networks,
        activation_delay_ms=top.integer("activation_delay_ms", 50),
        deactivation_delay_ms=top.integer("deactivation_delay_ms", 10),
        scan_delay_ms=top.integer("scan_delay_ms", 50),
        startup_delay_ms=top.integer("startup_delay_ms", 0),
        connectivity_delay_ms=top.integer("connectivity_delay_ms", 0),
        connectivity=top.connectivity("connectivity", CONNECTIVITY["full"]) or 4,
        nm_version=nm_version,
        missing_property_error=_error_name(top, "missing_property_error", INVALID_ARGS),
        version=top.text("version") or f"{version_text(nm_version)}.0",
        outages=tuple(outages),
        faults=tuple(faults),
        avahi_host_name=_host_label(top, "avahi_host_name"),
    )
    top.check_unknown()
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read: {err.strerror}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ScenarioError(f"{path}: not JSON: {err}") from err
    return parse_scenario(data, str(path))


def default_scenario() -> Scenario:
    """The scenario shipped with the package: a dozen networks of every kind."""
    text = resources.files("app.simulator").joinpath("scenarios/default.json").read_text("utf-8")
    return parse_scenario(json.loads(text), "default.json")


def flags_for(security: Security) -> tuple[int, int, int]:
    """The (Flags, WpaFlags, RsnFlags) the simulator reports for a kind of network."""
    return _FLAGS[security]


def visible(networks: Sequence[NetworkSpec], ssid: bytes) -> list[NetworkSpec]:
    """The access points in the air broadcasting or hiding this SSID, strongest first."""
    return sorted((n for n in networks if n.ssid == ssid), key=lambda n: -n.strength)


__all__ = [
    "CONNECTIVITY",
    "ApModeScan",
    "DeviceKind",
    "DeviceSpec",
    "Failure",
    "Fault",
    "FaultAction",
    "Ip4Spec",
    "NetworkSpec",
    "Outage",
    "ScanBehaviour",
    "Scenario",
    "ScenarioError",
    "Security",
    "default_scenario",
    "flags_for",
    "load_scenario",
    "parse_scenario",
    "security_from_flags",
    "visible",
]
