"""A typed face for dbus-next's service side: base class, member decorators and D-Bus errors.

dbus-next reads each member's D-Bus signature from string annotations such as ``'ao'``, which
are not Python types. These decorators take the signature as an argument instead and write it
into the function's ``__signature__`` (which `inspect.signature` prefers), so the functions keep
real Python type hints and mypy checks them like any other code.

Method calls are answered by `reply_to` rather than by dbus-next: dbus-next 0.2.3 sends the
error reply for a DBusError raised in a method but then logs it as an unexpected error with a
traceback, which would flood the log with every refusal the simulator is meant to make.

Every interface carries `hidden`, the members an older NetworkManager does not have yet (the
simulator sets it from the scenario's nm_version): introspection leaves them out, `notify`
leaves them out of PropertiesChanged, and a hidden signal is not sent. It also carries
`malformed`, the Malformations a test injected for it: the values `notify`, `all_properties`
and the simulator's Get and method replies send instead of the proper ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from dbus_next import introspection
from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageFlag, PropertyAccess, RequestNameReply
from dbus_next.errors import DBusError
from dbus_next.message import Message
from dbus_next.service import dbus_property as _dbus_property
from dbus_next.service import method as _method
from dbus_next.service import signal as _signal
from dbus_next.signature import SignatureTree, Variant

from app.nm.bus import patient_writes

if TYPE_CHECKING:

    class _ServiceInterface:
        """The part of dbus_next.service.ServiceInterface the simulator uses (it has no stubs)."""

        name: str

        def __init__(self, name: str) -> None: ...

        def emit_properties_changed(
            self, changed_properties: dict[str, Any], invalidated_properties: list[str] = ...
        ) -> None: ...

        def introspect(self) -> Any: ...

        @staticmethod
        def _get_buses(interface: _ServiceInterface) -> Iterable[Any]: ...

else:
    from dbus_next.service import ServiceInterface as _ServiceInterface


class ServiceInterface(_ServiceInterface):
    """dbus-next's ServiceInterface, less the members an older NetworkManager lacks."""

    hidden: frozenset[str] = frozenset()
    # Member name -> what goes out instead (None: left out); see Malformation.
    malformed: Mapping[str, Variant | None] = {}

    def introspect(self) -> Any:
        """dbus-next's introspection of the interface, hidden members left out."""
        full = super().introspect()
        if not self.hidden:
            return full
        return introspection.Interface(
            self.name,
            methods=[m for m in full.methods if m.name not in self.hidden],
            signals=[s for s in full.signals if s.name not in self.hidden],
            properties=[p for p in full.properties if p.name not in self.hidden],
        )


@dataclass(frozen=True)
class Malformation:
    """NetworkManager answering outside its own API, for tests of a client's checks.

    `member` names a property of `interface` (its Get, its entry in GetAll and PropertiesChanged)
    or a method (its reply, once the method has done its work). `value` goes out instead, of
    any D-Bus type; None leaves the property out (Get then answers the scenario's
    missing_property_error) or the reply empty. `path` limits it to one object; None means
    every object with the interface.
    """

    interface: str
    member: str
    value: Variant | None = None
    path: str | None = None

    def touches(self, path: str, interface: str) -> bool:
        """Whether it changes what this object's interface answers."""
        return self.interface == interface and self.path in (None, path)


