"""Floods and held connections against the portal on 127.0.0.1, each bounded in requests and time.

Each client speaks from its own loopback address (127.0.0.0/8 is all loopback), as phones on the
hotspot each have their own, so the per-client rate limit and CSRF binding see them apart. The
figures at full size (200 phones every second for 30 s, RSS over time) come from
`python -m bench.portal_load`; these tests keep the counts and leave out the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.flow.state import AttemptOutcome, FlowState
from app.portal.app import create_app
from app.portal.ratelimit import RateLimiter
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import CONNECT_LIMIT
from tests.portal.helpers import RecordingController, make_config, portal_app
from tests.portal.simulated import SimPortal, simulated_portal
from tests.support import eventually, free_port

HOME_PASSWORD = "correct horse battery"
SCENARIO: dict[str, Any] = {
    "activation_delay_ms": 20,
    "deactivation_delay_ms": 5,
    "scan_delay_ms": 10,
    "devices": [{"interface": "wlan0"}],
    "networks": [
        {"ssid": "Home", "security": "wpa-psk", "passphrase": HOME_PASSWORD, "strength": 85},
        {
            "ssid": "Refuser",
            "security": "wpa-psk",
            "passphrase": "never matters",
            "failure": "wrong_password",
            "strength": 60,
        },
    ],
}
FLOODER, PHONE, SECOND_PHONE = "127.0.0.2", "127.0.0.3", "127.0.0.4"
FLOOD = 1000
HELD = 500
# Connections whose request body stops after one byte, and how long the portal waits for one.
SLOW_BODIES = 300
BODY_TIMEOUT = 1.0
# How long an answered connection's unread body is drained before it is closed.
LINGER = 0.05
POLLERS = 200
# The goal for a page load under load. It takes milliseconds here: 2 s is a wide margin.
PAGE_GOAL = 2.0
# Rounds of every poller asking /status once (`python -m bench.portal_load` runs 30 s, 1 a second).
POLL_ROUNDS = 10
# RSS may move by allocator noise between rounds; a leak of one object per request would not fit.
RSS_SLACK = 8 * 1024 * 1024


@contextlib.asynccontextmanager
async def phone_session(source: str, limit: int = 100) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client whose connections come from `source`."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), limit=limit)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def load_page(source: str, url: str) -> float:
    """Seconds a new phone at `source` takes to load the portal's page."""
    started = time.monotonic()
    async with phone_session(source) as phone, phone.get(url) as response:
        assert response.status == 200
        assert "Choose a WiFi network" in await response.text()
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def recording_portal(**changes: Any) -> AsyncIterator[str]:
    """The portal with a recording controller, really listening on 127.0.0.1; its URL.

    `changes` go to the portal's state (its body timeout, say).
    """
    port = free_port()
    config = make_config(gateway=LOOPBACK, listening_port=port)
    app = portal_app(config, RecordingController(), **changes)
    async with serve_portal(app, LOOPBACK, port, linger=LINGER):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
async def simulated() -> AsyncIterator[SimPortal]:
    """The real flow on the simulator with a network that works and one that refuses."""
    async with simulated_portal(SCENARIO) as portal:
        yield portal


async def test_a_connect_flood_does_not_stop_a_second_phone(simulated: SimPortal) -> None:
    async def flood_once(flooder: aiohttp.ClientSession) -> int:
        body = {"ssid": "Refuser", "passphrase": "flood pass 1"}
        async with flooder.post(f"{simulated.url}connect", json=body) as response:
            await response.read()
            return response.status

    async with phone_session(FLOODER) as flooder:
        codes = Counter(await asyncio.gather(*(flood_once(flooder) for _ in range(FLOOD))))
    # The flooder's own window lets 5 through: the first starts an attempt, the rest find the
    # flow busy, 409 (or a second attempt, if the first already failed). Everything else is 429.
    allowed = CONNECT_LIMIT
    assert set(codes) <= {200, 409, 429}, codes
    assert codes[200] >= 1 and codes[200] + codes[409] == allowed, codes
    assert codes[429] == FLOOD - allowed, codes

    # The flooder's attempts fail and the hotspot comes back; the second phone then provisions.
    await eventually(
        lambda: (
            simulated.flow.status().state is FlowState.PORTAL
            and simulated.flow.status().last_attempt is not None
        )
    )
    assert await load_page(PHONE, simulated.url) < PAGE_GOAL
    async with phone_session(PHONE) as phone:
        body = {"ssid": "Home", "passphrase": HOME_PASSWORD}
        async with phone.post(f"{simulated.url}connect", json=body) as response:
            assert response.status == 200, await response.text()
    await simulated.connected("Home")
    assert simulated.flow.status().last_attempt == AttemptOutcome("Home", None)
    assert [c.id for c in simulated.clients()] == ["Home"]


