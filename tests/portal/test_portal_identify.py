"""POST /identify and its button, running a real command: once per press, one at a time, bounded.

The command is a small shell script in a temporary directory that appends a line to a file; the
timeouts run on a ManualClock, so no test waits for them.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Config
from app.identify import IDENTIFY_TIMEOUT, TERM_GRACE, Identifier, identify_environment
from app.portal.csrf import FIELD as CSRF_FIELD
from app.portal.ratelimit import RateLimiter
from app.portal.state import IDENTIFY_LIMIT, IDENTIFY_TOTAL_LIMIT, IDENTIFY_WINDOW, PORTAL
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
    portal_app,
)
from tests.support import ManualClock, eventually

# Appends to the file its first argument names a line "run PID", then each argument after the
# first on a line of its own, as it arrived. "hold" makes it wait (its `sleep` in its process
# group) until killed; with "stubborn" it ignores SIGTERM, and so does its `sleep`.
RECORD = """#!/bin/sh
log="$1"
shift
{ echo "run $$"; printf '%s\\n' "$@"; } >> "$log"
case "$*" in *stubborn*) trap '' TERM ;; esac
case "$*" in *hold*) sleep 60 ;; esac
"""


@dataclass
class Box:
    """The device's identify command: the script, the file it writes, the portal running it."""

    script: Path
    log: Path
    clock: ManualClock

    def config(self, *words: str) -> Config:
        """The configuration with IDENTIFY_COMMAND = the script, its log and `words`."""
        return make_config(identify_command=(str(self.script), str(self.log), *words))

    def runs(self) -> list[list[str]]:
        """Each run's pid, then its arguments."""
        runs: list[list[str]] = []
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            if line.startswith("run "):
                runs.append([line.removeprefix("run ")])
            else:
                runs[-1].append(line)
        return runs


@pytest.fixture
def box(tmp_path: Path) -> Box:
    script = tmp_path / "record"
    script.write_text(RECORD)
    script.chmod(0o755)
    return Box(script, tmp_path / "runs.log", ManualClock())


Served = Callable[..., Awaitable[Client]]


@pytest.fixture
def serve(aiohttp_client: ClientFactory, box: Box, controller: RecordingController) -> Served:
    """A client of the portal for `config`, its identify command on the box's clock."""

    async def start(config: Config, **changes: object) -> Client:
        identifier = None
        if config.identify_command is not None:
            environment = identify_environment(os.environ, config.ssid)
            identifier = Identifier(config.identify_command, environment, clock=box.clock)
        app = portal_app(config, controller, identifier=identifier, **changes)
        return await aiohttp_client(app, headers={"Host": GATEWAY})

    return start


def identifier_of(portal: Client) -> Identifier:
    identifier = portal.app[PORTAL].identifier
    assert identifier is not None
    return identifier


async def finished(portal: Client) -> None:
    """Wait for the command the last request started (real time, bounded by the test's own)."""
    async with asyncio.timeout(10):
        await identifier_of(portal).wait()


