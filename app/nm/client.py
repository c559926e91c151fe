"""Typed wrappers for the NetworkManager interfaces the app uses: manager, devices, settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from ipaddress import IPv4Address
from typing import Any, TypeVar

from dbus_next.validators import is_object_path_valid

from app.errors import (
    LinkUnusable,
    MalformedReply,
    NetworkManagerError,
    NetworkManagerNoAnswer,
    NetworkManagerUnavailable,
    NoWifiDevice,
    ValidationError,
)
from app.nm.bus import Signal, SignalSubscription, SystemBus
from app.nm.compat import NMVersion, for_version, parse_nm_version
from app.nm.const import (
    ACCESS_POINT_IFACE,
    ACTIVE_IFACE,
    BUS_NAME,
    CONNECTION_IFACE,
    DEVICE_IFACE,
    HOTSPOT_ID_PREFIX,
    IP4CONFIG_IFACE,
    LEGACY_SCAN_TIME,
    MANAGER_IFACE,
    MANAGER_PATH,
    PROPERTIES_IFACE,
    SETTINGS_IFACE,
    SETTINGS_PATH,
    WIRELESS_IFACE,
    ActiveConnectionState,
    Connectivity,
    DeviceState,
    DeviceStateReason,
    DeviceType,
    NMState,
    WifiMode,
)
from app.nm.models import (
    ActivationResult,
    ActiveLink,
    Device,
    FailureKind,
    NetworkStatus,
    SavedConnection,
    Uplink,
    WifiNetwork,
    failure_for_reason,
)
from app.nm.profiles import IEEE_8021X, WIRELESS_SECURITY, Settings, finished_profile, is_pending
from app.nm.security import classify
from app.nm.supplicant import Supplicant
from app.nm.variants import from_dbus, signatures_of, to_dbus
from app.rules import check_interface_name

_LOGGER = logging.getLogger(__name__)
# How many property reads of listed objects may wait for their replies at once: the system
# bus daemon refuses a connection's calls beyond 128 unanswered (max_replies_per_connection).
READS_IN_FLIGHT = 32

_T = TypeVar("_T")

_ROOT_PATH = "/"
# Errors that mean an object path we hold died with an earlier NM process.
_STALE_PATH_ERRORS = frozenset(
    {"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod"}
)
# How long one round of an open-ended watch lasts; each round re-reads what it watches.
_WATCH_PERIOD = 3600.0
# A watch that runs for hours relies on signals, and re-reads only this often in case one was
# lost (the bus connection dropped meanwhile, say).
_WATCH_RECHECK = 5.0
# NM's Startup turns false without a signal we subscribe to, so starting up is re-read often.
_STARTUP_RECHECK = 0.2
# The settings that hold a profile's secrets, which GetSettings leaves out.
_SECRET_SETTINGS = (WIRELESS_SECURITY, IEEE_8021X)


class NetworkManagerClient:
    """NetworkManager's manager and settings objects; follows NM restarts on its own."""

    def __init__(self, bus: SystemBus, *, restart_timeout: float = 30.0) -> None:
        self._bus = bus
        self._restart_timeout = restart_timeout
        # The profile (uuid) of each connection we activated, by active path: a restarted NM
        # gives the same activation a new path, found again through its profile.
        self._activated: dict[str, str] = {}
        # The (interface, property) pairs newer than NM 1.10 that this NetworkManager turned out
        # not to have: asked once, then read the older way.
        self._lacking: set[tuple[str, str]] = set()
        # (major, minor) of the NetworkManager on the bus, read once: older ones refuse some
        # newer setting values, which are sent the older way.
        self._version: NMVersion | None = None

    def supplicant(self) -> Supplicant:
        """wpa_supplicant on the same bus connection (the regulatory domain's country)."""
        return Supplicant(self._bus)

    @classmethod
    async def connect(cls, bus: SystemBus, *, timeout: float = 30.0) -> NetworkManagerClient:
        """Wait (bounded) until NetworkManager owns its name and has finished starting up."""
        client = cls(bus, restart_timeout=timeout)
        await client.wait_ready(timeout=timeout)
        return client

    async def _survive_restart(
        self,
        read: Callable[[], Awaitable[_T]],
        find_again: Callable[[], Awaitable[None]] | None = None,
    ) -> _T:
        """Run a read; if NM restarted under it, wait for NM, find the paths again, run it again."""
        try:
            return await read()
        except NetworkManagerNoAnswer:
            # A hung NetworkManager is still there: asking again would only double the wait.
            raise
        except NetworkManagerUnavailable:
            _LOGGER.warning("NetworkManager went away; waiting for it to come back")
        except NetworkManagerError as err:
            if err.name not in _STALE_PATH_ERRORS:
                raise
            _LOGGER.info("NetworkManager restarted; reading its objects again")
        await self.wait_ready(timeout=self._restart_timeout)
        # The NetworkManager that came back may be another version (an upgrade restarts it).
        self._lacking.clear()
        self._version = None
        if find_again is not None:
            await find_again()
        return await read()

    async def optional_property(self, path: str, interface: str, name: str) -> Any | None:
        """A property newer than NM 1.10, or None when this NetworkManager does not have it."""
        if (interface, name) in self._lacking:
            return None
        try:
            return await self._bus.get_property(path, interface, name)
        except NetworkManagerError:
            # NetworkManagers name a missing property differently (InvalidArgs, UnknownProperty,
            # ...), and UnknownMethod also means a stale path: ask the object what it has.
            # If it is gone, GetAll's error is the one to act on.
            if name in await self._bus.get_properties(path, interface):
                raise
        self._lacking.add((interface, name))
        _LOGGER.info("This NetworkManager has no %s %s; using the older way", interface, name)
        return None

    async def wait_ready(self, *, timeout: float) -> None:
        """Wait until NM is on the bus and its Startup property is false."""

        async def ready(_owner_change: Signal | None) -> bool:
            if await self._bus.name_owner(BUS_NAME) is None:
                return False
            try:
                starting = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "Startup")
            except MalformedReply:
                raise
            except (NetworkManagerUnavailable, NetworkManagerError):
                return False
            return not _as_bool(starting, "Startup")

        async with self._bus.subscribe(
            "org.freedesktop.DBus",
            "NameOwnerChanged",
            sender="org.freedesktop.DBus",
            arg0=BUS_NAME,
        ) as owner_changes:
            if not await owner_changes.wait_until(ready, timeout=timeout, recheck=_STARTUP_RECHECK):
                raise NetworkManagerUnavailable(
                    f"NetworkManager did not appear on the system bus within {timeout:g} s; "
                    "is it running, and is DBUS_SYSTEM_BUS_ADDRESS right?"
                )

    # -- manager -------------------------------------------------------------------------------

    async def status(self) -> NetworkStatus:
        """NetworkManager's overall state and connectivity."""
        return await self._survive_restart(self._status)

    async def _status(self) -> NetworkStatus:
        props = await self._bus.get_properties(MANAGER_PATH, MANAGER_IFACE)
        return NetworkStatus(
            state=NMState(_as_int(props.get("State"), "State")),
            connectivity=Connectivity(_as_int(props.get("Connectivity"), "Connectivity")),
        )

    async def devices(self) -> list[Device]:
        """Every device NM knows, in NM's order."""
        listing = (MANAGER_PATH, MANAGER_IFACE, "GetDevices")
        return await self._survive_restart(lambda: _listed(self._bus, listing, self._device))

    async def _device(self, path: str) -> Device:
        props = await self._bus.get_properties(path, DEVICE_IFACE)
        return Device(
            path=path,
            interface=_as_text(props.get("Interface"), "Interface"),
            device_type=DeviceType(_as_int(props.get("DeviceType"), "DeviceType")),
            state=DeviceState(_as_int(props.get("State"), "State")),
            managed=_as_bool(props.get("Managed"), "Managed"),
        )

    async def wifi_device(self, interface: str | None = None) -> WifiDevice:
        """The configured WiFi device, else the first managed one."""
        devices = await self.devices()
        wifi = [d for d in devices if d.device_type is DeviceType.WIFI]
        if interface is not None:
            for device in devices:
                if device.interface != interface:
                    continue
                if device.device_type is not DeviceType.WIFI:
                    raise NoWifiDevice(
                        f"'{interface}' is not a WiFi device "
                        f"(NetworkManager says {device.device_type.name.lower()})"
                    )
                if not device.managed:
                    raise NoWifiDevice(f"NetworkManager does not manage '{interface}'")
                return WifiDevice(self, self._bus, device)
            names = ", ".join(d.interface for d in wifi) or "none"
            raise NoWifiDevice(f"no WiFi device named '{interface}' (WiFi devices: {names})")
        for device in wifi:
            if device.managed:
                return WifiDevice(self, self._bus, device)
        raise NoWifiDevice("NetworkManager manages no WiFi device")

    async def version(self) -> NMVersion | None:
        """(major, minor) of NetworkManager, read once; None when its Version is unreadable."""
        if self._version is None:
            try:
                text = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "Version")
            except NetworkManagerError as err:
                _LOGGER.warning("Cannot read NetworkManager's version: %s", err)
                return None
            self._version = parse_nm_version(text)
            if self._version is None:
                _LOGGER.warning(
                    "Ignoring a malformed Version from NetworkManager: %s", _brief(text)
                )
        return self._version

    # -- settings ------------------------------------------------------------------------------

    async def add_connection(self, settings: Settings) -> SavedConnection:
        """Store a connection profile persistently; NM's refusal raises NetworkManagerError."""
        sent = to_dbus(for_version(settings, await self.version()))
        (reply,) = await self._bus.call(
            SETTINGS_PATH, SETTINGS_IFACE, "AddConnection", "a{sa{sv}}", [sent], returns="o"
        )
        path = str(reply)
        try:
            filename = await self.optional_property(path, CONNECTION_IFACE, "Filename")
        except NetworkManagerError:
            filename = None  # the profile is saved, whatever became of it since
        saved = _saved_connection(path, settings, filename=_filename(filename))
        _LOGGER.info("Saved connection '%s' (%s)", saved.id, saved.uuid)
        return saved

    async def saved_connections(self) -> list[SavedConnection]:
        """Every stored connection profile."""
        listing = (SETTINGS_PATH, SETTINGS_IFACE, "ListConnections")
        return await self._survive_restart(
            lambda: _listed(self._bus, listing, self._saved_connection)
        )

    async def _saved_connection(self, path: str) -> SavedConnection:
        settings = await self._connection_settings(path)
        filename = await self.optional_property(path, CONNECTION_IFACE, "Filename")
        return _saved_connection(path, settings, filename=_filename(filename))

    async def wifi_connections(self) -> list[SavedConnection]:
        """Stored WiFi client profiles (hotspots left out)."""
        return [
            c
            for c in await self.saved_connections()
            if c.connection_type == "802-11-wireless" and c.mode != "ap"
        ]

    async def hotspot_connections(self) -> list[SavedConnection]:
        """Hotspot profiles this app created, including stale ones from an earlier run."""
        return [c for c in await self.saved_connections() if c.id.startswith(HOTSPOT_ID_PREFIX)]

    async def _connection_settings(self, path: str) -> Settings:
        """A stored profile's settings, without secrets."""
        (settings,) = await self._bus.call(
            path, CONNECTION_IFACE, "GetSettings", returns="a{sa{sv}}"
        )
        return from_dbus(settings)

    async def update_connection(self, path: str, settings: Settings) -> None:
        """Replace a stored profile's settings, secrets included."""
        sent = to_dbus(for_version(settings, await self.version()))
        await self._bus.call(path, CONNECTION_IFACE, "Update", "a{sa{sv}}", [sent])
        _LOGGER.info("Updated connection %s", path)

    async def finish_pending(
        self, connection: SavedConnection, built: Settings | None = None
    ) -> None:
        """Make a proven pending profile ordinary (autoconnect on, mark gone) with one Update.

        Update replaces every setting, secrets included: it gets the settings the app built,
        or else (a profile left by an earlier run) what NM holds, secrets read back, each key
        sent back with the type NM gave it.
        """
        if built is not None:
            wire = to_dbus(for_version(finished_profile(built), await self.version()))
        else:
            stored = await self._settings_with_secrets(connection.path)
            wire = to_dbus(finished_profile(from_dbus(stored)), signatures_of(stored))
        await self._bus.call(connection.path, CONNECTION_IFACE, "Update", "a{sa{sv}}", [wire])
        _LOGGER.info("'%s' is proven: an ordinary profile now", connection.id)

    async def _settings_with_secrets(self, path: str) -> dict[str, dict[str, Any]]:
        """A stored profile's settings as NM sends them (Variants), its secrets merged in."""
        (reply,) = await self._bus.call(path, CONNECTION_IFACE, "GetSettings", returns="a{sa{sv}}")
        settings = _as_settings(reply, "GetSettings")
        for name in _SECRET_SETTINGS:
            if name not in settings:
                continue
            try:
                (secrets,) = await self._bus.call(
                    path, CONNECTION_IFACE, "GetSecrets", "s", [name], returns="a{sa{sv}}"
                )
            except MalformedReply:
                raise  # sending the profile back without its secrets would erase them
            except NetworkManagerError as err:
                # No secret stored in NM (an agent owns it, say): nothing to send back.
                _LOGGER.debug("No secrets of %s in %s: %s", name, path, err.message)
                continue
            settings[name] = {**settings[name], **_as_settings(secrets, "GetSecrets").get(name, {})}
        return dict(settings)

    async def delete_connection(self, path: str) -> None:
        """Delete a stored profile (and its keyfile)."""
        await self._bus.call(path, CONNECTION_IFACE, "Delete")
        _LOGGER.debug("Deleted connection %s", path)

    # -- activation ----------------------------------------------------------------------------

    async def activate(
        self, connection: SavedConnection, device: Device, *, timeout: float
    ) -> ActivationResult:
        """Activate a profile on a device and wait, bounded, for ACTIVATED or the failure reason."""
        # Subscribe before activating: a fast activation finishes before ActivateConnection returns.
        async with (
            self._bus.subscribe(ACTIVE_IFACE, "StateChanged") as active_changes,
            _state_properties(self._bus, active_changes),
            self._bus.subscribe(DEVICE_IFACE, "StateChanged", device.path) as device_changes,
        ):
            (reply,) = await self._bus.call(
                MANAGER_PATH,
                MANAGER_IFACE,
                "ActivateConnection",
                "ooo",
                [connection.path, device.path, _ROOT_PATH],
                returns="o",
            )
            active_path = str(reply)
            _LOGGER.info("Activating '%s' on %s", connection.id, device.interface)
            watcher = _ActivationWatcher(self._bus, active_path, device, device_changes)
            result = await watcher.wait(active_changes, timeout)
        if result.failure is FailureKind.TIMEOUT:
            _LOGGER.warning(
                "'%s' did not activate within %g s; giving up on it", connection.id, timeout
            )
            await self.deactivate(active_path)
        elif result.ok:
            _LOGGER.info("'%s' is active on %s", connection.id, device.interface)
            self._activated[active_path] = connection.uuid
        else:
            _LOGGER.warning(
                "'%s' failed to activate: %s (reason %d)",
                connection.id,
                result.failure,
                int(result.reason),
            )
        return result

    async def deactivate(self, active_path: str, *, timeout: float = 10.0) -> None:
        """Deactivate an active connection and wait (bounded) until it is gone."""
        self._activated.pop(active_path, None)

        async def gone(signal: Signal | None) -> bool:
            if signal is not None:
                state = _signalled_state(signal)
                return state is not None and state >= ActiveConnectionState.DEACTIVATED
            state = await _active_state(self._bus, active_path)
            return state is None or state >= ActiveConnectionState.DEACTIVATED

        async with (
            self._bus.subscribe(ACTIVE_IFACE, "StateChanged", active_path) as changes,
            _state_properties(self._bus, changes, active_path),
        ):
            try:
                await self._bus.call(
                    MANAGER_PATH, MANAGER_IFACE, "DeactivateConnection", "o", [active_path]
                )
            except NetworkManagerError as err:
                # Already gone (it failed, or someone else took it down): nothing left to do.
                # Still up: NM refused, and the caller must not believe it went down.
                if not await gone(None):
                    raise
                _LOGGER.debug("Deactivate %s: %s", active_path, err)
                return
            if not await changes.wait_until(gone, timeout=timeout):
                _LOGGER.warning("%s still deactivating after %g s", active_path, timeout)

    async def wait_ended(self, active_path: str) -> None:
        """Return once an activation is over: taken down, failed, or gone with its NM process."""
        # A NetworkManager that stops or restarts drops its activations, and one that comes
        # back may reuse the path: the owner of its bus name tells the two apart.
        owner = await self._bus.name_owner(BUS_NAME)

        async def ended(signal: Signal | None) -> bool:
            if signal is not None and signal.member == "NameOwnerChanged":
                return True
            if signal is not None:
                state = _signalled_state(signal)
                if state is not None:
                    return state is not ActiveConnectionState.ACTIVATED
            if await self._bus.name_owner(BUS_NAME) != owner:
                return True
            try:
                state = await _active_state(self._bus, active_path)
            except NetworkManagerNoAnswer:
                return False  # hanging is not ending; a hung NM fails the next real call
            except NetworkManagerUnavailable:
                return True
            return state is not ActiveConnectionState.ACTIVATED

        async with (
            self._bus.subscribe(
                "org.freedesktop.DBus",
                "NameOwnerChanged",
                sender="org.freedesktop.DBus",
                arg0=BUS_NAME,
            ) as changes,
            self._bus.subscribe(ACTIVE_IFACE, "StateChanged", active_path, into=changes),
            _state_properties(self._bus, changes, active_path),
        ):
            while not await changes.wait_until(
                ended, timeout=_WATCH_PERIOD, recheck=_WATCH_RECHECK
            ):
                pass

    async def wait_device_released(self, device: Device, *, timeout: float) -> None:
        """Wait (bounded) until nothing is active on a device any more."""

        async def released(_signal: Signal | None) -> bool:
            value = await self._bus.get_property(device.path, DEVICE_IFACE, "State")
            return _as_int(value, "State") <= DeviceState.DISCONNECTED

        async with self._bus.subscribe(DEVICE_IFACE, "StateChanged", device.path) as changes:
            if not await changes.wait_until(released, timeout=timeout):
                _LOGGER.warning("%s is still busy after %g s", device.interface, timeout)

    # -- the uplink ----------------------------------------------------------------------------

    async def nameservers(self, active_path: str) -> list[str]:
        """The IPv4 DNS servers an active connection got (from DHCP or its profile), once each."""
        path = active_path

        async def find_again() -> None:
            nonlocal path
            path = await self._active_path_of(self._activated.get(active_path)) or path

        try:
            return await self._survive_restart(lambda: self._nameservers(path), find_again)
        except MalformedReply:
            raise
        except NetworkManagerError as err:
            _LOGGER.debug("No DNS servers for %s: %s", active_path, err)
            return []  # the connection went down between the reads

    async def _nameservers(self, active_path: str) -> list[str]:
        config_path = _as_path(
            await self._bus.get_property(active_path, ACTIVE_IFACE, "Ip4Config"), "Ip4Config"
        )
        if config_path == _ROOT_PATH:
            return []
        data = await self.optional_property(config_path, IP4CONFIG_IFACE, "NameserverData")
        if data is not None:
            return nameservers_from_data(data)
        # Before NM 1.14: the older, byte-order-bound form.
        legacy = await self._bus.get_property(config_path, IP4CONFIG_IFACE, "Nameservers")
        return nameservers_from_legacy(legacy)

    async def active_link(self, active_path: str) -> ActiveLink:
        """The interface an active connection's traffic leaves by, and its DNS servers.

        Raises LinkUnusable when NetworkManager reports no IP interface for it: it is down.
        """
        path = active_path

        async def find_again() -> None:
            nonlocal path
            path = await self._active_path_of(self._activated.get(active_path)) or path

        try:
            interface = await self._survive_restart(lambda: self._ip_interface(path), find_again)
        except MalformedReply:
            raise
        except NetworkManagerError as err:
            _LOGGER.debug("No IP interface for %s: %s", active_path, err)
            interface = None  # the connection went down between the reads
        if interface is None:
            raise LinkUnusable(
                "NetworkManager reports no network interface for the new connection: it is down"
            )
        resolvers = await self.nameservers(active_path)
        return ActiveLink(interface=interface, resolvers=tuple(resolvers))

    async def _ip_interface(self, active_path: str) -> str | None:
        """The IpInterface of the active connection's first device that has one."""
        devices = await self._bus.get_property(active_path, ACTIVE_IFACE, "Devices")
        for device in _as_paths(devices, "Devices"):
            value = await self._bus.get_property(device, DEVICE_IFACE, "IpInterface")
            if value == "":
                continue  # not configured for IP (any more)
            try:
                return check_interface_name(value if isinstance(value, str) else "")
            except ValidationError:
                _LOGGER.warning(
                    "Ignoring a malformed IpInterface from NetworkManager: %s", _brief(value)
                )
        return None

    async def _active_path_of(self, uuid: str | None) -> str | None:
        """The path of a profile's active connection now: a restarted NM gives it a new one."""
        if uuid is None:
            return None
        paths = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "ActiveConnections")
        for path in _as_paths(paths, "ActiveConnections"):
            with contextlib.suppress(NetworkManagerError):
                if await self._bus.get_property(path, ACTIVE_IFACE, "Uuid") == uuid:
                    return path
        return None

    async def activated_path(self, connection: SavedConnection) -> str | None:
        """The path of the profile's active connection if it is ACTIVATED now, else None."""
        paths = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "ActiveConnections")
        for path in _as_paths(paths, "ActiveConnections"):
            try:
                props = await self._bus.get_properties(path, ACTIVE_IFACE)
            except NetworkManagerError:
                continue  # it went down between the reads
            if props.get("Uuid") == connection.uuid:
                activated = props.get("State") == ActiveConnectionState.ACTIVATED
                return path if activated else None
        return None

    async def primary_uplink(self) -> Uplink | None:
        """The connection NetworkManager routes through by default, or None when there is none."""
        return await self._survive_restart(self._primary_uplink)

    async def _primary_uplink(self) -> Uplink | None:
        primary = await self._bus.get_property(MANAGER_PATH, MANAGER_IFACE, "PrimaryConnection")
        path = _as_path(primary, "PrimaryConnection")
        if path == _ROOT_PATH:
            return None
        try:
            props = await self._bus.get_properties(path, ACTIVE_IFACE)
            resolvers = await self._nameservers(path)
        except MalformedReply:
            raise
        except NetworkManagerError:
            return None  # it went down between the reads
        interfaces = []
        for device in _as_paths(props.get("Devices"), "Devices"):
            try:
                interface = await self._bus.get_property(device, DEVICE_IFACE, "Interface")
            except NetworkManagerError:
                continue  # the device went away between the reads
            interfaces.append(_as_text(interface, "Interface"))
        return Uplink(
            name=_as_text(props.get("Id"), "Id"),
            interfaces=tuple(interfaces),
            resolvers=tuple(resolvers),
        )


