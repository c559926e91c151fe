"""A portal for fuzzing in its own event loop, so hypothesis can drive it from a plain test.

Hypothesis runs each example in the test's own thread and cannot await, so the portal and its
client live on a loop this module owns, and each request runs to completion on it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.portal.controller import PortalController
from app.portal.ratelimit import RateLimiter
from app.portal.state import PORTAL, Portal
from tests.portal.helpers import GATEWAY, Client, make_config, portal_app

_T = TypeVar("_T")


@dataclasses.dataclass
class FuzzPortal:
    """A running portal, its client, and the loop both live on."""

    loop: asyncio.AbstractEventLoop
    client: Client
    portal: Portal

    def run(self, step: Awaitable[_T]) -> _T:
        """Run one request (or any step) to its end on the portal's loop."""
        return self.loop.run_until_complete(step)

    def csrf_token(self) -> str:
        """The token the page gives this client (the test client's address is loopback)."""
        return self.portal.csrf.token("127.0.0.1")


async def _started(app: web.Application) -> Client:
    """A test client of `app`, made on the running loop so both share it."""
    client: Client = TestClient(TestServer(app), headers={"Host": GATEWAY})
    await client.start_server()
    return client


@contextmanager
def fuzz_portal(controller: PortalController) -> Iterator[FuzzPortal]:
    """The portal with `controller`, rate limits raised, served until the block ends.

    /connect allows 5 requests a minute per client and /rescan 10; fuzzing sends hundreds from
    one client, so the limits are raised here, or nothing past the limiters would be reached.
    They have their own tests (test_portal_security.py), and a 429 would be an allowed outcome.
    """
    app = portal_app(
        make_config(),
        controller,
        connect_limit=RateLimiter(limit=10**9, window=60.0),
        rescan_limit=RateLimiter(limit=10**9, window=60.0),
    )
    portal = app[PORTAL]
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(_started(app))
    try:
        yield FuzzPortal(loop, client, portal)
    finally:
        loop.run_until_complete(client.close())
        loop.close()
