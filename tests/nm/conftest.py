"""The adapter under test, talking to the simulator over a real private dbus-daemon."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator import world
from tests.simulator.world import CORP, FAILING, HIDDEN, HOME, OFFICE

NETWORKS: list[dict[str, Any]] = [
    HOME,
    {**HOME, "strength": 35},
    {"ssid": "Cafe", "security": "open", "strength": 60},
    OFFICE,
    CORP,
    {"ssid_hex": "436166e9", "security": "wpa-psk+sae", "passphrase": "password1", "strength": 20},
    *FAILING,
    HIDDEN,
]


def scenario(**changes: Any) -> dict[str, Any]:
    """The tier's usual scenario with top-level keys replaced."""
    return world.scenario(NETWORKS, **changes)


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the simulated world."""
    return scenario()