__all__ = [
    "Malformation",
    "ServiceInterface",
    "all_properties",
    "dbus_method",
    "dbus_property",
    "dbus_signal",
    "error_reply",
    "method_signature",
    "nm_error",
    "notify",
    "reply_to",
    "reply_with",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


def _split(signature: str) -> list[str]:
    """The complete types of a signature: 'ooo' -> ['o', 'o', 'o']."""
    return [t.signature for t in SignatureTree(signature).types]


def _set_signature(fn: Callable[..., Any], args: list[str] | None, result: str) -> None:
    """Replace fn's annotations, as inspect sees them, by D-Bus signature strings."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if args is not None:
        if len(params) - 1 != len(args):
            raise TypeError(f"{fn.__name__}: {len(params) - 1} parameters for {args}")
        typed = (p.replace(annotation=a) for p, a in zip(params[1:], args, strict=True))
        params = [params[0], *typed]
    returns: Any = result if result else inspect.Signature.empty
    vars(fn)["__signature__"] = sig.replace(parameters=params, return_annotation=returns)


@dataclass(frozen=True)
class _Method:
    """What reply_to needs to call a method: the undecorated function and its signatures."""

    fn: Callable[..., Any]
    in_signature: str
    out_signature: str


_METHOD = "__simulator_method__"


def dbus_method(in_signature: str = "", out_signature: str = "") -> Callable[[_F], _F]:
    """Export a method; its D-Bus name is the Python name (NM's members are CamelCase)."""

    def decorator(fn: _F) -> _F:
        _set_signature(fn, _split(in_signature), out_signature)
        exported = _method()(fn)
        vars(exported)[_METHOD] = _Method(fn, in_signature, out_signature)
        return cast(_F, exported)

    return decorator


def dbus_property(signature: str) -> Callable[[Callable[[Any], _T]], _T]:
    """Export a read-only property computed by the decorated getter."""

    def decorator(fn: Callable[[Any], _T]) -> _T:
        _set_signature(fn, [], signature)
        return cast(_T, _dbus_property(access=PropertyAccess.READ)(fn))

    return decorator


def dbus_signal(signature: str = "") -> Callable[[_F], _F]:
    """Export a signal; calling the method emits what it returns, unless the signal is hidden."""

    def decorator(fn: _F) -> _F:
        _set_signature(fn, None, signature)
        emit = _signal()(fn)

        # functools.wraps copies dbus-next's marker, so dbus-next still finds the signal.
        @functools.wraps(emit)
        def emit_unless_hidden(interface: ServiceInterface, *args: Any) -> Any:
            if fn.__name__ in interface.hidden:
                return fn(interface, *args)
            return emit(interface, *args)

        return cast(_F, emit_unless_hidden)

    return decorator


# These have no annotations in dbus-next; the aliases give calls to them typed signatures.
_new_error: Callable[[str, str], Exception] = DBusError
_error_message: Callable[[Message, str, str], Message] = Message.new_error
_return_message: Callable[[Message, str, list[Any]], Message] = Message.new_method_return


def nm_error(name: str, message: str) -> Exception:
    """An exception a method raises to answer its caller with the D-Bus error `name`."""
    return _new_error(name, message)


def notify(interface: ServiceInterface, *names: str) -> None:
    """Emit PropertiesChanged with the current values of the named (and not hidden) properties."""
    shown = [name for name in names if name not in interface.hidden]
    if not interface.malformed:
        if shown:
            interface.emit_properties_changed({name: getattr(interface, name) for name in shown})
        return
    # dbus-next's emit_properties_changed types every value as introspection says: a malformed
    # one goes out through the same call it makes, with the Variant given.
    changed = _property_variants(interface, shown)
    if changed:
        body = [interface.name, changed, []]
        for bus in ServiceInterface._get_buses(interface):
            bus._interface_signal_notify(
                interface, "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as", body
            )


def _property_variants(
    interface: ServiceInterface, names: Iterable[str] | None = None
) -> dict[str, Variant]:
    """The named (default: all) properties as Variants of their types, malformed ones injected."""
    wanted = None if names is None else set(names)
    variants = {
        prop.name: Variant(prop.signature, getattr(interface, prop.name))
        for prop in interface.introspect().properties
        if wanted is None or prop.name in wanted
    }
    for name, replacement in interface.malformed.items():
        if name not in variants:
            continue
        if replacement is None:
            del variants[name]
        else:
            variants[name] = replacement
    return variants


def all_properties(interface: ServiceInterface) -> dict[str, Variant]:
    """What GetAll answers: every property introspection shows, with its current value."""
    return _property_variants(interface)


def error_reply(message: Message, name: str, text: str) -> Message:
    """An error reply to a method call."""
    return _error_message(message, name, text)


def reply_with(message: Message, signature: str, body: list[Any]) -> Message:
    """A method call's reply carrying `body`."""
    return _return_message(message, signature, body)


def _method_of(interface: ServiceInterface, member: str) -> _Method | None:
    attribute = getattr(type(interface), member, None)
    info = getattr(attribute, "__dict__", {}).get(_METHOD)
    return info if isinstance(info, _Method) else None


def method_signature(interface: ServiceInterface, member: str) -> str | None:
    """The input signature of an exported method, or None when there is no such method."""
    info = _method_of(interface, member)
    return info.in_signature if info else None


def reply_to(interface: ServiceInterface, message: Message) -> Message | bool:
    """Run the method a call names and build its reply (or error reply); True if none wanted."""
    info = _method_of(interface, message.member)
    if info is None:
        return error_reply(
            message, "org.freedesktop.DBus.Error.UnknownMethod", f"No such method {message.member}"
        )
    try:
        result = info.fn(interface, *message.body)
    except DBusError as err:
        reply = _error_message(message, err.type, err.text)
    else:
        body = [] if not info.out_signature else [result]
        if len(_split(info.out_signature)) > 1:
            body = list(result)
        reply = _return_message(message, info.out_signature, body)
    if message.flags & MessageFlag.NO_REPLY_EXPECTED:
        return True
    return reply


@contextlib.asynccontextmanager
async def owned_name(
    bus_address: str,
    name: str,
    route: Callable[[Message], Any],
    prepare: Callable[[MessageBus], Awaitable[None]],
) -> AsyncIterator[MessageBus]:
    """A connection to the bus at `bus_address` that owns `name` while the block runs.

    Its messages go to `route`; `prepare` gets the connection before the name is owned, so
    nothing can call the service before it is ready to answer.
    """
    bus = await MessageBus(bus_address=bus_address).connect()
    patient_writes(bus)
    try:
        bus.add_message_handler(route)
        await prepare(bus)
        reply = await bus.request_name(name)
        if reply != RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"cannot own {name} on {bus_address}: {reply}")
        yield bus
    finally:
        bus.disconnect()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)  # type: ignore[no-untyped-call]
