"""A simulated Avahi daemon on a private bus: its host names, entry groups, and every call.

    async with SimulatedAvahi.start(bus.address, host_name="sensor-7") as avahi:
        ...                       # AvahiClient on bus.address talks to it as to avahi-daemon
        avahi.calls               # (path, member, args) of each method call, in order
        avahi.groups              # entry groups alive now, by path, with what they announce

It answers what a client that announces one service uses, with Avahi's member names and
signatures: Server.GetHostName, GetHostNameFqdn, EntryGroupNew; EntryGroup.AddService, Commit,
Reset, Free, GetState. A group is freed, as Avahi does, when the client that made it leaves.
What it does not model: the network (nothing is multicast), name collisions, browsing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType
from dbus_next.message import Message

from app.simulator._dbus import (
    ServiceInterface,
    dbus_method,
    error_reply,
    method_signature,
    nm_error,
    owned_name,
    reply_to,
    reply_with,
)

AVAHI_NAME = "org.freedesktop.Avahi"
SERVER_IFACE = "org.freedesktop.Avahi.Server"
ENTRY_GROUP_IFACE = "org.freedesktop.Avahi.EntryGroup"
_BAD_STATE = "org.freedesktop.Avahi.BadStateError"
_DBUS = "org.freedesktop.DBus"
# avahi-common/defs.h: AvahiEntryGroupState.
GROUP_UNCOMMITED, GROUP_REGISTERING, GROUP_ESTABLISHED = 0, 1, 2


@dataclass(frozen=True)
class AvahiCall:
    """One method call the simulated Avahi answered."""

    path: str
    member: str
    args: tuple[Any, ...]


@dataclass
class Announced:
    """One service added to a group: AddService's arguments."""

    interface: int
    protocol: int
    flags: int
    name: str
    type: str
    domain: str
    host: str
    port: int
    txt: list[bytes]


class EntryGroup(ServiceInterface):
    """org.freedesktop.Avahi.EntryGroup: services added, then committed (established)."""

    def __init__(self, path: str, owner: str) -> None:
        super().__init__(ENTRY_GROUP_IFACE)
        self.path = path
        self.owner = owner
        self.services: list[Announced] = []
        self.state = GROUP_UNCOMMITED

    @dbus_method("iiussssqaay")
    def AddService(
        self,
        interface: int,
        protocol: int,
        flags: int,
        name: str,
        type_: str,
        domain: str,
        host: str,
        port: int,
        txt: list[bytes],
    ) -> None:
        if self.state != GROUP_UNCOMMITED:
            raise nm_error(_BAD_STATE, "Invalid state")
        self.services.append(
            Announced(interface, protocol, flags, name, type_, domain, host, port, list(txt))
        )

    @dbus_method()
    def Commit(self) -> None:
        if self.state != GROUP_UNCOMMITED or not self.services:
            raise nm_error(_BAD_STATE, "Invalid state")
        # Nothing collides on a private bus: registering ends at once.
        self.state = GROUP_ESTABLISHED

    @dbus_method()
    def Reset(self) -> None:
        self.services.clear()
        self.state = GROUP_UNCOMMITED

    @dbus_method(out_signature="i")
    def GetState(self) -> int:
        return self.state

    @dbus_method()
    def Free(self) -> None:
        """Answered by SimulatedAvahi, which owns the group's path."""


class Server(ServiceInterface):
    """org.freedesktop.Avahi.Server at /: the host's names and new entry groups."""

    def __init__(self, avahi: SimulatedAvahi) -> None:
        super().__init__(SERVER_IFACE)
        self._avahi = avahi

    @dbus_method(out_signature="s")
    def GetHostName(self) -> str:
        return self._avahi.host_name

    @dbus_method(out_signature="s")
    def GetHostNameFqdn(self) -> str:
        return f"{self._avahi.host_name}.local"

    @dbus_method(out_signature="o")
    def EntryGroupNew(self) -> str:
        """Answered by SimulatedAvahi, which knows the caller."""
        raise NotImplementedError


@dataclass
class SimulatedAvahi:
    """Owns `org.freedesktop.Avahi` on a bus for the duration of `start`'s block."""

    bus_address: str
    host_name: str
    calls: list[AvahiCall] = field(default_factory=list)
    groups: dict[str, EntryGroup] = field(default_factory=dict)
    _bus: MessageBus | None = None
    _made: int = 0

    def __post_init__(self) -> None:
        self._server = Server(self)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, bus_address: str, host_name: str) -> AsyncIterator[SimulatedAvahi]:
        """Run it on the bus at `bus_address` while the block runs."""
        avahi = cls(bus_address, host_name)

        async def prepare(bus: MessageBus) -> None:
            avahi._bus = bus
            await avahi._follow_departures(bus)

        try:
            async with owned_name(bus_address, AVAHI_NAME, avahi._route, prepare):
                yield avahi
        finally:
            avahi._bus = None

    def members(self, member: str) -> list[AvahiCall]:
        """The calls of one member, in order."""
        return [call for call in self.calls if call.member == member]

    async def _follow_departures(self, bus: MessageBus) -> None:
        """Ask for NameOwnerChanged: a group dies with the connection that made it."""
        rule = f"type='signal',sender='{_DBUS}',interface='{_DBUS}',member='NameOwnerChanged'"
        await bus.call(
            Message(
                destination=_DBUS,
                path="/org/freedesktop/DBus",
                interface=_DBUS,
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )

    def _route(self, message: Message) -> Message | bool | None:
        """Answer calls to the server and the groups; drop groups whose owner left."""
        if message.message_type == MessageType.SIGNAL:
            if message.member == "NameOwnerChanged" and message.body[2] == "":
                for path, group in list(self.groups.items()):
                    if group.owner == message.body[0]:
                        del self.groups[path]
            return None
        if message.message_type != MessageType.METHOD_CALL or message.interface not in (
            SERVER_IFACE,
            ENTRY_GROUP_IFACE,
        ):
            return None
        self.calls.append(AvahiCall(message.path, message.member, tuple(message.body)))
        target: ServiceInterface | None
        if message.interface == SERVER_IFACE and message.path == "/":
            target = self._server
        else:
            target = self.groups.get(message.path)
        if target is None:
            return error_reply(message, "org.freedesktop.Avahi.NotFoundError", "Not found")
        expected = method_signature(target, message.member)
        if expected is not None and expected != message.signature:
            return error_reply(message, "org.freedesktop.DBus.Error.InvalidArgs", "Bad signature")
        if message.member == "EntryGroupNew":
            self._made += 1
            path = f"/Client{self._made}/EntryGroup{self._made}"
            self.groups[path] = EntryGroup(path, str(message.sender))
            return reply_with(message, "o", [path])
        if message.member == "Free":
            del self.groups[message.path]
            return reply_with(message, "", [])
        return reply_to(target, message)


@contextlib.asynccontextmanager
async def simulated_avahi(
    bus_address: str, host_name: str | None
) -> AsyncIterator[SimulatedAvahi | None]:
    """A simulated Avahi for a scenario's `avahi_host_name`; none when it has none."""
    if host_name is None:
        yield None
        return
    async with SimulatedAvahi.start(bus_address, host_name) as avahi:
        yield avahi
