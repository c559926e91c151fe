"""The logs a flow writes for the journal: a line per state, plain or JSON, never a secret raw.

The flow runs as `wifi-connect simulate` runs it, with a hotspot passphrase, one wrong and one
right password typed at the portal, and a network whose name is an ANSI escape. Every record of
every logger at debug level goes through both of app.logs' handlers at once.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientSession

from app import commands, logs
from app.config import Config
from app.flow.timing import Timings
from app.rules import display_ssid
from app.simulator import parse_scenario
from tests.cli.helpers import FAST
from tests.support import eventually, free_port

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")

HOTSPOT_SECRET = "hotspot-secret-7Qx"
WRONG_SECRET = "wrong-secret-5Kd"
RIGHT_SECRET = "right-secret-9Zm"
ANSI_SECRET = "ansi-secret-3Wv"
ANSI_SSID = b"\x1b[31mred\x1b]0;pwned\x07"
SHOWN_ANSI = display_ssid(ANSI_SSID)

SCENARIO: dict[str, Any] = {
    **FAST,
    "devices": [{"interface": "wlan0"}],
    "networks": [
        {"ssid": "Home", "security": "wpa-psk", "passphrase": RIGHT_SECRET},
        {"ssid_hex": ANSI_SSID.hex(), "security": "wpa-psk", "passphrase": ANSI_SECRET},
    ],
}

# Every state the flow went through, in order, each told once.
STATE_LINES = [
    "state: starting on wlan0",
    "state: portal, hotspot 'Log Test' up on wlan0",
    f"state: connecting to '{SHOWN_ANSI}' on wlan0",
    f"state: failed to join '{SHOWN_ANSI}': wrong-password",
    "state: portal, hotspot 'Log Test' up on wlan0",
    "state: connecting to 'Home' on wlan0",
    "state: connected to 'Home'",
]


@pytest.fixture
def journal() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Everything logged, by any logger at debug level, as plain lines and as JSON lines."""
    plain, jsonl = io.StringIO(), io.StringIO()
    handlers = [
        logs.stream_handler(plain, json_lines=False),
        logs.stream_handler(jsonl, json_lines=True),
    ]
    root, ours = logging.getLogger(), logging.getLogger("app")
    levels = root.level, ours.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    try:
        yield plain, jsonl
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


async def _provision_through_the_portal(capsys: pytest.CaptureFixture[str]) -> None:
    """The simulate flow: a wrong password for the ANSI network, then the right one for Home."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = Config(ssid="Log Test", passphrase=HOTSPOT_SECRET, log_level=logging.DEBUG)
    command = commands.Simulate(scenario=parse_scenario(SCENARIO), port=port)
    demo = asyncio.create_task(commands.execute(command, config, Timings(answer_grace=0.0)))
    try:
        await eventually(lambda: "open http://" in capsys.readouterr().out, what="the portal")
        async with ClientSession() as http:

            async def state() -> tuple[str, dict[str, Any] | None]:
                async with http.get(url + "status") as response:
                    body: dict[str, Any] = await response.json()
                    return body["state"], body.get("last_attempt")

            async def reached(wanted: str, attempts: int) -> bool:
                now, last = await state()
                return now == wanted and (attempts == 0 or last is not None)

            async with http.get(url + "networks") as response:
                names = [network["ssid"] for network in await response.json()]
            assert SHOWN_ANSI in names
            wrong = {"ssid": SHOWN_ANSI, "passphrase": WRONG_SECRET}
            async with http.post(url + "connect", json=wrong) as response:
                assert response.status == 200
            await eventually(lambda: reached("portal", 1), what="the portal back")
            right = {"ssid": "Home", "passphrase": RIGHT_SECRET}
            async with http.post(url + "connect", json=right) as response:
                assert response.status == 200
            await eventually(lambda: reached("connected", 1), what="connected")
    finally:
        demo.cancel()
        await asyncio.gather(demo, return_exceptions=True)


async def test_each_state_is_one_line_in_both_formats_and_no_secret_is_logged(
    journal: tuple[io.StringIO, io.StringIO], capsys: pytest.CaptureFixture[str]
) -> None:
    plain, jsonl = journal
    await _provision_through_the_portal(capsys)
    plain_text, json_text = plain.getvalue(), jsonl.getvalue()

    # Debug lines of every layer were there to leak through, the simulator's and the portal's.
    assert " app.nm." in plain_text and " app.portal." in plain_text and "DEBUG " in plain_text
    for secret in (HOTSPOT_SECRET, WRONG_SECRET, RIGHT_SECRET, ANSI_SECRET):
        assert secret not in plain_text
        assert secret not in json_text

    # Plain: each state once, in the order the flow went, the name as the portal shows it.
    prefix = "INFO app.flow.provision: "
    told = [line.removeprefix(prefix) for line in plain_text.splitlines() if "state: " in line]
    assert told == STATE_LINES
    assert "\x1b" not in plain_text and "\x07" not in plain_text

    # JSON: one object a line, the same words, the state's values as fields of their own.
    entries = [json.loads(line) for line in json_text.splitlines()]
    assert len(entries) == len(plain_text.splitlines())
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["time"].endswith("+00:00")
        assert not any("\x1b" in str(value) or "\x07" in str(value) for value in entry.values())
    states = [entry for entry in entries if "state" in entry]
    assert [entry["message"] for entry in states] == STATE_LINES
    assert [entry["state"] for entry in states] == [
        "starting",
        "portal",
        "connecting",
        "failed",
        "portal",
        "connecting",
        "connected",
    ]
    assert all(entry["interface"] == "wlan0" for entry in states)
    assert states[1]["hotspot"] == "Log Test"
    assert states[3]["network"] == SHOWN_ANSI and states[3]["failure"] == "wrong-password"
    assert states[6]["network"] == "Home" and states[6]["level"] == "INFO"
    assert "\x1b" not in json_text and "\\u001b" not in json_text
