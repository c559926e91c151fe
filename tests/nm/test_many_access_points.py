"""A crowded place: hundreds of access points in one scan, each read with one GetAll.

The simulator sends its replies and signals faster than the bus daemon reads them; dbus-next
ended its whole connection at the first full send buffer (EAGAIN) until both ends waited
those out (app.nm.bus.patient_writes).
"""

from __future__ import annotations

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario

CROWD = 250


async def test_a_scan_of_hundreds_of_access_points_lists_them_all(
    private_bus: PrivateBus,
) -> None:
    networks = [
        {"ssid": f"Flat {n}", "security": "wpa-psk", "passphrase": "password1"}
        for n in range(CROWD)
    ]
    scenario = parse_scenario(
        {"scan_delay_ms": 0, "devices": [{"interface": "wlan0"}], "networks": networks}
    )
    async with (
        SimulatedNetworkManager.start(private_bus.address, scenario) as sim,
        SystemBus(private_bus.address) as bus,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=10)
        wifi = await nm.wifi_device(None)
        before = sim.calls("GetAll")
        found = await wifi.scan(timeout=20)
        assert sorted(network.ssid for network in found) == sorted(
            f"Flat {n}".encode() for n in range(CROWD)
        )
        assert sim.calls("GetAll") - before == CROWD
