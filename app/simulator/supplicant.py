"""A simulated wpa_supplicant, as far as its regulatory domain goes: each interface's Country.

It owns `fi.w1.wpa_supplicant1` on the private bus (its own connection, beside the simulated
NetworkManager). The global object /fi/w1/wpa_supplicant1 has `Interfaces` (ao); each interface
object /fi/w1/wpa_supplicant1/Interfaces/N has `Ifname` and `Country` (s) on
`fi.w1.wpa_supplicant1.Interface`, answered through Properties Get, GetAll and Set. Set checks
what wpa_supplicant checks: a string of at least two characters, of which it keeps two.

The regulatory domain is the system's, so the last country set is the radio's. A
SimulatedNetworkManager given this object (its `supplicant` attribute) lists, after each scan,
only the networks whose frequency that country allows. The model is a sketch of the real
tables, enough to show a country revealing networks:

- channels 1 to 11 (2412 to 2462 MHz): everywhere, with or without a country;
- channels 12 and 13 (2467, 2472 MHz): with a country, except US and CA;
- channel 14 (2484 MHz): JP only;
- 5 GHz and above: with a country.

Without a country (Country "", the world domain) only channels 1 to 11 are seen.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Final

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType
from dbus_next.message import Message
from dbus_next.signature import Variant

from app.simulator._dbus import error_reply, owned_name, reply_with

_LOGGER = logging.getLogger(__name__)

SUPPLICANT_NAME: Final = "fi.w1.wpa_supplicant1"
SUPPLICANT_PATH: Final = "/fi/w1/wpa_supplicant1"
INTERFACES_PATH: Final = f"{SUPPLICANT_PATH}/Interfaces"
_PROPERTIES: Final = "org.freedesktop.DBus.Properties"
_FAILED: Final = "org.freedesktop.DBus.Error.Failed"
_INVALID_ARGS: Final = "org.freedesktop.DBus.Error.InvalidArgs"
_UNKNOWN_OBJECT: Final = "org.freedesktop.DBus.Error.UnknownObject"

# Countries whose 2.4 GHz band ends at channel 11 (the FCC's rules), and the one with channel 14.
_ONLY_TO_CHANNEL_11: Final = frozenset({"US", "CA"})
_WITH_CHANNEL_14: Final = frozenset({"JP"})


def country_allows(country: str, frequency: int) -> bool:
    """Whether a radio in `country` ("" for none) sees a network on `frequency` MHz."""
    if frequency <= 2462:
        return True
    if not country:
        return False
    if frequency <= 2472:
        return country not in _ONLY_TO_CHANNEL_11
    if frequency == 2484:
        return country in _WITH_CHANNEL_14
    return True


class SimulatedSupplicant:
    """wpa_supplicant with its interfaces' Country, on the bus for the duration of start()."""

    def __init__(self, bus_address: str, ifnames: Sequence[str] = ("wlan0",)) -> None:
        self.bus_address = bus_address
        self.ifnames = tuple(ifnames)
        # The radio's regulatory domain: the last country set on any interface ("" for none).
        self.country = ""
        # Every (interface path, value) a client set, in order (a test reads what the app sent).
        self.set_calls: list[tuple[str, str]] = []
        self._countries = {self.interface_path(i): "" for i in range(len(self.ifnames))}
        self._bus: MessageBus | None = None

    @staticmethod
    def interface_path(index: int) -> str:
        """The object path of the interface at `index` of `ifnames`."""
        return f"{INTERFACES_PATH}/{index}"

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, bus_address: str, ifnames: Sequence[str] = ("wlan0",)
    ) -> AsyncIterator[SimulatedSupplicant]:
        """Own wpa_supplicant's name on the bus for the duration of the block."""
        supplicant = cls(bus_address, ifnames)

        async def prepare(bus: MessageBus) -> None:
            supplicant._bus = bus

        try:
            async with owned_name(bus_address, SUPPLICANT_NAME, supplicant._route, prepare):
                yield supplicant
        finally:
            supplicant._bus = None

    def allows(self, frequency: int) -> bool:
        """Whether the radio sees a network on `frequency` MHz in the country set now."""
        return country_allows(self.country, frequency)

    def _route(self, message: Message) -> Message | None:
        """Answer the Properties calls on wpa_supplicant's objects; refuse the rest."""
        if message.message_type != MessageType.METHOD_CALL or message.interface != _PROPERTIES:
            return None
        path = message.path
        if path == SUPPLICANT_PATH:
            return self._global(message)
        if path in self._countries:
            return self._interface(message, path)
        return error_reply(message, _UNKNOWN_OBJECT, f"no object at {path}")

    def _global(self, message: Message) -> Message:
        paths = Variant("ao", list(self._countries))
        # (A bare name in a case pattern would capture, hence the interfaces spelled out.)
        match message.member, message.signature, message.body:
            case "Get", "ss", ["fi.w1.wpa_supplicant1", "Interfaces"]:
                return reply_with(message, "v", [paths])
            case "GetAll", "s", ["fi.w1.wpa_supplicant1"]:
                return reply_with(message, "a{sv}", [{"Interfaces": paths}])
        return error_reply(message, _INVALID_ARGS, "no such property or interface")

    def _interface(self, message: Message, path: str) -> Message:
        ifname = Variant("s", self.ifnames[int(path.rsplit("/", 1)[1])])
        country = Variant("s", self._countries[path])
        match message.member, message.signature, message.body:
            case "Get", "ss", ["fi.w1.wpa_supplicant1.Interface", "Country"]:
                return reply_with(message, "v", [country])
            case "Get", "ss", ["fi.w1.wpa_supplicant1.Interface", "Ifname"]:
                return reply_with(message, "v", [ifname])
            case "GetAll", "s", ["fi.w1.wpa_supplicant1.Interface"]:
                return reply_with(message, "a{sv}", [{"Country": country, "Ifname": ifname}])
            case "Set", "ssv", ["fi.w1.wpa_supplicant1.Interface", "Country", Variant() as value]:
                return self._set_country(message, path, value)
        return error_reply(message, _INVALID_ARGS, "no such property or interface")

    def _set_country(self, message: Message, path: str, value: Variant) -> Message:
        """wpa_supplicant's own check: a string of two characters or more (it keeps two)."""
        if value.signature != "s":
            return error_reply(message, _INVALID_ARGS, "wrong property type")
        if len(value.value) < 2:
            return error_reply(message, _FAILED, "invalid country code")
        country = value.value[:2]
        self._countries[path] = self.country = country
        self.set_calls.append((path, value.value))
        _LOGGER.info("Simulated wpa_supplicant: country %s on %s", country, path)
        return reply_with(message, "", [])
