"""Deciding whether the device is already online."""

from __future__ import annotations

import pytest

from app.flow.uplink import is_online
from app.nm.const import Connectivity, NMState
from app.nm.models import NetworkStatus


@pytest.mark.parametrize(
    ("state", "connectivity", "default_route", "online"),
    [
        (NMState.CONNECTED_GLOBAL, Connectivity.FULL, True, True),
        (NMState.CONNECTED_GLOBAL, Connectivity.FULL, False, True),
        # Connectivity checking off: NM says UNKNOWN, so state and routing decide.
        (NMState.CONNECTED_GLOBAL, Connectivity.UNKNOWN, True, True),
        (NMState.CONNECTED_GLOBAL, Connectivity.UNKNOWN, False, False),
        (NMState.CONNECTED_SITE, Connectivity.UNKNOWN, True, False),
        # A hotel portal or a link without a way out is not an uplink.
        (NMState.CONNECTED_SITE, Connectivity.PORTAL, True, False),
        (NMState.CONNECTED_SITE, Connectivity.LIMITED, True, False),
        (NMState.DISCONNECTED, Connectivity.NONE, False, False),
        (NMState.CONNECTING, Connectivity.NONE, True, False),
    ],
)
def test_is_online(
    state: NMState, connectivity: Connectivity, default_route: bool, online: bool
) -> None:
    assert is_online(NetworkStatus(state, connectivity), default_route) is online