def _state_properties(
    bus: SystemBus, into: SignalSubscription, path: str | None = None
) -> contextlib.AbstractAsyncContextManager[SignalSubscription]:
    """Active connections' PropertiesChanged, queued with their StateChanged in `into`."""
    # NM before 1.8 has no StateChanged on an active connection: its State moves only here.
    return bus.subscribe(PROPERTIES_IFACE, "PropertiesChanged", path, arg0=ACTIVE_IFACE, into=into)


def _signalled_state(signal: Signal) -> ActiveConnectionState | None:
    """The state an active connection's StateChanged or PropertiesChanged names, if any."""
    if signal.member == "StateChanged" and signal.body:
        return ActiveConnectionState(_as_int(signal.body[0], "State"))
    changed = signal.body[1] if len(signal.body) >= 2 else None
    if signal.member == "PropertiesChanged" and isinstance(changed, Mapping) and "State" in changed:
        return ActiveConnectionState(_as_int(changed["State"], "State"))
    return None


async def _active_state(bus: SystemBus, active_path: str) -> ActiveConnectionState | None:
    """An active connection's state, or None once NM has dropped the object."""
    try:
        value = await bus.get_property(active_path, ACTIVE_IFACE, "State")
    except NetworkManagerError:
        return None
    return ActiveConnectionState(_as_int(value, "State"))


