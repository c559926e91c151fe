"""`--portal-band` / `--portal-channel`: a pair that cannot go together exits 2 naming both."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.exitcodes import ExitStatus
from tests.cli.helpers import Cli


@pytest.mark.parametrize(
    ("args", "environ"),
    [
        (["--portal-band", "bg", "--portal-channel", "36"], {}),
        (["--portal-channel", "36"], {"PORTAL_BAND": "bg"}),
        ([], {"PORTAL_BAND": "a", "PORTAL_CHANNEL": "6"}),
    ],
    ids=["flags", "flag-and-env", "env"],
)
async def test_a_channel_outside_its_band_exits_2_naming_both(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    environ: dict[str, str],
) -> None:
    # No bus at all: a run that asked NetworkManager first would end with exit 4.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    for name, text in environ.items():
        monkeypatch.setenv(name, text)
    result = await cli("run", *args)
    assert (result.status, result.out) == (ExitStatus.BAD_CONFIG, "")
    (line,) = result.err_lines
    assert line.startswith(
        "wifi-connect: error: --portal-channel / PORTAL_CHANNEL and --portal-band / PORTAL_BAND: "
        "channel "
    )
    assert "is not in band" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--portal-band", "n"], "--portal-band / PORTAL_BAND: 'n' is not a band"),
        (["--portal-channel", "0"], "--portal-channel / PORTAL_CHANNEL: '0' is not a WiFi channel"),
    ],
    ids=["band", "channel"],
)
async def test_a_bad_band_or_channel_exits_2_naming_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], expected: str
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    result = await cli(*args)
    assert (result.status, result.out) == (ExitStatus.BAD_CONFIG, "")
    (line,) = result.err_lines
    assert line.startswith(f"wifi-connect: error: {expected}")
