"""The portal's web server: one aiohttp runner and its listening sockets, owned for one run."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Address

from aiohttp import web, web_app
from aiohttp.http_exceptions import HttpProcessingError

from app.errors import WifiConnectError

_LOGGER = logging.getLogger(__name__)
# What aiohttp's request handlers log (their default is aiohttp.server), quieted by
# _BadRequestsQuiet while the portal is served.
_HTTP_LOGGER = logging.getLogger("app.portal.http")
# How much of aiohttp's word on a malformed request a log line keeps.
_BAD_REQUEST_TEXT = 120

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
        app,
        access_log=None,
        keepalive_timeout=idle_timeout,
        lingering_time=linger,
        logger=_HTTP_LOGGER,
    )
    quiet = _BadRequestsQuiet()
    _HTTP_LOGGER.addFilter(quiet)
    await runner.setup()
    try:
        for address in dict.fromkeys((gateway, LOOPBACK)):
            await web.SockSite(runner, _listening_socket(address, port)).start()
        _LOGGER.debug("Portal listening on %s and %s, port %d", gateway, LOOPBACK, port)
        yield
    finally:
        await runner.cleanup()
        _HTTP_LOGGER.removeFilter(quiet)
        _forget_middleware_chains()


def _forget_middleware_chains() -> None:
    """Let a closed portal's app go: aiohttp keeps it alive in its middleware cache otherwise.

    aiohttp caches each route's middleware chain keyed by the app (up to 1024 entries), so
    every portal a --watch run opened stayed in memory with its catalogs and templates: 0.9 MB
    a round, measured by the bench's soak (tracemalloc and gc referrers). The cache only
    saves rebuilding the chain per request; a new portal builds its own.
    """
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is None:
        # An aiohttp without the cache keeps nothing alive; tests/portal notices if one does.
        return
    cache.cache_clear()


class _BadRequestsQuiet(logging.Filter):
    """A request aiohttp cannot parse is the phone's doing: a DEBUG line, not an ERROR trace.

    aiohttp answers it 400 by itself, but logs the parser's traceback at ERROR; anyone on the
    hotspot could fill the journal with those.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or not 400 <= (error.code or 0) < 500:
            return True
        words = " ".join(error.message.split())[:_BAD_REQUEST_TEXT]
        record.msg, record.args = "%s (%d: %s)", (record.getMessage(), error.code, words)
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        record.exc_info = record.exc_text = None
        return _HTTP_LOGGER.isEnabledFor(logging.DEBUG)


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
