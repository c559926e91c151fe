"""A private dbus-daemon, the simulator on it, and a raw dbus-next client to poke it with."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType
from dbus_next.message import Message
from dbus_next.signature import Variant

from app.nm.bus import unwrap
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from tests.simulator.world import CORP, FAILING, HIDDEN, HOME, OFFICE, scenario

NM = "org.freedesktop.NetworkManager"
MANAGER = "/org/freedesktop/NetworkManager"
SETTINGS = "/org/freedesktop/NetworkManager/Settings"
DEVICE = f"{NM}.Device"
WIRELESS = f"{NM}.Device.Wireless"
ACTIVE = f"{NM}.Connection.Active"
CONNECTION = f"{NM}.Settings.Connection"
AP = f"{NM}.AccessPoint"

NETWORKS: list[dict[str, Any]] = [
    HOME,
    {"ssid": "Cafe", "security": "open", "strength": 60, "connectivity": "portal"},
    OFFICE,
    CORP,
    {"ssid": "Legacy", "security": "wep", "passphrase": "abcde"},
    *FAILING,
    HIDDEN,
]


def scenario_dict(**changes: Any) -> dict[str, Any]:
    """The tests' usual scenario, with top-level keys replaced."""
    return scenario(NETWORKS, **changes)


@dataclass(frozen=True)
class Seen:
    """One signal the client received, with its arrival time."""

    at: float
    path: str
    interface: str
    member: str
    body: tuple[Any, ...]


class Client:
    """A raw dbus-next connection with small helpers; records every signal NM emits."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.signals: list[Seen] = []
        self._changed = asyncio.Event()
        bus.add_message_handler(self._record)

    def _record(self, message: Message) -> None:
        if message.message_type == MessageType.SIGNAL and message.interface:
            body = tuple(unwrap(item) for item in message.body)
            self.signals.append(
                Seen(time.monotonic(), message.path, message.interface, message.member, body)
            )
            self._changed.set()

    async def watch(self) -> None:
        """Receive every signal of NetworkManager's name and of the bus daemon."""
        for rule in (f"type='signal',sender='{NM}'", "type='signal',sender='org.freedesktop.DBus'"):
            await self.call(
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "AddMatch",
                "s",
                [rule],
                destination="org.freedesktop.DBus",
            )

    async def raw(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        destination: str = NM,
    ) -> Message:
        reply = await self.bus.call(
            Message(
                destination=destination,
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body or [],
            )
        )
        assert reply is not None
        return reply

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        destination: str = NM,
    ) -> list[Any]:
        reply = await self.raw(path, interface, member, signature, body, destination=destination)
        if reply.message_type == MessageType.ERROR:
            raise AssertionError(f"{reply.error_name}: {reply.body}")
        return list(reply.body)

    async def error(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
    ) -> tuple[str, str]:
        """Call, expecting a D-Bus error; return its name and message."""
        reply = await self.raw(path, interface, member, signature, body)
        assert reply.message_type == MessageType.ERROR, f"no error: {reply.body}"
        return str(reply.error_name), str(reply.body[0]) if reply.body else ""

    async def get(self, path: str, interface: str, name: str) -> Any:
        (value,) = await self.call(
            path, "org.freedesktop.DBus.Properties", "Get", "ss", [interface, name]
        )
        return unwrap(value)

    async def sync(self) -> None:
        """A round trip to NM: every signal it sent before answering has then arrived."""
        await self.raw(MANAGER, "org.freedesktop.DBus.Peer", "Ping")

    async def wait_for(self, predicate: Callable[[Seen], bool], timeout: float = 3.0) -> Seen:
        """The first recorded signal (past or future) matching `predicate`.

        The signals NM emits together with the match (e.g. PropertiesChanged right after a
        StateChanged) have all arrived when this returns.
        """
        deadline = time.monotonic() + timeout
        while True:
            for seen in self.signals:
                if predicate(seen):
                    await self.sync()
                    return seen
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching signal within the timeout")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def named(self, interface: str, member: str, path: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.signals
            if s.interface == interface and s.member == member and (path is None or s.path == path)
        ]


