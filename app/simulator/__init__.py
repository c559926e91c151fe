"""A simulated NetworkManager on a private D-Bus bus, for tests and `wifi-connect simulate`.

It exports NetworkManager's objects at their real paths, with the interfaces, member names and
signatures of NetworkManager's introspection XML, and behaves like NetworkManager 1.42 where a
WiFi-provisioning client can tell: validation errors of AddConnection (same D-Bus error names
and messages), activation state sequences and reasons, scanning and LastScan, AP mode. The
scenario's nm_version makes it an older NetworkManager to a client: whatever D-Bus member came
later (app/simulator/versions.py) is gone from its properties, methods, signals and introspection.

    async with PrivateBus() as bus:
        async with SimulatedNetworkManager.start(bus.address, load_scenario(path)) as sim:
            ...                      # talk to it over bus.address like to NetworkManager
            sim.connections          # the profiles it received, secrets included
            await sim.restart()      # NetworkManager leaves the bus and returns, new paths
            sim.inject(Fault("RequestScan", FaultAction.HANG))   # a call never answered
            sim.inject(Malformation(AP_IFACE, "Strength", Variant("s", "x")))  # a wrong type

or from a shell: `python -m app.simulator --private --scenario FILE` (prints the address).
The scenario format is described in app/simulator/scenario.py.

At start the access points in the air are already listed (NetworkManager's cache from the
supplicant) and LastScan is -1 until a requested scan completes. Object paths keep counting
across restarts, so a restarted NetworkManager never reuses a path.

What it does not model: wpa_supplicant and the kernel (no real interfaces or addresses), secret
agents (there never is one, as on a headless device), IPv6 and DHCP option details, polkit,
checkpoints, VPNs, and any device kind but WiFi and ethernet. A restart drops every activation
except ethernet uplinks flagged "connected" (a real NetworkManager would re-activate profiles
through autoconnect, which the simulator does not do).
"""

from app.simulator._dbus import Malformation
from app.simulator.bus import PrivateBus, PrivateBusError
from app.simulator.scenario import (
    Fault,
    FaultAction,
    NetworkSpec,
    Scenario,
    ScenarioError,
    default_scenario,
    load_scenario,
    parse_scenario,
)
from app.simulator.service import ReceivedConnection, SimulatedNetworkManager

__all__ = [
    "Fault",
    "FaultAction",
    "Malformation",
    "NetworkSpec",
    "PrivateBus",
    "PrivateBusError",
    "ReceivedConnection",
    "Scenario",
    "ScenarioError",
    "SimulatedNetworkManager",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
]
