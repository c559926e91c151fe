"""The country (--country / PORTAL_COUNTRY): wpa_supplicant's Country set before the first scan.

A simulated wpa_supplicant on the private bus holds the Country; the simulated NetworkManager
lists, after each scan, only the networks that country allows (app/simulator/supplicant.py).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.config import Config
from app.flow.provision import Provisioner
from app.flow.timing import Timings
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus
from app.simulator.supplicant import SimulatedSupplicant, country_allows
from tests.nm.conftest import scenario

# One network on a channel allowed everywhere, one on channel 13, one on 5 GHz channel 36.
IN_RANGE: list[dict[str, Any]] = [
    {"ssid": "Six", "security": "open", "frequency": 2437},
    {"ssid": "Thirteen", "security": "open", "frequency": 2472},
    {"ssid": "Thirty-six", "security": "open", "frequency": 5180},
]
QUICK = Timings(answer_grace=0.0)


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    return scenario(networks=IN_RANGE)


async def _seen(config: Config, nm: NetworkManagerClient) -> set[bytes]:
    """The SSIDs the flow's first scan finds with this config."""
    flow = Provisioner(config, nm, timings=QUICK)
    try:
        await flow.prepare()
        return {network.ssid for network in await flow.networks()}
    finally:
        await flow.cleanup()


@pytest.mark.parametrize(
    ("country", "seen"),
    [
        (None, {b"Six"}),
        ("DE", {b"Six", b"Thirteen", b"Thirty-six"}),
        ("US", {b"Six", b"Thirty-six"}),
    ],
    ids=["no-country", "DE", "US"],
)
async def test_the_first_scan_sees_what_the_country_allows(
    nm: NetworkManagerClient,
    supplicant: SimulatedSupplicant,
    country: str | None,
    seen: set[bytes],
) -> None:
    assert await _seen(Config(country=country), nm) == seen
    wlan0 = SimulatedSupplicant.interface_path(0)
    assert supplicant.set_calls == ([] if country is None else [(wlan0, country)])


async def test_the_country_goes_to_every_interface_and_reads_back(
    nm: NetworkManagerClient, private_bus: PrivateBus
) -> None:
    async with SimulatedSupplicant.start(private_bus.address, ("wlan0", "wlan1")) as supplicant:
        regulatory = nm.supplicant()
        assert await regulatory.countries() == ["", ""]
        assert await regulatory.set_country("FR") is True
        assert await regulatory.countries() == ["FR", "FR"]
        assert [path for path, _ in supplicant.set_calls] == [
            SimulatedSupplicant.interface_path(0),
            SimulatedSupplicant.interface_path(1),
        ]


async def test_a_refused_country_is_one_warning(
    nm: NetworkManagerClient, supplicant: SimulatedSupplicant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "app.nm.supplicant")
    # Past the app's own validation, as a bad value could only come: wpa_supplicant refuses it.
    assert await nm.supplicant().set_country("D") is False
    assert [r.getMessage() for r in caplog.records] == [
        "wpa_supplicant refused country D: invalid country code"
    ]
    assert supplicant.country == ""


async def test_a_supplicant_without_interfaces_is_one_warning(
    nm: NetworkManagerClient,
    private_bus: PrivateBus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "app.nm.supplicant")
    async with SimulatedSupplicant.start(private_bus.address, ()):
        assert await nm.supplicant().set_country("DE") is False
    assert [r.getMessage() for r in caplog.records] == [
        "wpa_supplicant manages no interface: country DE not set"
    ]


async def test_without_wpa_supplicant_one_warning_and_the_scan_goes_on(
    nm: NetworkManagerClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "app.nm.supplicant")
    assert await _seen(Config(country="DE"), nm) == {b"Six", b"Thirteen", b"Thirty-six"}
    assert [r.getMessage() for r in caplog.records] == [
        "wpa_supplicant is not on the system bus: country DE not set, the radio keeps its own "
        "regulatory domain"
    ]
    assert await nm.supplicant().is_present() is False


@pytest.mark.parametrize(
    ("country", "mhz", "allowed"),
    [
        ("", 2412, True), ("", 2462, True), ("", 2467, False), ("", 5180, False),
        ("DE", 2472, True), ("DE", 2484, False), ("DE", 5745, True),
        ("US", 2467, False), ("US", 5180, True), ("JP", 2484, True),
    ],
)  # fmt: skip
def test_the_simulators_model_of_the_air(country: str, mhz: int, allowed: bool) -> None:
    assert country_allows(country, mhz) is allowed
