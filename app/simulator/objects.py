"""The simulated NetworkManager's D-Bus objects: state, properties, methods and signals.

Names and signatures follow NetworkManager's introspection XML. Each class holds its own state;
whoever changes a property calls `notify` so PropertiesChanged goes out. Methods that need more
than their own object delegate to the SimulatedNetworkManager that owns them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Any

from dbus_next.signature import Variant

from app.simulator._dbus import (
    ServiceInterface,
    dbus_method,
    dbus_property,
    dbus_signal,
    notify,
)
from app.simulator.scenario import DeviceKind, DeviceSpec
from app.simulator.settings import Wire, without_secrets

if TYPE_CHECKING:
    from app.simulator.service import SimulatedNetworkManager

ROOT = "/"
BASE = "/org/freedesktop/NetworkManager"

# Enum values from nm-dbus-interface.h that the simulator sets.
DEVICE_TYPE_ETHERNET = 1
DEVICE_TYPE_WIFI = 2
MODE_INFRA = 2
MODE_AP = 3
# NM_WIFI_DEVICE_CAP_*: WEP40|WEP104|TKIP|CCMP|WPA|RSN|AP|ADHOC|FREQ_VALID|FREQ_2GHZ|FREQ_5GHZ
WIFI_CAPS_WITH_AP = 0x7FF
WIFI_CAP_AP = 0x40


def _u32(address: IPv4Address) -> int:
    """NetworkManager's legacy encoding: the address bytes read as a host-order integer."""
    return int.from_bytes(address.packed, sys.byteorder)


@dataclass(frozen=True)
class Ip4Data:
    """What an IP4Config object reports."""

    address: IPv4Interface | None = None
    gateway: IPv4Address | None = None
    dns: tuple[IPv4Address, ...] = ()


def _initial_state(spec: DeviceSpec) -> tuple[int, int]:
    """(State, reason) of a device NetworkManager has just found."""
    if not spec.managed:
        return 10, 0
    if spec.kind is DeviceKind.ETHERNET and not spec.carrier:
        # UNAVAILABLE, reason NM_DEVICE_STATE_REASON_CARRIER: no cable.
        return 20, 40
    return 30, 0


class ManagerInterface(ServiceInterface):
    """org.freedesktop.NetworkManager at /org/freedesktop/NetworkManager."""

    def __init__(self, sim: SimulatedNetworkManager) -> None:
        super().__init__("org.freedesktop.NetworkManager")
        self._sim = sim
        self.nm_state = 20
        self.connectivity = 1
        self.primary = ROOT
        self.primary_type = ""
        self.activating = ROOT
        self.startup = False

    @dbus_method(out_signature="ao")
    def GetDevices(self) -> list[str]:
        return self._sim.device_paths()

    @dbus_method(out_signature="ao")
    def GetAllDevices(self) -> list[str]:
        return self._sim.device_paths()

    @dbus_method("s", "o")
    def GetDeviceByIpIface(self, iface: str) -> str:
        return self._sim.device_by_interface(iface)

    @dbus_method("ooo", "o")
    def ActivateConnection(self, connection: str, device: str, specific_object: str) -> str:
        return self._sim.activate(connection, device, specific_object)

    @dbus_method("o")
    def DeactivateConnection(self, active_connection: str) -> None:
        self._sim.deactivate(active_connection)

    @dbus_method(out_signature="u")
    def CheckConnectivity(self) -> int:
        return self._sim.check_connectivity()

    @dbus_method(out_signature="u")
    def state(self) -> int:
        return self.nm_state

    @dbus_property("ao")
    def Devices(self) -> list[str]:
        return self._sim.device_paths()

    @dbus_property("ao")
    def AllDevices(self) -> list[str]:
        return self._sim.device_paths()

    @dbus_property("ao")
    def ActiveConnections(self) -> list[str]:
        return self._sim.active_paths()

    @dbus_property("o")
    def PrimaryConnection(self) -> str:
        return self.primary

    @dbus_property("s")
    def PrimaryConnectionType(self) -> str:
        return self.primary_type

    @dbus_property("o")
    def ActivatingConnection(self) -> str:
        return self.activating

    @dbus_property("b")
    def Startup(self) -> bool:
        return self.startup

    @dbus_property("s")
    def Version(self) -> str:
        return self._sim.scenario.version

    @dbus_property("au")
    def VersionInfo(self) -> list[int]:
        # NM_ENCODE_VERSION(major, minor, 0), and no capabilities.
        major, minor = self._sim.scenario.nm_version
        return [major << 16 | minor << 8]

    @dbus_property("u")
    def RadioFlags(self) -> int:
        # NM_RADIO_FLAG_WLAN_AVAILABLE
        return 1

    @dbus_property("u")
    def State(self) -> int:
        return self.nm_state

    @dbus_property("u")
    def Connectivity(self) -> int:
        return self.connectivity

    @dbus_property("b")
    def ConnectivityCheckAvailable(self) -> bool:
        return True

    @dbus_property("b")
    def ConnectivityCheckEnabled(self) -> bool:
        return True

    @dbus_property("b")
    def NetworkingEnabled(self) -> bool:
        return True

    @dbus_property("b")
    def WirelessEnabled(self) -> bool:
        return True

    @dbus_property("b")
    def WirelessHardwareEnabled(self) -> bool:
        return True

    @dbus_property("u")
    def Metered(self) -> int:
        return 0

    @dbus_signal("u")
    def StateChanged(self, state: int) -> int:
        return state


