"""Every good example keyfile, imported into real NetworkManager, reads back as it was sent."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.__main__ import main
from app.config import ENV_SETTINGS, FLAG_SETTINGS
from app.exitcodes import ExitStatus
from app.nm.client import NetworkManagerClient
from app.nm.keyfile import import_directory, parse_keyfile
from app.nm.profiles import Settings
from tests.contract.realnm import RealNetworkManager

pytestmark = pytest.mark.root

KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"
GOOD = sorted(result.filename for result in import_directory(KEYFILES) if result.ok)

# What NetworkManager returns only from GetSecrets, per setting.
SECRETS = {
    "802-11-wireless-security": frozenset({"psk", "wep-key0", "wep-key1", "wep-key2", "wep-key3"}),
    "802-1x": frozenset({"password"}),
}
# GetSettings leaves out a key that holds NetworkManager's default; these are those defaults.
NM_DEFAULTS: dict[tuple[str, str], Any] = {
    ("connection", "autoconnect"): True,
}
_ABSENT = object()


def differences(sent: Settings, settings: Settings, secrets: dict[str, Settings]) -> list[str]:
    """Every key we sent whose read-back value differs; NM's own extra keys are not compared."""
    found = []
    for setting, values in sent.items():
        stored = settings.get(setting, {})
        for key, value in values.items():
            if key in SECRETS.get(setting, ()):
                if key in stored:
                    found.append(f"{setting}.{key}: a secret came back from GetSettings")
                got = secrets[setting].get(setting, {}).get(key, _ABSENT)
            else:
                got = stored.get(key, NM_DEFAULTS.get((setting, key), _ABSENT))
            if got != value:
                shown = "nothing" if got is _ABSENT else repr(got)
                found.append(f"{setting}.{key}: sent {value!r}, NetworkManager has {shown}")
    return found


async def _read_back(client: NetworkManagerClient, path: str, sent: Settings) -> list[str]:
    """differences() between what was sent and what NetworkManager holds at `path`."""
    settings = await client.connection_settings(path)
    # Asking for a setting that holds no secret is refused (NoSecrets): ask only where we sent one.
    secrets = {
        setting: await client.connection_secrets(path, setting)
        for setting, keys in SECRETS.items()
        if keys & sent.get(setting, {}).keys()
    }
    return differences(sent, settings, secrets)


@pytest.mark.parametrize("name", GOOD)
async def test_keyfile_is_accepted_and_reads_back_key_by_key(
    client: NetworkManagerClient, real_nm: RealNetworkManager, name: str
) -> None:
    sent = parse_keyfile((KEYFILES / name).read_text(), filename=name)

    saved = await client.add_connection(sent)

    assert saved.uuid == sent["connection"]["uuid"]
    assert await _read_back(client, saved.path, sent) == []
    await client.delete_connection(saved.path)


async def test_import_command_adds_then_updates_in_place(
    client: NetworkManagerClient,
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
        assert await _read_back(client, path, sent) == [], name
