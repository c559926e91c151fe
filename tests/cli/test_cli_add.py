"""`wifi-connect add`: security from the scan or inferred, validation, success and rollback."""

from __future__ import annotations

import os
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from app.flow.instance import one_instance
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile, hotspot_profile, pending_profile
from app.simulator import ReceivedConnection, SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.cli.helpers import Cli, Internet, scenario
from tests.nm.helpers import NMProbe

OLD_ID = "old profile"
DISCONNECTED, ACTIVATED = 30, 100
HOME = Credentials(b"Home", SecurityKind.WPA_PSK, "password1")
CAFE = Credentials(b"Cafe", SecurityKind.OPEN)
GATEWAY = IPv4Address("192.168.42.1")


async def _save_old(nm: NetworkManagerClient, ssid: bytes, security: SecurityKind, pw: str) -> str:
    """An earlier profile of the same network, as a previous run could have left; its uuid."""
    saved = await nm.add_connection(
        client_profile(Credentials(ssid, security, pw), connection_id=OLD_ID)
    )
    return saved.uuid


def _of(sim: SimulatedNetworkManager, ssid: bytes) -> list[ReceivedConnection]:
    """The profiles the simulator holds for one SSID."""
    return [c for c in sim.connections if c.received.get("802-11-wireless", {}).get("ssid") == ssid]


def _new(sim: SimulatedNetworkManager, ssid: bytes) -> ReceivedConnection:
    """The one profile of `ssid` that is not the old one."""
    (new,) = [c for c in _of(sim, ssid) if c.id != OLD_ID]
    return new


