"""Every good example keyfile, imported into real NetworkManager, reads back as it was sent."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from app.__main__ import main
from app.config import ENV_SETTINGS, FLAG_SETTINGS
from app.errors import NetworkManagerError
from app.exitcodes import ExitStatus
from app.nm.client import NetworkManagerClient
from app.nm.compat import for_version
from app.nm.keyfile import import_directory, parse_keyfile
from app.nm.profiles import Settings
from tests.contract.readback import read_back
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"
GOOD = sorted(result.filename for result in import_directory(KEYFILES) if result.ok)


def as_taken_by(real_nm: RealNetworkManager, name: str) -> Settings:
    """The keyfile's settings as the adapter sends them to this NetworkManager version.

    An [ipv6] section without addr-gen-mode means default-or-eui64 (2), which only 1.40 and
    later know; 1.30 is sent eui64 (0), what that mode means there (app/nm/compat.py).
    """
    sent = parse_keyfile((KEYFILES / name).read_text(), filename=name)
    return as_sent(real_nm, sent)


def as_sent(real_nm: RealNetworkManager, sent: Settings) -> Settings:
    """Settings as the adapter sends them to this NetworkManager version (app/nm/compat.py)."""
    return for_version(sent, real_nm.major_minor)


@pytest.mark.parametrize("name", GOOD)
async def test_keyfile_is_accepted_and_reads_back_key_by_key(
    client: NetworkManagerClient, probe: NMProbe, real_nm: RealNetworkManager, name: str
) -> None:
    sent = parse_keyfile((KEYFILES / name).read_text(), filename=name)

    saved = await client.add_connection(sent)

    assert saved.uuid == sent["connection"]["uuid"]
    assert await read_back(probe, saved.path, as_taken_by(real_nm, name)) == []
    await client.delete_connection(saved.path)


async def test_import_command_adds_then_updates_in_place(
    client: NetworkManagerClient,
    probe: NMProbe,
    real_nm: RealNetworkManager,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """`wifi-connect import` twice against real NetworkManager: added, then Update'd, no copies."""
    for setting in (*FLAG_SETTINGS, *ENV_SETTINGS):
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", real_nm.bus_address)
    directory = tmp_path / "system-connections"
    directory.mkdir()
    for name in GOOD:
        shutil.copy(KEYFILES / name, directory / name)

    first = await asyncio.to_thread(main, ["import", str(directory)])

    out = capsys.readouterr().out
    assert first == ExitStatus.OK, out
    assert out.splitlines()[-1] == f"{len(GOOD)} imported, 0 updated, 0 skipped, 0 with errors."
    before = {c.uuid: c.path for c in await client.saved_connections()}
    edited = directory / "wpa-psk.nmconnection"
    edited.write_text(edited.read_text().replace("psk=correct horse battery", "psk=new passphrase"))

    again = await asyncio.to_thread(main, ["import", str(directory)])

    out = capsys.readouterr().out
    assert again == ExitStatus.OK, out
    assert out.splitlines()[-1] == f"0 imported, {len(GOOD)} updated, 0 skipped, 0 with errors."
    assert {c.uuid: c.path for c in await client.saved_connections()} == before
    for name in GOOD:
        sent = parse_keyfile((directory / name).read_text(), filename=name)
        path = before[str(sent["connection"]["uuid"])]
        expected = for_version(sent, real_nm.major_minor)
        assert await read_back(probe, path, expected) == [], name


# Files whose refusal the importer leaves to NetworkManager, and where it must be told.
REFUSED_BY_NM = {
    # TTLS without an inner method; 1.42 names both inner-method keys ("exactly one property
    # must be set").
    "ttls": (
        "[connection]\nid=TTLS\ntype=wifi\n[wifi]\nssid=TTLS\n[wifi-security]\n"
        "key-mgmt=wpa-eap\n[802-1x]\neap=ttls;\nidentity=joe\npassword=ttls passphrase\n",
        "[802-1x] phase2-auth",
    ),
    # A [user] entry is read as it is; the rule of its name is NetworkManager's.
    "user entry": (
        "[connection]\nid=User\ntype=ethernet\n[ethernet]\n[user]\nno-namespace=1\n",
        "[user]: NetworkManager refused: ",
    ),
}


@pytest.mark.parametrize(("text", "told_at"), REFUSED_BY_NM.values(), ids=REFUSED_BY_NM)
async def test_a_key_networkmanager_refuses_is_told_at_the_files_key(
    client: NetworkManagerClient, tmp_path: Path, text: str, told_at: str
) -> None:
    (tmp_path / "refused.nmconnection").write_text(text)
    [result] = import_directory(tmp_path)
    assert result.settings is not None

    with pytest.raises(NetworkManagerError) as refused:
        await client.add_connection(result.settings)

    told = result.refusal(refused.value.message)
    assert told.startswith(told_at), told
    assert "NetworkManager refused: " in told
    assert "ttls passphrase" not in told


# ipv4.dhcp-dscp came in NetworkManager 1.46, after the table's libnm (1.42): sent as text.
NEWER_KEY = (
    "[connection]\nid=DSCP\nuuid=5b0e3c0e-1e4f-4d7a-9f55-0c2f6a1d7e10\ntype=ethernet\n"
    "[ethernet]\n[ipv4]\nmethod=auto\ndhcp-dscp=CS4\n"
)
DHCP_DSCP_SINCE = (1, 46)


async def test_a_key_newer_than_the_table_is_sent_and_judged_by_networkmanager(
    client: NetworkManagerClient, probe: NMProbe, real_nm: RealNetworkManager, tmp_path: Path
) -> None:
    """1.52 takes ipv4.dhcp-dscp and stores it; 1.30 and 1.42 refuse it, told at the file's key."""
    (tmp_path / "dscp.nmconnection").write_text(NEWER_KEY)
    [result] = import_directory(tmp_path)
    assert result.settings is not None
    assert result.settings["ipv4"]["dhcp-dscp"] == "CS4"

    if real_nm.major_minor >= DHCP_DSCP_SINCE:
        saved = await client.add_connection(result.settings)
        assert await read_back(probe, saved.path, as_sent(real_nm, result.settings)) == []
        await client.delete_connection(saved.path)
        return
    with pytest.raises(NetworkManagerError) as refused:
        await client.add_connection(result.settings)
    told = result.refusal(refused.value.message)
    assert told.startswith("[ipv4] dhcp-dscp: NetworkManager refused: "), told
