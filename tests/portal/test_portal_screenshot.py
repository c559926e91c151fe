"""The README's screenshot of a branded portal, taken by headless Chromium at a phone's size.

Each run takes it afresh into test-artifacts/screenshots/; the copy in docs/ that the README
shows must be of the same size, so a change of the phone or of what is shown is noticed. Run
with UPDATE_DOCS_SCREENSHOT=1 to write the new one over docs/branded-portal.png.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import AsyncIterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from app.wifi import SecurityKind
from tests.browser import SCREENSHOTS, Browser, chromium, expect, open_phone
from tests.portal.helpers import RecordingController, make_config, network
from tests.support import free_port

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "branded-portal.png"
# The README's picture stays light: a phone's viewport at scale 1, no full-page scroll.
MAX_BYTES = 100_000
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">'
    '<rect width="40" height="40" rx="8" fill="#7a1fa2"/>'
    '<path d="M10 28 L20 10 L30 28 Z" fill="#fff"/></svg>'
)
NETWORKS = (
    network(b"Acme Guest", SecurityKind.OPEN, 48),
    network(b"Home", SecurityKind.WPA_PSK, 82),
    network(b"Office 5G", SecurityKind.SAE, 67, 5180),
    network(b"Campus", SecurityKind.WPA_EAP, 55),
)


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
async def branded(tmp_path: Path) -> AsyncIterator[str]:
    """A portal with the README's branding on 127.0.0.1: its URL."""
    logo = tmp_path / "acme.svg"
    logo.write_text(LOGO)
    port = free_port()
    config = make_config(
        gateway=IPv4Address("127.0.0.1"),
        listening_port=port,
        brand_name="Acme Sensors",
        brand_color="#7a1fa2",
        brand_logo=logo,
    )
    app = create_app(config, RecordingController(NETWORKS))
    async with serve_portal(app, LOOPBACK, port):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def test_branded_portal_screenshot_matches_the_docs_copy(
    browser: Browser, branded: str
) -> None:
    phone = await open_phone(browser, branded, scale=1)
    await expect(phone.page.get_by_text("Acme Sensors").first).to_be_visible()
    await expect(phone.page.get_by_text("Office 5G", exact=True)).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = SCREENSHOTS / DOCS_SHOT.name
    await phone.page.screenshot(path=str(taken))
    phone.assert_clean()
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(taken, DOCS_SHOT)
    docs = DOCS_SHOT.read_bytes()
    assert png_size(docs) == png_size(taken.read_bytes()) == (360, 740)
    assert len(docs) <= MAX_BYTES