@pytest.fixture
async def client(private_bus: PrivateBus) -> AsyncIterator[Client]:
    bus = await MessageBus(bus_address=private_bus.address).connect()
    wrapped = Client(bus)
    await wrapped.watch()
    try:
        yield wrapped
    finally:
        bus.disconnect()


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the scenario."""
    return scenario_dict()


@pytest.fixture
async def sim(
    private_bus: PrivateBus, scenario_data: dict[str, Any], client: Client
) -> AsyncIterator[SimulatedNetworkManager]:
    async with SimulatedNetworkManager.start(
        private_bus.address, parse_scenario(scenario_data)
    ) as simulator:
        yield simulator


def wifi_settings(
    ssid: bytes,
    *,
    key_mgmt: str | None = None,
    psk: str | None = None,
    hidden: bool = False,
    uuid: str = "3c8f2d9c-64a4-4b3a-9b4e-0d0c6c7b2a11",
    extra: dict[str, dict[str, Variant]] | None = None,
) -> dict[str, dict[str, Variant]]:
    """A client profile as a{sa{sv}}, the way the app builds one."""
    settings: dict[str, dict[str, Variant]] = {
        "connection": {
            "type": Variant("s", "802-11-wireless"),
            "id": Variant("s", ssid.decode(errors="replace")),
            "uuid": Variant("s", uuid),
            "autoconnect": Variant("b", True),
        },
        "802-11-wireless": {"ssid": Variant("ay", ssid), "mode": Variant("s", "infrastructure")},
        "ipv4": {"method": Variant("s", "auto")},
        "ipv6": {"method": Variant("s", "auto")},
    }
    if hidden:
        settings["802-11-wireless"]["hidden"] = Variant("b", True)
    if key_mgmt is not None:
        security = {"key-mgmt": Variant("s", key_mgmt)}
        if psk is not None:
            security["psk"] = Variant("s", psk)
        settings["802-11-wireless-security"] = security
    for name, values in (extra or {}).items():
        settings.setdefault(name, {}).update(values)
    return settings


def hotspot_settings(
    ssid: bytes = b"WiFi Connect", *, passphrase: str | None = None, interface: str = "wlan0"
) -> dict[str, dict[str, Variant]]:
    """The app's hotspot profile as a{sa{sv}}."""
    settings: dict[str, dict[str, Variant]] = {
        "connection": {
            "type": Variant("s", "802-11-wireless"),
            "id": Variant("s", "wifi-connect-hotspot"),
            "uuid": Variant("s", "9b1e0c9e-5a0e-4c8b-8f57-6d8f7f1d2c33"),
            "autoconnect": Variant("b", False),
            "interface-name": Variant("s", interface),
        },
        "802-11-wireless": {
            "ssid": Variant("ay", ssid),
            "mode": Variant("s", "ap"),
            "band": Variant("s", "bg"),
        },
        "ipv4": {
            "method": Variant("s", "manual"),
            "address-data": Variant(
                "aa{sv}", [{"address": Variant("s", "192.168.42.1"), "prefix": Variant("u", 24)}]
            ),
        },
        "ipv6": {"method": Variant("s", "ignore")},
    }
    if passphrase is not None:
        settings["802-11-wireless-security"] = {
            "key-mgmt": Variant("s", "wpa-psk"),
            "psk": Variant("s", passphrase),
            "proto": Variant("as", ["rsn"]),
            "pairwise": Variant("as", ["ccmp"]),
            "group": Variant("as", ["ccmp"]),
        }
    return settings


async def add(client: Client, settings: dict[str, dict[str, Variant]]) -> str:
    (path,) = await client.call(
        SETTINGS, f"{NM}.Settings", "AddConnection", "a{sa{sv}}", [settings]
    )
    return str(path)


async def first_device(client: Client) -> str:
    (devices,) = await client.call(MANAGER, NM, "GetDevices")
    return str(devices[0])
