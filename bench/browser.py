"""Figure 7: time to a usable list on a phone's link, in headless Chromium, side by side.

Debian's /usr/bin/chromium, driven by Playwright (never `playwright install`), with the phone's
link emulated over CDP: Network.emulateNetworkConditions and Emulation.setCPUThrottlingRate.
Every moment is Chromium's own, from the page's navigation request: the HTML's arrival
(Network.loadingFinished), its first paint (Page.lifecycleEvent) and the moment the list is
usable (load(), the page's own clock reading placed by the request's wall time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, async_playwright

from bench.common import app_process, listed, simulated
from bench.results import Row

FIGURE = "7. Time to a usable list"
CHROMIUM = Path("/usr/bin/chromium")
# Headless on a machine without a GPU or a sandbox-capable kernel setup, quiet on the network.
# tests/browser.py launches it the same way; the bench imports nothing of the tests.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NETWORKS = 50
GOAL_RATIO = 50.0
GOAL_PAINT = 1.1
# A page whose list is not usable by then has failed.
LOAD_TIMEOUT = 180.0
# How often the page is asked whether its list is usable yet.
POLL = 0.01

# When the text of network `ssid` is laid out, visible, and its control (a summary, label,
# button, option...) enabled: the wall time of this check in ms since the epoch, else 0. Run
# through CDP, so it works with the page's JavaScript off too.
_USABLE = """ssid => {
  const root = document.body || document.documentElement;
  if (!root) return 0;
  const controls = "summary,label,button,a,option,[role=radio],[role=option],[role=button]";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.data.trim() !== ssid || !node.parentElement) continue;
    const control = node.parentElement.closest(controls) || node.parentElement;
    const shown = control.closest("select") || control;
    const box = shown.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(shown).visibility !== "visible") continue;
    if (shown.matches(":disabled") || control.querySelector(":disabled")) continue;
    return performance.timeOrigin + performance.now();
  }
  // A select widget that shows the chosen network as a field's value (balena's UI, a button
  // holding an input), not as text.
  for (const field of document.querySelectorAll("input")) {
    if (field.value !== ssid) continue;
    const shown = field.closest("button,label,[role=button],[role=combobox]") || field;
    const box = shown.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(shown).visibility !== "visible") continue;
    if (shown.matches(":disabled")) continue;
    return performance.timeOrigin + performance.now();
  }
  return 0;
}"""


@dataclass(frozen=True)
class Link:
    """The emulated phone: its network link and how much slower its CPU is."""

    kbit_per_s: float
    rtt_ms: float
    cpu_slowdown: float

    def describe(self) -> str:
        """As the table says it."""
        return f"{self.kbit_per_s:g} kbit/s, {self.rtt_ms:g} ms RTT, {self.cpu_slowdown:g}x CPU"


# Issue 11's phone on a poor hotspot link.
PHONE = Link(kbit_per_s=400, rtt_ms=400, cpu_slowdown=4)


@dataclass(frozen=True)
class Load:
    """One page load, in seconds from its navigation request."""

    html: float
    first_paint: float
    usable: float
    # Bytes the link carried (bodies as sent) for the requests done by the time it was usable.
    wire_bytes: int


@dataclass
class _Timeline:
    """The CDP events of one navigation, as they come."""

    request_id: str | None = None
    loader_id: str | None = None
    started: float | None = None
    # The same moment in the epoch's wall time, to place the page's own clock readings.
    started_wall: float | None = None
    html: float | None = None
    wire_bytes: int = 0
    paints: dict[str, float] = field(default_factory=dict)
    painted: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, event: dict[str, Any]) -> None:
        if self.request_id is None and event.get("type") == "Document":
            self.request_id = event["requestId"]
            self.loader_id = event["loaderId"]
            self.started = event["timestamp"]
            self.started_wall = event["wallTime"]

    def finished(self, event: dict[str, Any]) -> None:
        self.wire_bytes += int(event.get("encodedDataLength", 0))
        if event["requestId"] == self.request_id:
            self.html = event["timestamp"]
            self.arrived.set()

    def lifecycle(self, event: dict[str, Any]) -> None:
        if event["loaderId"] == self.loader_id and event["name"] in (
            "firstPaint",
            "firstContentfulPaint",
        ):
            self.paints[event["name"]] = event["timestamp"]
            self.painted.set()  # fmt: skip


def rows(spa: str, link: Link, runs: int, spa_runs: int) -> dict[str, Row]:
    """Figure 7's rows, keyed for measure()."""
    on = f"throttled ({link.describe()})"
    usable = "navigation → the list visible and clickable"
    return {
        "ours": Row(FIGURE, f"our page, JavaScript on: {usable}, {on}", "s"),
        "bare": Row(FIGURE, f"our page, JavaScript off: {usable}, {on}", "s"),
        "spa": Row(FIGURE, f"{spa}, gzipped by our portal: {usable} ({spa_runs} of {runs} runs)",
                   "s"),
        "ratio": Row(FIGURE, f"{spa}, gzipped by our portal / our page (JavaScript on)", "x",
                     f"≥ {GOAL_RATIO:g}x", lambda value: value >= GOAL_RATIO),
        "plain spa": Row(FIGURE, f"{spa}, sent uncompressed as balena's wifi-connect sends it "
                         f"(its server has no compression): {usable} (1 run)", "s"),
        "plain ratio": Row(FIGURE, f"{spa}, sent uncompressed / our page (JavaScript on)", "x",
                           f"≥ {GOAL_RATIO:g}x", lambda value: value >= GOAL_RATIO),
        "html": Row(FIGURE, "our page, JavaScript on: the HTML arrived (its last byte)", "s"),
        "paint": Row(FIGURE, "our page, JavaScript on: first paint", "s"),
        "paint ratio": Row(FIGURE, "our page, JavaScript on: first paint / HTML arrival", "x",
                           f"≤ {GOAL_PAINT:g}x", lambda value: value <= GOAL_PAINT),
        "bare paint ratio": Row(FIGURE, "our page, JavaScript off: first paint / HTML arrival",
                                "x", f"≤ {GOAL_PAINT:g}x", lambda value: value <= GOAL_PAINT),
    }  # fmt: skip


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    if not await asyncio.to_thread(CHROMIUM.exists):
        raise RuntimeError(f"figure 7 needs Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def load(
    browser: Browser, url: str, ssid: str, link: Link, *, javascript: bool, compressed: bool = True
) -> Load:
    """Open `url` in a fresh phone-sized page on `link`; time it until `ssid` is usable.

    Usable: the network's name is laid out, visible and its control enabled, and the page has
    been painted (a list laid out behind a stylesheet still on its way is not on the screen).
    """
    context = await browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        timeline = _Timeline()
        cdp.on("Network.requestWillBeSent", timeline.request)
        cdp.on("Network.loadingFinished", timeline.finished)
        cdp.on("Page.lifecycleEvent", timeline.lifecycle)
        await cdp.send("Page.enable")
        await cdp.send("Page.setLifecycleEventsEnabled", {"enabled": True})
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if not compressed:
            # As from a server that never compresses: the browser asks for the files as they are.
            identity = {"headers": {"Accept-Encoding": "identity"}}
            await cdp.send("Network.setExtraHTTPHeaders", identity)
        bytes_per_s = link.kbit_per_s * 1000 / 8
        await cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": link.rtt_ms,
             "downloadThroughput": bytes_per_s, "uploadThroughput": bytes_per_s},
        )  # fmt: skip
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": link.cpu_slowdown})
        # The page's own script cannot tell (it may have none): the page is asked from the
        # start, through CDP (Playwright's goto returns well after the commit on a slow CPU), and
        # says when it was asked (an answer can wait long behind the page's own work).
        check = {"expression": f"({_USABLE})({json.dumps(ssid)})", "returnByValue": True}
        async with asyncio.timeout(LOAD_TIMEOUT):
            navigation = asyncio.create_task(page.goto(url, wait_until="commit"))
            while True:
                reply = await cdp.send("Runtime.evaluate", check)
                shown_ms = float(reply["result"].get("value") or 0)
                if shown_ms:
                    break
                await asyncio.sleep(POLL)
            await navigation
            await timeline.arrived.wait()
            await timeline.painted.wait()
        assert timeline.started_wall is not None and timeline.started is not None
        assert timeline.html is not None
        first_paint = min(timeline.paints.values()) - timeline.started
        shown = shown_ms / 1000 - timeline.started_wall
        painted = timeline.paints.get("firstContentfulPaint", first_paint) - timeline.started
        return Load(
            html=timeline.html - timeline.started,
            first_paint=first_paint,
            usable=max(shown, painted),
            wire_bytes=timeline.wire_bytes,
        )
    finally:
        await context.close()


