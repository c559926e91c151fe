"""Figure 6: bytes on the wire. Our page's first load, and a large bundle in a UI_DIRECTORY.

Each body is counted as it crosses the wire (aiohttp's auto_decompress off): raw is what a
phone that takes no gzip gets, "as sent" what a phone sending `Accept-Encoding: gzip` gets.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import aiohttp

from bench.common import app_process, listed, simulated
from bench.results import Row

FIGURE = "6. Bytes on the wire"
# As figure 3: a crowded street; the page lists the strongest and links to the rest.
NETWORKS = 50
BUDGET_KB = 30.0
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
_MAX_AGE = re.compile(r"max-age=(\d+)")


def rows(bundle_bytes: int) -> dict[str, Row]:
    """Figure 6's rows, keyed for measure()."""
    bundle = f"a {bundle_bytes / 1e6:.1f} MB JS bundle in a UI_DIRECTORY"
    return {
        "raw": Row(FIGURE, f"first load of our page ({NETWORKS} networks): HTML + CSS, JS, logo, "
                   "favicon, raw", "KB", f"≤ {BUDGET_KB:g} KB raw",
                   lambda value: value <= BUDGET_KB),
        "sent": Row(FIGURE, "the same first load, as sent with Accept-Encoding: gzip", "KB"),
        "before": Row(FIGURE, f"{bundle}: sent before (always as is)", "KB"),
        "after": Row(FIGURE, f"{bundle}: sent now, gzip accepted", "KB",
                     "compressed when accepted", lambda value: value < bundle_bytes / 1000 / 2),
        "cached": Row(FIGURE, "its hashed name: Cache-Control max-age", "days",
                      "cacheable (before: no-store)", lambda value: value > 0),
    }  # fmt: skip


class _Subresources(HTMLParser):
    """What a browser fetches besides the page: stylesheets, scripts, images, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value for name, value in attrs if value}
        source = named.get("href") if tag == "link" else named.get("src")
        if tag in ("link", "script", "img") and source:
            self.paths.append(source)


async def _body_bytes(phone: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> int:
    """Bytes of the body as sent (compressed or not)."""
    async with phone.get(url, headers=headers) as response:
        response.raise_for_status()
        return len(await response.read())


async def first_load(url: str, headers: dict[str, str]) -> dict[str, int]:
    """Body bytes of the page at `url` and of each subresource it names, plus /favicon.ico."""
    async with aiohttp.ClientSession(auto_decompress=False) as phone:
        async with phone.get(url, headers=IDENTITY) as response:
            html = (await response.read()).decode()
        parser = _Subresources()
        parser.feed(html)
        # A page without a <link rel=icon> gets asked for this one all the same.
        paths = ["/", *parser.paths, "/favicon.ico"]
        return {path: await _body_bytes(phone, url + path.lstrip("/"), headers) for path in paths}


async def measure(figures: dict[str, Row], ui_directory: Path, bundle_path: str) -> dict[str, int]:
    """One run: our page's first load, then the bundle of the UI in `ui_directory`.

    Returns the first load's raw bytes by path.
    """
    async with simulated(NETWORKS) as sim:
        async with app_process(sim.address) as app:
            await listed(app.url, NETWORKS)
            raw = await first_load(app.url, IDENTITY)
            figures["raw"].values.append(sum(raw.values()) / 1e3)
            figures["sent"].values.append(sum((await first_load(app.url, GZIP)).values()) / 1e3)
        async with (
            app_process(sim.address, ui_directory=ui_directory) as app,
            aiohttp.ClientSession(auto_decompress=False) as phone,
        ):
            bundle = app.url + bundle_path.lstrip("/")
            figures["before"].values.append(await _body_bytes(phone, bundle, IDENTITY) / 1e3)
            figures["after"].values.append(await _body_bytes(phone, bundle, GZIP) / 1e3)
            async with phone.head(bundle) as response:
                kept = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
            figures["cached"].values.append(int(kept[1]) / 86400 if kept else 0)
    return raw


def note(url_sizes: dict[str, int]) -> str:
    """The first load, file by file, for the notes."""
    files = ", ".join(f"{path} {size / 1e3:.1f}" for path, size in url_sizes.items())
    return f"Figure 6, our page's first load by file, raw KB: {files}."
