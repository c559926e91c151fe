"""The one connection to the system bus, and typed calls, properties and signals over it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import BusType, MessageType
from dbus_next.errors import AuthError, InvalidAddressError
from dbus_next.message import Message
from dbus_next.signature import Variant

from app.errors import NetworkManagerError, NetworkManagerUnavailable
from app.nm.const import BUS_NAME, PROPERTIES_IFACE

_LOGGER = logging.getLogger(__name__)

_DBUS_NAME = "org.freedesktop.DBus"
_DBUS_PATH = "/org/freedesktop/DBus"

# Replies meaning NetworkManager is not (or no longer) on the bus, as opposed to NM refusing a call.
_GONE_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Disconnected",
    }
)

# Bound for a single method call: NM answers in milliseconds; a hung bus must not hang the app.
CALL_TIMEOUT = 25.0
# How often a wait re-reads a property in case a signal was lost (NM restarts, slow buses).
RECHECK_INTERVAL = 1.0


def unwrap(value: Any) -> Any:
    """Turn a D-Bus value holding Variants into plain Python values, recursively."""
    if isinstance(value, Variant):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


@dataclass(frozen=True)
class Signal:
    """One received signal, its body already unwrapped."""

    path: str
    interface: str
    member: str
    body: tuple[Any, ...]


class SignalSubscription:
    """Signals matching one rule, queued from the moment of subscribing so none is missed."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Signal] = asyncio.Queue()

    def _put(self, signal: Signal) -> None:
        self._queue.put_nowait(signal)

    def pending(self) -> list[Signal]:
        """Every signal queued so far, without waiting."""
        signals = []
        while not self._queue.empty():
            signals.append(self._queue.get_nowait())
        return signals

    async def next(self, timeout: float) -> Signal | None:
        """The next signal, or None when none arrives within `timeout` seconds."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    async def wait_until(
        self,
        settled: Callable[[Signal | None], Awaitable[bool]],
        *,
        timeout: float,
        recheck: float = RECHECK_INTERVAL,
    ) -> bool:
        """Whether `settled` holds within `timeout`; asked now, on every signal, and when quiet."""
        # `settled` gets the signal, or None at the start and after `recheck` without one: then it
        # reads the property itself, in case a signal was lost.
        deadline = time.monotonic() + timeout
        signal = None
        while not await settled(signal):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            signal = await self.next(min(remaining, recheck))
        return True


class SystemBus:
    """Owns the connection to the system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured by default."""

    def __init__(self, address: str | None = None) -> None:
        self._address = address
        self._bus: MessageBus | None = None

    async def __aenter__(self) -> SystemBus:
        try:
            # dbus-next reads DBUS_SYSTEM_BUS_ADDRESS itself when no address is given, and opens
            # the socket already in the constructor.
            bus = MessageBus(bus_address=self._address, bus_type=BusType.SYSTEM)  # type: ignore[arg-type]
            self._bus = await bus.connect()
        except (OSError, ValueError, EOFError, AuthError, InvalidAddressError) as err:
            where = self._address or "the system bus"
            raise NetworkManagerUnavailable(f"cannot connect to {where}: {err}") from err
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        if self._bus is not None:
            self._bus.disconnect()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._bus.wait_for_disconnect(),  # type: ignore[no-untyped-call]
                    2.0,
                )
            self._bus = None

    @property
    def _connected(self) -> MessageBus:
        if self._bus is None:
            raise NetworkManagerUnavailable("the system bus connection is closed")
        return self._bus

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: Sequence[Any] = (),
        *,
        destination: str = BUS_NAME,
    ) -> list[Any]:
        """Call a method and return its reply body; D-Bus errors become NetworkManagerError."""
        message = Message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
        try:
            reply = await asyncio.wait_for(self._connected.call(message), CALL_TIMEOUT)
        except TimeoutError as err:
            raise NetworkManagerUnavailable(
                f"no answer to {interface}.{member} within {CALL_TIMEOUT:.0f} s"
            ) from err
        except (OSError, EOFError) as err:
            raise NetworkManagerUnavailable(f"the system bus connection broke: {err}") from err
        if reply is None:
            raise NetworkManagerUnavailable(f"no answer to {interface}.{member}")
        if reply.message_type == MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else reply.error_name
            if reply.error_name in _GONE_ERRORS:
                raise NetworkManagerUnavailable(f"NetworkManager is not on the bus ({text})")
            raise NetworkManagerError(reply.error_name or "unknown", text)
        return list(reply.body)

    async def get_property(self, path: str, interface: str, name: str) -> Any:
        """Read one property, unwrapped."""
        (value,) = await self.call(path, PROPERTIES_IFACE, "Get", "ss", [interface, name])
        return unwrap(value)

    async def get_properties(self, path: str, interface: str) -> dict[str, Any]:
        """Read all properties of one interface, unwrapped."""
        (values,) = await self.call(path, PROPERTIES_IFACE, "GetAll", "s", [interface])
        result: dict[str, Any] = unwrap(values)
        return result

    async def name_owner(self, name: str) -> str | None:
        """The unique name owning `name`, or None when nobody does."""
        try:
            (owner,) = await self.call(
                _DBUS_PATH, _DBUS_NAME, "GetNameOwner", "s", [name], destination=_DBUS_NAME
            )
        except (NetworkManagerError, NetworkManagerUnavailable):
            return None
        return str(owner)

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        interface: str,
        member: str | None = None,
        path: str | None = None,
        *,
        sender: str = BUS_NAME,
        arg0: str | None = None,
        into: SignalSubscription | None = None,
    ) -> AsyncIterator[SignalSubscription]:
        """Receive the matching signals while the block runs; the match is removed afterwards.

        `into` queues them in a subscription already open, so one wait follows both.
        """
        rule = _match_rule(sender, interface, member, path, arg0)
        subscription = into if into is not None else SignalSubscription()

        def on_message(message: Message) -> None:
            if (
                message.message_type == MessageType.SIGNAL
                and message.interface == interface
                and (member is None or message.member == member)
                and (path is None or message.path == path)
                and (arg0 is None or (message.body and message.body[0] == arg0))
            ):
                body = tuple(unwrap(item) for item in message.body)
                subscription._put(Signal(message.path, message.interface, message.member, body))

        bus = self._connected
        bus.add_message_handler(on_message)
        try:
            await self.call(_DBUS_PATH, _DBUS_NAME, "AddMatch", "s", [rule], destination=_DBUS_NAME)
            yield subscription
        finally:
            bus.remove_message_handler(on_message)
            if self._bus is not None and self._bus.connected:
                with contextlib.suppress(NetworkManagerError, NetworkManagerUnavailable):
                    await self.call(
                        _DBUS_PATH, _DBUS_NAME, "RemoveMatch", "s", [rule], destination=_DBUS_NAME
                    )


def _match_rule(
    sender: str, interface: str, member: str | None, path: str | None, arg0: str | None
) -> str:
    """A D-Bus match rule for signals; the values we pass never contain quotes."""
    parts = ["type='signal'", f"sender='{sender}'", f"interface='{interface}'"]
    if member is not None:
        parts.append(f"member='{member}'")
    if path is not None:
        parts.append(f"path='{path}'")
    if arg0 is not None:
        parts.append(f"arg0='{arg0}'")
    return ",".join(parts)
