"""Connectivity as real NetworkManager reports it, against a check server the test controls."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.nm.client import NetworkManagerClient
from app.nm.const import Connectivity, NMState
from app.nm.models import ActivationResult
from tests.contract.realnm import CheckMode, RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

# NetworkManager reads LIMITED for a moment after activation, so every answer is polled for.
POLL_TIMEOUT = 10.0


async def connectivity_becomes(probe: NMProbe, expected: Connectivity) -> Connectivity:
    """Ask NetworkManager to check until it answers `expected` or the bound runs out."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while (seen := await probe.check_connectivity()) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return seen


@pytest.mark.parametrize(
    ("mode", "connectivity", "state"),
    [
        (CheckMode.FULL, Connectivity.FULL, NMState.CONNECTED_GLOBAL),
        (CheckMode.PORTAL, Connectivity.PORTAL, NMState.CONNECTED_SITE),
        (CheckMode.LIMITED, Connectivity.LIMITED, NMState.CONNECTED_SITE),
    ],
    ids=["full", "portal", "limited"],
)
async def test_connectivity_follows_the_check_server(
    client: NetworkManagerClient,
    probe: NMProbe,
    real_nm: RealNetworkManager,
    ethernet_up: ActivationResult,
    mode: CheckMode,
    connectivity: Connectivity,
    state: NMState,
) -> None:
    real_nm.set_check_mode(mode)
    try:
        seen = await connectivity_becomes(probe, connectivity)

        assert seen is connectivity, real_nm.log_tail()
        status = await client.status()
        assert status.connectivity is connectivity
        assert status.state is state
    finally:
        real_nm.set_check_mode(CheckMode.FULL)


async def test_connectivity_moves_from_full_to_portal_and_back(
    probe: NMProbe, real_nm: RealNetworkManager, ethernet_up: ActivationResult
) -> None:
    assert await connectivity_becomes(probe, Connectivity.FULL) is Connectivity.FULL
    real_nm.set_check_mode(CheckMode.PORTAL)
    try:
        assert await connectivity_becomes(probe, Connectivity.PORTAL) is Connectivity.PORTAL
    finally:
        real_nm.set_check_mode(CheckMode.FULL)
    assert await connectivity_becomes(probe, Connectivity.FULL) is Connectivity.FULL