async def _first_listed(url: str) -> str:
    """The name of the network the portal lists first (the strongest), once all are listed."""
    await listed(url, NETWORKS)
    async with aiohttp.ClientSession() as phone, phone.get(f"{url}networks") as response:
        names: list[dict[str, Any]] = await response.json()
    return str(names[0]["ssid"])


async def measure(
    figures: dict[str, Row], spa_directory: Path, link: Link, runs: int, spa_runs: int
) -> str:
    """Our page `runs` times with JavaScript and without, the SPA `spa_runs` times; one ratio.

    Each app has a simulator of its own: two flows on one radio would fight over it. Returns
    a note on what the link carried, which bounds the ratio.
    """
    async with chromium() as browser:
        async with simulated(NETWORKS) as sim, app_process(sim.address) as ours:
            ssid = await _first_listed(ours.url)
            for _ in range(runs):
                page = await load(browser, ours.url, ssid, link, javascript=True)
                figures["ours"].values.append(page.usable)
                figures["html"].values.append(page.html)
                figures["paint"].values.append(page.first_paint)
                figures["paint ratio"].values.append(page.first_paint / page.html)
                bare = await load(browser, ours.url, ssid, link, javascript=False)
                figures["bare"].values.append(bare.usable)
                figures["bare paint ratio"].values.append(bare.first_paint / bare.html)
        async with (
            simulated(NETWORKS) as sim,
            app_process(sim.address, ui_directory=spa_directory) as spa,
        ):
            await listed(spa.url, NETWORKS)
            for _ in range(spa_runs):
                loaded = await load(browser, spa.url, ssid, link, javascript=True)
                figures["spa"].values.append(loaded.usable)
            plain = await load(browser, spa.url, ssid, link, javascript=True, compressed=False)
            figures["plain spa"].values.append(plain.usable)
    ours_median = statistics.median(figures["ours"].values[-runs:])
    figures["ratio"].values.append(
        statistics.median(figures["spa"].values[-spa_runs:]) / ours_median
    )
    figures["plain ratio"].values.append(plain.usable / ours_median)
    return _link_note(link, page, loaded, plain)


def _link_note(link: Link, ours: Load, spa: Load, plain: Load) -> str:
    """What each page had the link carry before its list was usable, and how long that takes."""
    seconds = spa.wire_bytes * 8 / (link.kbit_per_s * 1000)
    return (
        f"Figure 7, what the link carried before the list was usable (last runs): our page "
        f"{ours.wire_bytes / 1e3:.1f} KB, the single-page app {spa.wire_bytes / 1e3:.0f} KB "
        f"gzipped and {plain.wire_bytes / 1e3:.0f} KB uncompressed; at {link.kbit_per_s:g} kbit/s "
        f"the gzipped app's bytes alone take {seconds:.1f} s, {100 * seconds / spa.usable:.0f}% "
        f"of its {spa.usable:.1f} s (our page: {ours.usable:.2f} s). Our page waits mostly on "
        f"the link itself (its request's round trips, {link.rtt_ms:g} ms each, and its HTML's "
        f"bytes), so a 50x ratio needs an app that takes {50 * ours.usable:.0f} s: only an app "
        f"sent uncompressed comes near that."
    )
