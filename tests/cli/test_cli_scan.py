"""`wifi-connect scan`, and how every command reports a missing NetworkManager or WiFi device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from app.flow.report import networks_json
from app.flow.timing import Timings
from app.simulator import SimulatedNetworkManager
from app.simulator.supplicant import SimulatedSupplicant
from tests.cli.helpers import Cli, scenario
from tests.nm.helpers import NMProbe


async def test_scan_prints_a_table_strongest_first_one_row_per_ssid(
    cli: Cli, sim: SimulatedNetworkManager
) -> None:
    result = await cli("scan")

    assert (result.status, result.err) == (0, "")
    # Hidden networks have no name to show; the second "Home" access point is the weaker one.
    assert result.out.splitlines() == [
        "SSID      SIGNAL  BAND     FREQUENCY  SECURITY",
        "Home         80%  2.4 GHz  2437 MHz   WPA/WPA2 Personal",
        "Cafe         60%  5 GHz    5180 MHz   None (open)",
        "Office       50%  2.4 GHz  2437 MHz   WPA3 Personal",
        "Corp         45%  6 GHz    5955 MHz   WPA2/WPA3 Enterprise",
        "Filtered     30%  2.4 GHz  2437 MHz   WPA/WPA2 Personal",
        "Caf\xe9         20%  2.4 GHz  2437 MHz   WPA2/WPA3 Personal",
    ]


async def test_scan_json_is_the_body_of_get_networks(
    cli: Cli, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    result = await cli("scan", "--json")

    assert (result.status, result.err) == (0, "")
    body = json.loads(result.out)
    assert body == [
        {"ssid": "Home", "security": "wpa", "strength": 80, "frequency": 2437, "auth": "wpa-psk"},
        {"ssid": "Cafe", "security": "none", "strength": 60, "frequency": 5180, "auth": "open"},
        {"ssid": "Office", "security": "wpa", "strength": 50, "frequency": 2437, "auth": "sae"},
        {
            "ssid": "Corp",
            "security": "enterprise",
            "strength": 45,
            "frequency": 5955,
            "auth": "wpa-eap",
        },
        {
            "ssid": "Filtered",
            "security": "wpa",
            "strength": 30,
            "frequency": 2437,
            "auth": "wpa-psk",
        },
        {
            "ssid": "Caf\xe9",
            "security": "wpa",
            "strength": 20,
            "frequency": 2437,
            "auth": "wpa-psk+sae",
        },
    ]
    # The portal's own serialisation of the same access points gives the same body.
    assert body == networks_json(await probe.networks(await probe.device("wlan0")))


@pytest.mark.parametrize("scenario_data", [scenario(networks=[])])
async def test_scan_with_nothing_in_range(cli: Cli, sim: SimulatedNetworkManager) -> None:
    assert (await cli("scan")).out == "No networks in range.\n"
    assert (await cli("scan", "--json")).out == "[]\n"


@pytest.mark.parametrize(
    "scenario_data", [scenario(devices=[{"interface": "eth0", "type": "ethernet"}])]
)
@pytest.mark.parametrize(
    "args", [["scan"], ["scan", "--json"], ["add", "--ssid", "Home", "--passphrase", "password1"]]
)
async def test_no_wifi_device_is_one_line_and_exit_5(
    cli: Cli, sim: SimulatedNetworkManager, args: list[str]
) -> None:
    result = await cli(*args)

    assert result.status == 5  # ExitStatus.NO_WIFI_DEVICE, documented in --help
    assert result.out == ""
    assert result.err_lines == ["wifi-connect: NetworkManager manages no WiFi device"]
    assert sim.connections == ()


async def test_the_interface_flag_names_the_device(cli: Cli, sim: SimulatedNetworkManager) -> None:
    result = await cli("-i", "wlan9", "scan")

    assert result.status == ExitStatus.NO_WIFI_DEVICE
    assert result.err_lines == ["wifi-connect: no WiFi device named 'wlan9' (WiFi devices: wlan0)"]


ALL_COMMANDS: list[list[str]] = [
    ["scan"],
    ["add", "--ssid", "Home", "--passphrase", "password1"],
    ["forget", "Home"],
    ["check"],
    ["import", "tests/data/keyfiles"],
]


@pytest.mark.parametrize("args", ALL_COMMANDS, ids=lambda args: args[0])
async def test_no_system_bus_is_one_line_and_exit_4(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    socket = tmp_path / "no-bus-here"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={socket}")

    result = await cli(*args)

    assert result.status == 4  # ExitStatus.NM_UNAVAILABLE, documented in --help
    assert result.out == ""
    (line,) = result.err_lines
    assert line.startswith("wifi-connect: cannot connect to the system bus: ")


@pytest.mark.parametrize("args", ALL_COMMANDS, ids=lambda args: args[0])
async def test_bus_without_network_manager_is_one_line_and_exit_4(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # The bus is there but nobody owns NetworkManager's name: the command waits its bound.
    result = await cli(*args, timings=Timings(command_nm_wait=0.3))

    assert result.status == ExitStatus.NM_UNAVAILABLE
    assert result.out == ""
    assert result.err_lines == [
        "wifi-connect: NetworkManager did not appear on the system bus within 0.3 s; "
        "is it running, and is DBUS_SYSTEM_BUS_ADDRESS right?"
    ]


@pytest.mark.parametrize(
    "scenario_data",
    [
        scenario(
            networks=[
                {"ssid": "Six", "security": "open", "frequency": 2437},
                {"ssid": "Thirteen", "security": "open", "frequency": 2472},
            ]
        )
    ],
)
@pytest.mark.parametrize(
    ("country", "seen"), [(None, ["Six"]), ("FR", ["Six", "Thirteen"])], ids=["none", "FR"]
)
async def test_scan_sees_what_the_country_allows(
    cli: Cli,
    supplicant: SimulatedSupplicant,
    monkeypatch: pytest.MonkeyPatch,
    country: str | None,
    seen: list[str],
) -> None:
    if country is not None:
        monkeypatch.setenv("PORTAL_COUNTRY", country)
    result = await cli("scan", "--json")
    assert result.status == ExitStatus.OK
    assert sorted(network["ssid"] for network in json.loads(result.out)) == seen
    assert supplicant.country == (country or "")
