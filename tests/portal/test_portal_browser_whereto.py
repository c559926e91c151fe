"""Where the device will be, in headless Chromium at a phone's size, with and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from app.flow.state import FlowState, FlowStatus
from app.nm.models import MdnsHost
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from tests.browser import Browser, chromium, expect, open_phone
from tests.portal.helpers import RecordingController, make_config
from tests.support import free_port

NEXT = "https://fleet.example.com/devices/{hostname}?joined={ssid}"
# Where the report's screenshot of the page goes (the suite's own copy is under test-artifacts).
SCREENSHOT = Path("/tmp/whereto.png")


@pytest.fixture
async def served(controller: RecordingController) -> AsyncIterator[str]:
    """The portal on 127.0.0.1 with PORTAL_NEXT_URL, Avahi having announced sensor-7."""
    controller.current = FlowStatus(FlowState.PORTAL, mdns=MdnsHost("sensor-7", "sensor-7.local"))
    port = free_port()
    config = make_config(
        gateway=IPv4Address("127.0.0.1"),
        listening_port=port,
        next_url=NEXT,
        brand_name="Acme Sensors",
    )
    async with serve_portal(create_app(config, controller), LOOPBACK, port):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_after_the_form_the_phone_is_told_where_the_device_will_be(
    browser: Browser, served: str, controller: RecordingController, javascript: bool
) -> None:
    phone = await open_phone(browser, served, javascript=javascript)
    page = phone.page
    row = phone.row("Cafe")
    await row.locator(":scope > summary").click()
    await row.get_by_label("Password", exact=True).fill("correct horse")
    # The flow takes it: /status says so while the phone still has the page.
    controller.current = replace(controller.current, state=FlowState.CONNECTING, trying="Cafe")
    await row.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting\?ssid=Cafe$"))

    where = page.get_by_role("region", name="Where the device will be")
    await expect(where).to_be_visible()
    local = where.get_by_role("link", name="http://sensor-7.local/")
    following = where.get_by_role(
        "link", name="https://fleet.example.com/devices/sensor-7?joined=Cafe"
    )
    await expect(local).to_have_attribute("href", "http://sensor-7.local/")
    await expect(following).to_be_visible()
    # Both fit the phone's width: nothing runs off the side.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    for link in (local, following):
        box = await link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    await phone.shot(f"whereto-connecting-{'js' if javascript else 'no-js'}")
    if javascript:
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
    phone.assert_clean()
