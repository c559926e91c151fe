"""`wifi-connect add --ipv4-address --ipv4-gateway --ipv4-dns`: saved, checked, refused by flag."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from app.nm.profiles import client_profile
from app.simulator import SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind, StaticIPv4
from tests.cli.helpers import Cli, Internet

STATIC_FLAGS = (
    "--ipv4-address", "192.168.1.127/24", "--ipv4-gateway", "192.168.1.1",
    "--ipv4-dns", "192.168.1.1, 1.1.1.1",
)  # fmt: skip
STATIC = StaticIPv4(
    IPv4Interface("192.168.1.127/24"),
    IPv4Address("192.168.1.1"),
    (IPv4Address("192.168.1.1"), IPv4Address("1.1.1.1")),
)
# A DNS server in TEST-NET-1 (RFC 5737): nothing answers there.
SILENT_DNS = "192.0.2.53"


async def test_the_flags_save_a_manual_profile(cli: Cli, sim: SimulatedNetworkManager) -> None:
    result = await cli("add", "--ssid", "Home", "--passphrase", "password1", *STATIC_FLAGS,
                       "--no-activate")  # fmt: skip

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == (
        "Saved 'Home' (WPA/WPA2 Personal, static 192.168.1.127/24 via 192.168.1.1); "
        "not activated.\n"
    )
    (new,) = [c for c in sim.connections if c.received["802-11-wireless"]["ssid"] == b"Home"]
    credentials = Credentials(b"Home", SecurityKind.WPA_PSK, "password1", ipv4=STATIC)
    assert new.received == client_profile(credentials, uuid=new.uuid)
    assert new.received["ipv4"]["method"] == "manual"


async def test_the_checks_ask_the_stated_dns_server_and_its_silence_rolls_back(
    cli: Cli, sim: SimulatedNetworkManager, internet: Internet
) -> None:
    """Home's DHCP would give a resolver that answers; the stated one is asked, and is silent."""
    result = await cli(
        "add", "--ssid", "Home", "--passphrase", "password1",
        "--ipv4-address", "192.168.1.127/24", "--ipv4-gateway", "192.168.1.1",
        "--ipv4-dns", SILENT_DNS,
    )  # fmt: skip

    assert result.status == ExitStatus.FAILED, result.out + result.err
    dns_lines = [line for line in result.out.splitlines() if line.startswith("dns")]
    assert [line.split()[:3] for line in dns_lines] == [["dns", SILENT_DNS, "FAILED"]]
    assert "blocks" in result.err and "the new profile was removed" in result.err
    assert [c for c in sim.connections if c.received["802-11-wireless"]["ssid"] == b"Home"] == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--ipv4-gateway", "192.168.1.1"],
            "--ipv4-gateway: A gateway goes with a static address",
        ),
        (["--ipv4-dns", "1.1.1.1"], "--ipv4-dns: DNS servers go with a static address"),
        (
            ["--ipv4-address", "192.168.1.127", "--ipv4-gateway", "192.168.1.1"],
            "--ipv4-address: Enter the address with its prefix length, e.g. 192.168.1.127/24.",
        ),
        (
            ["--ipv4-address", "192.168.1.127/24", "--ipv4-gateway", "10.0.0.1",
             "--ipv4-dns", "1.1.1.1"],
            "--ipv4-gateway: The gateway 10.0.0.1 is outside 192.168.1.0/24",
        ),
        (
            ["--ipv4-address", "192.168.1.127/24", "--ipv4-gateway", "192.168.1.1",
             "--ipv4-dns", "1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4"],
            "--ipv4-dns: Enter at most 3 DNS servers",
        ),
        (
            ["--ipv4-address", "127.0.0.2/8", "--ipv4-gateway", "127.0.0.1",
             "--ipv4-dns", "1.1.1.1"],
            "--ipv4-address: 127.0.0.2 is a loopback address",
        ),
    ],
    ids=["gateway-alone", "dns-alone", "no-prefix", "gateway-outside", "four-dns", "loopback"],
)  # fmt: skip
async def test_bad_flags_exit_2_naming_the_flag_before_networkmanager_is_asked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], expected: str
) -> None:
    # No bus at all: a command that asked NetworkManager first would end with exit 4.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    result = await cli("add", "--ssid", "Home", "--passphrase", "password1", *args)
    assert (result.status, result.out) == (ExitStatus.BAD_CONFIG, "")
    (line,) = result.err_lines
    assert line.startswith(f"wifi-connect: error: {expected}")
