"""The Identify button in headless Chromium at a phone's size, with and without JavaScript."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.identify import Identifier, identify_environment
from app.portal.server import LOOPBACK, serve_portal
from tests.browser import Browser, chromium, expect, open_phone
from tests.portal.helpers import RecordingController, make_config, portal_app
from tests.support import ManualClock, eventually, free_port

# Where the screenshot of the button, just pressed, goes for the report (besides the artifacts).
SHOT = Path(os.environ.get("IDENTIFY_SHOT", "/tmp/identify.png"))


@dataclass
class Served:
    """The portal on 127.0.0.1, whose IDENTIFY_COMMAND appends a line to `log` per run."""

    url: str
    log: Path
    identifier: Identifier
    clock: ManualClock

    def runs(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.fixture
async def served(tmp_path: Path, controller: RecordingController) -> AsyncIterator[Served]:
    port = free_port()
    log = tmp_path / "runs.log"
    script = tmp_path / "blink"
    # Each run is a line; "hold" keeps it running until the clock says its time is up.
    script.write_text('#!/bin/sh\necho run >> "$1"\n[ "$2" = hold ] && exec sleep 60\nexit 0\n')
    script.chmod(0o755)
    config = make_config(
        gateway=LOOPBACK, listening_port=port, identify_command=(str(script), str(log), "hold")
    )
    assert config.identify_command is not None
    clock = ManualClock()
    identifier = Identifier(
        config.identify_command, identify_environment(os.environ, config.ssid), clock=clock
    )
    app = portal_app(config, controller, identifier=identifier)
    async with serve_portal(app, LOOPBACK, port):
        yield Served(f"http://127.0.0.1:{port}/", log, identifier, clock)


@pytest.fixture
async def browser(served: Served) -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
async def test_identify_button(browser: Browser, served: Served, javascript: bool) -> None:
    """A plain form either way (no script weighs on the page): the page comes back with a note."""
    phone = await open_phone(browser, served.url, javascript=javascript)
    page = phone.page
    button = page.get_by_role("button", name="Identify this device")
    note = page.get_by_role("status")
    await expect(button).to_be_visible()
    await expect(note).to_have_count(0)
    # Above the list, where an installer looks first, and within the phone's width.
    box = await button.bounding_box()
    assert box is not None and box["y"] < 200 and box["x"] + box["width"] <= 360

    await button.click()
    await page.wait_for_url(served.url + "?identifying=1")
    await expect(note).to_have_text("The device is identifying itself.")
    await expect(page.get_by_role("heading", name="Choose a WiFi network")).to_be_visible()
    await eventually(lambda: served.runs() == 1, what="the command ran")
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360
    if javascript:
        await page.screenshot(path=str(SHOT))
    await phone.shot(f"identify-{'js' if javascript else 'nojs'}")

    # Pressed again while it runs (409 to a script): the same note, and no second run.
    await button.click()
    await page.wait_for_load_state()
    await expect(note).to_have_text("The device is identifying itself.")
    assert served.runs() == 1
    await served.clock.tick(10)
    await served.identifier.wait()
    phone.assert_clean()
