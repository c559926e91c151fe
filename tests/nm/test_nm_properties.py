"""Property tests through the simulator: any SSID bytes and AP flags, over a real private D-Bus.

The adapter reads what the simulated NetworkManager puts on the bus; the portal's JSON must list
each name once, and the name it lists must reach that very access point's bytes.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from app.flow.networks import find_network
from app.flow.report import networks_json
from app.rules import display_ssid
from app.simulator import parse_scenario
from app.simulator.scenario import NetworkSpec
from tests.nm.looped import simulated

_BASE = parse_scenario(
    {
        "scan_delay_ms": 1,
        "devices": [{"interface": "wlan0"}],
        "networks": [{"ssid": "base", "security": "open"}],
    }
)
UINT32 = st.integers(0, 2**32 - 1)


@st.composite
def access_points(draw: st.DrawFn) -> NetworkSpec:
    """An access point of any SSID (0 to 32 bytes), strength, frequency and security flags."""
    return dataclasses.replace(
        _BASE.networks[0],
        ssid=draw(st.binary(max_size=32)),
        strength=draw(st.integers(0, 100)),
        frequency=draw(st.sampled_from([0, 2412, 2484, 5180, 5955, 60480])),
        flags=draw(UINT32),
        wpa_flags=draw(UINT32),
        rsn_flags=draw(UINT32),
    )


def test_any_air_lists_each_name_once_and_reaches_its_bytes() -> None:
    """Whatever is in the air: one entry per shown name, found again by it, nothing hidden."""
    with simulated(_BASE) as world:
        sim = world.sim
        wifi = world.run(world.nm.wifi_device("wlan0"))

        @given(air=st.lists(access_points(), max_size=6))
        def lists_cleanly(air: list[NetworkSpec]) -> None:
            # Each access point its own BSSID, as in the air.
            air = [
                dataclasses.replace(spec, bssid=f"02:00:00:00:02:{index:02X}")
                for index, spec in enumerate(air)
            ]
            sim.set_networks(air, now=True)
            found = world.run(wifi.scan(timeout=2.0))
            listed = networks_json(found)
            names = [entry["ssid"] for entry in listed]
            assert len(names) == len(set(names))
            # Hidden ones (no SSID, or only NULs) are not listed; every other SSID is.
            named = {spec.ssid for spec in air if spec.ssid.strip(b"\x00")}
            assert {display_ssid(ssid) for ssid in named} == set(names)
            for name in names:
                network = find_network(found, name)
                assert network is not None and network.ssid in named
                assert display_ssid(network.ssid) == name
                strongest = max(s.strength for s in air if s.ssid == network.ssid)
                assert network.strength == strongest

        lists_cleanly()
