"""The simulated NetworkManager: owns the bus connection, the objects and every timed behaviour."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Any, TypeVar

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType, RequestNameReply
from dbus_next.message import Message
from dbus_next.signature import Variant

from app.nm.bus import patient_writes
from app.simulator._dbus import (
    Malformation,
    ServiceInterface,
    all_properties,
    error_reply,
    method_signature,
    nm_error,
    notify,
    reply_to,
    reply_with,
)
from app.simulator.objects import (
    BASE,
    MODE_AP,
    MODE_INFRA,
    ROOT,
    AccessPointInterface,
    ActiveInterface,
    ConnectionInterface,
    DeviceInterface,
    Ip4ConfigInterface,
    Ip4Data,
    ManagerInterface,
    SettingsInterface,
    WiredInterface,
    WirelessInterface,
)
from app.simulator.plan import (
    ACTIVATED,
    FAILED,
    IP_CONFIG,
    PREPARE,
    REASON_IP_CONFIG_UNAVAILABLE,
    Plan,
    plan_activation,
)
from app.simulator.scenario import (
    ApModeScan,
    DeviceKind,
    Fault,
    FaultAction,
    NetworkSpec,
    ScanBehaviour,
    Scenario,
    Security,
    default_scenario,
    flags_for,
)
from app.simulator.settings import (
    ETHERNET,
    WIRELESS,
    WIRELESS_SECURITY,
    SettingsError,
    Wire,
    check_settings,
    hotspot_frequency,
    plain,
    secrets_of,
    text,
    value,
)
from app.simulator.supplicant import SimulatedSupplicant
from app.simulator.versions import missing_members

_LOGGER = logging.getLogger(__name__)

_R = TypeVar("_R")

BUS_NAME = "org.freedesktop.NetworkManager"
SETTINGS_PATH = f"{BASE}/Settings"

_MANAGER_ERROR = "org.freedesktop.NetworkManager"
_DEVICE_ERROR = "org.freedesktop.NetworkManager.Device"
_SETTINGS_ERROR = "org.freedesktop.NetworkManager.Settings"
# NMSettingsAddConnection2Flags
_ADD_TO_DISK, _ADD_IN_MEMORY, _ADD_BLOCK_AUTOCONNECT = 0x1, 0x2, 0x20
# What an injected fault answers: NetworkManager's generic failure.
FAULT_ERROR = "org.freedesktop.NetworkManager.Failed"

# Device states and reasons (nm-dbus-interface.h).
DISCONNECTED, DEACTIVATING = 30, 110
REASON_CONNECTION_REMOVED = 38
REASON_USER_REQUESTED = 39
REASON_NEW_ACTIVATION = 60
# Active connection states, and the reason NetworkManager gives when the device goes away.
AC_ACTIVATING, AC_ACTIVATED, AC_DEACTIVATING, AC_DEACTIVATED = 1, 2, 3, 4
AC_REASON_DEVICE_DISCONNECTED = 3
CONNECTIVITY_NONE, CONNECTIVITY_LIMITED, CONNECTIVITY_FULL = 1, 3, 4

_STANDARD_INTERFACES = frozenset(
    {
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Peer",
        "org.freedesktop.DBus.ObjectManager",
    }
)

# How the hotspot's own access point advertises itself, by the profile's key-mgmt.
_HOTSPOT_SECURITY = {"wpa-psk": Security.WPA_PSK, "sae": Security.SAE, "owe": Security.OWE}


def _boottime() -> float:
    """Seconds since boot, the clock NetworkManager's LastScan and LastSeen count on."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


@dataclass(frozen=True)
class ReceivedConnection:
    """A stored profile as the simulator holds it, secrets included, for tests to inspect.

    `received` is exactly what the client sent; `settings` is that after NetworkManager's
    normalizing. `path` is empty while NetworkManager is off the bus.
    """

    path: str
    id: str
    uuid: str
    settings: dict[str, dict[str, Any]]
    received: dict[str, dict[str, Any]]
    unsaved: bool
    filename: str


