"""GET /openapi.json: it names exactly the portal's routes, and schemathesis finds no fault.

The fuzz runs go over real HTTP to the portal backed by the real flow on the simulator, as
`wifi-connect simulate` runs it, with every limit as deployed: CSRF, the connect rate limit (5 a
minute per phone) and the body cap. Two runs:
- every request from a phone of its own (a loopback address of its own), whose forms carry the
  token its page gave it, as a crowd of honest phones: that gets past the per-phone limit, so the
  fuzz reaches the validation behind it;
- every request from one phone, a form's token often missing and a body often too big: the
  limits hold for every answer, and a second phone still gets in.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from app.flow.provision import Provisioner, Surroundings, provision
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.portal.csrf import FIELD as CSRF_FIELD
from app.portal.middlewares import MAX_BODY
from app.portal.openapi import openapi_document
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import PORTAL, Portal
from app.portal.ui import UiMode
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from tests.portal.helpers import Client, RecordingController, make_config
from tests.portal.phones import phone_session
from tests.support import free_port

# Each operation's examples; 12 operations, so a few hundred requests in all, in seconds.
EXAMPLES_PER_OPERATION = 40
# The single phone's run: POST operations only, where the limits are.
FLOOD_EXAMPLES_PER_OPERATION = 60
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


def test_every_post_documents_the_refusals_a_body_or_its_sender_gets() -> None:
    """A body too slow (408), broken (400) or in an unknown charset (415), a cross-site or
    tokenless request (403), too many requests (429 with Retry-After)."""
    posts = [
        operations["post"]["responses"]
        for operations in openapi_document()["paths"].values()
        if "post" in operations
    ]
    assert len(posts) == 3
    for answers in posts:
        assert {"400", "403", "408", "409", "413", "415", "429"} <= set(answers)
        assert "Retry-After" in answers["429"]["headers"]


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
    """What `wifi-connect simulate` runs, limits and all."""
    config = make_config(gateway=LOOPBACK, listening_port=port)
    portals: list[Portal] = []

    def portal(flow: Provisioner) -> AbstractAsyncContextManager[None]:
        app = create_app(config, flow)
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


def _phone_address(number: int) -> str:
    """The loopback address of phone `number` (1 to 65,024): 127.1.x.y, never the flooder's."""
    return f"127.1.{number // 254}.{number % 254 + 1}"


def _add_token(case: schemathesis.Case, served: Served, address: str) -> bool:
    """Give a form the token its page gave `address`, as the page does; True if it is a form."""
    if isinstance(case.body, dict) and case.media_type == "application/x-www-form-urlencoded":
        case.body[CSRF_FIELD] = served.portal.csrf.token(address)
        return True
    return False


# What a request the description calls valid may get: done (200, or 303 after a form), a 400
# naming a field for a rule only the network decides (the password a WEP network takes, a name
# too long in bytes), a 404 for a file or logo that is not there (or /identify without
# IDENTIFY_COMMAND, as here), a 409 while an attempt runs.
# Never a 403, 405, 413, 415, 429 or any 5xx.
VALID_DATA_ANSWERS = ["2xx", "303", "400", "404", "409"]
SCHEMA = schemathesis.openapi.from_dict(
    openapi_document(),
    config=SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": VALID_DATA_ANSWERS}}}
    ),
)


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
    deadline=None,
)
def test_fuzzed_requests_get_documented_answers(case: schemathesis.Case, served: Served) -> None:
    """No 5xx, no answer outside the description, valid data taken, whatever schemathesis sends."""
    served.requests += 1
    address = _phone_address(served.requests)
    _add_token(case, served, address)
    with phone_session(address) as session:
        case.call_and_validate(base_url=served.url, session=session, allow_redirects=False)


@dataclass
class Flood:
    """What the one phone's fuzz run got: when its connects got past the limiter, every status."""

    connects_let_through: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


FLOODER = "127.0.0.1"
FLOOD = Flood()


def _flood_request(case: schemathesis.Case, served: Served, number: int) -> requests.Response:
    """Send the case as the flooder: every 3rd body over the cap, every 2nd form tokenless."""
    with phone_session(FLOODER) as session:
        if number % 3 == 0:
            # Declared and sent: the cap must refuse it from its length alone.
            return session.post(
                served.url + case.formatted_path,
                data=b"p" * (MAX_BODY + 1),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                allow_redirects=False,
            )
        if number % 2:
            _add_token(case, served, FLOODER)
        # A refusal (403, 429) is the point here, so valid data need not be taken.
        return case.call_and_validate(
            base_url=served.url,
            session=session,
            allow_redirects=False,
            excluded_checks=[positive_data_acceptance],
        )


@SCHEMA.include(method="POST").parametrize()
@settings(
    max_examples=FLOOD_EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
    deadline=None,
)
def test_limits_hold_for_one_phone_under_the_fuzz_run(
    case: schemathesis.Case, served: Served
) -> None:
    """One phone: big bodies refused unread, tokenless forms refused, connects held to the limit."""
    served.requests += 1
    number = served.requests
    tokenless_form = (
        number % 2 == 0
        and case.method == "POST"
        and isinstance(case.body, dict)
        and case.media_type == "application/x-www-form-urlencoded"
    )
    response = _flood_request(case, served, number)
    status = response.status_code
    FLOOD.statuses[status] += 1
    assert status < 500, (status, response.text)
    if number % 3 == 0:
        assert status == 413, (status, response.text)
    else:
        if (case.method, case.path) == ("POST", "/connect") and status != 429:
            # The limiter counts every connect it lets through, valid or not.
            FLOOD.connects_let_through.append(time.monotonic())
        if tokenless_form:
            # The device runs without IDENTIFY_COMMAND: /identify is not there for anyone.
            refusals = (404,) if case.path == "/identify" else (403, 429)
            assert status in refusals, (status, response.text)
    limit = served.portal.connect_limit
    recent = [at for at in FLOOD.connects_let_through if at > time.monotonic() - limit.window]
    assert len(recent) <= limit.limit, recent


def test_a_second_phone_is_not_held_by_the_flooders_limit(served: Served) -> None:
    """After the flood (which met the limit), another phone's connect gets past the limiter."""
    assert FLOOD.statuses[429] > 0 and FLOOD.statuses[413] > 0, FLOOD.statuses
    with phone_session(_phone_address(65_000)) as session:
        response = session.post(
            served.url + "/connect", json={"ssid": "Open Cafe"}, allow_redirects=False
        )
    # 409 would be an attempt the flooder started still running: the flow, not the limiter.
    assert response.status_code in (200, 409), response.text
