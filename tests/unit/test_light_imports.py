"""What each command line imports: --help and the installer's commands never load the web stack.

Each case runs in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.exitcodes import ExitStatus

# Every optional dependency: none is needed to print help or to parse flags.
HEAVY = frozenset({"aiohttp", "jinja2", "dbus_next", "dns", "netifaces"})
# The portal's web stack: the commands that only talk to NetworkManager never need it.
WEB_STACK = frozenset({"aiohttp", "jinja2"})

# Each prints the exit status and the top-level packages loaded, as JSON.
_REPORT = """
packages = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"status": status, "packages": packages}))
"""
# main on the given arguments, its output swallowed.
_MAIN = (
    """
import contextlib, io, json, sys
from app.__main__ import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    status = main(sys.argv[1:])
"""
    + _REPORT
)
# Only the parser, on the given arguments and an empty environment.
_PARSE = (
    """
import json, sys
from app.__main__ import parse_command_line
parse_command_line(sys.argv[1:], {})
status = 0
"""
    + _REPORT
)


def loaded(script: str, argv: list[str], workdir: Path) -> tuple[int, frozenset[str]]:
    """The exit status and the top-level packages a fresh interpreter loaded running `script`.

    It runs in `workdir`, which holds nothing, with a bus address nobody listens on there, so a
    command stops at its first D-Bus call.
    """
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={workdir / 'no-bus'}"}
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout)
    return report["status"], frozenset(report["packages"])


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["--help"], ExitStatus.OK),
        (["--version"], ExitStatus.OK),
        (["scan", "--help"], ExitStatus.OK),
        (["--no-such-flag"], ExitStatus.BAD_CONFIG),
        (["add"], ExitStatus.BAD_CONFIG),
        (["--portal-listening-port", "none"], ExitStatus.BAD_CONFIG),
    ],
)
def test_help_version_and_bad_flags_load_no_optional_dependency(
    argv: list[str], status: ExitStatus, tmp_path: Path
) -> None:
    code, packages = loaded(_MAIN, argv, tmp_path)
    assert code == status
    assert packages & HEAVY == set()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run", "--force"],
        ["scan", "--json"],
        ["add", "--ssid", "home", "--passphrase", "correct horse"],
        ["forget", "home"],
        ["check"],
        ["import", "."],
        ["qr"],
        ["identify"],
        ["simulate", "--port", "8081"],
    ],
)
def test_parsing_any_command_loads_no_optional_dependency(argv: list[str], tmp_path: Path) -> None:
    _, packages = loaded(_PARSE, argv, tmp_path)
    assert packages & HEAVY == set()


@pytest.mark.parametrize("argv", [["scan"], ["forget", "home"], ["check"], ["import", "."]])
def test_commands_that_only_ask_network_manager_load_no_web_stack(
    argv: list[str], tmp_path: Path
) -> None:
    code, packages = loaded(_MAIN, argv, tmp_path)
    # It got as far as the bus: the command's own imports are all done by then.
    assert code == ExitStatus.NM_UNAVAILABLE
    assert "dbus_next" in packages
    assert packages & WEB_STACK == set()


def test_the_qr_command_loads_only_the_qr_library(tmp_path: Path) -> None:
    code, packages = loaded(_MAIN, ["qr"], tmp_path)
    assert code == ExitStatus.OK
    assert "segno" in packages
    assert packages & HEAVY == set()


def test_the_identify_command_loads_no_optional_dependency(tmp_path: Path) -> None:
    """`wifi-connect identify` runs a program: no bus, no web stack."""
    code, packages = loaded(_MAIN, ["identify", "--identify-command", "true"], tmp_path)
    assert code == ExitStatus.OK
    assert packages & HEAVY == set()
