"""Avahi over D-Bus: the device's mDNS host name, and an HTTP service announced in its name.

Avahi (`org.freedesktop.Avahi` on the system bus) answers `HOSTNAME.local` on every network
the device is on, by itself. What wifi-connect adds is one entry group with an `_http._tcp`
service (the portal, while it is up). An entry group belongs to the bus connection that made
it: Avahi withdraws it when that connection ends, so nothing outlives the process.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from app.errors import NetworkManagerError, NetworkManagerUnavailable
from app.nm.bus import SystemBus
from app.nm.models import MdnsHost

_LOGGER = logging.getLogger(__name__)

AVAHI_NAME = "org.freedesktop.Avahi"
SERVER_PATH = "/"
SERVER_IFACE = "org.freedesktop.Avahi.Server"
ENTRY_GROUP_IFACE = "org.freedesktop.Avahi.EntryGroup"
HTTP_SERVICE = "_http._tcp"
# avahi-common/address.h: any interface, any protocol; IPv4 only.
IF_UNSPEC = -1
PROTO_INET = 0
# A DNS-SD instance name is one DNS label: at most 63 bytes of UTF-8.
SERVICE_NAME_MAX_BYTES = 63
# AddService(interface, protocol, flags, name, type, domain, host, port, txt)
_ADD_SERVICE_SIGNATURE = "iiussssqaay"


@dataclass(frozen=True)
class HttpService:
    """An `_http._tcp` service to announce: its instance name, port and where it listens."""

    name: str
    port: int
    # A kernel interface index, or IF_UNSPEC for every interface.
    interface: int = IF_UNSPEC
    path: str = "/"


def service_name(brand: str, host_name: str) -> str:
    """The instance name a browser lists, `Brand on host`, cut to one DNS label's 63 bytes."""
    name = f"{brand} on {host_name}" if brand else host_name
    cut = name.encode()[:SERVICE_NAME_MAX_BYTES]
    # A cut inside a multi-byte character drops that character rather than breaking UTF-8.
    return cut.decode(errors="ignore").rstrip()


def txt_records(service: HttpService) -> list[bytes]:
    """The service's TXT strings (DNS-SD's `path` key for HTTP, RFC 6763 section 7)."""
    return [f"path={service.path}".encode()]


# What a host name may hold to go into http://NAME/ as it is: no space, control character or
# URL delimiter (Avahi's names come from the kernel's host name, or avahi-daemon.conf).
_HOST_NAME = re.compile(r"[^\x00-\x20\x7f/?#@:\[\]\\%\"'<>`]{1,255}")


class UnfitHostName(ValueError):
    """Avahi answered a host name that cannot go into a URL as it is."""


def _host_reply(value: object, member: str) -> str:
    """A host name Avahi answered, else UnfitHostName naming the member."""
    if not isinstance(value, str) or not _HOST_NAME.fullmatch(value):
        raise UnfitHostName(f"its {member} answered {value!r}, not a host name")
    return value


class AvahiClient:
    """One typed view of Avahi on a bus: look the host up, announce, withdraw, free.

    Only this class speaks Avahi's D-Bus API; callers get MdnsHost and booleans. Avahi being
    absent is not an error: the first lookup logs it once and every later call does nothing.
    """

    def __init__(self, bus: SystemBus) -> None:
        self._bus = bus
        self._group: str | None = None
        # None until the first lookup; then whether Avahi was on the bus.
        self._present: bool | None = None

    async def host(self) -> MdnsHost | None:
        """Avahi's host names, or None when Avahi is not on the bus (told once, at INFO)."""
        if self._present is None:
            self._present = await self._bus.name_owner(AVAHI_NAME) is not None
            if not self._present:
                _LOGGER.info("Avahi is not on the system bus: no mDNS announcement")
        if not self._present:
            return None
        try:
            (name,) = await self._server_call("GetHostName", returns="s")
            (fqdn,) = await self._server_call("GetHostNameFqdn", returns="s")
            return MdnsHost(_host_reply(name, "GetHostName"), _host_reply(fqdn, "GetHostNameFqdn"))
        except (NetworkManagerError, NetworkManagerUnavailable, UnfitHostName) as err:
            _LOGGER.warning("Could not ask Avahi for the host name: %s", err)
            return None

    async def announce(self, service: HttpService) -> bool:
        """Announce `service` (replacing what this client announced before); True once committed."""
        if not self._present:
            return False
        try:
            if self._group is None:
                (group,) = await self._server_call("EntryGroupNew", returns="o")
                self._group = str(group)
            else:
                await self._group_call(self._group, "Reset")
            body = [
                service.interface,
                PROTO_INET,
                0,
                service.name,
                HTTP_SERVICE,
                "",  # the default domain, .local
                "",  # this host
                service.port,
                txt_records(service),
            ]
            await self._group_call(self._group, "AddService", _ADD_SERVICE_SIGNATURE, body)
            await self._group_call(self._group, "Commit")
        except (NetworkManagerError, NetworkManagerUnavailable) as err:
            _LOGGER.warning("Could not announce '%s' over mDNS: %s", service.name, err)
            # The group may have gone (Avahi restarted, our connection opened again): the next
            # announcement makes a new one; a group left behind dies with our connection.
            self._group = None
            return False
        _LOGGER.info("Announced '%s' over mDNS (port %d)", service.name, service.port)
        return True

    async def withdraw(self) -> None:
        """Take the announcement back (the group stays, empty, for the next announce)."""
        if self._group is None:
            return
        try:
            await self._group_call(self._group, "Reset")
        except (NetworkManagerError, NetworkManagerUnavailable) as err:
            _LOGGER.warning("Could not withdraw the mDNS announcement: %s", err)

    async def close(self) -> None:
        """Free the entry group; Avahi would on our disconnect too, this says it at once."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            await self._group_call(group, "Free")
        except (NetworkManagerError, NetworkManagerUnavailable) as err:
            _LOGGER.warning("Could not free the mDNS entry group: %s", err)

    async def _server_call(self, member: str, *, returns: str) -> list[object]:
        return await self._bus.call(
            SERVER_PATH, SERVER_IFACE, member, returns=returns, destination=AVAHI_NAME
        )

    async def _group_call(
        self, group: str, member: str, signature: str = "", body: list[object] | None = None
    ) -> None:
        await self._bus.call(
            group, ENTRY_GROUP_IFACE, member, signature, body or [], destination=AVAHI_NAME
        )
