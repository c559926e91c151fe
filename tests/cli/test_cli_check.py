"""`wifi-connect check`: the reachability report over the current uplink and its own resolvers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from app.flow.reachability import RESOLV_CONF, parse_resolv_conf, system_resolvers
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.rules import inert_text
from app.simulator import SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.cli.helpers import Cli, Internet
from tests.hostile import raw_forbidden


async def _join(nm: NetworkManagerClient, ssid: bytes, connection_id: str | None = None) -> None:
    """Make `ssid` the uplink, as the device would be after provisioning."""
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(
        client_profile(
            Credentials(ssid, SecurityKind.WPA_PSK, "password1"), connection_id=connection_id
        )
    )
    result = await nm.activate(saved, wifi.device, timeout=5)
    assert result.ok, result


async def test_check_uses_the_uplinks_resolvers_and_passes(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    await _join(nm, b"Home")

    result = await cli("check")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    lines = result.out.splitlines()
    assert lines[:2] == [
        "Uplink: 'Home' on wlan0",
        "DNS servers (from NetworkManager): 127.0.0.77",
    ]
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["https", internet.https_url.removeprefix("https://"), "ok"],
        ["ntp", "localhost", "ok"],
        ["dns", "127.0.0.77", "ok"],
    ]
    assert lines[5:] == ["Every check passed."]


async def test_check_shows_a_hostile_profile_id_inert(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    # A profile's id is whatever whoever added it chose (nmcli, a keyfile, an import).
    hostile = "b\x1b[1mx\u202e\x9b2J"
    await _join(nm, b"Home", connection_id=hostile)

    result = await cli("check")

    assert raw_forbidden(result.out) == []
    assert result.out.splitlines()[0] == f"Uplink: '{inert_text(hostile)}' on wlan0"


async def test_check_json_reports_a_blocked_service_and_exits_1(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    await _join(nm, b"Filtered")

    result = await cli("check", "--json")

    assert (result.status, result.err) == (ExitStatus.FAILED, "")
    report = json.loads(result.out)
    assert (report["ok"], report["blocked"]) == (False, ["dns"])
    by_service = {check["service"]: check for check in report["checks"]}
    assert by_service["https"]["ok"] and by_service["ntp"]["ok"]
    assert by_service["dns"]["target"] == "127.0.0.78"
    assert "refused" in by_service["dns"]["reason"]


async def test_without_an_uplink_the_system_resolvers_are_asked(
    cli: Cli, sim: SimulatedNetworkManager, internet: Internet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's own resolvers may not answer here: do not wait long for them.
    monkeypatch.setenv("CHECK_TIMEOUT", "0.5")

    result = await cli("check")

    lines = result.out.splitlines()
    assert lines[0] == "Uplink: none (NetworkManager has no primary connection)"
    expected = ", ".join(system_resolvers()) or "none"
    assert lines[1] == f"DNS servers (from {RESOLV_CONF}): {expected}"
    assert lines[2].split()[:3] == ["https", internet.https_url.removeprefix("https://"), "ok"]


def test_resolv_conf_nameservers_in_order_once_each() -> None:
    text = """# written by a DHCP client
nameserver 192.168.1.1
nameserver   fd00::53
; a comment
search example.com
nameserver 192.168.1.1
nameserver not-an-address
nameserver
options edns0
nameserver 8.8.8.8 # trailing words are ignored
"""
    assert parse_resolv_conf(text) == ["192.168.1.1", "fd00::53", "8.8.8.8"]


def test_an_unreadable_resolv_conf_gives_no_resolvers(tmp_path: Path) -> None:
    assert system_resolvers(tmp_path / "missing") == []