async def test_add_saves_activates_checks_and_removes_the_older_profile(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    await _save_old(nm, b"Home", SecurityKind.WPA_PSK, "old-password")
    cafe = await nm.add_connection(client_profile(Credentials(b"Cafe", SecurityKind.OPEN)))

    result = await cli("add", "--ssid", "Home", "--passphrase", "password1")

    assert result.status == ExitStatus.OK, result.err
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == "Connected to 'Home' (WPA/WPA2 Personal) on wlan0."
    assert [line.split()[:3] for line in lines[1:4]] == [
        ["https", internet.https_url.removeprefix("https://"), "ok"],
        ["ntp", "localhost", "ok"],
        # The link's own resolver, which NetworkManager's IP4Config reports.
        ["dns", "127.0.0.77", "ok"],
    ]
    assert lines[4:] == ["Every check passed."]
    assert internet.ntp_requests >= 1
    # Exactly the profile the portal would have written, and only it is left for Home.
    (home,) = _of(sim, b"Home")
    expected = client_profile(
        Credentials(b"Home", SecurityKind.WPA_PSK, "password1"), uuid=home.uuid
    )
    assert home.received == expected
    # Other networks' profiles are not touched.
    assert cafe.uuid in {c.uuid for c in sim.connections}
    assert sim.device_state("wlan0")[0] == ACTIVATED
    assert "password1" not in result.out + result.err


async def test_wrong_password_deletes_only_the_new_profile(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    old_uuid = await _save_old(nm, b"Home", SecurityKind.WPA_PSK, "password1")

    result = await cli("add", "--ssid", "Home", "--passphrase", "wrong-password")

    assert result.status == ExitStatus.FAILED
    assert result.out == ""
    assert result.err_lines == ["wifi-connect: the password for 'Home' was not accepted"]
    assert [c.uuid for c in _of(sim, b"Home")] == [old_uuid]


async def test_blocked_network_is_reported_and_rolled_back(
    cli: Cli,
    sim: SimulatedNetworkManager,
    nm: NetworkManagerClient,
    probe: NMProbe,
    internet: Internet,
) -> None:
    old_uuid = await _save_old(nm, b"Filtered", SecurityKind.WPA_PSK, "password1")

    result = await cli("add", "--ssid", "Filtered", "--passphrase", "password1")

    assert result.status == ExitStatus.FAILED
    # The NTP server goes by name: the link's dead resolver cannot give it either.
    assert result.err_lines == [
        "wifi-connect: connected to 'Filtered', but it blocks time servers (UDP 123) and name "
        "lookups (UDP 53); the new profile was removed"
    ]
    # The report is printed first, so the installer sees what worked and what did not.
    lines = result.out.splitlines()
    assert lines[0] == "Connected to 'Filtered' (WPA/WPA2 Personal) on wlan0."
    assert lines[2].split()[:3] == ["ntp", "localhost", "FAILED"]
    assert "could not resolve localhost: UDP 53 to 127.0.0.78 was refused" in lines[2]
    assert lines[3].split()[:3] == ["dns", "127.0.0.78", "FAILED"]
    assert "refused" in lines[3]
    assert lines[-1] == "Blocked on this network: NTP, DNS"
    assert [c.uuid for c in _of(sim, b"Filtered")] == [old_uuid]
    assert await probe.active_connection_paths() == []


async def test_no_activate_only_saves_and_keeps_older_profiles(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, probe: NMProbe
) -> None:
    old_uuid = await _save_old(nm, b"Office", SecurityKind.SAE, "old-secret")

    result = await cli("add", "--ssid", "Office", "--passphrase", "sae-secret", "--no-activate")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == "Saved 'Office' (WPA3 Personal); not activated.\n"
    new = _new(sim, b"Office")
    assert new.received == client_profile(
        Credentials(b"Office", SecurityKind.SAE, "sae-secret"), uuid=new.uuid
    )
    assert old_uuid in {c.uuid for c in _of(sim, b"Office")}
    assert await probe.active_connection_paths() == []


@pytest.mark.parametrize(
    ("args", "security", "passphrase", "identity"),
    [
        (["--passphrase", "password1"], SecurityKind.WPA_PSK, "password1", None),
        (["--identity", "bob", "--passphrase", "pw-bob"], SecurityKind.WPA_EAP, "pw-bob", "bob"),
        ([], SecurityKind.OPEN, None, None),
    ],
)
async def test_security_of_a_network_out_of_range_is_inferred_from_the_flags(
    cli: Cli,
    sim: SimulatedNetworkManager,
    args: list[str],
    security: SecurityKind,
    passphrase: str | None,
    identity: str | None,
) -> None:
    result = await cli("add", "--ssid", "Far Away", "--hidden", "--no-activate", *args)

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert "inferred from the flags: not in the scan" in result.out
    new = _new(sim, b"Far Away")
    credentials = Credentials(b"Far Away", security, passphrase, identity=identity, hidden=True)
    assert new.received == client_profile(credentials, uuid=new.uuid)


async def test_hidden_network_is_joined(
    cli: Cli, sim: SimulatedNetworkManager, internet: Internet
) -> None:
    result = await cli("add", "--ssid", "Secret", "--passphrase", "password1", "--hidden")

    assert result.status == ExitStatus.OK, result.err
    assert result.out.splitlines()[0] == (
        "Connected to 'Secret' (WPA/WPA2 Personal, inferred from the flags: not in the scan) "
        "on wlan0."
    )
    new = _new(sim, b"Secret")
    assert new.received["802-11-wireless"]["hidden"] is True


@pytest.mark.parametrize(
    "ssid",
    [
        # The bytes as a shell passes them (os.fsdecode keeps them as surrogates)...
        os.fsdecode(b"Caf\xe9"),
        # ...or the name `scan` shows for them (as NetworkManager decodes it: Latin-1).
        "Caf\xe9",
    ],
    ids=["raw-bytes", "display-name"],
)
async def test_ssid_that_is_not_utf8_is_matched_to_its_scan_entry(
    cli: Cli, sim: SimulatedNetworkManager, ssid: str
) -> None:
    result = await cli("add", "--ssid", ssid, "--passphrase", "password1", "--no-activate")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == "Saved 'Caf\xe9' (WPA2/WPA3 Personal); not activated.\n"
    new = _new(sim, b"Caf\xe9")
    assert new.received == client_profile(
        Credentials(b"Caf\xe9", SecurityKind.WPA_PSK_SAE, "password1"), uuid=new.uuid
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--ssid", "Cafe", "--passphrase", "not-needed"],
            "--passphrase: This network is open and needs no password: leave it empty.",
        ),
        (
            ["--ssid", "Home", "--passphrase", "Xq7#z"],
            "--passphrase: The password is too short: a WPA password has 8 to 63 characters.",
        ),
        (["--ssid", "Home"], "--passphrase: This network needs a password."),
        (
            ["--ssid", "Home", "--passphrase", "password1", "--identity", "bob"],
            "--identity: This network does not use a user name: leave it empty.",
        ),
        (
            ["--ssid", "Corp", "--passphrase", "pw-alice"],
            "--identity: This network needs your user name (identity).",
        ),
        (
            ["--ssid", "Nowhere", "--identity", "bob"],
            "--passphrase: This network needs a password.",
        ),
        (
            ["--ssid", "Nowhere", "--passphrase", "line\nbreak"],
            "--passphrase: A WPA password can only use the letters A-Z and a-z, digits, spaces",
        ),
        (["--ssid", ""], "--ssid: Enter the network name: it cannot be empty."),
        (["--ssid", "x" * 33], "--ssid: The network name is too long: WiFi allows at most 32"),
        (["--ssid", "\ud800"], "--ssid: The network name is not valid text."),
    ],
    ids=[
        "open-with-password",
        "short-psk",
        "psk-without-password",
        "identity-on-psk",
        "eap-without-identity",
        "inferred-eap-without-password",
        "control-character",
        "empty-ssid",
        "long-ssid",
        "ssid-not-text",
    ],
)
async def test_bad_input_is_one_line_exit_2_and_nothing_saved(
    cli: Cli, sim: SimulatedNetworkManager, args: list[str], expected: str
) -> None:
    before = sim.connections

    result = await cli("add", *args)

    assert result.status == 2  # ExitStatus.BAD_CONFIG, documented in --help
    assert result.out == ""
    (line,) = result.err_lines
    assert line.startswith(f"wifi-connect: error: {expected}")
    assert sim.connections == before
    assert sim.device_state("wlan0")[0] == DISCONNECTED
    if "--passphrase" in args:
        assert args[args.index("--passphrase") + 1] not in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--ssid", "X", "--passphrase", "short"],
            "--passphrase: The password is too short: a WPA password has 8 to 63 characters. "
            "For a WEP or WPA3 network, say so: --security wep or --security sae.",
        ),
        (
            ["--ssid", "X", "--passphrase", "x" * 65, "--security", "wep"],
            "--passphrase: The WEP key is too long",
        ),
        (["--ssid", "x" * 33, "--passphrase", "password1"], "--ssid: The network name is too long"),
        (["--ssid", "X", "--identity", "bob"], "--passphrase: This network needs a password."),
    ],
    ids=["short-psk", "long-wep-key", "long-ssid", "identity-without-password"],
)
async def test_bad_flags_exit_2_before_networkmanager_is_asked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], expected: str
) -> None:
    # No bus at all: a command that asked NetworkManager first would end with exit 4.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    result = await cli("add", *args)
    assert (result.status, result.out) == (ExitStatus.BAD_CONFIG, "")
    (line,) = result.err_lines
    assert line.startswith(f"wifi-connect: error: {expected}")


