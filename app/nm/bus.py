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

from app.errors import (
    MalformedReply,
    NetworkManagerError,
    NetworkManagerNoAnswer,
    NetworkManagerUnavailable,
)
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
# Bound for connecting and authenticating to the bus daemon.
CONNECT_TIMEOUT = 10.0
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
        # None: the connection dropped, and signals may have been lost with it.
        self._queue: asyncio.Queue[Signal | None] = asyncio.Queue()

    def _put(self, signal: Signal | None) -> None:
        self._queue.put_nowait(signal)

    def pending(self) -> list[Signal]:
        """Every signal queued so far, without waiting."""
        signals = []
        while not self._queue.empty():
            signal = self._queue.get_nowait()
            if signal is not None:
                signals.append(signal)
        return signals

    async def next(self, timeout: float) -> Signal | None:
        """The next signal; None when none arrives within `timeout` s or the connection drops."""
        # asyncio.timeout, not wait_for: Python 3.11's wait_for drops a cancellation that comes
        # as the signal does, and the task cancelled then runs on as if never cancelled.
        try:
            async with asyncio.timeout(timeout):
                return await self._queue.get()
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
    """Owns the connection to the system bus, opened again when it drops.

    DBUS_SYSTEM_BUS_ADDRESS is honoured by default. A dropped connection (the bus daemon
    restarted, or closed us) fails the calls under way with NetworkManagerUnavailable; the next
    call connects again and renews the signal subscriptions still open.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        call_timeout: float = CALL_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._address = address
        self.call_timeout = call_timeout
        self._connect_timeout = connect_timeout
        self._bus: MessageBus | None = None
        self._open = False
        self._reconnecting = asyncio.Lock()
        # The message handlers of the subscriptions open now, with their match rules: a new
        # connection gets them again.
        self._matches: dict[Callable[[Message], None], str] = {}
        # The subscriptions open now, told when the connection drops; and the task that waits
        # for that on the current connection.
        self._subscriptions: set[SignalSubscription] = set()
        self._drop_watch: asyncio.Task[None] | None = None
        # How often the connection was opened again after a drop.
        self.reconnects = 0

    async def __aenter__(self) -> SystemBus:
        self._bus = await self._connect()
        self._open = True
        self._watch_for_drop(self._bus)
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        self._open = False
        self._matches.clear()
        self._subscriptions.clear()
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.disconnect()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        if self._drop_watch is not None:
            # Only now: cancelled while it waited, it would cancel the disconnect it waits for.
            self._drop_watch.cancel()
            await asyncio.gather(self._drop_watch, return_exceptions=True)

    async def _connect(self) -> MessageBus:
        """A new connection, authenticated and named within the connect timeout."""
        where = self._address or "the system bus"
        try:
            # dbus-next reads DBUS_SYSTEM_BUS_ADDRESS itself when no address is given, and opens
            # the socket already in the constructor.
            bus = MessageBus(bus_address=self._address, bus_type=BusType.SYSTEM)  # type: ignore[arg-type]
            async with asyncio.timeout(self._connect_timeout):
                connected: MessageBus = await bus.connect()
            patient_writes(connected)
        except TimeoutError as err:
            raise NetworkManagerUnavailable(
                f"{where} did not accept a connection within {self._connect_timeout:g} s"
            ) from err
        except (OSError, ValueError, EOFError, AuthError, InvalidAddressError) as err:
            raise NetworkManagerUnavailable(f"cannot connect to {where}: {err}") from err
        return connected

    async def _connection(self) -> MessageBus:
        """The connection, opened again (once, whoever asks) when the last one dropped."""
        if not self._open:
            raise NetworkManagerUnavailable("the system bus connection is closed")
        async with self._reconnecting:
            bus = self._bus
            if bus is not None and bus.connected:
                return bus
            if bus is not None:
                _LOGGER.warning(
                    "The system bus connection dropped (%s); connecting again",
                    await _why_ended(bus),
                )
            self._bus = None
            bus = await self._connect()
            if not self._open:  # closed while we connected
                bus.disconnect()
                raise NetworkManagerUnavailable("the system bus connection is closed")
            self._bus = bus
            self._watch_for_drop(bus)
            self.reconnects += 1
            for handler in self._matches:
                bus.add_message_handler(handler)
            for rule in list(self._matches.values()):
                await self._add_match(bus, rule)
            _LOGGER.info("Connected to the system bus again")
            return bus

    def _watch_for_drop(self, bus: MessageBus) -> None:
        """Wake every subscription's wait when `bus` drops, to read again (and reconnect) now."""

        async def wake_when_dropped() -> None:
            with contextlib.suppress(Exception):  # the error is told by _why_ended
                await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
            if self._open:
                for subscription in self._subscriptions:
                    subscription._put(None)

        self._drop_watch = asyncio.create_task(wake_when_dropped())

    async def _add_match(self, bus: MessageBus, rule: str) -> None:
        """Ask the bus daemon for the signals matching `rule` on this connection."""
        reply = await self._send(bus, _dbus_call("AddMatch", rule), "AddMatch")
        if reply.message_type == MessageType.ERROR:
            raise NetworkManagerError(reply.error_name or "unknown", f"AddMatch {rule} failed")

    async def _send(self, bus: MessageBus, message: Message, what: str) -> Message:
        """One bounded round trip on `bus`; every way it can fail is NetworkManagerUnavailable."""
        try:
            async with asyncio.timeout(self.call_timeout):
                reply = await bus.call(message)
        except TimeoutError as err:
            if not bus.connected:
                raise NetworkManagerUnavailable(f"the system bus connection broke: {err}") from err
            raise NetworkManagerNoAnswer(
                f"no answer to {what} within {self.call_timeout:g} s"
            ) from err
        except Exception as err:
            # dbus-next fails the calls under way with whatever broke its socket.
            if bus.connected and not isinstance(err, (OSError, EOFError)):
                raise
            raise NetworkManagerUnavailable(f"the system bus connection broke: {err}") from err
        if reply is None:
            raise NetworkManagerUnavailable(f"no answer to {what}")
        return reply

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: Sequence[Any] = (),
        *,
        returns: str | None = None,
        destination: str = BUS_NAME,
    ) -> list[Any]:
        """Call a method and return its reply body; D-Bus errors become NetworkManagerError.

        `returns` is the reply's D-Bus signature: a reply of another type is a MalformedReply.
        """
        message = Message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
        reply = await self._send(await self._connection(), message, f"{interface}.{member}")
        if reply.message_type == MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else reply.error_name
            if reply.error_name in _GONE_ERRORS:
                raise NetworkManagerUnavailable(f"NetworkManager is not on the bus ({text})")
            raise NetworkManagerError(reply.error_name or "unknown", text)
        if returns is not None and reply.signature != returns:
            raise MalformedReply(f"{member} answered ({reply.signature}), not ({returns})")
        return list(reply.body)

    async def get_property(self, path: str, interface: str, name: str) -> Any:
        """Read one property, unwrapped."""
        (value,) = await self.call(
            path, PROPERTIES_IFACE, "Get", "ss", [interface, name], returns="v"
        )
        return unwrap(value)

    async def get_properties(self, path: str, interface: str) -> dict[str, Any]:
        """Read all properties of one interface, unwrapped."""
        (values,) = await self.call(
            path, PROPERTIES_IFACE, "GetAll", "s", [interface], returns="a{sv}"
        )
        result: dict[str, Any] = unwrap(values)
        return result

    async def name_owner(self, name: str) -> str | None:
        """The unique name owning `name`, or None when nobody does (or the bus is unreachable)."""
        for _ in range(2):
            try:
                (owner,) = await self.call(
                    _DBUS_PATH,
                    _DBUS_NAME,
                    "GetNameOwner",
                    "s",
                    [name],
                    returns="s",
                    destination=_DBUS_NAME,
                )
            except NetworkManagerError:
                return None
            except NetworkManagerUnavailable:
                if self._bus is not None and self._bus.connected:
                    return None
                # Our connection dropped under the question, which says nothing of the owner:
                # it is asked again on a new connection.
                continue
            return str(owner)
        return None

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

        bus = await self._connection()
        self._matches[on_message] = rule
        self._subscriptions.add(subscription)
        bus.add_message_handler(on_message)
        try:
            await self._add_match(bus, rule)
            yield subscription
        finally:
            del self._matches[on_message]
            self._subscriptions.discard(subscription)
            current = self._bus  # the connection may have been opened again meanwhile
            if current is not None and current.connected:
                current.remove_message_handler(on_message)
                # The bus daemon counts equal rules: this removes only the one added for us.
                with contextlib.suppress(NetworkManagerError, NetworkManagerUnavailable):
                    await self._send(current, _dbus_call("RemoveMatch", rule), "RemoveMatch")


