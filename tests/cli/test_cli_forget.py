"""`wifi-connect forget SSID`: every saved client profile of the SSID goes, hotspots stay."""

from __future__ import annotations

from ipaddress import IPv4Address

from app.exitcodes import ExitStatus
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile, hotspot_profile
from app.simulator import SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.cli.helpers import Cli


async def test_forget_deletes_every_client_profile_of_the_ssid_and_nothing_else(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    for connection_id in ("Home", "Home 1"):
        await nm.add_connection(
            client_profile(
                Credentials(b"Home", SecurityKind.WPA_PSK, "password1"),
                connection_id=connection_id,
            )
        )
    cafe = await nm.add_connection(client_profile(Credentials(b"Cafe", SecurityKind.OPEN)))
    # A hotspot that happens to share the name is the portal's, never a saved network.
    hotspot = await nm.add_connection(
        hotspot_profile(
            ssid="Home", interface="wlan0", gateway=IPv4Address("192.168.42.1"), passphrase=None
        )
    )

    result = await cli("forget", "Home")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == "Forgot 2 saved profiles of 'Home'.\n"
    assert {c.uuid for c in sim.connections} == {cafe.uuid, hotspot.uuid}


async def test_forget_one_profile_says_so(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    await nm.add_connection(client_profile(Credentials(b"Caf\xe9", SecurityKind.OPEN)))

    # The name as `scan` shows an SSID that is not UTF-8.
    result = await cli("forget", "Caf\xe9")

    assert (result.status, result.out) == (ExitStatus.OK, "Forgot 1 saved profile of 'Caf\xe9'.\n")
    assert sim.connections == ()


async def test_forget_an_unknown_ssid_is_one_line_and_exit_1(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    cafe = await nm.add_connection(client_profile(Credentials(b"Cafe", SecurityKind.OPEN)))

    result = await cli("forget", "Nowhere")

    assert result.status == ExitStatus.FAILED
    assert result.out == ""
    assert result.err_lines == ["wifi-connect: no saved WiFi profile for 'Nowhere'"]
    assert [c.uuid for c in sim.connections] == [cafe.uuid]


async def test_forget_an_empty_ssid_is_bad_input(cli: Cli, sim: SimulatedNetworkManager) -> None:
    result = await cli("forget", "")

    assert result.status == ExitStatus.BAD_CONFIG
    assert result.err_lines == [
        "wifi-connect: error: SSID: Enter the network name: it cannot be empty."
    ]
