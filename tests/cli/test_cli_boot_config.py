"""`wifi-connect import DIR` applies the country of the balena config.json beside DIR."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from app.simulator import SimulatedNetworkManager
from app.simulator.supplicant import SimulatedSupplicant
from tests.cli.helpers import Cli

KEYFILES = Path(__file__).resolve().parents[1] / "data" / "keyfiles"
KEYFILE = "wpa-psk.nmconnection"
# The keys a balena config.json carries beside `country` (wifi-connect reads none of them).
BALENA_KEYS = {"applicationId": 1, "deviceType": "raspberrypi4-64", "persistentLogging": False}


def boot_partition(tmp_path: Path, config: bytes | None) -> Path:
    """A boot partition: system-connections/ with one good keyfile, config.json beside it."""
    directory = tmp_path / "system-connections"
    directory.mkdir()
    shutil.copy(KEYFILES / KEYFILE, directory / KEYFILE)
    if config is not None:
        (tmp_path / "config.json").write_bytes(config)
    return directory


def balena_config(country: object) -> bytes:
    return json.dumps({**BALENA_KEYS, "country": country}).encode()


def _uuids(sim: SimulatedNetworkManager) -> set[str]:
    return {connection.uuid for connection in sim.connections}


async def test_the_country_is_set_through_wpa_supplicant(
    cli: Cli, sim: SimulatedNetworkManager, supplicant: SimulatedSupplicant, tmp_path: Path
) -> None:
    result = await cli("import", str(boot_partition(tmp_path, balena_config("de"))))
    assert (result.status, result.err) == (ExitStatus.OK, "")
    lines = result.out.splitlines()
    assert lines[1] == "country   ../config.json: DE, set through wpa_supplicant"
    assert lines[-1] == "1 imported, 0 updated, 0 skipped, 0 with errors."
    assert supplicant.set_calls == [(SimulatedSupplicant.interface_path(0), "DE")]
    assert len(_uuids(sim)) == 1


async def test_without_wpa_supplicant_a_warning_and_the_import_succeeds(
    cli: Cli, sim: SimulatedNetworkManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    result = await cli("import", str(boot_partition(tmp_path, balena_config("NZ"))))
    assert result.status == ExitStatus.OK
    assert "country   ../config.json: NZ, not set (see the warning)" in result.out.splitlines()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith("wpa_supplicant is not on the system bus: country NZ not set")


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        (balena_config("UK"), "country: 'UK' is not an ISO 3166-1 alpha-2 country code"),
        (balena_config(49), "country: 49 is not a string"),
        (b'{"country": "DE"', "is not JSON: "),
        (b"[]", "is not a JSON object"),
    ],
    ids=["reserved-code", "number", "truncated", "not-an-object"],
)
async def test_a_bad_config_json_is_an_error_naming_it_and_the_keyfiles_still_go_in(
    cli: Cli,
    sim: SimulatedNetworkManager,
    supplicant: SimulatedSupplicant,
    tmp_path: Path,
    config: bytes,
    detail: str,
) -> None:
    directory = boot_partition(tmp_path, None)
    first = await cli("import", str(directory))
    assert first.status == ExitStatus.OK
    saved = _uuids(sim)

    (tmp_path / "config.json").write_bytes(config)
    result = await cli("import", str(directory))

    assert result.status == ExitStatus.FAILED
    assert result.err_lines == ["wifi-connect: 1 file could not be imported (see above)"]
    lines = result.out.splitlines()
    assert lines[1].startswith(f"error     ../config.json: {detail}"), lines[1]
    assert lines[-1] == "0 imported, 1 updated, 0 skipped, 1 with errors."
    assert _uuids(sim) == saved, "nothing saved is lost"
    assert supplicant.set_calls == []


async def test_a_config_json_without_country_says_nothing(
    cli: Cli, sim: SimulatedNetworkManager, supplicant: SimulatedSupplicant, tmp_path: Path
) -> None:
    result = await cli("import", str(boot_partition(tmp_path, json.dumps(BALENA_KEYS).encode())))
    assert (result.status, result.err) == (ExitStatus.OK, "")
    assert "config.json" not in result.out
    assert supplicant.set_calls == []
