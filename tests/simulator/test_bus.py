"""PrivateBus: a working dbus-daemon inside the block, nothing left behind after it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from dbus_next.aio.message_bus import MessageBus

from app.simulator import PrivateBus, PrivateBusError

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")


def _socket_path(address: str) -> Path:
    match = re.match(r"unix:path=([^,]+)", address)
    assert match, address
    return Path(match.group(1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes once reaped.
    return Path(f"/proc/{pid}").exists()


def _is_empty(directory: Path) -> bool:
    return not any(directory.iterdir())


async def test_the_bus_works_and_is_removed_afterwards() -> None:
    async with PrivateBus() as bus:
        socket = _socket_path(bus.address)
        pid = bus.pid
        assert pid is not None and _alive(pid)
        assert socket.parent.name.startswith("sim-bus-")
        client = await MessageBus(bus_address=bus.address).connect()
        assert client.unique_name.startswith(":")
        client.disconnect()
    assert not _alive(pid)
    assert not socket.parent.exists()
    with pytest.raises(PrivateBusError):
        _ = bus.address


async def test_a_restart_drops_every_connection_and_serves_the_same_socket() -> None:
    async with PrivateBus() as bus:
        socket, old_pid = _socket_path(bus.address), bus.pid
        client = await MessageBus(bus_address=bus.address).connect()
        await bus.restart()
        with pytest.raises(EOFError):  # the socket closed under it
            await client.wait_for_disconnect()
        assert old_pid is not None and not _alive(old_pid)
        assert _socket_path(bus.address) == socket and bus.pid != old_pid
        again = await MessageBus(bus_address=f"unix:path={socket}").connect()
        assert again.unique_name.startswith(":")
        again.disconnect()
    assert not socket.parent.exists()


async def test_an_error_inside_the_block_still_cleans_up() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with PrivateBus() as bus:
            socket = _socket_path(bus.address)
            pid = bus.pid
            raise RuntimeError("boom")
    assert pid is not None and not _alive(pid)
    assert not socket.parent.exists()


async def test_a_missing_daemon_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(PrivateBusError, match="cannot run"):
        async with PrivateBus(daemon=str(tmp_path / "no-such-dbus-daemon")):
            pass
    assert _is_empty(tmp_path)


async def test_a_daemon_that_exits_at_once_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "fake-daemon"
    fake.write_text("#!/bin/sh\necho 'cannot listen' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(PrivateBusError, match="cannot listen"):
        async with PrivateBus(daemon=str(fake)):
            pass
