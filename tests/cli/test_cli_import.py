"""`wifi-connect import DIR`: good keyfiles added, bad ones reported by key, re-imports update."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.exitcodes import ExitStatus
from app.nm.keyfile import parse_keyfile
from app.simulator import SimulatedNetworkManager
from tests.cli.helpers import Cli

KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"

# The balenaOS networking guide's examples, each with the guide's settings and values.
GUIDE = (
    "guide-cellular.nmconnection",
    "guide-enterprise-peap.nmconnection",
    "guide-ethernet-metric.nmconnection",
    "guide-hidden-wifi.nmconnection",
    "guide-hotspot.nmconnection",
    "guide-static-ipv4.nmconnection",
)
GOOD = (
    "bond-options.nmconnection",
    "enterprise-peap.nmconnection",
    "enterprise-tls.nmconnection",
    "ethernet-ethtool.nmconnection",
    "ethernet.nmconnection",
    *GUIDE,
    "hidden.nmconnection",
    "priority.nmconnection",
    "route-options.nmconnection",
    "static-ipv4.nmconnection",
    "vpn.nmconnection",
    "wep.nmconnection",
    "wifi-user-data.nmconnection",
    "wpa-psk.nmconnection",
)
# Each broken example and the place its report line must name.
BROKEN = {
    "broken-access-point.nmconnection": "[wifi] mode: ",
    "broken-address.nmconnection": "[ipv4] address1: ",
    "broken-short-psk.nmconnection": "[wifi-security] psk: ",
    "broken-syntax.nmconnection": "line 6: ",
    "broken-unknown-key.nmconnection": "[wifi] band: ",
}
SKIPPED = ("resin-sample.ignore",)


def _parsed(directory: Path, name: str) -> dict[str, dict[str, object]]:
    return parse_keyfile((directory / name).read_text(), filename=name)


def _report(out: str) -> dict[str, tuple[str, str]]:
    """The report's file lines: file name -> (status, detail)."""
    lines = {}
    for line in out.splitlines()[:-1]:
        status, rest = line.split(maxsplit=1)
        name, detail = rest.split(": ", 1)
        lines[name] = (status, detail)
    return lines


def _good_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "system-connections"
    directory.mkdir()
    for name in GOOD:
        shutil.copy(KEYFILES / name, directory / name)
    return directory


async def test_import_adds_the_good_files_skips_ignore_and_reports_the_broken_by_key(
    cli: Cli, sim: SimulatedNetworkManager
) -> None:
    result = await cli("import", str(KEYFILES))

    assert result.status == ExitStatus.FAILED
    assert result.err_lines == [
        f"wifi-connect: {len(BROKEN)} files could not be imported (see above)"
    ]
    report = _report(result.out)
    assert set(report) == {*GOOD, *BROKEN, *SKIPPED}
    for name in GOOD:
        settings = _parsed(KEYFILES, name)
        connection = settings["connection"]
        assert report[name] == ("imported", f"'{connection['id']}' ({connection['uuid']})")
    for name, place in BROKEN.items():
        status, detail = report[name]
        assert status == "error"
        assert detail.startswith(place), detail
    assert report["resin-sample.ignore"][0] == "skipped"
    assert result.out.splitlines()[-1] == (
        f"{len(GOOD)} imported, 0 updated, 1 skipped, {len(BROKEN)} with errors."
    )
    # The simulator received each good file's settings exactly, secrets included.
    received = {c.uuid: c.received for c in sim.connections}
    expected = [_parsed(KEYFILES, name) for name in GOOD]
    assert received == {str(s["connection"]["uuid"]): s for s in expected}
    # A broken file's secret is never repeated in the report.
    assert "hunter2" not in result.out + result.err