class SettingsInterface(ServiceInterface):
    """org.freedesktop.NetworkManager.Settings at /org/freedesktop/NetworkManager/Settings."""

    def __init__(self, sim: SimulatedNetworkManager) -> None:
        super().__init__("org.freedesktop.NetworkManager.Settings")
        self._sim = sim

    @dbus_method(out_signature="ao")
    def ListConnections(self) -> list[str]:
        return self._sim.connection_paths()

    @dbus_method("s", "o")
    def GetConnectionByUuid(self, uuid: str) -> str:
        return self._sim.connection_by_uuid(uuid)

    @dbus_method("a{sa{sv}}", "o")
    def AddConnection(self, connection: Wire) -> str:
        return self._sim.add_connection(connection, unsaved=False)

    @dbus_method("a{sa{sv}}", "o")
    def AddConnectionUnsaved(self, connection: Wire) -> str:
        return self._sim.add_connection(connection, unsaved=True)

    @dbus_method("a{sa{sv}}ua{sv}", "oa{sv}")
    def AddConnection2(
        self, connection: Wire, flags: int, args: dict[str, Variant]
    ) -> tuple[str, dict[str, Variant]]:
        return self._sim.add_connection2(connection, flags, args), {}

    @dbus_property("ao")
    def Connections(self) -> list[str]:
        return self._sim.connection_paths()

    @dbus_property("s")
    def Hostname(self) -> str:
        return "simulated"

    @dbus_property("b")
    def CanModify(self) -> bool:
        return True

    @dbus_signal("o")
    def NewConnection(self, connection: str) -> str:
        return connection

    @dbus_signal("o")
    def ConnectionRemoved(self, connection: str) -> str:
        return connection


