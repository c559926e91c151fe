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
from app.nm.keyfile import import_directory, parse_keyfile
from tests.contract.readback import read_back
from tests.contract.realnm import RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"
GOOD = sorted(result.filename for result in import_directory(KEYFILES) if result.ok)
# ipv6.addr-gen-mode 2 (default-or-eui64) and 3 (default) came with NetworkManager 1.40; 1.30
# refuses them over D-Bus as an invalid property. The import sends 2 for an [ipv6] section
# without addr-gen-mode, as NetworkManager's own keyfile reader means it, so such a file does not
# import into 1.30 (1.42 and 1.52 take it).
NEW_ADDR_GEN_MODES = {2, 3}
ADDR_GEN_MODES_SINCE = (1, 40)


def refused_by(version: tuple[int, int], name: str) -> bool:
    """True when NetworkManager `version` refuses the keyfile's settings (see above)."""
    sent = parse_keyfile((KEYFILES / name).read_text(), filename=name)
    mode = sent.get("ipv6", {}).get("addr-gen-mode")
    return version < ADDR_GEN_MODES_SINCE and mode in NEW_ADDR_GEN_MODES


@pytest.mark.parametrize("name", GOOD)
async def test_keyfile_is_accepted_and_reads_back_key_by_key(
    client: NetworkManagerClient, probe: NMProbe, real_nm: RealNetworkManager, name: str
) -> None:
    sent = parse_keyfile((KEYFILES / name).read_text(), filename=name)
    if refused_by(real_nm.major_minor, name):
        with pytest.raises(NetworkManagerError, match=r"ipv6\.addr-gen-mode: ") as refused:
            await client.add_connection(sent)
        assert refused.value.name.endswith(".InvalidProperty")
        return

    saved = await client.add_connection(sent)

    assert saved.uuid == sent["connection"]["uuid"]
    assert await read_back(probe, saved.path, sent) == []
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
    refused = [name for name in GOOD if refused_by(real_nm.major_minor, name)]
    accepted = [name for name in GOOD if name not in refused]
    status = ExitStatus.FAILED if refused else ExitStatus.OK

    first = await asyncio.to_thread(main, ["import", str(directory)])

    out = capsys.readouterr().out
    assert first == status, out
    assert out.splitlines()[-1] == (
        f"{len(accepted)} imported, 0 updated, 0 skipped, {len(refused)} with errors."
    )
    before = {c.uuid: c.path for c in await client.saved_connections()}
    edited = directory / "wpa-psk.nmconnection"
    edited.write_text(edited.read_text().replace("psk=correct horse battery", "psk=new passphrase"))

    again = await asyncio.to_thread(main, ["import", str(directory)])

    out = capsys.readouterr().out
    assert again == status, out
    assert out.splitlines()[-1] == (
        f"0 imported, {len(accepted)} updated, 0 skipped, {len(refused)} with errors."
    )
    assert {c.uuid: c.path for c in await client.saved_connections()} == before
    for name in accepted:
        sent = parse_keyfile((directory / name).read_text(), filename=name)
        path = before[str(sent["connection"]["uuid"])]
        assert await read_back(probe, path, sent) == [], name


async def test_a_key_networkmanager_refuses_is_told_at_the_files_key(
    client: NetworkManagerClient, tmp_path: Path
) -> None:
    """TTLS without an inner method: the importer leaves that rule to NetworkManager."""
    (tmp_path / "ttls.nmconnection").write_text(
        "[connection]\nid=TTLS\ntype=wifi\n[wifi]\nssid=TTLS\n[wifi-security]\n"
        "key-mgmt=wpa-eap\n[802-1x]\neap=ttls;\nidentity=joe\npassword=ttls passphrase\n"
    )
    [result] = import_directory(tmp_path)
    assert result.settings is not None

    with pytest.raises(NetworkManagerError) as refused:
        await client.add_connection(result.settings)

    # NetworkManager 1.42 names both inner-method keys ("exactly one property must be set").
    told = result.refusal(refused.value.message)
    assert told.startswith("[802-1x] phase2-auth"), told
    assert "NetworkManager refused: " in told
    assert "ttls passphrase" not in told