@pytest.mark.parametrize("scenario_data", [scenario(networks=[])], ids=["nothing-in-range"])
async def test_security_says_what_the_scan_cannot(cli: Cli, sim: SimulatedNetworkManager) -> None:
    result = await cli(
        "add", "--ssid", "Old Router", "--passphrase", "abcde", "--security", "wep", "--no-activate"
    )
    assert (result.status, result.err) == (ExitStatus.OK, "")
    new = _new(sim, b"Old Router")
    assert new.received == client_profile(
        Credentials(b"Old Router", SecurityKind.WEP, "abcde"), uuid=new.uuid
    )


async def test_add_first_settles_what_a_killed_run_left(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, internet: Internet
) -> None:
    # A killed run's leftovers: a hotspot, a pending profile up (and proven by the checks),
    # and a pending profile never activated.
    device = (await nm.wifi_device()).device
    home = await nm.add_connection(pending_profile(client_profile(HOME)))
    assert (await nm.activate(home, device, timeout=5)).ok
    cafe = await nm.add_connection(pending_profile(client_profile(CAFE)))
    await nm.add_connection(
        hotspot_profile(ssid="Old", interface="wlan0", gateway=GATEWAY, passphrase=None)
    )

    result = await cli("add", "--ssid", "Office", "--passphrase", "sae-secret", "--no-activate")

    assert (result.status, result.err) == (ExitStatus.OK, "")
    saved = {c.uuid: c for c in await nm.saved_connections()}
    assert cafe.uuid not in saved and not await nm.hotspot_connections()
    assert not saved[home.uuid].pending, "the proven one is an ordinary profile now"
    assert internet.ntp_requests >= 1, "proven by the checks"
    assert {c.id for c in saved.values()} == {"Home", "Office"}


async def test_add_leaves_a_live_run_alone(
    cli: Cli, sim: SimulatedNetworkManager, nm: NetworkManagerClient, bus_address: str
) -> None:
    """While a run holds the device, `add` refuses: its hotspot and attempt are not leftovers."""
    hotspot = await nm.add_connection(
        hotspot_profile(ssid="Test Portal", interface="wlan0", gateway=GATEWAY, passphrase=None)
    )
    attempt = await nm.add_connection(pending_profile(client_profile(CAFE)))
    before = sorted(c.uuid for c in sim.connections)

    with one_instance(bus_address):  # as `wifi-connect run` holds it
        result = await cli("add", "--ssid", "Home", "--passphrase", "password1")

    assert result.status == ExitStatus.FAILED
    assert "another wifi-connect (pid " in result.err, result.err
    assert sorted(c.uuid for c in sim.connections) == before
    assert {hotspot.uuid, attempt.uuid} <= set(before)
