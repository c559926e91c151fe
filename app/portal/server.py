"""The portal's web server: one aiohttp runner and its listening sockets, owned for one run."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address
from types import TracebackType

from aiohttp import web

from app.errors import WifiConnectError

_LOGGER = logging.getLogger(__name__)

LOOPBACK = IPv4Address("127.0.0.1")
# <linux/in.h>: bind to an address the machine does not have (yet); Python does not name it.
_IP_FREEBIND = 15


class PortalServer:
    """Serves an app on the given addresses while the context is open; always cleaned up."""

    def __init__(self, app: web.Application, addresses: Sequence[IPv4Address], port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._addresses = tuple(addresses)
        self._port = port

    async def __aenter__(self) -> PortalServer:
        await self._runner.setup()
        try:
            for address in self._addresses:
                await web.SockSite(self._runner, _listening_socket(address, self._port)).start()
        except BaseException:
            await self._runner.cleanup()
            raise
        _LOGGER.debug("Portal listening on %s, port %d", self._addresses, self._port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()


def _listening_socket(address: IPv4Address, port: int) -> socket.socket:
    """A listening socket on an address, which may be bound before the hotspot brings it up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # The gateway comes and goes with the hotspot; a free bind keeps the listener across.
        sock.setsockopt(socket.IPPROTO_IP, _IP_FREEBIND, 1)
        sock.bind((str(address), port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as err:
        sock.close()
        hint = "; another program listens there" if err.errno == errno.EADDRINUSE else ""
        raise WifiConnectError(
            f"cannot serve the portal on {address}:{port}: {err.strerror}{hint}"
        ) from err
    return sock