def gone(pid: int) -> bool:
    """True when no process of the group `pid` led is left (a zombie not yet reaped counts)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def all_gone(pid: int) -> None:
    """Wait until the group is gone: its leader is reaped by us, a child of it by init."""
    await eventually(lambda: gone(pid), what=f"process group {pid} gone")


async def test_without_identify_command_no_button_and_404(portal: Client) -> None:
    page = await (await portal.get("/")).text()
    assert "/identify" not in page and "Identify this device" not in page
    response = await portal.post("/identify", json={})
    assert response.status == 404
    assert (await response.json())["field"] is None
    form = await portal.post("/identify", data={CSRF_FIELD: "x"})
    assert form.status == 404
    assert "text/html" in form.headers["Content-Type"]


async def test_each_post_runs_the_command_once(serve: Served, box: Box) -> None:
    portal = await serve(box.config("blink"))
    for press in range(1, 4):
        response = await portal.post("/identify", json={})
        assert response.status == 202
        assert await response.json() == {"status": "identifying"}
        await finished(portal)
        assert len(box.runs()) == press
    # A body-less POST from a script (curl -X POST) counts too.
    response = await portal.post("/identify")
    assert response.status == 202
    await finished(portal)
    assert [run[1:] for run in box.runs()] == [["blink"]] * 4


async def test_the_page_has_the_button_and_its_form_works_without_javascript(
    serve: Served, box: Box
) -> None:
    portal = await serve(box.config())
    page = await (await portal.get("/")).text()
    assert 'action="/identify"' in page
    assert re.search(r"<button[^>]*>Identify this device</button>", page)
    assert "The device is identifying itself." not in page
    token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page)
    assert token is not None

    response = await portal.post("/identify", data={CSRF_FIELD: token[1]}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/?identifying=1"
    await finished(portal)
    assert len(box.runs()) == 1
    after = await (await portal.get("/?identifying=1")).text()
    assert '<p class="live" role="status">The device is identifying itself.</p>' in after


async def test_a_form_without_its_token_or_a_cross_site_post_runs_nothing(
    serve: Served, box: Box
) -> None:
    portal = await serve(box.config())
    assert (await portal.post("/identify", data={CSRF_FIELD: "forged"})).status == 403
    cross_site = await portal.post("/identify", headers={"Origin": "http://evil.example"})
    assert cross_site.status == 403
    assert (
        await portal.post("/identify", data=b"x", headers={"Content-Type": "text/plain"})
    ).status == 415
    assert not identifier_of(portal).busy
    assert box.runs() == []


async def test_one_at_a_time_then_killed_at_the_timeout(serve: Served, box: Box) -> None:
    """A second press while it runs is a 409 and runs nothing; at 10 s its group is killed."""
    portal = await serve(box.config("hold"))
    assert (await portal.post("/identify", json={})).status == 202
    await eventually(lambda: len(box.runs()) == 1, what="the command ran")
    busy = await portal.post("/identify", json={})
    assert busy.status == 409
    assert await busy.json() == {
        "error": "The device is already identifying itself.",
        "field": None,
    }
    # The form lands on the same note: the device is identifying itself either way.
    page = await (await portal.get("/")).text()
    token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page)
    assert token is not None
    form = await portal.post("/identify", data={CSRF_FIELD: token[1]}, allow_redirects=False)
    assert form.status == 303
    assert len(box.runs()) == 1

    pid = int(box.runs()[0][0])
    assert not gone(pid)
    await box.clock.tick(IDENTIFY_TIMEOUT - 0.5)
    assert identifier_of(portal).busy
    await box.clock.tick(0.5)
    outcome = await asyncio.wait_for(identifier_of(portal).wait(), 10)
    assert outcome is not None and outcome.timed_out
    assert outcome.returncode == -signal.SIGTERM
    # The script's `sleep` child was in its group: nothing of it is left.
    await all_gone(pid)

    # Free again: the next press runs it.
    assert (await portal.post("/identify", json={})).status == 202
    await eventually(lambda: len(box.runs()) == 2, what="the second run")


async def test_a_command_that_ignores_sigterm_is_killed(serve: Served, box: Box) -> None:
    portal = await serve(box.config("stubborn", "hold"))
    assert (await portal.post("/identify", json={})).status == 202
    await eventually(lambda: len(box.runs()) == 1, what="the command ran")
    pid = int(box.runs()[0][0])
    await box.clock.tick(IDENTIFY_TIMEOUT)
    # SIGTERM sent, ignored: the grace runs on the clock too.
    await box.clock.tick(TERM_GRACE)
    outcome = await asyncio.wait_for(identifier_of(portal).wait(), 10)
    assert outcome is not None and outcome.timed_out
    assert outcome.returncode == -signal.SIGKILL
    await all_gone(pid)


async def test_shutting_the_portal_down_kills_a_run(serve: Served, box: Box) -> None:
    portal = await serve(box.config("hold"))
    assert (await portal.post("/identify", json={})).status == 202
    await eventually(lambda: len(box.runs()) == 1, what="the command ran")
    pid = int(box.runs()[0][0])
    identifier = identifier_of(portal)
    await portal.close()
    assert not identifier.busy
    await all_gone(pid)
    # Nothing starts once the portal is gone.
    assert not identifier.start()


async def test_no_shell_interpolation_of_the_command_line(
    serve: Served, box: Box, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`;`, `$(...)`, `$VAR` and `|` in IDENTIFY_COMMAND reach the program as they are."""
    pwned = tmp_path / "pwned"
    monkeypatch.setenv("PORTAL_PASSPHRASE", "hotspot secret")
    text = (
        f"{box.script} {box.log} 'a; touch {pwned}' $(touch\\ {pwned}) ';' $PORTAL_PASSPHRASE '|'"
    )
    config = Config.from_env({"IDENTIFY_COMMAND": text, "PATH": os.environ["PATH"]})
    portal = await serve(config)
    assert (await portal.post("/identify", json={})).status == 202
    await finished(portal)
    assert [run[1:] for run in box.runs()] == [
        [f"a; touch {pwned}", f"$(touch {pwned})", ";", "$PORTAL_PASSPHRASE", "|"]
    ]
    assert not pwned.exists()


