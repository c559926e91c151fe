"""The Avahi client against a simulated Avahi on a real private dbus-daemon."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from app.nm.avahi import (
    HTTP_SERVICE,
    IF_UNSPEC,
    PROTO_INET,
    AvahiClient,
    HttpService,
    service_name,
)
from app.nm.bus import SystemBus
from app.nm.models import MdnsHost
from app.simulator import PrivateBus
from app.simulator.avahi import GROUP_ESTABLISHED, GROUP_UNCOMMITED, SimulatedAvahi
from tests.support import eventually

PORTAL = HttpService(name="Acme on sensor-7", port=8080, interface=3)


@pytest.fixture
async def avahi(private_bus: PrivateBus) -> AsyncIterator[SimulatedAvahi]:
    async with SimulatedAvahi.start(private_bus.address, host_name="sensor-7") as simulated:
        yield simulated


async def test_host_names_come_from_avahi(avahi: SimulatedAvahi, system_bus: SystemBus) -> None:
    client = AvahiClient(system_bus)
    assert await client.host() == MdnsHost("sensor-7", "sensor-7.local")
    assert [call.member for call in avahi.calls] == ["GetHostName", "GetHostNameFqdn"]


async def test_announce_adds_the_http_service_and_commits(
    avahi: SimulatedAvahi, system_bus: SystemBus
) -> None:
    client = AvahiClient(system_bus)
    await client.host()
    assert await client.announce(PORTAL)
    (new,) = avahi.members("EntryGroupNew")
    (add,) = avahi.members("AddService")
    (commit,) = avahi.members("Commit")
    group = avahi.groups[add.path]
    assert commit.path == add.path
    name, txt = "Acme on sensor-7", [b"path=/"]
    assert add.args == (3, PROTO_INET, 0, name, HTTP_SERVICE, "", "", 8080, txt)
    assert group.state == GROUP_ESTABLISHED
    assert new.path == "/"


async def test_announcing_again_resets_the_same_group_first(
    avahi: SimulatedAvahi, system_bus: SystemBus
) -> None:
    client = AvahiClient(system_bus)
    await client.host()
    assert await client.announce(PORTAL)
    await client.withdraw()
    (group,) = avahi.groups.values()
    assert group.state == GROUP_UNCOMMITED
    assert not group.services
    assert await client.announce(PORTAL)
    assert len(avahi.members("EntryGroupNew")) == 1
    assert [s.name for s in group.services] == [PORTAL.name]
    assert group.state == GROUP_ESTABLISHED


async def test_close_frees_the_group(avahi: SimulatedAvahi, system_bus: SystemBus) -> None:
    client = AvahiClient(system_bus)
    await client.host()
    await client.announce(PORTAL)
    (path,) = avahi.groups
    await client.close()
    assert [call.path for call in avahi.members("Free")] == [path]
    assert avahi.groups == {}
    await client.close()  # nothing left to free: no second call
    assert len(avahi.members("Free")) == 1


async def test_a_group_dies_with_its_client(avahi: SimulatedAvahi, private_bus: PrivateBus) -> None:
    async with SystemBus(private_bus.address) as bus:
        client = AvahiClient(bus)
        await client.host()
        await client.announce(PORTAL)
        assert len(avahi.groups) == 1
    await eventually(lambda: avahi.groups == {})


async def test_without_avahi_one_info_line_and_nothing_called(
    system_bus: SystemBus, caplog: pytest.LogCaptureFixture
) -> None:
    client = AvahiClient(system_bus)
    with caplog.at_level(logging.DEBUG, logger="app.nm.avahi"):
        assert await client.host() is None
        assert await client.host() is None
        assert not await client.announce(PORTAL)
        await client.withdraw()
        await client.close()
    lines = [r for r in caplog.records if r.name == "app.nm.avahi"]
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        ("INFO", "Avahi is not on the system bus: no mDNS announcement")
    ]


@pytest.mark.parametrize("name", ["", "two words", "a/b", 'x"><script>', "host\x1b[31m"])
async def test_a_host_name_unfit_for_a_url_is_a_warning_and_no_name(
    avahi: SimulatedAvahi, system_bus: SystemBus, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    avahi.host_name = name
    client = AvahiClient(system_bus)
    with caplog.at_level(logging.WARNING, logger="app.nm.avahi"):
        assert await client.host() is None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "app.nm.avahi"]
    assert line.startswith("Could not ask Avahi for the host name: its GetHostName answered")


def test_service_name_is_one_dns_label() -> None:
    assert service_name("Acme", "sensor-7") == "Acme on sensor-7"
    assert service_name("", "sensor-7") == "sensor-7"
    long = service_name("é" * 40, "host")
    assert len(long.encode()) <= 63
    assert long == "é" * 31  # a cut inside a two-byte character drops it
    assert IF_UNSPEC == -1
