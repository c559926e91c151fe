"""A simulated wpa_supplicant, as far as its regulatory domain goes: the Country property.

It owns `fi.w1.wpa_supplicant1` on the private bus (its own connection, beside the simulated
NetworkManager) and answers Properties Get, Set and GetAll on /fi/w1/wpa_supplicant1 for the
one property Country (s). A SimulatedNetworkManager given it (its `supplicant` attribute) lists,
after each scan, only the networks whose frequency the country allows. The model is a sketch of
the real tables, enough to show a country revealing networks:

- channels 1 to 11 (2412 to 2462 MHz): everywhere, with or without a country;
- channels 12 and 13 (2467, 2472 MHz): with a country, except US and CA;
- channel 14 (2484 MHz): JP only;
- 5 GHz and above: with a country.

Without a country (Country "", the world domain) only channels 1 to 11 are seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import MessageType, RequestNameReply
from dbus_next.message import Message
from dbus_next.signature import Variant

from app.simulator._dbus import error_reply, reply_with

_LOGGER = logging.getLogger(__name__)

SUPPLICANT_NAME: Final = "fi.w1.wpa_supplicant1"
SUPPLICANT_PATH: Final = "/fi/w1/wpa_supplicant1"
_PROPERTIES: Final = "org.freedesktop.DBus.Properties"
_INVALID_ARGS: Final = "org.freedesktop.DBus.Error.InvalidArgs"
_UNKNOWN_METHOD: Final = "org.freedesktop.DBus.Error.UnknownMethod"

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
    """wpa_supplicant's global object with its Country, on the bus for the duration of start()."""

    def __init__(self, bus_address: str, country: str = "") -> None:
        self.bus_address = bus_address
        self.country = country
        # Every value a client set, in order (a test reads what the app sent).
        self.set_calls: list[str] = []
        self._bus: MessageBus | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, bus_address: str, country: str = "") -> AsyncIterator[SimulatedSupplicant]:
        """Own wpa_supplicant's name on the bus for the duration of the block."""
        supplicant = cls(bus_address, country)
        bus = await MessageBus(bus_address=bus_address).connect()
        supplicant._bus = bus
        try:
            bus.add_message_handler(supplicant._route)
            reply = await bus.request_name(SUPPLICANT_NAME)
            if reply != RequestNameReply.PRIMARY_OWNER:
                raise RuntimeError(f"cannot own {SUPPLICANT_NAME} on {bus_address}: {reply}")
            yield supplicant
        finally:
            supplicant._bus = None
            bus.disconnect()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)  # type: ignore[no-untyped-call]

    def allows(self, frequency: int) -> bool:
        """Whether the radio sees a network on `frequency` MHz in the country set now."""
        return country_allows(self.country, frequency)

    def _route(self, message: Message) -> Message | None:
        """Answer the Properties calls on wpa_supplicant's global object; refuse the rest."""
        if message.message_type != MessageType.METHOD_CALL or message.interface != _PROPERTIES:
            return None
        if message.path != SUPPLICANT_PATH:
            return error_reply(message, _UNKNOWN_METHOD, f"no object at {message.path}")
        # (A bare name in a case pattern would capture, hence the interface spelled out.)
        match message.member, message.signature, message.body:
            case "Get", "ss", ["fi.w1.wpa_supplicant1", "Country"]:
                return reply_with(message, "v", [Variant("s", self.country)])
            case "GetAll", "s", ["fi.w1.wpa_supplicant1"]:
                return reply_with(message, "a{sv}", [{"Country": Variant("s", self.country)}])
            case "Set", "ssv", ["fi.w1.wpa_supplicant1", "Country", Variant() as value]:
                return self._set_country(message, value)
        return error_reply(message, _INVALID_ARGS, "no such property or interface")

    def _set_country(self, message: Message, value: Variant) -> Message:
        """wpa_supplicant's own check: a string of two characters (it trusts the rest)."""
        if value.signature != "s" or len(value.value) != 2:
            return error_reply(message, _INVALID_ARGS, "invalid country code")
        self.country = value.value
        self.set_calls.append(value.value)
        _LOGGER.info("Simulated wpa_supplicant: country %s", self.country)
        return reply_with(message, "", [])
