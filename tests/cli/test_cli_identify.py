"""`wifi-connect identify`: IDENTIFY_COMMAND run here as the portal runs it, with its exit status.

Run in this process (main() with its own event loop, in the main thread, where its signal
handlers go), and once as a real process stopped by Ctrl-C. No bus is needed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import main
from app.config import ENV_SETTINGS, FLAG_SETTINGS
from app.exitcodes import ExitStatus
from tests.support import eventually

REPO = Path(__file__).resolve().parents[2]
# One line per run in the file named by its first argument: "PID ARGS..."; "hold" keeps it (its
# `sleep`, in its process group) running until killed.
RECORD = '#!/bin/sh\nlog="$1"\nshift\necho "$$ $*" >> "$log"\n[ "$1" = hold ] && sleep 60\nexit 0\n'


def live_members(pgid: int) -> list[int]:
    """The processes of a group that still run (a zombie waiting for init does not)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The script; no setting of the machine's leaks in."""
    for setting in (*FLAG_SETTINGS, *ENV_SETTINGS):
        monkeypatch.delenv(setting.env, raising=False)
    script = tmp_path / "record"
    script.write_text(RECORD)
    script.chmod(0o755)
    return script


def test_identify_runs_the_command_once_and_says_how_it_ended(
    record: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("IDENTIFY_COMMAND", f"{record} {log} blink 'twice; fast'")
    assert main(["identify"]) == ExitStatus.OK
    out, _ = capsys.readouterr()
    assert out.startswith("IDENTIFY_COMMAND exited with status 0 after ")
    assert [line.split(" ", 1)[1] for line in log.read_text().splitlines()] == ["blink twice; fast"]


def test_a_failing_command_is_exit_1_and_its_output_shows_with_v(
    record: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    command = "sh -c 'echo the LED is not there >&2; exit 3'"
    assert main(["-v", "identify", "--identify-command", command]) == ExitStatus.FAILED
    _, err = capsys.readouterr()
    assert "wifi-connect: IDENTIFY_COMMAND exited with status 3 after " in err
    # -v: the DEBUG line with what it said (pytest's handler, not stderr, gets the lines here).
    assert "IDENTIFY_COMMAND's output: the LED is not there" in caplog.messages


def test_without_identify_command_it_is_exit_2(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["identify"]) == ExitStatus.BAD_CONFIG
    assert "IDENTIFY_COMMAND is not set" in capsys.readouterr().err


def test_a_program_that_is_not_there_is_exit_2_naming_the_variable(
    record: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IDENTIFY_COMMAND", "no-such-blinker --fast")
    assert main(["identify"]) == ExitStatus.BAD_CONFIG
    assert capsys.readouterr().err == (
        "wifi-connect: error: --identify-command / IDENTIFY_COMMAND: 'no-such-blinker' is not "
        "an executable program (not found on PATH)\n"
    )


def test_ctrl_c_kills_the_command_and_its_group(record: Path, tmp_path: Path) -> None:
    """A real process: Ctrl-C ends it with 130, the command and its child gone with it."""
    log = tmp_path / "runs.log"
    environment = {**os.environ, "IDENTIFY_COMMAND": f"{record} {log} hold"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "identify"],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # Its INFO line says the command started; the script's line says it runs.
        assert "IDENTIFY_COMMAND started" in process.stderr.readline()
        asyncio.run(eventually(lambda: log.exists() and log.read_text() != "", what="it ran"))
        pid = int(log.read_text().split()[0])
        assert live_members(pid) != []
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == ExitStatus.INTERRUPTED, err
    # Killed (its `sleep`, reparented to init when the script died, is reaped by init).
    asyncio.run(eventually(lambda: live_members(pid) == [], what="the process group gone"))