class ConnectionInterface(ServiceInterface):
    """A stored profile: org.freedesktop.NetworkManager.Settings.Connection."""

    def __init__(
        self,
        sim: SimulatedNetworkManager,
        path: str,
        settings: Wire,
        received: dict[str, dict[str, Any]],
        *,
        unsaved: bool,
        filename: str,
    ) -> None:
        super().__init__("org.freedesktop.NetworkManager.Settings.Connection")
        self._sim = sim
        self.path = path
        self.settings = settings
        self.received = received
        self.unsaved = unsaved
        self.filename = filename

    @property
    def id(self) -> str:
        return str(self.settings["connection"]["id"].value)

    @property
    def uuid(self) -> str:
        return str(self.settings["connection"]["uuid"].value)

    @property
    def kind(self) -> str:
        return str(self.settings["connection"]["type"].value)

    @dbus_method(out_signature="a{sa{sv}}")
    def GetSettings(self) -> Wire:
        return without_secrets(self.settings)

    @dbus_method("s", "a{sa{sv}}")
    def GetSecrets(self, setting_name: str) -> Wire:
        return self._sim.get_secrets(self, setting_name)

    @dbus_method("a{sa{sv}}")
    def Update(self, properties: Wire) -> None:
        self._sim.update_connection(self, properties, unsaved=False)

    @dbus_method("a{sa{sv}}")
    def UpdateUnsaved(self, properties: Wire) -> None:
        self._sim.update_connection(self, properties, unsaved=True)

    @dbus_method()
    def Delete(self) -> None:
        self._sim.delete_connection(self)

    @dbus_method()
    def Save(self) -> None:
        self._sim.save_connection(self)

    @dbus_property("b")
    def Unsaved(self) -> bool:
        return self.unsaved

    @dbus_property("u")
    def Flags(self) -> int:
        # NM_SETTINGS_CONNECTION_FLAG_UNSAVED
        return 1 if self.unsaved else 0

    @dbus_property("s")
    def Filename(self) -> str:
        return self.filename

    @dbus_signal()
    def Updated(self) -> None:
        return None

    @dbus_signal()
    def Removed(self) -> None:
        return None


class Ip4ConfigInterface(ServiceInterface):
    """org.freedesktop.NetworkManager.IP4Config: one per device, empty while disconnected."""

    def __init__(self, path: str) -> None:
        super().__init__("org.freedesktop.NetworkManager.IP4Config")
        self.path = path
        self.data = Ip4Data()

    def set(self, data: Ip4Data) -> None:
        self.data = data
        notify(
            self,
            "Addresses",
            "AddressData",
            "Gateway",
            "Routes",
            "RouteData",
            "Nameservers",
            "NameserverData",
            "DnsPriority",
        )

    @dbus_property("aau")
    def Addresses(self) -> list[list[int]]:
        address, gateway = self.data.address, self.data.gateway
        if address is None:
            return []
        gw = _u32(gateway) if gateway else 0
        return [[_u32(address.ip), address.network.prefixlen, gw]]

    @dbus_property("aa{sv}")
    def AddressData(self) -> list[dict[str, Variant]]:
        address = self.data.address
        if address is None:
            return []
        prefix = address.network.prefixlen
        return [{"address": Variant("s", str(address.ip)), "prefix": Variant("u", prefix)}]

    @dbus_property("s")
    def Gateway(self) -> str:
        return str(self.data.gateway) if self.data.gateway else ""

    @dbus_property("aau")
    def Routes(self) -> list[list[int]]:
        address = self.data.address
        if address is None:
            return []
        return [[_u32(address.network.network_address), address.network.prefixlen, 0, 100]]

    @dbus_property("aa{sv}")
    def RouteData(self) -> list[dict[str, Variant]]:
        address = self.data.address
        if address is None:
            return []
        routes = [
            {
                "dest": Variant("s", str(address.network.network_address)),
                "prefix": Variant("u", address.network.prefixlen),
                "metric": Variant("u", 100),
            }
        ]
        if self.data.gateway:
            routes.append(
                {
                    "dest": Variant("s", "0.0.0.0"),
                    "prefix": Variant("u", 0),
                    "next-hop": Variant("s", str(self.data.gateway)),
                    "metric": Variant("u", 100),
                }
            )
        return routes

    @dbus_property("au")
    def Nameservers(self) -> list[int]:
        return [_u32(d) for d in self.data.dns]

    @dbus_property("aa{sv}")
    def NameserverData(self) -> list[dict[str, Variant]]:
        return [{"address": Variant("s", str(d))} for d in self.data.dns]

    @dbus_property("as")
    def Domains(self) -> list[str]:
        return []

    @dbus_property("as")
    def Searches(self) -> list[str]:
        return []

    @dbus_property("as")
    def DnsOptions(self) -> list[str]:
        return []

    @dbus_property("i")
    def DnsPriority(self) -> int:
        return 100 if self.data.address else 0

    @dbus_property("au")
    def WinsServers(self) -> list[int]:
        return []

    @dbus_property("as")
    def WinsServerData(self) -> list[str]:
        return []


