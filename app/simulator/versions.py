"""Which NetworkManager release first has each D-Bus member, so the simulator can be an older one.

A version is (major, minor) and stands for that release series as distributions ship it, at its
newest point release: a member backported into a point release counts from its series (Update2
reached 1.10.2, Connection.Active.Controller 1.42.2; Debian ships 1.42.4).

Every entry was read from NetworkManager's git history: the introspection/*.xml files of the
newest point release of each series from 1.2 to 1.52, cross-checked with the `@since` notes of
the XML where there is one and with the daemon's own D-Bus definitions in src/core. The table
holds every member newer than 1.2 on the interfaces the adapter and the simulator use (manager,
settings, profiles, devices, WiFi, access points, active connections, IPv4 configurations);
nothing in it was removed again up to 1.52. The contract tier compares it with the
introspection of real NetworkManager 1.30, 1.42 and 1.52.

Deprecated, still present in 1.52 (so not versioned here): IP4Config Addresses, Routes and
Nameservers, Connection.Active Master, Device.Wireless/Wired HwAddress and PermHwAddress.
Gone after 1.30 and not modelled: each NetworkManager interface's own PropertiesChanged signal
(org.freedesktop.DBus.Properties.PropertiesChanged, which the simulator sends, exists since 1.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

Version = tuple[int, int]

# 1.2 is the first NetworkManager on GDBus, with the standard PropertiesChanged the simulator
# always sends; the app itself supports 1.10 and later.
OLDEST: Version = (1, 2)
NEWEST: Version = (1, 52)

_NM = "org.freedesktop.NetworkManager"
_MANAGER = _NM
_SETTINGS = f"{_NM}.Settings"
_CONNECTION = f"{_NM}.Settings.Connection"
_ACTIVE = f"{_NM}.Connection.Active"
_DEVICE = f"{_NM}.Device"
_WIRELESS = f"{_NM}.Device.Wireless"
_ACCESS_POINT = f"{_NM}.AccessPoint"
_IP4CONFIG = f"{_NM}.IP4Config"

MEMBER_SINCE: Mapping[tuple[str, str], Version] = MappingProxyType(
    {
        (_MANAGER, "CheckpointCreate"): (1, 4),
        (_MANAGER, "CheckpointDestroy"): (1, 4),
        (_MANAGER, "CheckpointRollback"): (1, 4),
        (_MANAGER, "Capabilities"): (1, 6),
        (_MANAGER, "ConnectivityCheckAvailable"): (1, 10),
        (_MANAGER, "ConnectivityCheckEnabled"): (1, 10),
        (_MANAGER, "Checkpoints"): (1, 12),
        (_MANAGER, "CheckpointAdjustRollbackTimeout"): (1, 12),
        (_MANAGER, "AddAndActivateConnection2"): (1, 16),
        (_MANAGER, "ConnectivityCheckUri"): (1, 20),
        (_MANAGER, "RadioFlags"): (1, 38),
        (_MANAGER, "VersionInfo"): (1, 42),
        (_SETTINGS, "AddConnection2"): (1, 20),
        # @since 1.12, and in 1.10 from 1.10.2 on.
        (_CONNECTION, "Update2"): (1, 10),
        (_CONNECTION, "Filename"): (1, 12),
        (_CONNECTION, "Flags"): (1, 12),
        # The XML (Settings.xml) files it under Settings; the daemon has it here.
        (_CONNECTION, "VersionId"): (1, 44),
        # Before 1.8 an active connection's State moved only through PropertiesChanged.
        (_ACTIVE, "StateChanged"): (1, 8),
        (_ACTIVE, "StateFlags"): (1, 10),
        # 1.44, and in 1.42 from 1.42.2 on.
        (_ACTIVE, "Controller"): (1, 42),
        (_DEVICE, "Ip4Connectivity"): (1, 16),
        (_DEVICE, "Ip6Connectivity"): (1, 16),
        (_DEVICE, "InterfaceFlags"): (1, 22),
        (_DEVICE, "HwAddress"): (1, 24),
        (_DEVICE, "Path"): (1, 26),
        (_DEVICE, "Ports"): (1, 34),
        (_WIRELESS, "LastScan"): (1, 12),
        (_ACCESS_POINT, "Bandwidth"): (1, 46),
        (_IP4CONFIG, "DnsPriority"): (1, 4),
        (_IP4CONFIG, "NameserverData"): (1, 14),
        (_IP4CONFIG, "WinsServerData"): (1, 14),
    }
)

_VERSION = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")


def parse_version(text: str) -> Version:
    """'1.10' -> (1, 10); ValueError (saying why) unless a release series the simulator knows."""
    match = _VERSION.fullmatch(text)
    if match is None:
        raise ValueError(f"'{text}' is not a NetworkManager version like 1.10")
    version = (int(match[1]), int(match[2]))
    if not OLDEST <= version <= NEWEST:
        raise ValueError(
            f"'{text}' is outside the versions the simulator knows "
            f"({version_text(OLDEST)} to {version_text(NEWEST)})"
        )
    return version


def version_text(version: Version) -> str:
    """(1, 10) -> '1.10'."""
    return f"{version[0]}.{version[1]}"


def has_member(version: Version, interface: str, member: str) -> bool:
    """Whether NetworkManager `version` has this member (one not in the table is old enough)."""
    return MEMBER_SINCE.get((interface, member), OLDEST) <= version


@cache
def missing_members(version: Version, interface: str) -> frozenset[str]:
    """The members of `interface` that NetworkManager `version` does not have yet."""
    return frozenset(
        member
        for (name, member), since in MEMBER_SINCE.items()
        if name == interface and since > version
    )
