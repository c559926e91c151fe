"""A static IPv4 profile the app builds, as real NetworkManager writes and applies it.

The guide's static-IP keyfile (tests/data/keyfiles/guide-static-ipv4.nmconnection) is the
reference: NetworkManager must write the app's profile's [ipv4] section exactly as it writes the
guide's own once imported, and that is the guide's form (`address1=ADDRESS/PREFIX,GATEWAY`,
`dns=A;B;`, `method=manual`).
"""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from app.flow.attempt import stated_dns
from app.nm.client import NetworkManagerClient
from app.nm.keyfile import parse_keyfile
from app.nm.models import SavedConnection
from app.nm.profiles import Settings, client_profile, ipv4_setting
from app.wifi import Credentials, SecurityKind, StaticIPv4
from tests.contract.artifacts import ArtifactLog
from tests.contract.readback import read_back
from tests.contract.realnm import NM_ADDRESS, PEER_ADDRESS, RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

GUIDE = Path(__file__).resolve().parents[1] / "data" / "keyfiles" / "guide-static-ipv4.nmconnection"
# The guide's address, gateway and DNS servers, as an installer types them.
STATIC = StaticIPv4(
    IPv4Interface("192.168.7.20/24"),
    IPv4Address("192.168.7.1"),
    (IPv4Address("8.8.8.8"), IPv4Address("8.8.4.4")),
)
GUIDE_IPV4 = ("address1=192.168.7.20/24,192.168.7.1", "dns=8.8.8.8;8.8.4.4;", "method=manual")
# NetworkManager 1.52 writes the gateway as a key of its own (1.30 and 1.42 on the address line);
# it reads either.
GATEWAY_KEY_SINCE = (1, 52)
GUIDE_IPV4_GATEWAY_KEY = (
    "address1=192.168.7.20/24",
    "dns=8.8.8.8;8.8.4.4;",
    "gateway=192.168.7.1",
    "method=manual",
)


def ipv4_section(keyfile: str) -> list[str]:
    """The lines of a keyfile's [ipv4] section, without blank lines."""
    lines = keyfile.splitlines()
    start = lines.index("[ipv4]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return [line for line in lines[start:end] if line]


async def written(client: NetworkManagerClient, saved: SavedConnection) -> str:
    """The keyfile NetworkManager wrote for a saved profile."""
    listed = {c.path: c.filename for c in await client.saved_connections()}
    filename = listed[saved.path]
    assert filename is not None
    return await asyncio.to_thread(Path(filename).read_text)


async def test_the_static_profile_is_written_as_the_guides_keyfile(
    client: NetworkManagerClient,
    probe: NMProbe,
    real_nm: RealNetworkManager,
    keyfile_log: ArtifactLog,
) -> None:
    ours = client_profile(
        Credentials(b"ct static", SecurityKind.WPA_PSK, "office passphrase", ipv4=STATIC)
    )
    guide = parse_keyfile(GUIDE.read_text(), filename=GUIDE.name)

    saved_ours = await client.add_connection(ours)
    saved_guide = await client.add_connection(guide)

    text = await written(client, saved_ours)
    keyfile_log.record("wpa-psk-static-ipv4", text)
    section = ipv4_section(text)
    assert section == ipv4_section(await written(client, saved_guide))
    # The guide's lines, in the order NetworkManager writes keys (sorted); 1.30 adds an empty
    # dns-search= as the guide's own file has it.
    expected = GUIDE_IPV4_GATEWAY_KEY if real_nm.major_minor >= GATEWAY_KEY_SINCE else GUIDE_IPV4
    assert [line for line in section if line != "dns-search="] == list(expected)
    assert await read_back(probe, saved_ours.path, ours) == []
    # And the app's own reader of NetworkManager's file gives back what was sent.
    assert parse_keyfile(text)["ipv4"] == ours["ipv4"]


async def test_activation_applies_the_address_gateway_and_dns(
    client: NetworkManagerClient, probe: NMProbe, real_nm: RealNetworkManager
) -> None:
    """On the veth: the address and route as the kernel has them, the DNS servers NM reports."""
    static = StaticIPv4(
        IPv4Interface(f"{NM_ADDRESS}/24"),
        IPv4Address(PEER_ADDRESS),
        (IPv4Address(PEER_ADDRESS), IPv4Address("9.9.9.9")),
    )
    profile: Settings = {**real_nm.ethernet_profile(), "ipv4": ipv4_setting(static)}
    saved = await client.add_connection(profile)
    device = await probe.device(real_nm.interface)

    result = await client.activate(saved, device, timeout=10.0)

    assert result.ok, f"{result}\n{real_nm.log_tail()}"
    assert result.active_path is not None
    try:
        assert real_nm.veth_addresses() == [f"{NM_ADDRESS}/24"]
        link = await client.active_link(result.active_path)
        assert link.resolvers == (PEER_ADDRESS, "9.9.9.9")
        static_credentials = Credentials(b"x", SecurityKind.OPEN, ipv4=static)
        assert stated_dns(link, static_credentials) == link
    finally:
        await client.deactivate(result.active_path)
        await client.delete_connection(saved.path)
