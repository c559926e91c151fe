"""The simulator's version table, against what each real NetworkManager says it has.

A member is in a NetworkManager's D-Bus surface when its introspection XML (network-manager-dev,
under the root it runs from) or the live Introspect of one of its objects lists it. Both are
read: the XML covers interfaces with no object here (no WiFi radio, so no Device.Wireless), the
live objects prove the XML is the running daemon's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path

import pytest
from dbus_next.aio import MessageBus

from app.nm.client import NetworkManagerClient
from app.nm.models import ActivationResult
from app.simulator.versions import MEMBER_SINCE
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

NM = "org.freedesktop.NetworkManager"
Surface = dict[str, set[str]]

# Members whose first version lies between the matrix's releases, read from the `@since` /
# `Since:` of NetworkManager's own XML: they prove the comparison tells 1.30 from 1.42 and 1.52.
CONTROLS: Mapping[tuple[str, str], tuple[int, int]] = {
    (NM, "RadioFlags"): (1, 38),
    (NM, "VersionInfo"): (1, 42),
}

# Members the XML puts under the wrong interface, and where the running daemon has them: 1.52's
# Settings.xml documents Settings.Connection's VersionId (1.44); 1.30 and 1.42 have none.
MISFILED: Mapping[tuple[str, str], str] = {
    (f"{NM}.Settings", "VersionId"): f"{NM}.Settings.Connection",
}


def members(node: ElementTree.Element) -> Surface:
    """Interface name to its methods, properties and signals, from one introspection document."""
    return {
        interface.attrib["name"]: {
            child.attrib["name"]
            for child in interface
            if child.tag in ("method", "property", "signal")
        }
        for interface in node.iter("interface")
    }


def xml_surface(root: Path) -> Surface:
    """Every NetworkManager interface's members, from the XML installed under `root`."""
    found: Surface = {}
    for path in sorted((root / "usr/share/dbus-1/interfaces").glob(f"{NM}*.xml")):
        for name, names in members(ElementTree.parse(path).getroot()).items():
            found.setdefault(name, set()).update(names)
    for (wrong, member), right in MISFILED.items():
        if member in found.get(wrong, set()):
            found[wrong].discard(member)
            found.setdefault(right, set()).add(member)
    return found


async def live_surface(bus: MessageBus, paths: list[str]) -> Surface:
    """NetworkManager's interfaces on these objects, from Introspect."""
    found: Surface = {}
    for path in paths:
        node = await bus.introspect(NM, path)
        for interface in node.interfaces:
            found.setdefault(interface.name, set()).update(
                member.name
                for member in (*interface.methods, *interface.properties, *interface.signals)
            )
    return {name: names for name, names in found.items() if name.startswith(NM)}


def disagreements(
    table: Mapping[tuple[str, str], tuple[int, int]], surface: Surface, version: tuple[int, int]
) -> list[str]:
    """Entries where presence in `surface` is not exactly `version >= since`."""
    wrong = []
    for (interface, member), since in sorted(table.items()):
        present = member in surface.get(interface, set())
        if present != (version >= since):
            has = "has" if present else "lacks"
            wrong.append(f"{interface}.{member} (since {since}): NM {version} {has} it")
    return wrong


@pytest.fixture
async def surface(
    raw_bus: MessageBus,
    real_nm: RealNetworkManager,
    probe: NMProbe,
    client: NetworkManagerClient,
    ethernet_up: ActivationResult,
) -> Surface:
    """The XML's members; asserts first that the live objects' match them interface by interface."""
    xml = xml_surface(real_nm.root)
    assert xml, f"no introspection XML under {real_nm.root} (network-manager-dev)"
    device = await probe.device(real_nm.interface)
    assert ethernet_up.active_path is not None
    (connection,) = [c.path for c in await client.saved_connections() if c.id == "ct-ethernet"]
    live = await live_surface(
        raw_bus,
        [
            "/org/freedesktop/NetworkManager",
            "/org/freedesktop/NetworkManager/Settings",
            device.path,
            connection,
            ethernet_up.active_path,
        ],
    )
    assert {NM, f"{NM}.Settings", f"{NM}.Device", f"{NM}.Connection.Active"} <= live.keys()
    for name, names in live.items():
        assert names == xml.get(name), (
            f"{name}: XML and live differ in {names ^ xml.get(name, set())}"
        )
    return xml


async def test_each_member_of_the_version_table_is_there_exactly_from_its_version(
    real_nm: RealNetworkManager, surface: Surface
) -> None:
    assert disagreements(MEMBER_SINCE, surface, real_nm.major_minor) == []


async def test_members_newer_than_the_release_are_missing_from_it(
    real_nm: RealNetworkManager, surface: Surface
) -> None:
    # The control entries differ across the matrix (1.30 lacks both, 1.42 and 1.52 have both),
    # so a surface that listed everything, or nothing, would fail here.
    assert disagreements(CONTROLS, surface, real_nm.major_minor) == []
