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
from tests.contract.nmroots import RELEASES, Release, is_complete
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe


# Session-scoped and parametrised: pytest runs every contract test against one release, stops
# that NetworkManager, then starts the next, so only one runs at a time (they share ct-nm).
@pytest.fixture(scope="session", params=RELEASES, ids=lambda release: release.id)
def real_nm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealNetworkManager]:
    """NetworkManager of one Debian release in netns ct-nm on a private bus, managing veth ctv0."""
    release: Release = request.param
    if os.geteuid() != 0:
        pytest.skip("the contract tier needs root: it runs NetworkManager in a network namespace")
    for tool in ("dbus-daemon", "ip") if release.root else ("NetworkManager", "dbus-daemon", "ip"):
        if shutil.which(tool) is None:
            pytest.skip(f"the contract tier needs {tool}, which is not installed")
    if release.root is not None and not is_complete(release.root):
        # A skip outside CI; under CI=true the suite's conftest turns it into a failure.
        pytest.skip(
            f"no {release.suite} root at {release.root} for NetworkManager {release.id}: "
            "scripts/test builds it as root (python -m tests.contract.nmroots)"
        )
    workdir = tmp_path_factory.mktemp(f"ct-{release.id}")
    nm = RealNetworkManager.start(workdir, release)
    try:
        # The host could be a release whose NetworkManager is not the one this id names.
        wanted = "{}.{}.".format(*release.nm_version)
        assert nm.version.startswith(wanted), f"{release.id} runs NetworkManager {nm.version}"
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
def _keyfiles(pytestconfig: pytest.Config) -> Iterator[ArtifactLog]:
    with _artifact(pytestconfig, "contract-keyfiles.txt", "keyfile NetworkManager wrote") as log:
        yield log


@pytest.fixture(scope="session")
def _refusals(pytestconfig: pytest.Config) -> Iterator[ArtifactLog]:
    with _artifact(pytestconfig, "contract-refusals.txt", "NetworkManager refused") as log:
        yield log


def _per_version(log: ArtifactLog, nm: RealNetworkManager) -> ArtifactLog:
    """Entries of every version in one file, each titled with the NetworkManager it came from."""
    return log.prefixed(f"NetworkManager {nm.version} ({nm.release.suite}): ")


@pytest.fixture
def keyfile_log(_keyfiles: ArtifactLog, real_nm: RealNetworkManager) -> ArtifactLog:
    """The keyfile NetworkManager wrote per profile kind: test-artifacts/contract-keyfiles.txt."""
    return _per_version(_keyfiles, real_nm)


@pytest.fixture
def refusal_log(_refusals: ArtifactLog, real_nm: RealNetworkManager) -> ArtifactLog:
    """NetworkManager's answer to each invalid profile: test-artifacts/contract-refusals.txt."""
    return _per_version(_refusals, real_nm)


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
