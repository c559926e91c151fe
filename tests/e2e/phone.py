"""The phone: headless Chromium in the e2e-phone namespace, driven one JSON command per line.

Run as `ip netns exec e2e-phone .venv/bin/python -m tests.e2e.phone SCREENSHOT_DIR` from the
checkout; it resolves
names through /etc/resolv.conf (ip netns exec mounts /etc/netns/e2e-phone/resolv.conf there),
so every name goes to the hotspot's dnsmasq, as on a real phone. It prints {"ready": true},
then answers each command on stdin with one JSON line on stdout:

  {"cmd": "open", "url": U[, "lands": L]}
                                        go to U (and wait to land on L); -> {"url", "heading"}
  {"cmd": "submit", "ssid": S, "password": P}
                                        on the portal page, open S's row, type P, press
                                        Connect, wait for the connecting page
                                        -> {"url", "heading", "clicked_at"} (time.monotonic())
  {"cmd": "wait_alert", "timeout": T}   wait (the connecting page goes back to the portal by
                                        itself once the hotspot is back) -> {"url", "alert"}
  {"cmd": "shot", "name": N}            full-page screenshot SCREENSHOT_DIR/N.png -> {}
  {"cmd": "quit"}                       -> {"errors": [script and console errors seen]}

A failed command answers {"error": "..."} and the phone goes on.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tests.browser import Page, Phone, chromium, open_phone

NAVIGATION_TIMEOUT_MS = 15_000


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _heading(page: Page) -> str:
    heading = page.locator("h1").first
    return (await heading.text_content() or "").strip() if await heading.count() else ""


async def _open(page: Page, command: dict[str, Any]) -> dict[str, Any]:
    await page.goto(command["url"], timeout=NAVIGATION_TIMEOUT_MS)
    if "lands" in command:
        # Android's probe gets a page whose refresh leads on to the portal, not a redirect.
        await page.wait_for_url(command["lands"], timeout=NAVIGATION_TIMEOUT_MS)
    return {"url": page.url, "heading": await _heading(page)}


async def _submit(phone: Phone, command: dict[str, Any]) -> dict[str, Any]:
    page = phone.page
    row = phone.row(command["ssid"])
    await row.locator(":scope > summary").click()
    await row.get_by_label("Password", exact=True).fill(command["password"])
    clicked_at = time.monotonic()
    await row.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting"), timeout=NAVIGATION_TIMEOUT_MS)
    await page.get_by_role("heading").first.wait_for()
    return {"url": page.url, "heading": await _heading(page), "clicked_at": clicked_at}


async def _wait_alert(page: Page, command: dict[str, Any]) -> dict[str, Any]:
    alert = page.get_by_role("alert").first
    await alert.wait_for(timeout=float(command.get("timeout", 30)) * 1000)
    return {"url": page.url, "alert": (await alert.text_content() or "").strip()}


async def main(shots: Path) -> None:
    """Serve commands until "quit" or the end of stdin."""
    loop = asyncio.get_running_loop()
    async with chromium() as browser:
        phone = await open_phone(browser)
        page = phone.page
        _reply({"ready": True})
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            name = command.get("cmd")
            try:
                if name == "open":
                    _reply(await _open(page, command))
                elif name == "submit":
                    _reply(await _submit(phone, command))
                elif name == "wait_alert":
                    _reply(await _wait_alert(page, command))
                elif name == "shot":
                    await page.screenshot(
                        path=str(shots / f"{command['name']}.png"), full_page=True
                    )
                    _reply({})
                elif name == "quit":
                    break
                else:
                    _reply({"error": f"unknown command {name!r}"})
            except Exception as err:
                # Any failure is the test's to judge: it reads the reason and fails there.
                _reply({"error": f"{type(err).__name__}: {err}", "url": page.url})
    _reply({"errors": phone.errors + [f"dialog: {text}" for text in phone.dialogs]})


if __name__ == "__main__":
    screenshots = Path(sys.argv[1])
    screenshots.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(screenshots))