async def _ip(*args: str) -> str | None:
    """Run `ip ARGS`; None when it worked, else ip's own message."""
    try:
        process = await asyncio.create_subprocess_exec(
            "ip",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as err:
        return f"cannot run ip: {err.strerror}"
    _, stderr = await process.communicate()
    if process.returncode == 0:
        return None
    return stderr.decode(errors="replace").strip() or f"ip exited with status {process.returncode}"


def _has_links(device: DeviceInterface) -> bool:
    """Whether the scenario backs the device with real interfaces (ap_link, uplink_link)."""
    return device.spec.ap_link is not None or device.spec.uplink_link is not None


@dataclass(frozen=True)
class _LinkSetup:
    """What one activation puts on a real interface (scenario ap_link / uplink_link)."""

    owner: str
    link: str
    address: IPv4Interface
    gateway: IPv4Address | None

    async def apply(self) -> str | None:
        """Address on, link up, default route; None when done, else what failed."""
        commands = [
            ("addr", "replace", str(self.address), "dev", self.link),
            ("link", "set", self.link, "up"),
        ]
        if self.gateway is not None:
            # The metric the IP4Config object reports for its routes.
            route = ("default", "via", str(self.gateway), "dev", self.link, "metric", "100")
            commands.append(("route", "replace", *route))
        for command in commands:
            error = await _ip(*command)
            if error is not None:
                return f"ip {' '.join(command)}: {error}"
        _LOGGER.info("%s carries %s now", self.link, self.address)
        return None

    async def remove(self) -> None:
        """Take the route and the address off again; what is already gone is no error."""
        if self.gateway is not None:
            route = ("default", "via", str(self.gateway), "dev", self.link, "metric", "100")
            await _ip("route", "del", *route)
        error = await _ip("addr", "del", str(self.address), "dev", self.link)
        if error is not None:
            _LOGGER.debug("ip addr del %s dev %s: %s", self.address, self.link, error)
        _LOGGER.info("%s no longer carries %s", self.link, self.address)


class _RealLinks:
    """The real interfaces the simulator configures, one setup per simulated device at most."""

    # Every change runs as its own task that finishes even when its caller is cancelled (a
    # teardown interrupted by stop(), say), and changes to one device's links run in order,
    # so a removal never overtakes the setup it undoes.

    def __init__(self) -> None:
        self._setups: dict[str, _LinkSetup] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._jobs: set[asyncio.Task[Any]] = set()

    def _job(self, coroutine: Coroutine[Any, Any, _R]) -> asyncio.Task[_R]:
        task = asyncio.create_task(coroutine)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    def _lock(self, device: str) -> asyncio.Lock:
        return self._locks.setdefault(device, asyncio.Lock())

    async def set_up(self, device: str, setup: _LinkSetup) -> str | None:
        """Configure the link for `device`; None when done, else why not."""
        return await asyncio.shield(self._job(self._set_up(device, setup)))

    async def _set_up(self, device: str, setup: _LinkSetup) -> str | None:
        async with self._lock(device):
            # A device has one setup at a time: an earlier one still on goes first.
            earlier = self._setups.pop(device, None)
            if earlier is not None:
                await earlier.remove()
            # Recorded before it is applied: whatever part of it was applied is removed later.
            self._setups[device] = setup
            return await setup.apply()

    async def take_down(self, device: str, owner: str | None = None) -> None:
        """Undo the setup of `device` (only the one `owner` made, when given)."""
        await asyncio.shield(self._job(self._take_down(device, owner)))

    async def _take_down(self, device: str, owner: str | None) -> None:
        async with self._lock(device):
            setup = self._setups.get(device)
            if setup is None or (owner is not None and setup.owner != owner):
                return
            await setup.remove()
            del self._setups[device]

    async def take_down_all(self) -> None:
        """Wait for changes under way, then undo every setup."""
        await asyncio.gather(*self._jobs, return_exceptions=True)
        for device in list(self._setups):
            await self.take_down(device)


@dataclass(frozen=True)
class _Stored:
    """A profile that outlives a NetworkManager restart."""

    settings: Wire
    received: dict[str, dict[str, Any]]
    unsaved: bool
    filename: str


class SimulatedNetworkManager:
    """NetworkManager's D-Bus API over a private bus, driven by a Scenario."""

    def __init__(self, bus_address: str, scenario: Scenario) -> None:
        self.bus_address = bus_address
        self.scenario = scenario
        self._air: list[NetworkSpec] = list(scenario.networks)
        # wpa_supplicant's country, when a test runs one: a scan lists only what it allows.
        self.supplicant: SimulatedSupplicant | None = None
        self._counters: dict[str, itertools.count[int]] = {}
        self._stored: list[_Stored] = []
        # Any: most of dbus-next's MessageBus methods carry no annotations.
        self._bus: Any = None
        self._objects: dict[str, dict[str, ServiceInterface]] = {}
        self._members: dict[type[ServiceInterface], dict[str, frozenset[str]]] = {}
        self._manager: ManagerInterface | None = None
        self._settings: SettingsInterface | None = None
        self._connections: dict[str, ConnectionInterface] = {}
        self._devices: list[DeviceInterface] = []
        self._wireless: dict[str, WirelessInterface] = {}
        self._actives: dict[str, ActiveInterface] = {}
        self._activations: dict[str, asyncio.Task[None]] = {}
        self._teardowns: dict[str, asyncio.Task[None]] = {}
        self._scans: dict[str, asyncio.Task[None]] = {}
        self._probes: dict[str, set[bytes]] = {}
        # Connectivity each active connection will report once the check has run.
        self._pending_connectivity: dict[str, tuple[ActiveInterface, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._outages: set[asyncio.Task[None]] = set()
        self._links = _RealLinks()
        # Injected faults, and how many calls of each method came so far (restarts included).
        self._faults: list[Fault] = list(scenario.faults)
        self._calls: collections.Counter[str] = collections.Counter()
        # Injected malformations, in order (a later one on the same member wins).
        self._malformations: list[Malformation] = []

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, bus_address: str, scenario: Scenario | None = None
    ) -> AsyncIterator[SimulatedNetworkManager]:
        """Run a simulated NetworkManager on the bus for the duration of the block."""
        sim = cls(bus_address, scenario or default_scenario())
        await sim.resume()
        for outage in sim.scenario.outages:
            task = asyncio.create_task(sim._outage(outage.after_ms, outage.duration_ms))
            sim._outages.add(task)
            task.add_done_callback(sim._outages.discard)
        try:
            yield sim
        finally:
            await sim.close()

    @property
    def running(self) -> bool:
        """True while the simulator owns NetworkManager's bus name."""
        return self._bus is not None

    async def resume(self) -> None:
        """Connect, export every object under fresh paths and take NetworkManager's name."""
        if self._bus is not None:
            return
        bus = await MessageBus(bus_address=self.bus_address).connect()
        patient_writes(bus)
        self._bus = bus
        bus.add_message_handler(self._route)
        self._build()
        if self.scenario.startup_delay_ms:
            assert self._manager is not None
            self._manager.startup = True
            self._spawn(self._finish_startup())
        reply = await bus.request_name(BUS_NAME)
        if reply != RequestNameReply.PRIMARY_OWNER:
            await self.stop()
            raise RuntimeError(f"cannot own {BUS_NAME} on {self.bus_address}: {reply}")
        for device in self._devices:
            # An uplink that was up before NetworkManager started has its address already.
            active = device.active
            if active is not None and device.spec.connected:
                plan = plan_activation(
                    active.connection.settings, device.spec, self._air, self.scenario
                )
                error = await self._set_up_link(active, device, plan)
                if error is not None:
                    _LOGGER.error("Cannot configure %s: %s", device.spec.uplink_link, error)
        _LOGGER.info("Simulated NetworkManager is on %s", self.bus_address)

    async def stop(self) -> None:
        """Leave the bus as a NetworkManager that exits would: name lost, objects gone."""
        if self._bus is None:
            return
        tasks = [*self._tasks, *self._activations.values(), *self._teardowns.values()]
        tasks += self._scans.values()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A NetworkManager that is gone configures no interface: what it set comes off.
        await self._links.take_down_all()
        self._stored = [
            _Stored(c.settings, c.received, c.unsaved, c.filename)
            for c in self._connections.values()
        ]
        bus, self._bus = self._bus, None
        bus.disconnect()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)
        self._reset()
        _LOGGER.info("Simulated NetworkManager left the bus")

    async def restart(self, downtime: float = 0.0) -> None:
        """Stop, wait `downtime` seconds, come back with new object paths."""
        await self.stop()
        await asyncio.sleep(downtime)
        await self.resume()

    async def close(self) -> None:
        """Stop for good, outages included."""
        for task in list(self._outages):
            task.cancel()
        await asyncio.gather(*self._outages, return_exceptions=True)
        await self.stop()

    async def _outage(self, after_ms: int, duration_ms: int) -> None:
        await asyncio.sleep(after_ms / 1000)
        await self.stop()
        await asyncio.sleep(duration_ms / 1000)
        await self.resume()

    async def _finish_startup(self) -> None:
        await asyncio.sleep(self.scenario.startup_delay_ms / 1000)
        if self._manager is not None:
            self._manager.startup = False
            notify(self._manager, "Startup")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _reset(self) -> None:
        self._objects.clear()
        self._manager = self._settings = None
        self._connections.clear()
        self._devices.clear()
        self._wireless.clear()
        self._actives.clear()
        self._activations.clear()
        self._teardowns.clear()
        self._scans.clear()
        self._probes.clear()
        self._pending_connectivity.clear()

    # -- objects -----------------------------------------------------------------------------

    def _path(self, kind: str) -> str:
        # Numbers keep counting across restarts, so a restart always gives new paths.
        counter = self._counters.setdefault(kind, itertools.count(1))
        return f"{BASE}/{kind}/{next(counter)}"

    def _export(self, path: str, *interfaces: ServiceInterface) -> None:
        for interface in interfaces:
            interface.hidden = missing_members(self.scenario.nm_version, interface.name)
            interface.malformed = self._malformed_for(path, interface.name)
            self._bus.export(path, interface)
            self._objects.setdefault(path, {})[interface.name] = interface

    def _unexport(self, path: str) -> None:
        self._objects.pop(path, None)
        if self._bus is not None:
            self._bus.unexport(path)

    def _build(self) -> None:
        """Create and export the whole object tree, as NetworkManager does at start-up."""
        self._manager = ManagerInterface(self)
        self._settings = SettingsInterface(self)
        self._export(BASE, self._manager)
        self._export(SETTINGS_PATH, self._settings)
        for stored in self._stored:
            path = self._path("Settings")
            connection = ConnectionInterface(
                self,
                path,
                stored.settings,
                stored.received,
                unsaved=stored.unsaved,
                filename=stored.filename,
            )
            self._connections[path] = connection
            self._export(path, connection)
        for spec in self.scenario.devices:
            ip4 = Ip4ConfigInterface(self._path("IP4Config"))
            self._export(ip4.path, ip4)
            device = DeviceInterface(self, self._path("Devices"), spec, ip4)
            self._devices.append(device)
            if spec.kind is DeviceKind.WIFI:
                wireless = WirelessInterface(self, device)
                self._wireless[device.path] = wireless
                self._export(device.path, device, wireless)
            else:
                self._export(device.path, device, WiredInterface(device, carrier=spec.carrier))
        for wireless in self._wireless.values():
            if wireless.device.spec.managed:
                self._sync_access_points(wireless, self._air)
        for device in self._devices:
            if device.spec.connected:
                self._bring_up_uplink(device)
        self._update_manager()

    def _bring_up_uplink(self, device: DeviceInterface) -> None:
        """An ethernet uplink that was already up when NetworkManager started."""
        connection = next(
            (c for c in self._connections.values() if self._fits(c, device)), None
        ) or self._create_connection(self._wired_profile(device), unsaved=False)
        active = ActiveInterface(self._path("ActiveConnection"), connection, device)
        plan = plan_activation(connection.settings, device.spec, self._air, self.scenario)
        self._actives[active.path] = active
        self._export(active.path, active)
        device.active = active
        self._apply_activated(active, device, plan)
        device.state, device.reason = ACTIVATED, 0
        active.state = AC_ACTIVATED

    def _wired_profile(self, device: DeviceInterface) -> Wire:
        number = 1 + sum(1 for d in self._devices[: self._devices.index(device)] if not d.is_wifi)
        return {
            "connection": {
                "id": Variant("s", f"Wired connection {number}"),
                "uuid": Variant("s", str(uuid.uuid4())),
                "type": Variant("s", ETHERNET),
                "interface-name": Variant("s", device.spec.interface),
            },
            ETHERNET: {},
            "ipv4": {"method": Variant("s", "auto")},
            "ipv6": {"method": Variant("s", "auto")},
        }

    # -- manager -----------------------------------------------------------------------------

    def device_paths(self) -> list[str]:
        return [d.path for d in self._devices]

    def active_paths(self) -> list[str]:
        return list(self._actives)

    def device_by_interface(self, interface: str) -> str:
        for device in self._devices:
            if device.spec.interface == interface:
                return device.path
        raise nm_error(
            f"{_MANAGER_ERROR}.UnknownDevice", "No device found for the requested iface."
        )

    def _update_manager(self) -> None:
        """Recompute State, Connectivity and the primary connection from the active ones."""
        manager = self._manager
        if manager is None:
            return
        state, connectivity = 20, CONNECTIVITY_NONE
        primary: ActiveInterface | None = None
        activating: ActiveInterface | None = None
        for active in self._actives.values():
            if active.state == AC_ACTIVATED and active.default:
                connectivity = max(connectivity, active.connectivity)
                state = max(state, 70 if active.connectivity == CONNECTIVITY_FULL else 60)
                primary = primary or active
            elif active.state == AC_ACTIVATED:
                state = max(state, 50)
            elif active.state == AC_ACTIVATING:
                state = max(state, 40)
                activating = activating or active
            elif active.state == AC_DEACTIVATING:
                state = max(state, 30)
        new = {
            "State": state,
            "Connectivity": connectivity,
            "PrimaryConnection": primary.path if primary else ROOT,
            "PrimaryConnectionType": primary.connection.kind if primary else "",
            "ActivatingConnection": activating.path if activating else ROOT,
        }
        old = {
            "State": manager.nm_state,
            "Connectivity": manager.connectivity,
            "PrimaryConnection": manager.primary,
            "PrimaryConnectionType": manager.primary_type,
            "ActivatingConnection": manager.activating,
        }
        manager.nm_state = state
        manager.connectivity = connectivity
        manager.primary = str(new["PrimaryConnection"])
        manager.primary_type = str(new["PrimaryConnectionType"])
        manager.activating = str(new["ActivatingConnection"])
        changed = [name for name in new if new[name] != old[name]]
        if changed:
            notify(manager, *changed)
        if state != old["State"]:
            manager.StateChanged(state)

    def check_connectivity(self) -> int:
        """CheckConnectivity: pending checks finish now; the answer is the new Connectivity."""
        for path in list(self._pending_connectivity):
            self._settle_connectivity(path)
        assert self._manager is not None
        return self._manager.connectivity

    async def _check_later(self, path: str) -> None:
        await asyncio.sleep(self.scenario.connectivity_delay_ms / 1000)
        self._settle_connectivity(path)

    def _settle_connectivity(self, path: str) -> None:
        pending = self._pending_connectivity.pop(path, None)
        if pending is None:
            return
        active, connectivity = pending
        active.connectivity = connectivity
        notify(active.device, "Ip4Connectivity")
        self._update_manager()

    # -- settings ----------------------------------------------------------------------------

    def connection_paths(self) -> list[str]:
        return list(self._connections)

    def connection_by_uuid(self, wanted: str) -> str:
        for connection in self._connections.values():
            if connection.uuid == wanted:
                return connection.path
        raise nm_error(
            f"{_SETTINGS_ERROR}.InvalidConnection", "No connection with the UUID was found."
        )

    def _check(self, received: Wire) -> Wire:
        try:
            return check_settings(received)
        except SettingsError as err:
            _LOGGER.info("Refused connection settings: %s (%s)", err.message, err.name)
            raise nm_error(err.name, err.message) from err

    def _filename(self, connection_id: str, *, unsaved: bool, skip: str = "") -> str:
        folder = "/run" if unsaved else "/etc"
        stem = f"{folder}/NetworkManager/system-connections/{connection_id.replace('/', '*')}"
        taken = {c.filename for c in self._connections.values() if c.path != skip}
        name, n = f"{stem}.nmconnection", 0
        while name in taken:
            n += 1
            name = f"{stem}-{n}.nmconnection"
        return name

    def add_connection(self, received: Wire, *, unsaved: bool) -> str:
        settings = self._check(received)
        new_uuid = str(settings["connection"]["uuid"].value)
        if any(c.uuid == new_uuid for c in self._connections.values()):
            raise nm_error(
                f"{_SETTINGS_ERROR}.UuidExists", "a connection with this UUID already exists"
            )
        connection = self._create_connection(settings, unsaved=unsaved, received=plain(received))
        return connection.path

    def add_connection2(self, received: Wire, flags: int, args: dict[str, Variant]) -> str:
        """AddConnection2: AddConnection with flags (to disk or in memory) and arguments."""
        if flags & ~(_ADD_TO_DISK | _ADD_IN_MEMORY | _ADD_BLOCK_AUTOCONNECT):
            raise nm_error(f"{_SETTINGS_ERROR}.InvalidArguments", "Unknown flags")
        where = flags & (_ADD_TO_DISK | _ADD_IN_MEMORY)
        if not where:
            raise nm_error(
                f"{_SETTINGS_ERROR}.InvalidArguments",
                "Requires either to-disk (0x1) or in-memory (0x2) flags",
            )
        if where == _ADD_TO_DISK | _ADD_IN_MEMORY:
            raise nm_error(
                f"{_SETTINGS_ERROR}.InvalidArguments",
                "Cannot set to-disk (0x1) and in-memory (0x2) flags together",
            )
        for name, argument in args.items():
            if name != "plugin" or argument.signature != "s":
                raise nm_error(
                    f"{_SETTINGS_ERROR}.InvalidArguments", f"Unsupported argument '{name}'"
                )
        # block-autoconnect changes nothing here: the simulator never autoconnects.
        return self.add_connection(received, unsaved=where == _ADD_IN_MEMORY)

    def _create_connection(
        self, settings: Wire, *, unsaved: bool, received: dict[str, dict[str, Any]] | None = None
    ) -> ConnectionInterface:
        path = self._path("Settings")
        connection_id = str(settings["connection"]["id"].value)
        connection = ConnectionInterface(
            self,
            path,
            settings,
            received if received is not None else plain(settings),
            unsaved=unsaved,
            filename=self._filename(connection_id, unsaved=unsaved),
        )
        self._connections[path] = connection
        self._export(path, connection)
        assert self._settings is not None
        self._settings.NewConnection(path)
        notify(self._settings, "Connections")
        self._notify_available()
        _LOGGER.info("Added connection '%s' (%s) at %s", connection_id, connection.uuid, path)
        return connection

    def update_connection(
        self, connection: ConnectionInterface, received: Wire, *, unsaved: bool
    ) -> None:
        connection.settings = self._check(received)
        connection.received = plain(received)
        if connection.unsaved != unsaved:
            connection.unsaved = unsaved
            connection.filename = self._filename(
                connection.id, unsaved=unsaved, skip=connection.path
            )
            notify(connection, "Unsaved", "Flags", "Filename")
        connection.Updated()
        self._notify_available()

    def save_connection(self, connection: ConnectionInterface) -> None:
        if connection.unsaved:
            self.update_connection(connection, connection.settings, unsaved=False)

    def delete_connection(self, connection: ConnectionInterface) -> None:
        for active in list(self._actives.values()):
            if active.connection is connection:
                self._begin_teardown(active, REASON_CONNECTION_REMOVED)
        del self._connections[connection.path]
        assert self._settings is not None
        notify(self._settings, "Connections")
        connection.Removed()
        self._settings.ConnectionRemoved(connection.path)
        self._unexport(connection.path)
        self._notify_available()
        _LOGGER.info("Deleted connection '%s' (%s)", connection.id, connection.uuid)

    def get_secrets(self, connection: ConnectionInterface, setting: str) -> Wire:
        try:
            return secrets_of(connection.settings, setting)
        except SettingsError as err:
            raise nm_error(err.name, err.message) from err

    def _notify_available(self) -> None:
        for device in self._devices:
            notify(device, "AvailableConnections")

    # -- activation --------------------------------------------------------------------------

    def _incompatibility(
        self, connection: ConnectionInterface, device: DeviceInterface
    ) -> str | None:
        """Why NetworkManager would refuse this profile on this device, or None."""
        if not device.spec.managed:
            return "device is strictly unmanaged"
        if device.state < DISCONNECTED:
            return "device is not available"
        device_type = WIRELESS if device.is_wifi else ETHERNET
        if connection.kind != device_type:
            return f'profile is not compatible with device (connection type is not "{device_type}")'
        wanted = text(connection.settings, "connection", "interface-name")
        if wanted is not None and wanted != device.spec.interface:
            return "profile is not compatible with device (mismatching interface name)"
        is_ap = text(connection.settings, WIRELESS, "mode") == "ap"
        if is_ap and not device.spec.supports_ap:
            return (
                "profile is not compatible with device "
                "(the device does not support Access Point mode)"
            )
        return None

    def _fits(self, connection: ConnectionInterface, device: DeviceInterface) -> bool:
        return self._incompatibility(connection, device) is None

    def available_connections(self, device: DeviceInterface) -> list[str]:
        return [c.path for c in self._connections.values() if self._fits(c, device)]

    def activate(self, connection_path: str, device_path: str, specific_object: str) -> str:
        """ActivateConnection: check like NetworkManager, answer at once, run in the background."""
        connection = self._connections.get(connection_path)
        if connection is None:
            if device_path == ROOT:
                raise nm_error(
                    f"{_MANAGER_ERROR}.UnknownDevice",
                    "Only devices may be activated without a specifying a connection",
                )
            raise nm_error(f"{_MANAGER_ERROR}.UnknownConnection", "Connection could not be found.")
        device = self._pick_device(connection, device_path)
        reason = self._incompatibility(connection, device)
        if reason is not None:
            raise nm_error(
                f"{_MANAGER_ERROR}.UnknownConnection",
                f"Connection '{connection.id}' is not available on device "
                f"{device.spec.interface} because {reason}",
            )
        active = ActiveInterface(self._path("ActiveConnection"), connection, device)
        plan = plan_activation(connection.settings, device.spec, self._air, self.scenario)
        self._actives[active.path] = active
        self._export(active.path, active)
        assert self._manager is not None
        notify(self._manager, "ActiveConnections")
        task = asyncio.create_task(self._run_activation(active, device, plan))
        self._activations[active.path] = task
        task.add_done_callback(lambda _: self._activations.pop(active.path, None))
        _LOGGER.info(
            "Activating '%s' on %s: %s",
            connection.id,
            device.spec.interface,
            "hangs" if plan.hang else ("succeeds" if plan.succeeds else f"fails {plan.steps[-1]}"),
        )
        return active.path

    def _pick_device(self, connection: ConnectionInterface, device_path: str) -> DeviceInterface:
        if device_path != ROOT:
            for device in self._devices:
                if device.path == device_path:
                    return device
            raise nm_error(f"{_MANAGER_ERROR}.UnknownDevice", "Device not found")
        reason = "no device"
        for device in self._devices:
            why = self._incompatibility(connection, device)
            if why is None:
                return device
            reason = f"device {device.spec.interface} not available because {why}"
        raise nm_error(
            f"{_MANAGER_ERROR}.UnknownDevice",
            f"No suitable device found for this connection ({reason}).",
        )

    async def _run_activation(
        self, active: ActiveInterface, device: DeviceInterface, plan: Plan
    ) -> None:
        old = device.active
        if old is not None and old is not active:
            await asyncio.shield(self._begin_teardown(old, REASON_NEW_ACTIVATION))
        device.set_active(active)
        active.set_state(AC_ACTIVATING, 0)
        self._update_manager()
        delay = self.scenario.activation_delay_ms / 1000 / len(plan.steps)
        for state, reason in plan.steps:
            await asyncio.sleep(delay)
            if state == ACTIVATED:
                error = await self._set_up_link(active, device, plan)
                if error is not None:
                    _LOGGER.error(
                        "Cannot configure the link of '%s': %s", active.connection.id, error
                    )
                    state, reason = FAILED, REASON_IP_CONFIG_UNAVAILABLE
            if state == FAILED and _has_links(device):
                await self._links.take_down(device.spec.interface, active.path)
            self._enter(active, device, plan, state, reason)
            if state == FAILED:
                self._after_failure(active, device)
                return
        if plan.hang:
            # Like a supplicant that never gives up: only a deactivation ends this.
            await asyncio.Event().wait()

    async def _set_up_link(
        self, active: ActiveInterface, device: DeviceInterface, plan: Plan
    ) -> str | None:
        """Put the activation's address on the real interface the scenario names, if any."""
        link = device.spec.ap_link if plan.ap_mode else device.spec.uplink_link
        device.real_link = link if plan.ip4 is not None else None
        if link is None or plan.ip4 is None:
            return None
        never_default = bool(value(active.connection.settings, "ipv4", "never-default"))
        routed = not plan.ap_mode and not never_default
        setup = _LinkSetup(
            active.path, link, plan.ip4.address, plan.ip4.gateway if routed else None
        )
        return await self._links.set_up(device.spec.interface, setup)

    def _enter(
        self, active: ActiveInterface, device: DeviceInterface, plan: Plan, state: int, reason: int
    ) -> None:
        wireless = self._wireless.get(device.path)
        if state == PREPARE and wireless is not None:
            self._prepare_wifi(active, wireless, plan)
        if state == IP_CONFIG:
            active.state_flags = 0x4
            notify(active, "StateFlags")
        if state == ACTIVATED:
            self._apply_activated(active, device, plan)
            notify(active, "Ip4Config", "StateFlags", "Default")
        device.set_state(state, reason)
        if state == ACTIVATED:
            active.set_state(AC_ACTIVATED, 0)
            self._update_manager()
            _LOGGER.info("'%s' is active on %s", active.connection.id, device.spec.interface)

    def _prepare_wifi(
        self, active: ActiveInterface, wireless: WirelessInterface, plan: Plan
    ) -> None:
        """Stage 1: set the mode; a hotspot clears the scan list and shows itself as an AP."""
        wireless.mode = MODE_AP if plan.ap_mode else MODE_INFRA
        notify(wireless, "Mode")
        target: AccessPointInterface | None = None
        if plan.ap_mode:
            self._remove_access_points(wireless, keep=())
            target = self._add_hotspot(wireless, active.connection)
        elif plan.network is not None:
            target = wireless.access_points.get(plan.network.bssid)
        if target is not None:
            wireless.active_ap = target
            active.specific_object = target.path
            notify(wireless, "ActiveAccessPoint")
            notify(active, "SpecificObject")

    def _add_hotspot(
        self, wireless: WirelessInterface, connection: ConnectionInterface
    ) -> AccessPointInterface:
        key_mgmt = text(connection.settings, WIRELESS_SECURITY, "key-mgmt")
        security = _HOTSPOT_SECURITY.get(key_mgmt or "", Security.OPEN)
        hotspot = AccessPointInterface(
            self._path("AccessPoint"),
            ssid=value(connection.settings, WIRELESS, "ssid") or b"",
            bssid=wireless.device.spec.hw_address,
            flags=flags_for(security),
            strength=0,
            frequency=hotspot_frequency(connection.settings),
            mode=MODE_AP,
        )
        self._add_access_point(wireless, hotspot)
        notify(wireless, "AccessPoints")
        return hotspot

    def _apply_activated(
        self, active: ActiveInterface, device: DeviceInterface, plan: Plan
    ) -> None:
        ip4 = plan.ip4
        if ip4 is not None:
            device.ip4.set(Ip4Data(ip4.address, ip4.gateway, ip4.dns))
        active.ip4_config = device.ip4.path
        active.state_flags = 0x4 | 0x8
        never_default = bool(value(active.connection.settings, "ipv4", "never-default"))
        active.default = bool(ip4 and ip4.gateway) and not plan.ap_mode and not never_default
        active.connectivity = plan.connectivity
        if active.default and self.scenario.connectivity_delay_ms:
            # NetworkManager reads LIMITED until its connectivity check has answered.
            active.connectivity = CONNECTIVITY_LIMITED
            self._pending_connectivity[active.path] = (active, plan.connectivity)
            self._spawn(self._check_later(active.path))
        wireless = self._wireless.get(device.path)
        if wireless is not None and plan.network is not None:
            wireless.bitrate = plan.network.max_bitrate
            notify(wireless, "Bitrate")

    def _release_device(self, device: DeviceInterface) -> bool:
        """Undo an activation's effects on the device; True when it was a hotspot."""
        device.ip4.set(Ip4Data())
        device.set_active(None)
        wireless = self._wireless.get(device.path)
        if wireless is None:
            return False
        was_hotspot = wireless.mode == MODE_AP
        if was_hotspot:
            self._remove_access_points(wireless, keep=(), only_hotspot=True)
            wireless.mode = MODE_INFRA
            notify(wireless, "Mode")
        wireless.active_ap = None
        wireless.bitrate = 0
        notify(wireless, "ActiveAccessPoint", "Bitrate")
        return was_hotspot

    def _after_failure(self, active: ActiveInterface, device: DeviceInterface) -> None:
        """FAILED: the active connection goes at once, then the device becomes DISCONNECTED."""
        active.set_state(AC_DEACTIVATED, AC_REASON_DEVICE_DISCONNECTED)
        active.devices = []
        notify(active, "Devices")
        was_hotspot = self._release_device(device)
        self._drop_active(active)
        device.set_state(DISCONNECTED, 0)
        _LOGGER.info("'%s' failed on %s", active.connection.id, device.spec.interface)
        if was_hotspot:
            self._rescan_after_hotspot(device)

    def _drop_active(self, active: ActiveInterface) -> None:
        self._actives.pop(active.path, None)
        self._pending_connectivity.pop(active.path, None)
        self._unexport(active.path)
        if self._manager is not None:
            notify(self._manager, "ActiveConnections")
        self._update_manager()

    def deactivate(self, active_path: str) -> None:
        active = self._actives.get(active_path)
        if active is None:
            raise nm_error(
                f"{_MANAGER_ERROR}.ConnectionNotActive", "The connection was not active."
            )
        self._begin_teardown(active, REASON_USER_REQUESTED)

    def disconnect_device(self, device: DeviceInterface) -> None:
        if device.active is None:
            raise nm_error(f"{_DEVICE_ERROR}.NotActive", "This device is not active")
        self._begin_teardown(device.active, REASON_USER_REQUESTED)

    def _begin_teardown(self, active: ActiveInterface, reason: int) -> asyncio.Task[None]:
        """DEACTIVATING now (before the D-Bus reply); DISCONNECTED after the scenario's delay."""
        running = self._teardowns.get(active.path)
        if running is not None:
            return running
        activation = self._activations.pop(active.path, None)
        if activation is not None and activation is not asyncio.current_task():
            activation.cancel()
        device = active.device
        if device.active is active:
            device.set_state(DEACTIVATING, reason)
        active.set_state(AC_DEACTIVATING, 0)
        self._update_manager()
        task = asyncio.create_task(self._finish_teardown(active, reason))
        self._teardowns[active.path] = task
        task.add_done_callback(lambda _: self._teardowns.pop(active.path, None))
        return task

    async def _finish_teardown(self, active: ActiveInterface, reason: int) -> None:
        await asyncio.sleep(self.scenario.deactivation_delay_ms / 1000)
        device = active.device
        was_hotspot = False
        if device.active is active:
            if _has_links(device):
                await self._links.take_down(device.spec.interface, active.path)
            was_hotspot = self._release_device(device)
            device.set_state(DISCONNECTED, reason)
        active.set_state(AC_DEACTIVATED, AC_REASON_DEVICE_DISCONNECTED)
        active.devices = []
        notify(active, "Devices")
        self._drop_active(active)
        _LOGGER.info("'%s' deactivated (reason %d)", active.connection.id, reason)
        if was_hotspot:
            self._rescan_after_hotspot(device)

    # -- scanning ----------------------------------------------------------------------------

    def request_scan(self, wireless: WirelessInterface, options: dict[str, Variant]) -> None:
        """RequestScan, with NetworkManager's checks and error messages."""
        probes: list[bytes] = []
        option = options.get("ssids")
        if option is not None:
            if option.signature != "aay":
                raise nm_error(f"{_DEVICE_ERROR}.InvalidArgument", "Invalid 'ssid' scan option")
            if len(option.value) > 32:
                raise nm_error(
                    f"{_DEVICE_ERROR}.InvalidArgument", "too many SSIDs requested to scan"
                )
            for index, ssid in enumerate(option.value):
                if len(ssid) > 32:
                    raise nm_error(
                        f"{_DEVICE_ERROR}.InvalidArgument",
                        f"SSID at index {index} more than 32 bytes",
                    )
                probes.append(bytes(ssid))
        device = wireless.device
        if device.state < DISCONNECTED or device.spec.scan is ScanBehaviour.REFUSE:
            raise nm_error(f"{_DEVICE_ERROR}.NotAllowed", "Scanning not allowed while unavailable")
        if wireless.mode == MODE_AP and device.spec.ap_mode_scan is ApModeScan.REFUSE:
            raise nm_error(f"{_DEVICE_ERROR}.NotAllowed", "Scanning not allowed at this time")
        self._probes.setdefault(device.path, set()).update(probes)
        if device.spec.scan is ScanBehaviour.HANG or device.path in self._scans:
            return
        self._start_scan(wireless)

    def _start_scan(self, wireless: WirelessInterface) -> None:
        path = wireless.device.path
        task = asyncio.create_task(self._scan(wireless))
        self._scans[path] = task
        task.add_done_callback(lambda _: self._scans.pop(path, None))

    async def _scan(self, wireless: WirelessInterface) -> None:
        await asyncio.sleep(self.scenario.scan_delay_ms / 1000)
        in_ap_mode = wireless.mode == MODE_AP
        if not (in_ap_mode and wireless.device.spec.ap_mode_scan is ApModeScan.EMPTY):
            self._sync_access_points(wireless, self._air)
        self._probes.pop(wireless.device.path, None)
        # Results first, then LastScan: a client that waits for LastScan sees the new list.
        wireless.last_scan = int(_boottime() * 1000)
        notify(wireless, "LastScan")
        _LOGGER.debug(
            "Scan on %s done: %d access points",
            wireless.device.spec.interface,
            len(wireless.access_points),
        )

    def _rescan_after_hotspot(self, device: DeviceInterface) -> None:
        """Back from AP mode NetworkManager scans by itself (periodic scans are allowed again)."""
        wireless = self._wireless.get(device.path)
        if (
            wireless is not None
            and device.spec.scan is ScanBehaviour.OK
            and device.path not in self._scans
        ):
            self._start_scan(wireless)

    def _probed(self, device: DeviceInterface) -> set[bytes]:
        """SSIDs a scan probes for: those asked for, and every saved hidden profile's."""
        probed = set(self._probes.get(device.path, set()))
        for connection in self._connections.values():
            if (
                value(connection.settings, WIRELESS, "hidden")
                and text(connection.settings, WIRELESS, "mode") != "ap"
            ):
                probed.add(value(connection.settings, WIRELESS, "ssid") or b"")
        return probed

    def _add_access_point(self, wireless: WirelessInterface, ap: AccessPointInterface) -> None:
        wireless.access_points[ap.bssid] = ap
        self._export(ap.path, ap)
        wireless.AccessPointAdded(ap.path)

    def _remove_access_points(
        self, wireless: WirelessInterface, keep: Iterable[str], *, only_hotspot: bool = False
    ) -> None:
        kept = set(keep)
        removed = False
        for bssid, ap in list(wireless.access_points.items()):
            if bssid in kept or (only_hotspot and ap.mode != MODE_AP):
                continue
            del wireless.access_points[bssid]
            if wireless.active_ap is ap:
                wireless.active_ap = None
            self._unexport(ap.path)
            wireless.AccessPointRemoved(ap.path)
            removed = True
        if removed:
            notify(wireless, "AccessPoints")

    def _sync_access_points(self, wireless: WirelessInterface, air: Sequence[NetworkSpec]) -> None:
        """Make the AP list what a scan of `air` finds (a hotspot's own AP stays)."""
        if self.supplicant is not None:
            air = [network for network in air if self.supplicant.allows(network.frequency)]
        now = int(_boottime())
        probed = self._probed(wireless.device)
        keep = {n.bssid for n in air}
        keep |= {b for b, ap in wireless.access_points.items() if ap.mode == MODE_AP}
        if wireless.active_ap is not None:
            keep.add(wireless.active_ap.bssid)
        self._remove_access_points(wireless, keep)
        added = False
        for network in air:
            ssid = network.ssid if not network.hidden or network.ssid in probed else b""
            ap = wireless.access_points.get(network.bssid)
            if ap is None:
                ap = AccessPointInterface(
                    self._path("AccessPoint"),
                    ssid=ssid,
                    bssid=network.bssid,
                    flags=(network.flags, network.wpa_flags, network.rsn_flags),
                    strength=network.strength,
                    frequency=network.frequency,
                    max_bitrate=network.max_bitrate,
                    last_seen=now,
                )
                self._add_access_point(wireless, ap)
                added = True
                continue
            changed = ["LastSeen"]
            for attribute, prop, new in (
                ("ssid", "Ssid", ssid),
                ("strength", "Strength", network.strength),
                ("frequency", "Frequency", network.frequency),
            ):
                if getattr(ap, attribute) != new:
                    setattr(ap, attribute, new)
                    changed.append(prop)
            ap.last_seen = now
            notify(ap, *changed)
        if added:
            notify(wireless, "AccessPoints")

    # -- Python API for tests and the simulate command ------------------------------------------

    @property
    def connections(self) -> tuple[ReceivedConnection, ...]:
        """Every stored profile with its secrets: what the simulator received, normalized."""
        if self._bus is None:
            return tuple(
                ReceivedConnection(
                    "",
                    str(s.settings["connection"]["id"].value),
                    str(s.settings["connection"]["uuid"].value),
                    plain(s.settings),
                    s.received,
                    s.unsaved,
                    s.filename,
                )
                for s in self._stored
            )
        return tuple(
            ReceivedConnection(
                c.path, c.id, c.uuid, plain(c.settings), c.received, c.unsaved, c.filename
            )
            for c in self._connections.values()
        )

    def inject(self, fault: Fault | Malformation) -> None:
        """Answer a method's calls badly, or send a property or reply malformed, from now on.

        A Fault's `skip` counts calls from now; a Malformation holds for objects made later (a
        restart's, a scan's) too.
        """
        if isinstance(fault, Malformation):
            self._malformations.append(fault)
            self._apply_malformations()
            return
        self._faults.append(dataclasses.replace(fault, skip=self._calls[fault.method] + fault.skip))

    def calls(self, method: str) -> int:
        """How many calls of a method (NetworkManager's member name) came so far."""
        return self._calls[method]

    def call_counts(self) -> dict[str, int]:
        """How many calls of each method came so far, by NetworkManager's member name."""
        return dict(self._calls)

    def clear_injected(self) -> None:
        """Answer every call properly again: injected faults and malformations are gone."""
        self._faults.clear()
        self._malformations.clear()
        self._apply_malformations()

    def _malformed_for(self, path: str, interface: str) -> dict[str, Variant | None]:
        return {m.member: m.value for m in self._malformations if m.touches(path, interface)}

    def _apply_malformations(self) -> None:
        for path, interfaces in self._objects.items():
            for name, interface in interfaces.items():
                interface.malformed = self._malformed_for(path, name)

    def access_point_path(self, bssid: str) -> str:
        """The object path of the access point a WiFi device lists now with this BSSID."""
        for wireless in self._wireless.values():
            ap = wireless.access_points.get(bssid)
            if ap is not None:
                return ap.path
        raise KeyError(bssid)

    @property
    def networks(self) -> tuple[NetworkSpec, ...]:
        """The access points in the air now."""
        return tuple(self._air)

    def set_networks(self, networks: Iterable[NetworkSpec], *, now: bool = False) -> None:
        """Change what is in the air; scans see it, or the AP list at once with now=True."""
        self._air = list(networks)
        if now:
            for wireless in self._wireless.values():
                if wireless.mode != MODE_AP:
                    self._sync_access_points(wireless, self._air)

    def set_strength(self, ssid: bytes | str, strength: int, *, now: bool = False) -> None:
        """Change the signal strength of every access point of one SSID."""
        raw = ssid.encode() if isinstance(ssid, str) else ssid
        self.set_networks(
            (dataclasses.replace(n, strength=strength) if n.ssid == raw else n for n in self._air),
            now=now,
        )

    def device_state(self, interface: str) -> tuple[int, int]:
        """A device's (State, reason) now."""
        for device in self._devices:
            if device.spec.interface == interface:
                return device.state, device.reason
        raise KeyError(interface)

    @property
    def state(self) -> int:
        """The manager's State property now."""
        return self._manager.nm_state if self._manager else 0

    # -- errors for calls dbus-next cannot route, worded like NetworkManager's (GDBus) ---------

    def _property_names(self, interface: ServiceInterface) -> frozenset[str]:
        table = self._members.setdefault(type(interface), {})
        if interface.name not in table:
            table[interface.name] = frozenset(p.name for p in interface.introspect().properties)
        return table[interface.name]

    def _route(self, message: Message) -> Message | bool | None:
        """Answer method calls to the simulator's objects; None leaves a call to dbus-next."""
        if message.message_type != MessageType.METHOD_CALL:
            return None
        interface_name = message.interface
        if interface_name in _STANDARD_INTERFACES:
            return None
        exported = self._objects.get(message.path)
        if exported is None:
            return error_reply(
                message,
                "org.freedesktop.DBus.Error.UnknownMethod",
                f"Object does not exist at path \u201c{message.path}\u201d",
            )
        if interface_name == "org.freedesktop.DBus.Properties":
            refused = self._check_properties_call(message, exported)
            return refused if refused is not None else self._fault_reply(message)
        if interface_name is None:
            return None
        target = exported.get(interface_name)
        if target is None:
            return error_reply(
                message,
                "org.freedesktop.DBus.Error.UnknownMethod",
                f"No such interface \u201c{interface_name}\u201d on object at path {message.path}",
            )
        expected = method_signature(target, message.member)
        if expected is None or message.member in target.hidden:
            return error_reply(
                message,
                "org.freedesktop.DBus.Error.UnknownMethod",
                f"No such method \u201c{message.member}\u201d",
            )
        if expected != message.signature:
            return error_reply(
                message,
                "org.freedesktop.DBus.Error.InvalidArgs",
                f"Type of message, \u201c({message.signature})\u201d, does not match expected "
                f"type \u201c({expected})\u201d",
            )
        faulty = self._fault_reply(message)
        if faulty is not None:
            return faulty
        reply = reply_to(target, message)
        answered = isinstance(reply, Message) and reply.message_type == MessageType.METHOD_RETURN
        if answered and message.member in target.malformed:
            # The method did its work, as NetworkManager would; only the answer is wrong.
            return _malformed_reply(message, target.malformed[message.member])
        return reply

    def _fault_reply(self, message: Message) -> Message | bool | None:
        """An injected fault's answer to this call (True: none ever), or None to answer it."""
        member = str(message.member)
        call = self._calls[member]
        self._calls[member] += 1
        for fault in self._faults:
            if fault.method != member or not fault.applies(call):
                continue
            _LOGGER.info("Fault: %s %s on %s (call %d)", fault.action, member, message.path, call)
            if fault.action is FaultAction.HANG:
                return True
            return error_reply(message, FAULT_ERROR, f"injected fault: {member} failed")
        return None

    def _check_properties_call(
        self, message: Message, exported: dict[str, ServiceInterface]
    ) -> Message | None:
        if message.member not in ("Get", "GetAll", "Set") or not message.body:
            return None
        target = exported.get(str(message.body[0]))
        if target is None:
            return error_reply(
                message,
                "org.freedesktop.DBus.Error.InvalidArgs",
                f"No such interface \u201c{message.body[0]}\u201d",
            )
        if message.member in ("Get", "Set") and len(message.body) > 1:
            name = str(message.body[1])
            left_out = name in target.malformed and target.malformed[name] is None
            if name not in self._property_names(target) or left_out:
                return error_reply(
                    message,
                    self.scenario.missing_property_error,
                    f"No such property \u201c{name}\u201d",
                )
            if message.member == "Get" and name in target.malformed:
                return reply_with(message, "v", [target.malformed[name]])
        if message.member == "GetAll" and (target.hidden or target.malformed):
            # dbus-next's own GetAll would list the properties this NetworkManager lacks.
            return reply_with(message, "a{sv}", [all_properties(target)])
        return None


def _malformed_reply(message: Message, value: Variant | None) -> Message:
    """A method's reply carrying `value` (of its own D-Bus type) instead; None: an empty one."""
    if value is None:
        return reply_with(message, "", [])
    return reply_with(message, value.signature, [value.value])
