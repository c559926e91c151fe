"""Fixtures of the contract tier: one real NetworkManager per session, a fresh bus per test."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from dbus_next.aio import MessageBus

from app.errors import NetworkManagerError
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.models import ActivationResult
from tests.contract.artifacts import ArtifactLog
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe


@pytest.fixture(scope="session")
def real_nm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealNetworkManager]:
    """NetworkManager in netns ct-nm on a private system bus, managing veth ctv0."""
    if os.geteuid() != 0:
        pytest.skip("the contract tier needs root: it runs NetworkManager in a network namespace")
    for tool in ("NetworkManager", "dbus-daemon", "ip"):
        if shutil.which(tool) is None:
            pytest.skip(f"the contract tier needs {tool}, which is not installed")
    workdir = tmp_path_factory.mktemp("ct-nm")
    nm = RealNetworkManager.start(workdir)
    try:
        yield nm
    finally:
        nm.stop()
    # After a failure the logs stay for reading (pytest keeps its last three runs' tmp dirs).
    if request.session.testsfailed == 0:
        shutil.rmtree(workdir)


@pytest.fixture
async def raw_bus(real_nm: RealNetworkManager) -> AsyncIterator[MessageBus]:
    """A plain dbus-next connection to the private bus, for checks that bypass the adapter."""
    bus = await MessageBus(bus_address=real_nm.bus_address).connect()
    try:
        yield bus
    finally:
        bus.disconnect()


@pytest.fixture
async def system_bus(real_nm: RealNetworkManager) -> AsyncIterator[SystemBus]:
    """The app's own bus connection to the private bus."""
    async with SystemBus(real_nm.bus_address) as bus:
        yield bus


@pytest.fixture
async def client(
    real_nm: RealNetworkManager, system_bus: SystemBus
) -> AsyncIterator[NetworkManagerClient]:
    """The app's adapter; the profiles a test leaves behind go."""
    nm_client = await NetworkManagerClient.connect(system_bus, timeout=10.0)
    try:
        yield nm_client
    finally:
        # One test's leftovers (after a failed assertion) must not change the next test;
        # NetworkManager's own in-memory profiles (lo's) live elsewhere and stay.
        for saved in await nm_client.saved_connections():
            if saved.filename and Path(saved.filename).parent == real_nm.keyfile_dir:
                with contextlib.suppress(NetworkManagerError):
                    await nm_client.delete_connection(saved.path)


@contextlib.contextmanager
def _artifact(pytestconfig: pytest.Config, name: str, what: str) -> Iterator[ArtifactLog]:
    log = ArtifactLog(what)
    yield log
    if log.entries:
        log.write(pytestconfig.rootpath / "test-artifacts" / name)


@pytest.fixture(scope="session")
def keyfile_log(pytestconfig: pytest.Config) -> Iterator[ArtifactLog]:
    """The keyfile NetworkManager wrote per profile kind: test-artifacts/contract-keyfiles.txt."""
    with _artifact(pytestconfig, "contract-keyfiles.txt", "keyfile NetworkManager wrote") as log:
        yield log


@pytest.fixture(scope="session")
def refusal_log(pytestconfig: pytest.Config) -> Iterator[ArtifactLog]:
    """NetworkManager's answer to each invalid profile: test-artifacts/contract-refusals.txt."""
    with _artifact(pytestconfig, "contract-refusals.txt", "NetworkManager refused") as log:
        yield log


@pytest.fixture
async def ethernet_up(
    client: NetworkManagerClient, real_nm: RealNetworkManager, probe: NMProbe
) -> AsyncIterator[ActivationResult]:
    """The veth activated with a static profile and a default route via the check server."""
    saved = await client.add_connection(real_nm.ethernet_profile())
    device = await probe.device(real_nm.interface)
    result = await client.activate(saved, device, timeout=10.0)
    assert result.ok, f"{result}\n{real_nm.log_tail()}"
    try:
        yield result
    finally:
        assert result.active_path is not None
        await client.deactivate(result.active_path)
        await client.delete_connection(saved.path)
