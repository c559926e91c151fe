"""One wifi-connect per NetworkManager: the lock a run or an `add` holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.flow.instance import AlreadyRunning, lock_path, one_instance

BUS = "unix:path=/tmp/one-bus"


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    with (
        one_instance(BUS, tmp_path),
        pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()}\)"),
        one_instance(BUS, tmp_path),
    ):
        pass


def test_the_lock_is_free_again_after_the_block(tmp_path: Path) -> None:
    with one_instance(BUS, tmp_path):
        pass
    with one_instance(BUS, tmp_path):
        pass


def test_each_bus_has_its_own_lock(tmp_path: Path) -> None:
    assert lock_path(BUS, tmp_path) != lock_path("unix:path=/tmp/other-bus", tmp_path)
    assert lock_path(None, tmp_path) == lock_path(None, tmp_path)
    with one_instance(BUS, tmp_path), one_instance("unix:path=/tmp/other-bus", tmp_path):
        pass


def test_a_killed_holder_leaves_the_lock_free(tmp_path: Path) -> None:
    """The kernel drops a flock with its process: SIGKILL never blocks the next start."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from app.flow.instance import one_instance\n"
            f"with one_instance({BUS!r}, pathlib.Path({str(tmp_path)!r})):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with (
            pytest.raises(AlreadyRunning, match=rf"pid {holder.pid}\)"),
            one_instance(BUS, tmp_path),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with one_instance(BUS, tmp_path):
        pass