async def _why_ended(bus: MessageBus) -> str:
    """Why a connection ended, taken from it so no error is left unread."""
    try:
        async with asyncio.timeout(1.0):
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
    except TimeoutError:
        return "not connected"
    except Exception as err:  # any error dbus-next met on its socket
        return repr(err)
    return "closed"


def _dbus_call(member: str, rule: str) -> Message:
    """A call of the bus daemon's AddMatch or RemoveMatch."""
    return Message(
        destination=_DBUS_NAME,
        path=_DBUS_PATH,
        interface=_DBUS_NAME,
        member=member,
        signature="s",
        body=[rule],
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


class _PatientSocket:
    """A bus socket whose full send buffer (EAGAIN) reads as nothing sent yet.

    dbus-next's writer ends the whole connection when a non-blocking send raises
    BlockingIOError; counted as 0 bytes sent, the writer waits for the socket to be writable
    and goes on, as it does after a partial send.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        """Send what fits; 0 when nothing does yet."""
        try:
            sent: int = self._sock.send(data)
        except BlockingIOError:
            return 0
        return sent

    def sendmsg(self, buffers: Any, ancdata: Any) -> int:
        """Send with file descriptors; 0 when nothing fits yet."""
        try:
            sent: int = self._sock.sendmsg(buffers, ancdata)
        except BlockingIOError:
            return 0
        return sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def patient_writes(bus: Any) -> None:
    """Make a connected dbus-next bus wait out a full send buffer instead of dying of it."""
    writer = bus._writer
    writer.sock = _PatientSocket(writer.sock)