class AccessPointInterface(ServiceInterface):
    """org.freedesktop.NetworkManager.AccessPoint."""

    def __init__(
        self,
        path: str,
        *,
        ssid: bytes,
        bssid: str,
        flags: tuple[int, int, int],
        strength: int,
        frequency: int,
        mode: int = MODE_INFRA,
        max_bitrate: int = 54000,
        last_seen: int = -1,
    ) -> None:
        super().__init__("org.freedesktop.NetworkManager.AccessPoint")
        self.path = path
        self.ssid = ssid
        self.bssid = bssid
        self.flags, self.wpa_flags, self.rsn_flags = flags
        self.strength = strength
        self.frequency = frequency
        self.mode = mode
        self.max_bitrate = max_bitrate
        self.last_seen = last_seen

    @dbus_property("u")
    def Flags(self) -> int:
        return self.flags

    @dbus_property("u")
    def WpaFlags(self) -> int:
        return self.wpa_flags

    @dbus_property("u")
    def RsnFlags(self) -> int:
        return self.rsn_flags

    @dbus_property("ay")
    def Ssid(self) -> bytes:
        return self.ssid

    @dbus_property("u")
    def Frequency(self) -> int:
        return self.frequency

    @dbus_property("s")
    def HwAddress(self) -> str:
        return self.bssid

    @dbus_property("u")
    def Mode(self) -> int:
        return self.mode

    @dbus_property("u")
    def MaxBitrate(self) -> int:
        return self.max_bitrate

    @dbus_property("y")
    def Strength(self) -> int:
        return self.strength

    @dbus_property("i")
    def LastSeen(self) -> int:
        return self.last_seen


class _Ip4Only:
    """Config paths an activation and a device share: "/", as the simulator runs no DHCP or IPv6."""

    @dbus_property("o")
    def Dhcp4Config(self) -> str:
        return ROOT

    @dbus_property("o")
    def Ip6Config(self) -> str:
        return ROOT

    @dbus_property("o")
    def Dhcp6Config(self) -> str:
        return ROOT


class ActiveInterface(_Ip4Only, ServiceInterface):
    """org.freedesktop.NetworkManager.Connection.Active: one activation of a profile."""

    def __init__(self, path: str, connection: ConnectionInterface, device: DeviceInterface) -> None:
        super().__init__("org.freedesktop.NetworkManager.Connection.Active")
        self.path = path
        self.connection = connection
        self.device = device
        self.state = 1
        self.state_flags = 0
        self.specific_object = ROOT
        self.ip4_config = ROOT
        self.default = False
        self.connectivity = 1
        self.devices = [device.path]

    def set_state(self, state: int, reason: int) -> None:
        """Move to `state`: StateChanged first, then PropertiesChanged, as NetworkManager does."""
        self.state = state
        self.StateChanged(state, reason)
        notify(self, "State")

    @dbus_property("o")
    def Connection(self) -> str:
        return self.connection.path

    @dbus_property("o")
    def SpecificObject(self) -> str:
        return self.specific_object

    @dbus_property("s")
    def Id(self) -> str:
        return self.connection.id

    @dbus_property("s")
    def Uuid(self) -> str:
        return self.connection.uuid

    @dbus_property("s")
    def Type(self) -> str:
        return self.connection.kind

    @dbus_property("ao")
    def Devices(self) -> list[str]:
        return list(self.devices)

    @dbus_property("u")
    def State(self) -> int:
        return self.state

    @dbus_property("u")
    def StateFlags(self) -> int:
        return self.state_flags

    @dbus_property("b")
    def Default(self) -> bool:
        return self.default

    @dbus_property("o")
    def Ip4Config(self) -> str:
        return self.ip4_config

    @dbus_property("b")
    def Default6(self) -> bool:
        return False

    @dbus_property("b")
    def Vpn(self) -> bool:
        return False

    @dbus_property("o")
    def Controller(self) -> str:
        return ROOT

    @dbus_property("o")
    def Master(self) -> str:
        return ROOT

    @dbus_signal("uu")
    def StateChanged(self, state: int, reason: int) -> list[int]:
        return [state, reason]


