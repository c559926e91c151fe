"""GET /openapi.json: it names exactly the portal's routes, and schemathesis finds no fault.

The fuzz run goes over real HTTP to the portal backed by the real flow on the simulator, as
`wifi-connect simulate` runs it. It goes through CSRF as a phone does: a form carries the token
the page gives this client. The connect rate limit (5 a minute) is raised for it, or every
/connect after the fifth would be a 429 and nothing past the limiter would be fuzzed; the
limiter has its own tests (test_portal_security.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.flow.provision import Provisioner, Surroundings, provision
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.portal.csrf import FIELD as CSRF_FIELD
from app.portal.openapi import openapi_document
from app.portal.ratelimit import RateLimiter
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import PORTAL, Portal
from app.portal.ui import UiMode
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from tests.portal.helpers import Client, RecordingController, make_config
from tests.support import free_port

# Each operation's examples; 11 operations, so a few hundred requests in all, in seconds.
EXAMPLES_PER_OPERATION = 40
# How long the simulated flow may take to bring its portal up.
STARTUP_TIMEOUT = 15.0

SCENARIO: dict[str, Any] = {
    "activation_delay_ms": 20,
    "deactivation_delay_ms": 5,
    "scan_delay_ms": 10,
    "devices": [{"interface": "wlan0"}],
    "networks": [
        {"ssid": "Home", "security": "wpa-psk", "passphrase": "correct horse", "strength": 80},
        {"ssid": "Open Cafe", "security": "open", "strength": 60},
        {"ssid": "Corp", "security": "wpa-eap", "identity": "a", "passphrase": "b", "strength": 50},
        {"ssid_hex": "1b5b324a3c623e", "security": "wep", "passphrase": "abcde", "strength": 40},
    ],
}


def _routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route, in OpenAPI's spelling of a path parameter."""
    return {
        (route.method, re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.resource.canonical))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }


def test_description_names_exactly_the_routes() -> None:
    """Every route is documented, and nothing documented is missing."""
    app = create_app(make_config(), RecordingController())
    assert app[PORTAL].layout.mode is UiMode.TEMPLATES
    assert _routes(app) == _documented()


async def test_description_is_served(portal: Client) -> None:
    """GET /openapi.json answers the document, as JSON."""
    response = await portal.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == openapi_document()


def test_description_is_valid_openapi_3_1() -> None:
    """Schemathesis reads it as OpenAPI 3.1 and finds every operation."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(_documented())


# --- the fuzz run ----------------------------------------------------------------------------


@dataclass
class Served:
    """The simulated device's portal in a thread of its own, for schemathesis' blocking calls."""

    url: str
    portal: Portal
    requests: int = 0


@asynccontextmanager
async def _device(port: int, ready: asyncio.Future[Portal]) -> AsyncIterator[None]:
    """What `wifi-connect simulate` runs, its portal with the rate limit raised."""
    config = make_config(gateway=LOOPBACK, listening_port=port)
    portals: list[Portal] = []

    def portal(flow: Provisioner) -> AbstractAsyncContextManager[None]:
        app = create_app(config, flow)
        relaxed = RateLimiter(limit=10**9, window=60.0)
        app[PORTAL] = dataclasses.replace(app[PORTAL], connect_limit=relaxed)
        portals.append(app[PORTAL])
        return serve_portal(app, LOOPBACK, port)

    surroundings = Surroundings(
        portal=portal,
        timings=Timings(answer_grace=0.0),
        # After a success the portal is back at once, for the next request.
        reopen_after_success=0.0,
        on_serving=lambda: ready.set_result(portals[0]),
    )
    async with (
        PrivateBus() as private_bus,
        SimulatedNetworkManager.start(private_bus.address, parse_scenario(SCENARIO)),
        SystemBus(private_bus.address) as bus,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=5)
        task = asyncio.create_task(provision(config, nm, surroundings))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@dataclass
class _Thread:
    """The device's thread: its loop once running, what it reported, and how to stop it."""

    started: list[Portal | BaseException] = field(default_factory=list)
    report: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None

    def run(self, port: int) -> None:
        """Run the device until stopped, reporting its portal (or why not) first."""
        asyncio.run(self._main(port))

    async def _main(self, port: int) -> None:
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        ready: asyncio.Future[Portal] = self.loop.create_future()
        try:
            async with _device(port, ready):
                self.started.append(await asyncio.wait_for(ready, STARTUP_TIMEOUT))
                self.report.set()
                await self.stop.wait()
        except BaseException as error:
            self.started.append(error)
            self.report.set()
            raise

    def stop_soon(self) -> None:
        """Ask the device's loop to stop, from the test's thread."""
        if self.loop is not None and self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The simulated device, serving its portal on a free loopback port."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("the simulator needs dbus-daemon (apt-get install dbus)")
    port = free_port()
    device = _Thread()
    thread = threading.Thread(target=device.run, args=(port,), daemon=True)
    thread.start()
    device.report.wait(STARTUP_TIMEOUT + 5)
    assert device.started and isinstance(device.started[0], Portal), device.started
    served = Served(f"http://127.0.0.1:{port}", device.started[0])
    try:
        yield served
        print(f"schemathesis sent {served.requests} requests")  # the -s output's count
    finally:
        device.stop_soon()
        thread.join(STARTUP_TIMEOUT)
        assert not thread.is_alive()


SCHEMA = schemathesis.openapi.from_dict(openapi_document())


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
    deadline=None,
)
def test_fuzzed_requests_get_documented_answers(case: schemathesis.Case, served: Served) -> None:
    """No 5xx, no answer outside the description, no crash, whatever schemathesis sends."""
    if isinstance(case.body, dict) and case.media_type == "application/x-www-form-urlencoded":
        # As the phone's page does: its form carries the token made for this client.
        case.body[CSRF_FIELD] = served.portal.csrf.token("127.0.0.1")
    served.requests += 1
    # A body the description allows may still break a rule only the network decides (the
    # password a WEP network takes, a name too long in bytes): that is a 400 naming the field,
    # which the description documents, so "valid data should be accepted" does not apply.
    case.call_and_validate(
        base_url=served.url,
        allow_redirects=False,
        excluded_checks=[positive_data_acceptance],
    )
