"""A portal that has closed keeps nothing alive: --watch opens one every time the uplink goes."""

from __future__ import annotations

import gc
import weakref

import aiohttp

from app.config import Config
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from tests.portal.helpers import RecordingController
from tests.support import free_port


async def test_a_closed_portal_leaves_its_app_to_be_freed(
    config: Config, controller: RecordingController
) -> None:
    app = create_app(config, controller)
    port = free_port()
    async with serve_portal(app, LOOPBACK, port), aiohttp.ClientSession() as phone:
        # Through every middleware, to the page, the status and a probe's redirect.
        for path in ("", "status", "generate_204"):
            url = f"http://127.0.0.1:{port}/{path}"
            async with phone.get(url, allow_redirects=False) as response:
                await response.read()
    closed = weakref.ref(app)
    del app
    gc.collect()
    assert closed() is None, "something still holds the closed portal's app"