async def test_importing_again_updates_in_place_and_never_duplicates(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    directory = _good_copy(tmp_path)
    first = await cli("import", str(directory))
    assert (first.status, first.err) == (ExitStatus.OK, "")
    assert (
        first.out.splitlines()[-1] == f"{len(GOOD)} imported, 0 updated, 0 skipped, 0 with errors."
    )
    paths = {c.uuid: c.path for c in sim.connections}
    edited = directory / "wpa-psk.nmconnection"
    edited.write_text(
        edited.read_text().replace("psk=correct horse battery", "psk=a new passphrase")
    )

    again = await cli("import", str(directory))

    assert (again.status, again.err) == (ExitStatus.OK, "")
    report = _report(again.out)
    assert {status for status, _ in report.values()} == {"updated"}
    assert report["wpa-psk.nmconnection"][1] == (
        "'Home' (3ffa64f7-62bd-4e99-97f8-72aed645a6f3) replaces the saved profile with this uuid"
    )
    assert (
        again.out.splitlines()[-1] == f"0 imported, {len(GOOD)} updated, 0 skipped, 0 with errors."
    )
    # The same profiles (same objects, same uuids), the edited one with its new secret.
    assert {c.uuid: c.path for c in sim.connections} == paths
    home = next(c for c in sim.connections if c.id == "Home")
    assert home.received["802-11-wireless-security"]["psk"] == "a new passphrase"
    assert home.received == _parsed(directory, "wpa-psk.nmconnection")


async def test_two_files_with_one_uuid_in_one_import(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    shutil.copy(KEYFILES / "wpa-psk.nmconnection", tmp_path / "home.nmconnection")
    shutil.copy(KEYFILES / "wpa-psk.nmconnection", tmp_path / "home-copy.nmconnection")

    result = await cli("import", str(tmp_path))

    assert result.status == ExitStatus.FAILED
    report = _report(result.out)
    assert report["home-copy.nmconnection"][0] == "imported"
    assert report["home.nmconnection"] == (
        "error",
        "[connection] uuid: the same as home-copy.nmconnection's",
    )
    assert len(sim.connections) == 1


async def test_a_profile_named_like_the_portal_hotspot_is_refused(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    text = (
        (KEYFILES / "wpa-psk.nmconnection")
        .read_text()
        .replace("id=Home", "id=wifi-connect-hotspot")
    )
    (tmp_path / "sneaky.nmconnection").write_text(text)

    result = await cli("import", str(tmp_path))

    assert result.status == ExitStatus.FAILED
    assert _report(result.out)["sneaky.nmconnection"] == (
        "error",
        "[connection] id: 'wifi-connect-hotspot' names are reserved",
    )
    assert sim.connections == ()


async def test_an_empty_directory_imports_nothing_and_succeeds(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    result = await cli("import", str(tmp_path))

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert result.out == f"Nothing to import: {tmp_path} holds no files.\n"


async def test_the_guides_examples_are_imported_with_their_values(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    for name in GUIDE:
        shutil.copy(KEYFILES / name, tmp_path / name)

    result = await cli("import", str(tmp_path))

    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert {status for status, _ in _report(result.out).values()} == {"imported"}
    received = {c.id: c.received for c in sim.connections}
    assert received["guide-hotspot"]["802-11-wireless"]["band"] == "bg"
    assert received["guide-hotspot"]["ipv4"]["method"] == "shared"
    assert received["guide-cellular"]["gsm"]["apn"] == "internet.example"
    assert received["guide-cellular"]["serial"]["baud"] == 115200
    assert received["guide-ethernet"]["ipv4"]["route-metric"] == 2000
    assert received == {
        _parsed(tmp_path, name)["connection"]["id"]: _parsed(tmp_path, name) for name in GUIDE
    }


async def test_a_key_networkmanager_refuses_is_reported_at_the_files_key(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path
) -> None:
    # NetworkManager itself needs an inner method for TTLS; the importer leaves that rule to it.
    (tmp_path / "ttls.nmconnection").write_text(
        "[connection]\nid=TTLS\ntype=wifi\n[wifi]\nssid=TTLS\n"
        "[wifi-security]\nkey-mgmt=wpa-eap\n[802-1x]\neap=ttls;\nidentity=joe\npassword=pw\n"
    )

    result = await cli("import", str(tmp_path))

    assert result.status == ExitStatus.FAILED
    status, detail = _report(result.out)["ttls.nmconnection"]
    assert status == "error"
    assert detail.startswith(
        "[802-1x] phase2-auth, [802-1x] phase2-autheap: NetworkManager refused"
    ), detail
    assert sim.connections == ()