class DeviceInterface(_Ip4Only, ServiceInterface):
    """org.freedesktop.NetworkManager.Device, shared by every kind of device."""

    def __init__(
        self, sim: SimulatedNetworkManager, path: str, spec: DeviceSpec, ip4: Ip4ConfigInterface
    ) -> None:
        super().__init__("org.freedesktop.NetworkManager.Device")
        self._sim = sim
        self.path = path
        self.spec = spec
        self.ip4 = ip4
        self.is_wifi = spec.kind is DeviceKind.WIFI
        self.state, self.reason = _initial_state(spec)
        self.active: ActiveInterface | None = None
        # The real interface (ap_link, uplink_link) the current activation configured, if any.
        self.real_link: str | None = None

    def set_state(self, state: int, reason: int) -> None:
        """Move to `state`: PropertiesChanged, then the device's StateChanged signal."""
        old = self.state
        derived = ("IpInterface", "Ip4Connectivity")
        before = [getattr(self, name) for name in derived]
        self.state, self.reason = state, reason
        changed = [n for n, b in zip(derived, before, strict=True) if getattr(self, n) != b]
        notify(self, "State", "StateReason", *changed)
        self.StateChanged(state, old, reason)

    def set_active(self, active: ActiveInterface | None) -> None:
        self.active = active
        notify(self, "ActiveConnection")

    @dbus_method()
    def Disconnect(self) -> None:
        self._sim.disconnect_device(self)

    @dbus_property("s")
    def Udi(self) -> str:
        return f"/sys/devices/virtual/net/{self.spec.interface}"

    @dbus_property("s")
    def Interface(self) -> str:
        return self.spec.interface

    @dbus_property("s")
    def IpInterface(self) -> str:
        # Where packets really go: the app binds its checks to it, so it must exist.
        if self.state != 100:
            return ""
        return self.spec.ip_interface or self.real_link or self.spec.interface

    @dbus_property("s")
    def Driver(self) -> str:
        return "sim-wifi" if self.is_wifi else "sim-ethernet"

    @dbus_property("u")
    def Capabilities(self) -> int:
        # NM_DEVICE_CAP_NM_SUPPORTED, plus CARRIER_DETECT for ethernet.
        return 1 if self.is_wifi else 3

    @dbus_property("u")
    def State(self) -> int:
        return self.state

    @dbus_property("(uu)")
    def StateReason(self) -> list[int]:
        return [self.state, self.reason]

    @dbus_property("o")
    def ActiveConnection(self) -> str:
        return self.active.path if self.active else ROOT

    @dbus_property("o")
    def Ip4Config(self) -> str:
        return self.ip4.path

    @dbus_property("b")
    def Managed(self) -> bool:
        return self.spec.managed

    @dbus_property("b")
    def Autoconnect(self) -> bool:
        return True

    @dbus_property("b")
    def FirmwareMissing(self) -> bool:
        return False

    @dbus_property("u")
    def DeviceType(self) -> int:
        return DEVICE_TYPE_WIFI if self.is_wifi else DEVICE_TYPE_ETHERNET

    @dbus_property("ao")
    def AvailableConnections(self) -> list[str]:
        return self._sim.available_connections(self)

    @dbus_property("u")
    def Mtu(self) -> int:
        return 1500

    @dbus_property("u")
    def Metered(self) -> int:
        return 0

    @dbus_property("b")
    def Real(self) -> bool:
        return True

    @dbus_property("u")
    def Ip4Connectivity(self) -> int:
        return self.active.connectivity if self.active and self.state == 100 else 1

    @dbus_property("s")
    def HwAddress(self) -> str:
        return self.spec.hw_address

    @dbus_property("ao")
    def Ports(self) -> list[str]:
        return []

    @dbus_signal("uuu")
    def StateChanged(self, new_state: int, old_state: int, reason: int) -> list[int]:
        return [new_state, old_state, reason]