def _allow_descriptors(needed: int) -> None:
    """Raise this process's soft descriptor limit to fit both ends of `needed` connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * needed + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        assert hard == resource.RLIM_INFINITY or hard >= wanted, f"RLIMIT_NOFILE hard {hard}"
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _hold(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A slowloris connection: a request line and half a header, then nothing more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


async def test_held_connections_do_not_stop_a_new_phone() -> None:
    _allow_descriptors(HELD)
    async with recording_portal() as url:
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        held = await asyncio.gather(*(_hold(port, FLOODER) for _ in range(HELD)))
        try:
            # The portal serves each connection as a coroutine: 500 waiting ones take no turn
            # from a new phone.
            assert await load_page(PHONE, url) < PAGE_GOAL
            assert all(not reader.at_eof() for reader, _ in held)
        finally:
            for _, writer in held:
                writer.close()


async def test_a_held_connection_is_closed_after_the_idle_timeout() -> None:
    port = free_port()
    config = make_config(gateway=LOOPBACK, listening_port=port)
    app = create_app(config, RecordingController())
    async with serve_portal(app, LOOPBACK, port, idle_timeout=0.2):
        reader, writer = await _hold(port, FLOODER)
        try:
            # aiohttp's keep-alive timer runs from the accept: a request never finished is
            # dropped, with nothing sent back.
            assert await asyncio.wait_for(reader.read(), 10) == b""
        finally:
            writer.close()


async def _slow_body(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request whose headers arrive and whose body stops after its first byte."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(
        b"POST /rescan HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nx"
    )
    await writer.drain()
    return reader, writer


async def test_bodies_that_never_arrive_do_not_stop_a_new_phone() -> None:
    _allow_descriptors(SLOW_BODIES)
    # The rescan limit would answer all but 10 of them at once: this is about the body's bound.
    unlimited = RateLimiter(limit=SLOW_BODIES, window=60.0)
    async with recording_portal(body_timeout=BODY_TIMEOUT, rescan_limit=unlimited) as url:
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        slow = await asyncio.gather(*(_slow_body(port, FLOODER) for _ in range(SLOW_BODIES)))
        try:
            # Their handlers wait for the rest; a new phone is served meanwhile.
            assert await load_page(PHONE, url) < PAGE_GOAL
            # After the body timeout each is answered 408 and closed, never held on.
            answers = await asyncio.wait_for(
                asyncio.gather(*(reader.read() for reader, _ in slow)), BODY_TIMEOUT + 10
            )
        finally:
            for _, writer in slow:
                writer.close()
        assert Counter(answer.split(b"\r\n", 1)[0] for answer in answers) == {
            b"HTTP/1.1 408 Request Timeout": SLOW_BODIES
        }


def _rss() -> int:
    """This process's resident set size in bytes."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


async def test_200_phones_polling_status_keep_the_portal_responsive() -> None:
    _allow_descriptors(POLLERS)
    async with recording_portal() as url, contextlib.AsyncExitStack() as stack:
        phones = [
            await stack.enter_async_context(phone_session(f"127.0.1.{n % 250 + 1}", limit=1))
            for n in range(POLLERS)
        ]

        async def poll(phone: aiohttp.ClientSession) -> None:
            async with phone.get(f"{url}status") as response:
                assert response.status == 200
                assert (await response.json())["state"] == "portal"

        rss: list[int] = []
        for _ in range(POLL_ROUNDS):
            polls = asyncio.gather(*(poll(phone) for phone in phones))
            # A new phone loads the page while every other phone is polling.
            assert await load_page(SECOND_PHONE, url) < PAGE_GOAL
            await polls
            rss.append(_rss())
        # The first rounds warm caches and pools; after them memory stays where it was.
        assert max(rss[2:]) - rss[2] < RSS_SLACK, rss
