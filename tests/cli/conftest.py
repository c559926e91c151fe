"""Fixtures of the CLI tier: `main([...])` in-process against the simulator on a private bus.

The commands run in a worker thread (main() starts its own event loop), so the simulator and
the local stand-ins for the internet keep being served by the test's loop meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.config import ENV_SETTINGS, FLAG_SETTINGS
from app.simulator import PrivateBus
from tests.cli.helpers import NTP_HOST, RESOLVER, Cli, DnsResponder, Internet, scenario
from tests.net.servers import SntpBehaviour, SntpResponder, issue_cert, make_ca


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the simulated world."""
    return scenario()


@pytest.fixture
def bus_address(private_bus: PrivateBus) -> str:
    """The bus the commands talk to (the contract tier points them at real NetworkManager's)."""
    return private_bus.address


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, bus_address: str) -> None:
    """The commands find the private bus; no setting leaks in; no check leaves the machine."""
    for setting in (*FLAG_SETTINGS, *ENV_SETTINGS):
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address)
    # Port 9 on loopback: refused at once, should a test reach the checks without `internet`.
    monkeypatch.setenv("CHECK_HTTPS", "https://127.0.0.1:9")
    monkeypatch.setenv("CHECK_NTP", "127.0.0.1")
    monkeypatch.setenv("CHECK_TIMEOUT", "3")


@pytest.fixture
def cli(environment: None, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


@pytest.fixture
async def internet(
    environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[Internet]:
    """A TLS server with a test CA, SNTP on localhost:123 and a resolver on RESOLVER:53."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificates")
    ca = make_ca(tmp_path, "cli-test-ca")
    leaf = issue_cert(tmp_path, ca, "cli-test-server", ["IP:127.0.0.1"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf.cert, leaf.key)

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    loop = asyncio.get_running_loop()
    sntp = [SntpResponder(SntpBehaviour.OK)]
    async with contextlib.AsyncExitStack() as stack:
        server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
        stack.push_async_callback(server.wait_closed)
        stack.callback(server.close)
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: sntp[0], local_addr=("127.0.0.1", 123)
            )
            stack.callback(transport.close)
            transport, _ = await loop.create_datagram_endpoint(
                DnsResponder, local_addr=(RESOLVER, 53)
            )
            stack.callback(transport.close)
        except PermissionError:
            pytest.skip("serving NTP and DNS on loopback needs root (ports 123 and 53)")
        # localhost may resolve to ::1 first elsewhere; where IPv6 is off, 127.0.0.1 is enough.
        with contextlib.suppress(OSError):
            sntp6 = SntpResponder(SntpBehaviour.OK)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: sntp6, local_addr=("::1", 123)
            )
            stack.callback(transport.close)
            sntp.append(sntp6)
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        monkeypatch.setenv("CHECK_HTTPS", url)
        monkeypatch.setenv("CHECK_NTP", NTP_HOST)
        # The checks verify certificates against the system store, which this variable replaces.
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.cert))
        yield Internet(url, sntp)
