"""wpa_supplicant's regulatory domain: its Country property, set over the app's system bus.

NetworkManager drives the radio through wpa_supplicant, whose D-Bus API has a Country property
(`fi.w1.wpa_supplicant1` on /fi/w1/wpa_supplicant1) that sets the kernel's regulatory domain.
Set before the first scan, the scan sees channels 12-13 and the 5 GHz channels the country
allows. wpa_supplicant is not always on the bus (iwd, or a supplicant without D-Bus): then the
radio keeps the domain it has, and the app carries on.
"""

from __future__ import annotations

import logging
from typing import Final

from dbus_next.signature import Variant

from app.errors import MalformedReply, NetworkManagerError, NetworkManagerUnavailable
from app.nm.bus import SystemBus
from app.nm.const import PROPERTIES_IFACE

_LOGGER = logging.getLogger(__name__)

SUPPLICANT_NAME: Final = "fi.w1.wpa_supplicant1"
SUPPLICANT_PATH: Final = "/fi/w1/wpa_supplicant1"
SUPPLICANT_IFACE: Final = "fi.w1.wpa_supplicant1"
COUNTRY_PROPERTY: Final = "Country"


class Supplicant:
    """wpa_supplicant's global object on the system bus, as far as the country goes."""

    def __init__(self, bus: SystemBus) -> None:
        self._bus = bus

    async def is_present(self) -> bool:
        """Whether wpa_supplicant owns its name on the bus now."""
        return await self._bus.name_owner(SUPPLICANT_NAME) is not None

    async def country(self) -> str:
        """The regulatory domain wpa_supplicant holds ("" for none, the world's)."""
        value = await self._bus.call(
            SUPPLICANT_PATH,
            PROPERTIES_IFACE,
            "Get",
            "ss",
            [SUPPLICANT_IFACE, COUNTRY_PROPERTY],
            returns="v",
            destination=SUPPLICANT_NAME,
        )
        country = value[0].value
        if not isinstance(country, str):
            raise MalformedReply(f"wpa_supplicant's Country is {type(country).__name__}, not str")
        return country

    async def set_country(self, country: str) -> bool:
        """Set the regulatory domain to a validated code; False (one warning) when it cannot be."""
        if not await self.is_present():
            _LOGGER.warning(
                "wpa_supplicant is not on the system bus: country %s not set, the radio keeps "
                "its own regulatory domain",
                country,
            )
            return False
        try:
            await self._bus.call(
                SUPPLICANT_PATH,
                PROPERTIES_IFACE,
                "Set",
                "ssv",
                [SUPPLICANT_IFACE, COUNTRY_PROPERTY, Variant("s", country)],
                returns="",
                destination=SUPPLICANT_NAME,
            )
        except NetworkManagerError as err:
            # Refused: the scan still works, on the channels the radio allows now.
            _LOGGER.warning("wpa_supplicant refused country %s: %s", country, err.message)
            return False
        except NetworkManagerUnavailable:
            # It left between the two calls (the bus itself breaking shows in the next NM call).
            _LOGGER.warning("wpa_supplicant left the system bus: country %s not set", country)
            return False
        _LOGGER.info("Regulatory domain set to %s through wpa_supplicant", country)
        return True
