"""POST /identify with IDENTIFY_COMMAND set, fuzzed by schemathesis: every answer as documented.

test_portal_openapi.py fuzzes a device without the variable (every /identify a 404); here it is
set (to `true`), with its limits as deployed, each request from a phone of its own.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from app.portal.app import create_app
from app.portal.csrf import FIELD as CSRF_FIELD
from app.portal.openapi import openapi_document
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import PORTAL, Portal
from tests.portal.helpers import RecordingController, make_config
from tests.portal.phones import phone_session
from tests.support import free_port

EXAMPLES = 40
STARTUP_TIMEOUT = 10.0


@dataclass
class Served:
    """The portal in a thread of its own (schemathesis' calls block), and how to stop it."""

    url: str = ""
    portal: Portal | None = None
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    ready: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None

    async def serve(self, port: int) -> None:
        true = shutil.which("true")
        assert true is not None
        config = make_config(gateway=LOOPBACK, listening_port=port, identify_command=(true,))
        app = create_app(config, RecordingController())
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        async with serve_portal(app, LOOPBACK, port):
            self.url, self.portal = f"http://127.0.0.1:{port}", app[PORTAL]
            self.ready.set()
            await self.stop.wait()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    served = Served()
    thread = threading.Thread(target=asyncio.run, args=(served.serve(free_port()),), daemon=True)
    thread.start()
    assert served.ready.wait(STARTUP_TIMEOUT)
    try:
        yield served
    finally:
        assert served.loop is not None and served.stop is not None
        served.loop.call_soon_threadsafe(served.stop.set)
        thread.join(STARTUP_TIMEOUT)
        assert not thread.is_alive()
    # The portal's cleanup closed its identifier: nothing runs, nothing can start.
    assert served.portal is not None and served.portal.identifier is not None
    assert not served.portal.identifier.busy


# Valid data: started (202), back to the page (303), running already (409), or over the limit
# of all phones together (429); never a 403, 404, 415 or 5xx.
SCHEMA = schemathesis.openapi.from_dict(
    openapi_document(),
    config=SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["202", "303", "409", "429"]}
            }
        }
    ),
)


@SCHEMA.include(path="/identify").parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None)
def test_fuzzed_identify_requests_get_documented_answers(
    case: schemathesis.Case, served: Served
) -> None:
    served.requests += 1
    address = f"127.2.{served.requests // 254}.{served.requests % 254 + 1}"
    assert served.portal is not None
    if isinstance(case.body, dict) and case.media_type == "application/x-www-form-urlencoded":
        case.body[CSRF_FIELD] = served.portal.csrf.token(address)
    with phone_session(address) as session:
        response = case.call_and_validate(
            base_url=served.url, session=session, allow_redirects=False
        )
    assert response.status_code < 500
    served.statuses[response.status_code] += 1


def test_the_fuzz_run_reached_the_command(served: Served) -> None:
    """Runs started: the fuzz got past the checks (the limits have tests of their own)."""
    assert served.statuses[202] > 0, served.statuses