class _DeviceKindInterface(ServiceInterface):
    """The interface of a device's kind (Wireless, Wired), beside Device on the same path."""

    def __init__(self, name: str, device: DeviceInterface) -> None:
        super().__init__(name)
        self.device = device

    @dbus_property("s")
    def HwAddress(self) -> str:
        return self.device.spec.hw_address

    @dbus_property("s")
    def PermHwAddress(self) -> str:
        return self.device.spec.hw_address


class WirelessInterface(_DeviceKindInterface):
    """org.freedesktop.NetworkManager.Device.Wireless on a WiFi device's path."""

    def __init__(self, sim: SimulatedNetworkManager, device: DeviceInterface) -> None:
        super().__init__("org.freedesktop.NetworkManager.Device.Wireless", device)
        self._sim = sim
        self.mode = MODE_INFRA
        self.access_points: dict[str, AccessPointInterface] = {}
        self.active_ap: AccessPointInterface | None = None
        self.last_scan = -1
        self.bitrate = 0

    @dbus_method(out_signature="ao")
    def GetAccessPoints(self) -> list[str]:
        # Like NetworkManager: hidden access points are left out of this (deprecated) list.
        return [ap.path for ap in self.access_points.values() if ap.ssid]

    @dbus_method(out_signature="ao")
    def GetAllAccessPoints(self) -> list[str]:
        return [ap.path for ap in self.access_points.values()]

    @dbus_method("a{sv}")
    def RequestScan(self, options: dict[str, Variant]) -> None:
        self._sim.request_scan(self, options)

    @dbus_property("u")
    def Mode(self) -> int:
        return self.mode

    @dbus_property("u")
    def Bitrate(self) -> int:
        return self.bitrate

    @dbus_property("ao")
    def AccessPoints(self) -> list[str]:
        return [ap.path for ap in self.access_points.values()]

    @dbus_property("o")
    def ActiveAccessPoint(self) -> str:
        return self.active_ap.path if self.active_ap else ROOT

    @dbus_property("u")
    def WirelessCapabilities(self) -> int:
        caps = WIFI_CAPS_WITH_AP
        return caps if self.device.spec.supports_ap else caps & ~WIFI_CAP_AP

    @dbus_property("x")
    def LastScan(self) -> int:
        return self.last_scan

    @dbus_signal("o")
    def AccessPointAdded(self, access_point: str) -> str:
        return access_point

    @dbus_signal("o")
    def AccessPointRemoved(self, access_point: str) -> str:
        return access_point


class WiredInterface(_DeviceKindInterface):
    """org.freedesktop.NetworkManager.Device.Wired on an ethernet device's path."""

    def __init__(self, device: DeviceInterface, *, carrier: bool) -> None:
        super().__init__("org.freedesktop.NetworkManager.Device.Wired", device)
        self.carrier = carrier

    @dbus_property("u")
    def Speed(self) -> int:
        return 1000 if self.carrier else 0

    @dbus_property("b")
    def Carrier(self) -> bool:
        return self.carrier

    @dbus_property("as")
    def S390Subchannels(self) -> list[str]:
        return []
