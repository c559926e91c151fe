"""Headless Chromium at a phone's size, for the portal's browser tests (skips when missing)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:
    from playwright.async_api import Browser, Dialog, Locator, Page, async_playwright, expect
except ImportError:
    pytest.skip(
        "the browser tests need the playwright package (pip install playwright)",
        allow_module_level=True,
    )

__all__ = [
    "Browser",
    "Page",
    "Phone",
    "assert_shown_as_text",
    "chromium",
    "expect",
    "join",
    "open_phone",
]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Browser]:
    """Debian's Chromium, launched headless with the flags this machine needs, and `args`."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*ARGS, *args]
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Phone:
    """A page at a phone's size that remembers script errors, console errors and dialogs."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> None:
        """Save a full-page screenshot under test-artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def row(self, ssid: str) -> Locator:
        """The <details> of a listed network, by its exact name."""
        name = self.page.locator(".ssid").filter(has_text=re.compile(f"^{re.escape(ssid)}$"))
        return self.page.locator("details").filter(has=name)

    def assert_clean(self, *expected: str) -> None:
        """No script error, no CSP violation, no dialog; `expected` console errors excepted."""
        assert [error for error in self.errors if not any(e in error for e in expected)] == []
        assert self.dialogs == []


async def open_phone(
    browser: Browser,
    url: str | None = None,
    *,
    javascript: bool = True,
    locale: str = "en-US",
    scale: int = 2,
) -> Phone:
    """A new phone-sized page (360x740, touch, mobile viewport), at `url` when one is given.

    `locale` sets Accept-Language; `scale` is the device pixel ratio (screenshots' pixels).
    """
    context = await browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=scale,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
        locale=locale,
    )
    phone = Phone(await context.new_page())
    phone.page.on("pageerror", lambda error: phone.errors.append(str(error)))
    phone.page.on(
        "console",
        lambda message: phone.errors.append(message.text) if message.type == "error" else None,
    )

    async def dismiss(dialog: Dialog) -> None:
        phone.dialogs.append(dialog.message)
        await dialog.dismiss()

    phone.page.on("dialog", dismiss)
    if url is not None:
        await phone.page.goto(url)
    return phone


async def join(
    phone: Phone,
    ssid: str,
    password: str,
    *,
    identity: str | None = None,
    shot: str | None = None,
) -> None:
    """Open a listed network's row, fill it in and submit; wait for the next page."""
    row = phone.row(ssid)
    await row.locator(":scope > summary").click()
    if identity is not None:
        await row.get_by_label("User name").fill(identity)
    await row.get_by_label("Password", exact=True).fill(password)
    if shot:
        await phone.shot(shot)
    await row.get_by_role("button", name="Connect").click()
    await phone.page.wait_for_url(re.compile(r"/connecting\?ssid="))


async def assert_shown_as_text(phone: Phone, *names: str) -> None:
    """Each name shows as its own text, and none of them made an element or ran a script."""
    for name in names:
        await expect(phone.page.get_by_text(name, exact=True)).to_be_visible()
    assert await phone.page.locator("img[src=x]").count() == 0
    assert await phone.page.locator("script:not([src])").count() == 0
