"""What an activation will do, decided up front from the profile, the device and the air.

The state sequences follow NetworkManager 1.42's WiFi device (src/core/devices/wifi/
nm-device-wifi.c) with no secret agent registered, which is the case on a headless device:
- success: PREPARE, CONFIG, IP_CONFIG, IP_CHECK, SECONDARIES, ACTIVATED;
- wrong WPA-PSK: the supplicant drops out of the 4-way handshake, the device goes NEED_AUTH
  (reason 8 supplicant-disconnect), asks the agents for a new key, gets none: FAILED, reason 7
  no-secrets;
- wrong SAE or 802.1X password, or a profile without its secret: the association times out,
  NEED_AUTH (reason 0), no agent: FAILED 7;
- wrong WEP key: open-system WEP associates anyway, so DHCP never gets an answer: FAILED,
  reason 5 ip-config-unavailable (what NetworkManager reports when DHCP times out: verified
  with a real NetworkManager 1.42.4 and a DHCP-less veth);
- no access point with the SSID and a compatible security (or a hidden one the profile does not
  mark hidden): the supplicant never finds it: FAILED, reason 53 ssid-not-found.
Every failure then goes DISCONNECTED with reason 0.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface

from app.simulator.scenario import (
    CONNECTIVITY,
    DeviceKind,
    DeviceSpec,
    Failure,
    Ip4Spec,
    NetworkSpec,
    Scenario,
    Security,
)
from app.simulator.settings import IEEE_8021X, WIRELESS, WIRELESS_SECURITY, Wire, text, value

PREPARE, CONFIG, NEED_AUTH, IP_CONFIG, IP_CHECK, SECONDARIES, ACTIVATED, FAILED = (
    40,
    50,
    60,
    70,
    80,
    90,
    100,
    120,
)
REASON_IP_CONFIG_UNAVAILABLE = 5
REASON_NO_SECRETS = 7
REASON_SUPPLICANT_DISCONNECT = 8
REASON_SSID_NOT_FOUND = 53

_SUCCESS = (
    (PREPARE, 0),
    (CONFIG, 0),
    (IP_CONFIG, 0),
    (IP_CHECK, 0),
    (SECONDARIES, 0),
    (ACTIVATED, 0),
)
# The address NetworkManager gives a shared-mode hotspot when the profile names none.
_SHARED_DEFAULT = IPv4Interface("10.42.0.1/24")
# What an ethernet uplink's "DHCP server" hands out.
_WIRED = Ip4Spec(
    IPv4Interface("10.77.0.2/24"), IPv4Address("10.77.0.1"), (IPv4Address("10.77.0.1"),)
)

Step = tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """The device states (with reasons) an activation goes through, and what it ends with."""

    steps: tuple[Step, ...]
    network: NetworkSpec | None = None
    hang: bool = False
    ap_mode: bool = False
    ip4: Ip4Spec | None = None
    connectivity: int = CONNECTIVITY["none"]

    @property
    def succeeds(self) -> bool:
        return not self.hang and self.steps[-1][0] == ACTIVATED


def _fail(before: Sequence[Step], reason: int, network: NetworkSpec | None = None) -> Plan:
    return Plan(steps=(*before, (FAILED, reason)), network=network)


def compatible(security: Security, key_mgmt: str | None) -> bool:
    """Whether a profile with this key-mgmt (None: no security setting) can join such an AP."""
    accepted = {
        None: (Security.OPEN, Security.OWE_TRANSITION),
        "none": (Security.WEP,),
        "owe": (Security.OWE, Security.OWE_TRANSITION),
        "wpa-psk": (Security.WPA_PSK, Security.WPA_PSK_SAE),
        "sae": (Security.SAE, Security.WPA_PSK_SAE),
        "wpa-eap": (Security.WPA_EAP,),
        "ieee8021x": (Security.WPA_EAP,),
    }
    return security in accepted.get(key_mgmt, ())


def wpa_pmk(passphrase: str, ssid: bytes) -> str:
    """The 64-hex-digit key a WPA passphrase stands for (IEEE 802.11i PBKDF2-SHA1)."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid, 4096, 32).hex()


def _wep_bytes(key: str) -> bytes | None:
    if len(key) in (10, 26):
        try:
            return bytes.fromhex(key)
        except ValueError:
            return None
    return key.encode() if len(key) in (5, 13) else None


def _secret_ok(network: NetworkSpec, settings: Wire, key_mgmt: str | None) -> bool | None:
    """True when the profile's secret is accepted, False when refused, None when it has none."""
    expected = network.passphrase or ""
    if key_mgmt in ("wpa-psk", "sae"):
        psk = text(settings, WIRELESS_SECURITY, "psk")
        if psk is None:
            return None
        if key_mgmt == "wpa-psk" and psk.lower() == wpa_pmk(expected, network.ssid):
            return True
        return psk == expected
    if key_mgmt == "none":
        index = int(value(settings, WIRELESS_SECURITY, "wep-tx-keyidx") or 0)
        key = text(settings, WIRELESS_SECURITY, f"wep-key{index}")
        if key is None:
            return None
        if int(value(settings, WIRELESS_SECURITY, "wep-key-type") or 0) == 2:
            return key == expected
        given = _wep_bytes(key)
        return given is not None and given == _wep_bytes(expected)
    if key_mgmt in ("wpa-eap", "ieee8021x"):
        password = text(settings, IEEE_8021X, "password")
        if password is None:
            return None
        identity = text(settings, IEEE_8021X, "identity")
        return identity == network.identity and password == expected
    return True


