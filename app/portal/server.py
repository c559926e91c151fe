"""The portal's web server: one aiohttp runner and its listening sockets, owned for one run."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Address

from aiohttp import web

from app.errors import WifiConnectError

_LOGGER = logging.getLogger(__name__)

LOOPBACK = IPv4Address("127.0.0.1")
# <linux/in.h>: bind to an address the machine does not have (yet); Python does not name it.
_IP_FREEBIND = 15
# How long a connection may stay open without finishing a request (aiohttp's keep-alive timer
# runs from the moment it is accepted): held or trickling connections are closed by then, and a
# phone polling /status reconnects at no cost.
IDLE_TIMEOUT = 15.0
# How long a handler waits for a request's body once its headers are in: aiohttp's keep-alive
# timer stops while a handler runs, so a body that never comes would hold the connection forever.
BODY_TIMEOUT = 15.0
# After an answer sent before the whole body was read (408, 413), how long the rest is read and
# dropped so the client sees the answer rather than a reset; then the connection closes.
LINGER_TIME = 2.0


@contextlib.asynccontextmanager
async def serve_portal(
    app: web.Application,
    gateway: IPv4Address,
    port: int,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    linger: float = LINGER_TIME,
) -> AsyncIterator[None]:
    """Serve `app` on the gateway and on loopback while the block runs, and only there.

    Loopback lets the device itself (an installer's shell, a health check) read /status; the
    device's other networks never see the portal. The runner is always cleaned up.
    """
    runner = web.AppRunner(
        app, access_log=None, keepalive_timeout=idle_timeout, lingering_time=linger
    )
    await runner.setup()
    try:
        for address in dict.fromkeys((gateway, LOOPBACK)):
            await web.SockSite(runner, _listening_socket(address, port)).start()
        _LOGGER.debug("Portal listening on %s and %s, port %d", gateway, LOOPBACK, port)
        yield
    finally:
        await runner.cleanup()


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
