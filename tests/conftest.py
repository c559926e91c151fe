"""Suite-wide rules: under CI=true no tier may skip, as a missing dependency is a failure there."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from app.simulator.supplicant import SimulatedSupplicant
from tests.nm.helpers import NMProbe


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# The property tests' budget: bounded so all of them take seconds. Under CI the examples are
# derived from each test's name (derandomize) and nothing is read from or saved to a database,
# so every run tries the same inputs; elsewhere they vary from run to run and a failure found
# once is replayed from .hypothesis/.
settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# HYPOTHESIS_PROFILE=thorough: a long hunt on a developer's machine, never in CI.
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ci() else "dev"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Turn every skip into a failure under CI=true, keeping the skip's reason in the report."""
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which allows no skips: {reason}"


@pytest.fixture
async def private_bus() -> AsyncIterator[PrivateBus]:
    """A dbus-daemon of the test's own, stopped afterwards."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    async with PrivateBus() as bus:
        yield bus


@pytest.fixture
async def sim(
    private_bus: PrivateBus, scenario_data: dict[str, Any]
) -> AsyncIterator[SimulatedNetworkManager]:
    """The simulated NetworkManager on the private bus; each tier defines `scenario_data`."""
    async with SimulatedNetworkManager.start(
        private_bus.address, parse_scenario(scenario_data)
    ) as simulated:
        yield simulated


@pytest.fixture
async def supplicant(
    private_bus: PrivateBus, sim: SimulatedNetworkManager
) -> AsyncIterator[SimulatedSupplicant]:
    """wpa_supplicant beside the simulator, no country set yet: a scan lists what it allows."""
    async with SimulatedSupplicant.start(private_bus.address) as simulated:
        sim.supplicant = simulated
        yield simulated


@pytest.fixture
async def system_bus(private_bus: PrivateBus) -> AsyncIterator[SystemBus]:
    """The app's own connection to the test's bus (the contract tier has its own)."""
    async with SystemBus(private_bus.address) as bus:
        yield bus


@pytest.fixture
async def nm(sim: SimulatedNetworkManager, system_bus: SystemBus) -> NetworkManagerClient:
    """The adapter, connected to the simulated NetworkManager."""
    return await NetworkManagerClient.connect(system_bus, timeout=5)


@pytest.fixture
def probe(system_bus: SystemBus) -> NMProbe:
    """What the tests read besides what the adapter reads."""
    return NMProbe(system_bus)
