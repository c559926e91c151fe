"""The simulated Avahi beside the simulated NetworkManager, as a scenario asks for it."""

from __future__ import annotations

import pytest

from app.nm.avahi import AvahiClient
from app.nm.bus import SystemBus
from app.nm.models import MdnsHost
from app.simulator import PrivateBus, ScenarioError, default_scenario, parse_scenario
from app.simulator.avahi import simulated_avahi


def test_scenario_names_avahis_host_or_has_none() -> None:
    assert parse_scenario({}).avahi_host_name is None
    assert parse_scenario({"avahi_host_name": "sensor-7"}).avahi_host_name == "sensor-7"
    assert default_scenario().avahi_host_name == "wifi-connect-demo"


@pytest.mark.parametrize("name", ["", "a.b", "-x", "x" * 64, "s p"])
def test_a_bad_host_name_is_refused_by_key(name: str) -> None:
    with pytest.raises(ScenarioError, match=r"avahi_host_name: .* is not a host name"):
        parse_scenario({"avahi_host_name": name})


async def test_avahi_runs_only_when_the_scenario_names_a_host(private_bus: PrivateBus) -> None:
    async with simulated_avahi(private_bus.address, None) as absent:
        assert absent is None
        async with SystemBus(private_bus.address) as bus:
            assert await AvahiClient(bus).host() is None
    async with simulated_avahi(private_bus.address, "sensor-7") as avahi:
        assert avahi is not None
        async with SystemBus(private_bus.address) as bus:
            assert await AvahiClient(bus).host() == MdnsHost("sensor-7", "sensor-7.local")