class _ActivationWatcher:
    """Follows one activation: active-connection state, and the device's failure reason."""

    def __init__(
        self, bus: SystemBus, active_path: str, device: Device, device_changes: SignalSubscription
    ) -> None:
        self._bus = bus
        self._active_path = active_path
        self._device = device
        self._device_changes = device_changes
        self._state: ActiveConnectionState | None = ActiveConnectionState.UNKNOWN
        self._reason = DeviceStateReason.NONE

    def _note_device_signals(self) -> None:
        """Remember the reason of the device's last move to FAILED (or DISCONNECTED)."""
        for signal in self._device_changes.pending():
            if len(signal.body) != 3:
                raise MalformedReply(f"a device's StateChanged carried {_brief(signal.body)}")
            new_state, _old_state, reason = (_as_int(v, "StateChanged") for v in signal.body)
            # A FAILED reason is the real cause; a DISCONNECTED one only fills a gap.
            failed = new_state == DeviceState.FAILED
            first_disconnect = (
                new_state == DeviceState.DISCONNECTED and self._reason is DeviceStateReason.NONE
            )
            if reason and (failed or first_disconnect):
                self._reason = DeviceStateReason(reason)

    async def wait(self, active_changes: SignalSubscription, timeout: float) -> ActivationResult:
        """Wait until the active connection is ACTIVATED or gone, or the bound runs out."""
        if not await active_changes.wait_until(self._settled, timeout=timeout):
            return ActivationResult(
                ActiveConnectionState.ACTIVATING,
                failure=FailureKind.TIMEOUT,
                active_path=self._active_path,
            )
        if self._state is ActiveConnectionState.ACTIVATED:
            return ActivationResult(self._state, active_path=self._active_path)
        return await self._failed()

    async def _settled(self, signal: Signal | None) -> bool:
        """Follow the state (from our StateChanged, else read): ACTIVATED, failing or gone."""
        if signal is None:
            self._state = await _active_state(self._bus, self._active_path)
        elif signal.path == self._active_path:
            signalled = _signalled_state(signal)
            if signalled is not None:
                self._state = signalled
        self._note_device_signals()
        state = self._state
        return (
            state is None
            or state is ActiveConnectionState.ACTIVATED
            or state >= ActiveConnectionState.DEACTIVATING
        )

    async def _failed(self) -> ActivationResult:
        """The failure, with the device's state reason; read it if no signal carried one."""
        # The device's FAILED signal can trail the active connection's DEACTIVATED a little.
        await asyncio.sleep(0.05)
        self._note_device_signals()
        if self._reason is DeviceStateReason.NONE:
            try:
                state_reason = await self._bus.get_property(
                    self._device.path, DEVICE_IFACE, "StateReason"
                )
            except NetworkManagerError:
                pass  # the device went away: the failure goes without its reason
            else:
                if not isinstance(state_reason, list) or len(state_reason) != 2:
                    raise MalformedReply(f"StateReason={_brief(state_reason)}, not (state, reason)")
                self._reason = DeviceStateReason(_as_int(state_reason[1], "StateReason"))
        return ActivationResult(
            ActiveConnectionState.DEACTIVATED,
            failure=failure_for_reason(self._reason),
            reason=self._reason,
            active_path=self._active_path,
        )


