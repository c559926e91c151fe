"""The installer's commands on NetworkManager 1.10, 1.30 and the newest (nm_version).

On 1.10 a scan has no LastScan to wait for, so it takes the fixed scan time, short here.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.exitcodes import ExitStatus
from app.flow.timing import Timings
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.simulator import SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.cli.helpers import Cli, Internet, scenario

# On 1.10 the CLI's scan waits this after the access points are listed, not a device's 4 s.
QUICK_LEGACY_SCAN = Timings(legacy_scan=0.05)
VERSIONS = [
    pytest.param(scenario(nm_version=version), id=version) for version in ("1.10", "1.30", "1.52")
]


def _no_refusal(err: str) -> None:
    """Nothing was refused for a member an older NetworkManager lacks."""
    assert "refused" not in err and "no such property" not in err.lower(), err


@pytest.mark.parametrize("scenario_data", VERSIONS)
async def test_scan(cli: Cli, sim: SimulatedNetworkManager) -> None:
    result = await cli("scan", timings=QUICK_LEGACY_SCAN)

    assert result.status == ExitStatus.OK, result.err
    _no_refusal(result.err)
    lines = result.out.splitlines()
    assert lines[0].split() == ["SSID", "SIGNAL", "BAND", "FREQUENCY", "SECURITY"]
    assert [line.split()[0] for line in lines[1:]] == [
        "Home",
        "Cafe",
        "Office",
        "Corp",
        "Filtered",
        "Caf\xe9",
    ]


@pytest.mark.parametrize("scenario_data", VERSIONS)
async def test_add_joins_and_proves_the_network(
    cli: Cli, sim: SimulatedNetworkManager, internet: Internet, scenario_data: dict[str, Any]
) -> None:
    result = await cli(
        "add", "--ssid", "Home", "--passphrase", "password1", timings=QUICK_LEGACY_SCAN
    )

    assert result.status == ExitStatus.OK, result.err
    _no_refusal(result.err)
    lines = result.out.splitlines()
    assert lines[0] == "Connected to 'Home' (WPA/WPA2 Personal) on wlan0."
    # The link's own resolver: NameserverData, or Nameservers before 1.14.
    assert lines[3].split()[:3] == ["dns", "127.0.0.77", "ok"]
    assert lines[-1] == "Every check passed."
    (saved,) = sim.connections
    assert saved.received["802-11-wireless"]["ssid"] == b"Home"


@pytest.mark.parametrize("scenario_data", VERSIONS)
async def test_forget(cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient) -> None:
    for ssid in (b"Home", b"Cafe"):
        await nm.add_connection(client_profile(Credentials(ssid, SecurityKind.OPEN)))

    result = await cli("forget", "Home")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == "Forgot 1 saved profile of 'Home'.\n"
    assert [c.id for c in sim.connections] == ["Cafe"]


@pytest.mark.parametrize("scenario_data", VERSIONS)
async def test_check(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(
        client_profile(Credentials(b"Home", SecurityKind.WPA_PSK, "password1"))
    )
    assert (await nm.activate(saved, wifi.device, timeout=5)).ok

    result = await cli("check")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    lines = result.out.splitlines()
    assert lines[:2] == ["Uplink: 'Home' on wlan0", "DNS servers (from NetworkManager): 127.0.0.77"]
    assert lines[-1] == "Every check passed."
