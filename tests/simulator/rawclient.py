"""A raw dbus-next connection to NetworkManager (simulated or real) that records its signals."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType
from dbus_next.message import Message

from app.nm.bus import unwrap

NM = "org.freedesktop.NetworkManager"
MANAGER = "/org/freedesktop/NetworkManager"


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
