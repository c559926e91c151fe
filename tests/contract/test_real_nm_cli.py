"""The installer's commands against real NetworkManager: forget and check work, and with no WiFi
radio here, scan and add end with the "no WiFi device" exit status instead of a crash.

The WiFi-only calls behind scan and add are proven against the simulator, and their presence in
each version by test_real_nm_versions.py.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address

import pytest

from app.exitcodes import ExitStatus
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile, hotspot_profile
from app.wifi import Credentials, SecurityKind
from tests.cli import conftest as cli_tier
from tests.cli.helpers import RESOLVER, Cli, Internet
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

# The CLI tier's fixtures: `cli` runs main() in-process, `internet` serves HTTPS, SNTP and DNS on
# loopback; `bus_address` below points them at real NetworkManager's bus.
environment = cli_tier.environment
cli = cli_tier.cli
internet = cli_tier.internet

GATEWAY = IPv4Address("192.168.42.1")
NO_WIFI = "wifi-connect: NetworkManager manages no WiFi device"


@pytest.fixture
def bus_address(real_nm: RealNetworkManager) -> str:
    """The commands talk to the real NetworkManager."""
    return real_nm.bus_address


def _ipv4_dns(address: str) -> int:
    """An IPv4 address as ipv4.dns (au) carries it: the address bytes as a host-order uint32."""
    return int.from_bytes(socket.inet_aton(address), "little")


async def test_forget_deletes_the_client_profiles_of_the_ssid_only(
    cli: Cli, client: NetworkManagerClient, real_nm: RealNetworkManager
) -> None:
    home = Credentials(b"ct forget", SecurityKind.WPA_PSK, "password1")
    doomed = [client_profile(home, connection_id=name) for name in ("ct forget", "ct forget 1")]
    kept = [
        client_profile(Credentials(b"ct other", SecurityKind.OPEN)),
        # The portal's own hotspot of the same name is never a saved network.
        hotspot_profile(
            ssid="ct forget", interface=real_nm.interface, gateway=GATEWAY, passphrase=None
        ),
    ]
    for profile in (*doomed, *kept):
        await client.add_connection(profile)

    result = await cli("forget", "ct forget")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == "Forgot 2 saved profiles of 'ct forget'.\n"
    left = {saved.uuid for saved in await client.saved_connections()}
    assert {profile["connection"]["uuid"] for profile in kept} <= left
    assert not {profile["connection"]["uuid"] for profile in doomed} & left

    unknown = await cli("forget", "ct forget")

    assert (unknown.status, unknown.err) == (
        ExitStatus.FAILED,
        "wifi-connect: no saved WiFi profile for 'ct forget'\n",
    )


async def test_check_reports_the_uplink_and_its_resolvers_from_network_manager(
    cli: Cli,
    client: NetworkManagerClient,
    probe: NMProbe,
    real_nm: RealNetworkManager,
    internet: Internet,
) -> None:
    profile = real_nm.ethernet_profile()
    # A resolver set in the profile, as DHCP would give one: `check` asks it, over loopback.
    profile["ipv4"]["dns"] = [_ipv4_dns(RESOLVER)]
    saved = await client.add_connection(profile)
    result = await client.activate(saved, await probe.device(real_nm.interface), timeout=10.0)
    assert result.ok, f"{result}\n{real_nm.log_tail()}"
    try:
        checked = await cli("check")
    finally:
        assert result.active_path is not None
        await client.deactivate(result.active_path)

    assert (checked.status, checked.err) == (ExitStatus.OK, ""), checked.out
    lines = checked.out.splitlines()
    assert lines[:2] == [
        f"Uplink: 'ct-ethernet' on {real_nm.interface}",
        f"DNS servers (from NetworkManager): {RESOLVER}",
    ]
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["https", internet.https_url.removeprefix("https://"), "ok"],
        ["ntp", "localhost", "ok"],
        ["dns", RESOLVER, "ok"],
    ]


@pytest.mark.parametrize(
    "args",
    [("scan",), ("scan", "--json"), ("add", "--ssid", "ct add", "--passphrase", "password1")],
    ids=["scan", "scan-json", "add"],
)
async def test_wifi_commands_end_with_no_wifi_device(
    cli: Cli, client: NetworkManagerClient, args: tuple[str, ...]
) -> None:
    before = await client.saved_connections()

    result = await cli(*args)

    assert (result.status, result.out, result.err) == (
        ExitStatus.NO_WIFI_DEVICE,
        "",
        NO_WIFI + "\n",
    )
    assert await client.saved_connections() == before
