"""`python -m app.simulator` as a process: prints its bus, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest
from dbus_next.aio.message_bus import MessageBus
from dbus_next.message import Message

from .conftest import MANAGER, NM
from .world import FAST

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")
ROOT = Path(__file__).resolve().parents[2]


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.simulator",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_private_bus_mode(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({**FAST, "version": "9.9.9", "networks": [{"ssid": "Home"}]}))
    process = await _spawn("--private", "--scenario", str(scenario))
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        address = line.decode().strip()
        match = re.match(r"unix:path=([^,]+)", address)
        assert match, line
        socket_dir = Path(match.group(1)).parent
        bus = await MessageBus(bus_address=address).connect()
        try:
            reply = None
            for _ in range(100):
                reply = await bus.call(
                    Message(
                        destination=NM,
                        path=MANAGER,
                        interface="org.freedesktop.DBus.Properties",
                        member="Get",
                        signature="ss",
                        body=[NM, "Version"],
                    )
                )
                if reply is not None and reply.error_name is None:
                    break
                await asyncio.sleep(0.05)
            assert reply is not None and reply.body[0].value == "9.9.9"
        finally:
            bus.disconnect()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert not socket_dir.exists(), "the private bus is cleaned up"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_bad_scenario_exits_2_naming_the_key(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"networks": [{"ssid": "a", "security": "wpa9"}]}))
    process = await _spawn("--private", "--scenario", str(scenario))
    _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 2
    assert "networks[0].security: 'wpa9' is not one of" in stderr.decode()