class WifiDevice:
    """A WiFi device: scanning and the access points it sees."""

    def __init__(self, client: NetworkManagerClient, bus: SystemBus, device: Device) -> None:
        self._client = client
        self._bus = bus
        self.device = device

    async def _find_again(self) -> None:
        """Find our device again: after an NM restart its object path is new."""
        self.device = (await self._client.wifi_device(self.device.interface)).device

    async def scan(
        self,
        *,
        timeout: float = 15.0,
        scan_time: float = LEGACY_SCAN_TIME,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> list[WifiNetwork]:
        """Request a scan and wait (bounded) for it to finish; NM's cache if refused.

        The end of a scan is LastScan changing; a NetworkManager without LastScan (before 1.12)
        gets until access points are listed plus `scan_time` (slept with `pause`), within the
        same bound.
        """
        return await self._client._survive_restart(
            lambda: self._scan(timeout, scan_time, pause), self._find_again
        )

    async def _scan(
        self, timeout: float, scan_time: float, pause: Callable[[float], Awaitable[None]]
    ) -> list[WifiNetwork]:
        path = self.device.path
        deadline = time.monotonic() + timeout
        before = await self._last_scan()

        async def scanned(signal: Signal | None) -> bool:
            if signal is not None and not _touches(signal, "LastScan"):
                return False
            return await self._last_scan() != before

        async def listed(signal: Signal | None) -> bool:
            if signal is not None and not (
                signal.member == "AccessPointAdded" or _touches(signal, "AccessPoints")
            ):
                return False
            return bool(await self._bus.get_property(path, WIRELESS_IFACE, "AccessPoints"))

        async with (
            self._bus.subscribe(PROPERTIES_IFACE, "PropertiesChanged", path) as changes,
            self._bus.subscribe(WIRELESS_IFACE, "AccessPointAdded", path, into=changes),
        ):
            try:
                await self._bus.call(path, WIRELESS_IFACE, "RequestScan", "a{sv}", [{}])
            except NetworkManagerError as err:
                # NM refuses while a scan runs, in AP mode, or right after another scan.
                _LOGGER.info("Scan refused (%s); using the networks NM already knows", err.message)
                return await self._networks()
            if before is not None:
                if not await changes.wait_until(scanned, timeout=timeout):
                    _LOGGER.warning("Scan did not finish within %g s; using what NM knows", timeout)
            elif await changes.wait_until(listed, timeout=timeout):
                await pause(max(0.0, min(scan_time, deadline - time.monotonic())))
            else:
                _LOGGER.warning("No access point appeared within %g s", timeout)
            return await self._networks()

    async def _last_scan(self) -> int | None:
        """LastScan (ms since boot), or None on a NetworkManager before 1.12."""
        value = await self._client.optional_property(self.device.path, WIRELESS_IFACE, "LastScan")
        return None if value is None else _as_int(value, "LastScan")

    async def _networks(self) -> list[WifiNetwork]:
        """The networks NM knows now: one per SSID, strongest first, hidden ones left out."""
        listing = (self.device.path, WIRELESS_IFACE, "GetAllAccessPoints")
        return strongest_per_ssid(await _listed(self._bus, listing, self._access_point))

    async def _access_point(self, path: str) -> WifiNetwork | None:
        props = await self._bus.get_properties(path, ACCESS_POINT_IFACE)
        if props.get("Mode") == WifiMode.AP:
            return None  # our own hotspot, listed while the radio is an access point
        return access_point_network(props)


async def _listed(
    bus: SystemBus,
    listing: tuple[str, str, str],
    read: Callable[[str], Awaitable[_T | None]],
) -> list[_T]:
    """`read` of each object a method lists, in order, leaving out what vanished or is malformed."""
    (paths,) = await bus.call(*listing, returns="ao")
    what = listing[2]
    in_flight = asyncio.Semaphore(READS_IN_FLIGHT)

    async def guarded(path: str) -> _T | None:
        try:
            async with in_flight:
                return await read(path)
        except ValueError as err:  # MalformedReply included
            _LOGGER.warning("Ignoring %s from %s, a bad reply: %s", path, what, err)
        except NetworkManagerError as err:
            # Objects come and go while we read them: a USB dongle pulled, an access point gone.
            _LOGGER.debug("Skipping %s from %s: %s", path, what, err)
        return None

    # The reads overlap: a scan of 200 access points waits for a few round trips through the
    # bus, not 200 in a row.
    reads = [asyncio.ensure_future(guarded(path)) for path in _as_paths(paths, what)]
    try:
        items = await asyncio.gather(*reads)
    except BaseException:
        # One read met a lost or silent NetworkManager: stop the others before going on, or
        # they would go on calling (and reconnecting) for a caller that has left.
        for read_task in reads:
            read_task.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        raise
    return [item for item in items if item is not None]


def nameservers_from_data(data: Any) -> list[str]:
    """IP4Config.NameserverData (aa{sv}, NM 1.14+) as addresses, once each; bad entries left out."""
    if not isinstance(data, list):
        _LOGGER.warning("Ignoring NameserverData from NetworkManager, not a list: %s", _brief(data))
        return []
    found: list[tuple[Any, IPv4Address | None]] = []
    for entry in data:
        address = entry.get("address") if isinstance(entry, dict) else None
        server = None
        if isinstance(address, str):
            with contextlib.suppress(ValueError):
                server = IPv4Address(address)
        found.append((entry, server))
    return _unique_nameservers(found, "NameserverData")


def nameservers_from_legacy(data: Any) -> list[str]:
    """IP4Config.Nameservers (au, before NM 1.14) as addresses, once each; bad entries left out."""
    if not isinstance(data, list):
        _LOGGER.warning("Ignoring Nameservers from NetworkManager, not a list: %s", _brief(data))
        return []
    found: list[tuple[Any, IPv4Address | None]] = []
    for value in data:
        uint32 = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32
        # NM keeps the address in a guint32 as it is in memory (network byte order); D-Bus
        # carries that integer to us, on the same host and so in the same byte order.
        found.append((value, IPv4Address(value.to_bytes(4, sys.byteorder)) if uint32 else None))
    return _unique_nameservers(found, "Nameservers")


def _unique_nameservers(found: Iterable[tuple[Any, IPv4Address | None]], field: str) -> list[str]:
    """The specified addresses among (what NM sent, its address or None), in order, once each."""
    servers: list[str] = []
    for sent, server in found:
        if server is None or server.is_unspecified:
            _LOGGER.warning("Ignoring a malformed nameserver in %s: %s", field, _brief(sent))
        elif str(server) not in servers:
            servers.append(str(server))
    return servers


def _touches(signal: Signal, wireless_property: str) -> bool:
    """Whether a PropertiesChanged signal carries this property of Device.Wireless."""
    return (
        signal.member == "PropertiesChanged"
        and len(signal.body) >= 2
        and signal.body[0] == WIRELESS_IFACE
        and isinstance(signal.body[1], Mapping)
        and wireless_property in signal.body[1]
    )


def access_point_network(props: Mapping[str, Any]) -> WifiNetwork:
    """One access point's properties as a WifiNetwork; a malformed reply raises MalformedReply.

    Every property read is one NetworkManager has always had: one missing is malformed, never
    a default (no Flags must not make a protected network look open).
    """
    ssid = _byte_string(props.get("Ssid"))
    if ssid is None or len(ssid) > 32:
        raise MalformedReply(f"Ssid={_brief(props.get('Ssid'))}, not 0-32 bytes")
    return WifiNetwork(
        ssid=ssid,
        strength=max(0, min(100, _as_int(props.get("Strength"), "Strength"))),
        frequency=_as_int(props.get("Frequency"), "Frequency"),
        bssid=_as_text(props.get("HwAddress"), "HwAddress"),
        security=classify(
            _as_int(props.get("Flags"), "Flags"),
            _as_int(props.get("WpaFlags"), "WpaFlags"),
            _as_int(props.get("RsnFlags"), "RsnFlags"),
        ),
    )


def strongest_per_ssid(networks: Iterable[WifiNetwork]) -> list[WifiNetwork]:
    """One entry per non-empty SSID (its strongest access point), strongest first."""
    best: dict[bytes, WifiNetwork] = {}
    for network in networks:
        if not network.ssid.strip(b"\x00"):
            continue
        current = best.get(network.ssid)
        if current is None or network.strength > current.strength:
            best[network.ssid] = network
    return sorted(best.values(), key=lambda n: (-n.strength, n.display_ssid.casefold()))


def _saved_connection(path: str, settings: Settings, *, filename: str | None) -> SavedConnection:
    """A profile's settings as a SavedConnection; a malformed one raises MalformedReply."""
    if "connection" not in settings:
        raise MalformedReply("GetSettings has no connection setting")
    connection = settings["connection"]
    wireless = settings.get("802-11-wireless", {})
    ssid = wireless.get("ssid")
    mode = wireless.get("mode")
    interface_name = connection.get("interface-name")
    return SavedConnection(
        path=path,
        uuid=_as_text(connection.get("uuid"), "connection.uuid"),
        id=_as_text(connection.get("id"), "connection.id"),
        connection_type=_as_text(connection.get("type"), "connection.type"),
        ssid=None if ssid is None else _as_bytes(ssid, "802-11-wireless.ssid"),
        mode=None if mode is None else _as_text(mode, "802-11-wireless.mode"),
        interface_name=None
        if interface_name is None
        else _as_text(interface_name, "connection.interface-name"),
        filename=filename,
        pending=is_pending(settings),
    )


def _filename(value: Any) -> str | None:
    """A profile's Filename property: None for none (a profile only in memory) or a bad one."""
    return value or None if isinstance(value, str) else None


def _byte_string(value: Any) -> bytes | None:
    """An `ay` from a reply (bytes, or a list of byte values); None for anything else."""
    if isinstance(value, bytes):
        return value
    # A list of anything but 0-255 integers is a malformed reply, not a crash of bytes().
    if isinstance(value, list) and all(
        isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 255 for item in value
    ):
        return bytes(value)
    return None


def _brief(value: Any) -> str:
    """A bad value as an error names it: its repr, cut short (a reply may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _as_int(value: Any, name: str) -> int:
    """An integer from a D-Bus reply; anything else is a malformed reply."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedReply(f"{name}={_brief(value)}, not an integer")
    return value


def _as_bool(value: Any, name: str) -> bool:
    """A boolean from a D-Bus reply; anything else is a malformed reply."""
    if not isinstance(value, bool):
        raise MalformedReply(f"{name}={_brief(value)}, not a boolean")
    return value


def _as_text(value: Any, name: str) -> str:
    """A string from a D-Bus reply; anything else is a malformed reply."""
    if not isinstance(value, str):
        raise MalformedReply(f"{name}={_brief(value)}, not a string")
    return value


def _as_bytes(value: Any, name: str) -> bytes:
    """A byte string (ay) from a D-Bus reply; anything else is a malformed reply."""
    found = _byte_string(value)
    if found is None:
        raise MalformedReply(f"{name}={_brief(value)}, not bytes")
    return found


def _as_path(value: Any, name: str) -> str:
    """One object path from a D-Bus reply; anything else is a malformed reply."""
    if not isinstance(value, str) or not is_object_path_valid(value):
        raise MalformedReply(f"{name}={_brief(value)}, not an object path")
    return value


def _as_paths(value: Any, name: str) -> list[str]:
    """Object paths from a D-Bus reply; anything else is a malformed reply."""
    if not isinstance(value, list) or not all(
        isinstance(path, str) and is_object_path_valid(path) for path in value
    ):
        raise MalformedReply(f"{name}={_brief(value)}, not a list of object paths")
    return value


def _as_settings(value: Any, name: str) -> dict[str, dict[str, Any]]:
    """Settings (a{sa{sv}}) from a D-Bus reply; anything else is a malformed reply."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise MalformedReply(f"{name} is not a dictionary of settings")
    return value
