"""What tests read from NetworkManager besides what the adapter reads (the adapter stays lean).

Shared by the tiers that run the adapter: tests/nm (the simulator) and tests/contract (real
NetworkManager). It talks to the bus as the adapter does, through app.nm.bus.SystemBus.
"""

from __future__ import annotations

import contextlib
from typing import Any

from app.errors import NetworkManagerError, NoWifiDevice
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient, access_point_network, strongest_per_ssid
from app.nm.const import (
    ACCESS_POINT_IFACE,
    CONNECTION_IFACE,
    MANAGER_IFACE,
    MANAGER_PATH,
    SETTINGS_IFACE,
    SETTINGS_PATH,
    WIRELESS_IFACE,
    Connectivity,
    WifiMode,
)
from app.nm.models import Device, WifiNetwork
from app.nm.profiles import Settings
from app.nm.variants import from_dbus


class NMProbe:
    """A test's own look at NetworkManager, on the bus connection the adapter uses."""

    def __init__(self, bus: SystemBus) -> None:
        self._bus = bus

    async def active_connection_paths(self) -> list[str]:
        """Object paths of the connections active now."""
        paths = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "ActiveConnections")
        return [str(path) for path in paths]

    async def version(self) -> tuple[int, int]:
        """(major, minor) of the NetworkManager on the bus, from its Version property."""
        version = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "Version")
        major, minor = str(version).split(".")[:2]
        return int(major), int(minor)

    async def check_connectivity(self) -> Connectivity:
        """Ask NM to re-check connectivity now and return the answer."""
        (value,) = await self._bus.call(MANAGER_PATH, MANAGER_IFACE, "CheckConnectivity")
        return Connectivity(value)

    async def device(self, interface: str) -> Device:
        """The device with this interface name, of any type."""
        for device in await NetworkManagerClient(self._bus).devices():
            if device.interface == interface:
                return device
        raise NoWifiDevice(f"NetworkManager has no device named '{interface}'")

    async def connection_settings(self, path: str) -> Settings:
        """A stored profile's settings, without secrets."""
        (settings,) = await self._bus.call(path, CONNECTION_IFACE, "GetSettings")
        return from_dbus(settings)

    async def connection_secrets(self, path: str, setting: str) -> Settings:
        """The secrets of one setting of a stored profile (e.g. 802-11-wireless-security)."""
        (secrets,) = await self._bus.call(path, CONNECTION_IFACE, "GetSecrets", "s", [setting])
        return from_dbus(secrets)

    async def stored_profiles(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every stored profile by path, as NM sends it (Variants), its secrets merged in.

        Variants compare by type and value, so two snapshots are equal only when every key of
        every profile is, byte for byte.
        """
        (paths,) = await self._bus.call(SETTINGS_PATH, SETTINGS_IFACE, "ListConnections")
        found = {}
        for path in map(str, paths):
            (settings,) = await self._bus.call(path, CONNECTION_IFACE, "GetSettings")
            for name in ("802-11-wireless-security", "802-1x"):
                # NM refuses GetSecrets (NoSecrets) for a setting that holds none.
                with contextlib.suppress(NetworkManagerError):
                    if name in settings:
                        (secrets,) = await self._bus.call(
                            path, CONNECTION_IFACE, "GetSecrets", "s", [name]
                        )
                        settings[name] = {**settings[name], **secrets.get(name, {})}
            found[path] = settings
        return found

    async def active_ap_frequency(self, interface: str) -> int:
        """The MHz of the access point the WiFi device is on now (its own, in AP mode)."""
        device = await self.device(interface)
        path = await self._bus.get_property(device.path, WIRELESS_IFACE, "ActiveAccessPoint")
        return int(await self._bus.get_property(str(path), ACCESS_POINT_IFACE, "Frequency"))

    async def networks(self, device: Device) -> list[WifiNetwork]:
        """What NM knows now, without a scan, one entry per SSID as the adapter lists them."""
        (paths,) = await self._bus.call(device.path, WIRELESS_IFACE, "GetAllAccessPoints")
        found = [await self._bus.get_properties(path, ACCESS_POINT_IFACE) for path in paths]
        return strongest_per_ssid(
            access_point_network(props) for props in found if props.get("Mode") != WifiMode.AP
        )
