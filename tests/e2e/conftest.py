"""Fixtures of the e2e tier: namespaces, the internet's servers, the simulated device, timings.

Root only: it creates network namespaces and runs dnsmasq, a private dbus-daemon, the
simulator, the app and Chromium in them. Everything is removed afterwards, and at the start
too, in case an earlier run crashed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e import topology
from tests.e2e.world import ARTIFACTS, Certificates, DeviceStack, Timings, scenario
from tests.net.servers import Internet, dnsmasq_dns_server, internet_servers, issue_cert, make_ca

CHROMIUM = Path("/usr/bin/chromium")
TIMINGS = ARTIFACTS / "e2e-timings.txt"
LOGS = ARTIFACTS / "e2e-logs"
_TOOLS = {
    "ip": "iproute2",
    "dnsmasq": "dnsmasq-base",
    "dbus-daemon": "dbus",
    "nft": "nftables",
    "openssl": "openssl",
}


def _missing() -> str | None:
    """Why this machine cannot run the tier, or None."""
    if os.geteuid() != 0:
        return "the e2e tier needs root: it creates network namespaces (run it as root, or in CI)"
    for tool, package in _TOOLS.items():
        if shutil.which(tool) is None:
            return f"the e2e tier needs {tool} (Debian package {package}), which is not installed"
    if not CHROMIUM.exists():
        return f"the e2e tier needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the e2e tier needs the playwright package (pip install playwright)"
    return None


@pytest.fixture(scope="session")
def network() -> Iterator[topology.Topology]:
    """e2e-phone, e2e-dev and e2e-inet with their veths; removed afterwards."""
    reason = _missing()
    if reason is not None:
        pytest.skip(reason)
    try:
        yield topology.build()
    finally:
        topology.remove_leftovers()


@pytest.fixture
def workdir(network: topology.Topology, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A directory for this test's files; its logs are kept in test-artifacts/e2e-logs/."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    path = network.workdir / name
    path.mkdir()
    yield path
    kept = LOGS / name
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    for log in path.glob("*.log"):
        shutil.copy(log, kept)


@pytest.fixture(scope="session")
def certificates(network: topology.Topology) -> Certificates:
    """A CA valid for two days and a certificate it signed for the API host."""
    ca = make_ca(network.workdir, "e2e-test-ca")
    names = [f"DNS:{topology.API_HOST}", f"IP:{topology.INET_ADDRESS}"]
    return Certificates(ca, issue_cert(network.workdir, ca, "e2e-api", names))


@pytest.fixture(scope="session")
def internet_dns(network: topology.Topology) -> Iterator[None]:
    """dnsmasq in e2e-inet: the API host has an address; e2e.test is answered locally."""
    records = {topology.API_HOST: str(topology.INET_ADDRESS)}
    with dnsmasq_dns_server(
        topology.INET, str(topology.INET_ADDRESS), records, topology.API_DOMAIN
    ):
        yield


@pytest.fixture
async def internet(
    network: topology.Topology, certificates: Certificates, internet_dns: None
) -> AsyncIterator[Internet]:
    """TLS on 443 and SNTP on 123 in e2e-inet (served by this test's event loop)."""
    try:
        async with internet_servers(
            topology.INET, str(topology.INET_ADDRESS), certificates.server
        ) as servers:
            yield servers
    finally:
        topology.remove_nft_table(topology.INET)


@pytest.fixture
async def device(workdir: Path) -> AsyncIterator[DeviceStack]:
    """The private bus and the simulated NetworkManager in e2e-dev."""
    stack = DeviceStack(workdir, scenario())
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


@pytest.fixture
async def wired_device(workdir: Path) -> AsyncIterator[DeviceStack]:
    """The device with a working wire (the default route) beside a routed WiFi network."""
    stack = DeviceStack(
        workdir, scenario(topology.ROUTED_WIFI_ADDRESS, topology.ROUTED_WIFI_GATEWAY)
    )
    try:
        topology.add_wire()
        await stack.start()
        yield stack
    finally:
        await stack.stop()
        topology.remove_wire()


@pytest.fixture(scope="session")
def timings() -> Iterator[Timings]:
    """Measurements of the whole run; the file is rewritten only when some were taken."""
    collected = Timings()
    yield collected
    if collected.lines:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        TIMINGS.write_text("\n".join(collected.lines) + "\n")
