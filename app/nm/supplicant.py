"""wpa_supplicant's regulatory domain: its Country, set over the app's system bus.

NetworkManager drives the radio through wpa_supplicant. Each interface wpa_supplicant manages
(listed in the `Interfaces` property of `fi.w1.wpa_supplicant1` on /fi/w1/wpa_supplicant1) has a
`Country` property (`fi.w1.wpa_supplicant1.Interface`) whose setter hands the code to the
driver, which asks the kernel for that regulatory domain. Set before the first scan, the scan
sees channels 12-13 and the 5 GHz channels the country allows. wpa_supplicant is not always on
the bus (iwd, or a supplicant without D-Bus): then the radio keeps the domain it has, and the
app carries on.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from dbus_next.signature import Variant

from app.errors import MalformedReply, NetworkManagerError, NetworkManagerUnavailable
from app.nm.bus import SystemBus
from app.nm.const import PROPERTIES_IFACE

_LOGGER = logging.getLogger(__name__)

SUPPLICANT_NAME: Final = "fi.w1.wpa_supplicant1"
SUPPLICANT_PATH: Final = "/fi/w1/wpa_supplicant1"
SUPPLICANT_IFACE: Final = "fi.w1.wpa_supplicant1"
SUPPLICANT_INTERFACE_IFACE: Final = "fi.w1.wpa_supplicant1.Interface"


class Supplicant:
    """wpa_supplicant on the system bus, as far as the country goes."""

    def __init__(self, bus: SystemBus) -> None:
        self._bus = bus

    async def is_present(self) -> bool:
        """Whether wpa_supplicant owns its name on the bus now."""
        return await self._bus.name_owner(SUPPLICANT_NAME) is not None

    async def _get(self, path: str, interface: str, name: str, signature: str) -> Any:
        """One of wpa_supplicant's properties, its D-Bus type checked."""
        (value,) = await self._bus.call(
            path,
            PROPERTIES_IFACE,
            "Get",
            "ss",
            [interface, name],
            returns="v",
            destination=SUPPLICANT_NAME,
        )
        if not isinstance(value, Variant) or value.signature != signature:
            raise MalformedReply(f"wpa_supplicant's {name} is not of type {signature}")
        return value.value

    async def interfaces(self) -> list[str]:
        """The object paths of the interfaces wpa_supplicant manages."""
        paths = await self._get(SUPPLICANT_PATH, SUPPLICANT_IFACE, "Interfaces", "ao")
        return [str(path) for path in paths]

    async def countries(self) -> list[str]:
        """The Country each interface holds ("" for none, the world's domain)."""
        return [
            str(await self._get(path, SUPPLICANT_INTERFACE_IFACE, "Country", "s"))
            for path in await self.interfaces()
        ]

    async def set_country(self, country: str) -> bool:
        """Set a validated country on every interface; False (one warning) when none took it."""
        if not await self.is_present():
            _LOGGER.warning(
                "wpa_supplicant is not on the system bus: country %s not set, the radio keeps "
                "its own regulatory domain",
                country,
            )
            return False
        try:
            paths = await self.interfaces()
            if not paths:
                _LOGGER.warning("wpa_supplicant manages no interface: country %s not set", country)
                return False
            for path in paths:
                await self._bus.call(
                    path,
                    PROPERTIES_IFACE,
                    "Set",
                    "ssv",
                    [SUPPLICANT_INTERFACE_IFACE, "Country", Variant("s", country)],
                    returns="",
                    destination=SUPPLICANT_NAME,
                )
        except NetworkManagerError as err:
            # Refused (or answered oddly): the scan still works, on the channels allowed now.
            _LOGGER.warning("wpa_supplicant refused country %s: %s", country, err.message)
            return False
        except NetworkManagerUnavailable:
            # It left between the calls (the bus itself breaking shows in the next NM call).
            _LOGGER.warning("wpa_supplicant left the system bus: country %s not set", country)
            return False
        _LOGGER.info("Regulatory domain set to %s through wpa_supplicant", country)
        return True