async def test_the_command_sees_path_and_the_hotspot_name_only(
    serve: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_PASSPHRASE", "hotspot secret")
    dump = tmp_path / "env"
    config = make_config(ssid="Box 7", identify_command=("/bin/sh", "-c", f"env > {dump}"))
    portal = await serve(config)
    assert (await portal.post("/identify", json={})).status == 202
    await finished(portal)
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines())
    # The shell adds its own PWD (and may add SHLVL, _); nothing of wifi-connect's is there.
    assert seen["WIFI_CONNECT_SSID"] == "Box 7"
    assert seen["PATH"] == os.environ["PATH"]
    assert set(seen) <= {"PATH", "WIFI_CONNECT_SSID", "PWD", "SHLVL", "_"}


async def test_each_phone_may_press_six_times_a_minute(serve: Served, box: Box) -> None:
    clock = ManualClock()
    limit = RateLimiter(IDENTIFY_LIMIT, IDENTIFY_WINDOW, clock=clock.now)
    portal = await serve(box.config(), identify_limit=limit)
    for _ in range(IDENTIFY_LIMIT):
        assert (await portal.post("/identify", json={})).status == 202
        await finished(portal)
    refused = await portal.post("/identify", json={})
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Please wait 60 seconds" in (await refused.json())["error"]
    assert len(box.runs()) == IDENTIFY_LIMIT
    await clock.advance(IDENTIFY_WINDOW)
    assert (await portal.post("/identify", json={})).status == 202
    await finished(portal)
    assert len(box.runs()) == IDENTIFY_LIMIT + 1


async def test_all_phones_together_are_limited_too(serve: Served, box: Box) -> None:
    clock = ManualClock()
    everyone = RateLimiter(IDENTIFY_TOTAL_LIMIT, IDENTIFY_WINDOW, clock=clock.now)
    unlimited = RateLimiter(1000, IDENTIFY_WINDOW)
    portal = await serve(box.config(), identify_limit=unlimited, identify_total_limit=everyone)
    for _ in range(IDENTIFY_TOTAL_LIMIT):
        assert (await portal.post("/identify", json={})).status == 202
        await finished(portal)
    await clock.advance(30)
    refused = await portal.post("/identify", json={})
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "30"
    assert "too often" in (await refused.json())["error"]
    assert len(box.runs()) == IDENTIFY_TOTAL_LIMIT


async def test_the_output_is_logged_bounded_at_debug(
    serve: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A chatty command neither blocks on its pipe nor fills the log."""
    caplog.set_level("DEBUG", logger="app.identify")
    config = make_config(identify_command=("/bin/sh", "-c", "yes 0123456789 | head -c 1000000"))
    portal = await serve(config)
    assert (await portal.post("/identify", json={})).status == 202
    outcome = await asyncio.wait_for(identifier_of(portal).wait(), 10)
    assert outcome is not None and outcome.ok and outcome.truncated
    output = [r for r in caplog.records if r.getMessage().startswith("IDENTIFY_COMMAND's output")]
    assert len(output) == 1
    assert output[0].levelname == "DEBUG"
    assert len(output[0].getMessage()) < 3 * 2048
    assert "exited with status 0" in caplog.text


async def test_a_program_gone_since_the_start_is_logged(
    serve: Served, box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    portal = await serve(box.config())
    box.script.unlink()
    assert (await portal.post("/identify", json={})).status == 202
    outcome = await asyncio.wait_for(identifier_of(portal).wait(), 10)
    assert outcome is not None and outcome.error is not None
    assert "could not be started" in caplog.text