def _refused(network: NetworkSpec, key_mgmt: str | None, missing: bool) -> Plan:
    """The steps after a refused (or absent) secret, by kind of security."""
    if key_mgmt == "none" and not missing:
        return _fail(
            ((PREPARE, 0), (CONFIG, 0), (IP_CONFIG, 0)), REASON_IP_CONFIG_UNAVAILABLE, network
        )
    need_auth_reason = REASON_SUPPLICANT_DISCONNECT if key_mgmt == "wpa-psk" and not missing else 0
    steps = ((PREPARE, 0), (CONFIG, 0), (NEED_AUTH, need_auth_reason))
    return _fail(steps, REASON_NO_SECRETS, network)


def _with_reason(plan: Plan, reason: int | None) -> Plan:
    """The plan with a scenario's failure_reason in place of the usual final reason."""
    if reason is None or plan.steps[-1][0] != FAILED:
        return plan
    return Plan(steps=(*plan.steps[:-1], (FAILED, reason)), network=plan.network)


def _first_address(settings: Wire) -> IPv4Interface | None:
    """The profile's first valid ipv4.address-data entry."""
    for entry in value(settings, "ipv4", "address-data") or []:
        try:
            return IPv4Interface(f"{entry['address']}/{entry['prefix']}")
        except (KeyError, ValueError, TypeError):
            continue
    return None


def _static_ip4(settings: Wire) -> Ip4Spec | None:
    """A manual profile's own address, gateway and DNS servers; None when DHCP gives them."""
    address = _first_address(settings)
    if text(settings, "ipv4", "method") != "manual" or address is None:
        return None
    gateway = text(settings, "ipv4", "gateway")
    # ipv4.dns is in_addr_t: the address's bytes as this host's memory holds a uint32.
    dns = tuple(
        IPv4Address(int(server).to_bytes(4, sys.byteorder))
        for server in value(settings, "ipv4", "dns") or []
    )
    return Ip4Spec(address, IPv4Address(gateway) if gateway else None, dns)


def _hotspot(settings: Wire) -> Plan:
    address = _first_address(settings) or _SHARED_DEFAULT
    return Plan(steps=_SUCCESS, ap_mode=True, ip4=Ip4Spec(address, None, ()))


def plan_wifi(settings: Wire, air: Sequence[NetworkSpec], scenario: Scenario) -> Plan:
    """Join a WiFi network (or start a hotspot) from a profile, given what is in the air."""
    if text(settings, WIRELESS, "mode") == "ap":
        return _hotspot(settings)
    ssid = value(settings, WIRELESS, "ssid") or b""
    hidden_ok = bool(value(settings, WIRELESS, "hidden"))
    key_mgmt = (
        text(settings, WIRELESS_SECURITY, "key-mgmt") if WIRELESS_SECURITY in settings else None
    )
    candidates = sorted(
        (
            n
            for n in air
            if n.ssid == ssid and (hidden_ok or not n.hidden) and compatible(n.security, key_mgmt)
        ),
        key=lambda n: -n.strength,
    )
    if not candidates:
        return _fail(((PREPARE, 0), (CONFIG, 0)), REASON_SSID_NOT_FOUND)
    network = candidates[0]
    if network.failure is Failure.NOT_FOUND:
        plan = _fail(((PREPARE, 0), (CONFIG, 0)), REASON_SSID_NOT_FOUND, network)
        return _with_reason(plan, network.failure_reason)
    if network.failure is Failure.HANG:
        return Plan(steps=((PREPARE, 0), (CONFIG, 0)), network=network, hang=True)
    accepted = _secret_ok(network, settings, key_mgmt)
    if accepted is None or not accepted or network.failure is Failure.WRONG_PASSWORD:
        plan = _refused(network, key_mgmt, missing=accepted is None)
        return _with_reason(plan, network.failure_reason)
    static = _static_ip4(settings)
    if network.failure is Failure.DHCP_FAILS and static is None:
        # A static profile asks no DHCP server, so one that never answers does not matter.
        steps = ((PREPARE, 0), (CONFIG, 0), (IP_CONFIG, 0))
        plan = _fail(steps, REASON_IP_CONFIG_UNAVAILABLE, network)
        return _with_reason(plan, network.failure_reason)
    connectivity = network.connectivity or scenario.connectivity
    ip4 = static or network.ip4
    return Plan(steps=_SUCCESS, network=network, ip4=ip4, connectivity=connectivity)


def plan_ethernet(settings: Wire, device: DeviceSpec, scenario: Scenario) -> Plan:
    """Bring up a wired profile: it always works when the cable is in."""
    ip4 = _static_ip4(settings) or _WIRED
    connectivity = device.connectivity or scenario.connectivity
    return Plan(steps=_SUCCESS, ip4=ip4, connectivity=connectivity)


def plan_activation(
    settings: Wire, device: DeviceSpec, air: Sequence[NetworkSpec], scenario: Scenario
) -> Plan:
    """The plan for activating `settings` on `device`."""
    if device.kind is DeviceKind.ETHERNET:
        return plan_ethernet(settings, device, scenario)
    return plan_wifi(settings, air, scenario)
