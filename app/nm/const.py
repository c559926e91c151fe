"""Bus names, object paths, interfaces and NetworkManager enums (as in nm-dbus-interface.h)."""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Any

BUS_NAME = "org.freedesktop.NetworkManager"
MANAGER_PATH = "/org/freedesktop/NetworkManager"
SETTINGS_PATH = "/org/freedesktop/NetworkManager/Settings"

# How long a scan takes on a NetworkManager without LastScan (before 1.12), which never says
# when a scan has finished: a dual-band scan takes wpa_supplicant some 2-4 s.
LEGACY_SCAN_TIME = 4.0

MANAGER_IFACE = "org.freedesktop.NetworkManager"
DEVICE_IFACE = "org.freedesktop.NetworkManager.Device"
WIRELESS_IFACE = "org.freedesktop.NetworkManager.Device.Wireless"
ACCESS_POINT_IFACE = "org.freedesktop.NetworkManager.AccessPoint"
SETTINGS_IFACE = "org.freedesktop.NetworkManager.Settings"
CONNECTION_IFACE = "org.freedesktop.NetworkManager.Settings.Connection"
ACTIVE_IFACE = "org.freedesktop.NetworkManager.Connection.Active"
IP4CONFIG_IFACE = "org.freedesktop.NetworkManager.IP4Config"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"

# The id prefix of every hotspot profile we create, so a later run can find stale ones.
HOTSPOT_ID_PREFIX = "wifi-connect-hotspot"


class _TolerantIntEnum(IntEnum):
    """An IntEnum that turns a value NetworkManager adds in a later release into UNKNOWN_<n>."""

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if not isinstance(value, int):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class NMState(_TolerantIntEnum):
    UNKNOWN = 0
    ASLEEP = 10
    DISCONNECTED = 20
    DISCONNECTING = 30
    CONNECTING = 40
    CONNECTED_LOCAL = 50
    CONNECTED_SITE = 60
    CONNECTED_GLOBAL = 70


class Connectivity(_TolerantIntEnum):
    UNKNOWN = 0
    NONE = 1
    PORTAL = 2
    LIMITED = 3
    FULL = 4


class DeviceType(_TolerantIntEnum):
    UNKNOWN = 0
    ETHERNET = 1
    WIFI = 2
    GENERIC = 14
    VETH = 20


class DeviceState(_TolerantIntEnum):
    UNKNOWN = 0
    UNMANAGED = 10
    UNAVAILABLE = 20
    DISCONNECTED = 30
    PREPARE = 40
    CONFIG = 50
    NEED_AUTH = 60
    IP_CONFIG = 70
    IP_CHECK = 80
    SECONDARIES = 90
    ACTIVATED = 100
    DEACTIVATING = 110
    FAILED = 120


class DeviceStateReason(_TolerantIntEnum):
    NONE = 0
    UNKNOWN = 1
    CONFIG_FAILED = 4
    IP_CONFIG_UNAVAILABLE = 5
    IP_CONFIG_EXPIRED = 6
    NO_SECRETS = 7
    SUPPLICANT_DISCONNECT = 8
    SUPPLICANT_CONFIG_FAILED = 9
    SUPPLICANT_FAILED = 10
    SUPPLICANT_TIMEOUT = 11
    DHCP_START_FAILED = 15
    DHCP_ERROR = 16
    DHCP_FAILED = 17
    USER_REQUESTED = 39
    CONNECTION_REMOVED = 38
    SSID_NOT_FOUND = 53


class ActiveConnectionState(_TolerantIntEnum):
    UNKNOWN = 0
    ACTIVATING = 1
    ACTIVATED = 2
    DEACTIVATING = 3
    DEACTIVATED = 4


class WifiMode(_TolerantIntEnum):
    """NM_802_11_MODE: the mode of an access point or of the wireless device."""

    UNKNOWN = 0
    ADHOC = 1
    INFRA = 2
    AP = 3
    MESH = 4


class ApFlags(IntFlag):
    NONE = 0x0
    PRIVACY = 0x1
    WPS = 0x2
    WPS_PBC = 0x4
    WPS_PIN = 0x8


class ApSecurityFlags(IntFlag):
    NONE = 0x0
    PAIR_WEP40 = 0x1
    PAIR_WEP104 = 0x2
    PAIR_TKIP = 0x4
    PAIR_CCMP = 0x8
    GROUP_WEP40 = 0x10
    GROUP_WEP104 = 0x20
    GROUP_TKIP = 0x40
    GROUP_CCMP = 0x80
    KEY_MGMT_PSK = 0x100
    KEY_MGMT_802_1X = 0x200
    KEY_MGMT_SAE = 0x400
    KEY_MGMT_OWE = 0x800
    KEY_MGMT_OWE_TM = 0x1000
    KEY_MGMT_EAP_SUITE_B_192 = 0x2000
