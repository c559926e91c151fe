"""`python -m bench`: run every figure of issue 11 several times and write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench import (
    analysis,
    browser,
    load,
    page_bytes,
    reachability,
    scan,
    soak,
    spa,
    startup,
    submit,
)
from bench.common import compile_bytecode
from bench.results import Row, render

RESULTS = Path(__file__).with_name("RESULTS.md")
# The sizes; a size whose simulator fails to start says so in its rows.
SCAN_SIZES = (5, 50, 200)
# A 1-minute load average from which the header says the machine was busy when the run began.
BUSY = 0.5


# How the figures are taken, for the reader of RESULTS.md.
METHOD = (
    "The app runs alone in its own process (`python -m bench.app_process`: the flow and portal of "
    "`wifi-connect run`, served on 127.0.0.1 because `run` itself needs dnsmasq and the hotspot's "
    "address on a real interface); the simulated NetworkManager runs in the bench's process, on "
    "a private dbus-daemon, every delay at zero, so only the app is timed and measured.",
    "The app's modules are byte-compiled first, as pip and the .deb's postinst do on a "
    "device. Figure 1's CPU is the app process's user + system time (/proc/<pid>/stat) when "
    "its first probe is answered; figure 3 is its VmHWM after the page, list, status, a probe "
    "and the CSS were served.",
    "Figure 2: a fresh app process per run, with the device's Timings, proves each new link "
    "with its three checks (`check_https`, `check_ntp`, `check_dns` of app.flow.reachability, "
    "bound to the link's interface, the system's CA store loaded during the answer grace as "
    "`run` does) against the bench's servers on 127.0.0.1: the simulated device's IpInterface is "
    "`lo` and the joined network's DNS server is the bench's (scenario `ip_interface`, "
    "`ip4.dns`); the servers' ports are passed in because an unprivileged bench cannot bind 123 "
    "and 53. A phone posts /connect as JSON (the portal's page and scripts; a form also needs "
    "the page's CSRF token, which changes nothing after it). The end is the app's own log line "
    "'Reachability proven', stamped in the app with time.monotonic(), the clock the POST is "
    "stamped with, so no polling delay enters the figure. Subtracted: the answer grace "
    "(Timings.answer_grace, a fixed wait for the phone's answer to get out before the hotspot "
    "goes), the simulator's configured deactivation (hotspot) and activation delays, and the "
    "servers' own latency, measured in the same run just before the POST (the slowest of the "
    "three checks run at once from the bench's process). What is left also holds the "
    "simulator's own time to answer the app's D-Bus calls, which runs in the bench's process: "
    "on a busy machine both wait for a core.",
    "Figure 3's soak: `run --watch` in its own process with the watch's waits shortened "
    f"({', '.join(f'{key} {value:g} s' for key, value in soak.TIMINGS.items())}) so that each "
    "flap goes the whole way round: the bench takes the joined network down, the app sees the "
    "uplink gone, brings the portal back, a phone submits the network again, the app joins it "
    "and proves it against the bench's servers. After the warm-up flaps and at the end, in the "
    "same quiet moment before the next flap: RSS (/proc/<pid>/statm), open descriptors "
    "(/proc/<pid>/fd), live asyncio tasks (SIGUSR1 to bench.app_process, which writes them "
    "back), and the match rules the dbus-daemon holds for the app's connection "
    "(org.freedesktop.DBus.Debug.Stats GetConnectionStats `MatchRules`, the daemon's own "
    "count). Each flap's quiet moment waits for the round's end (the hotspot profile removed) "
    "and a settle, so a slow flap on a busy machine is read in the same phase. The default run "
    "soaks briefly; `--soak` runs the 10 minutes. bench.app_process --trace-memory N names "
    "where memory grew (tracemalloc); so the soak found aiohttp's middleware cache keeping every "
    "closed portal's app alive (0.9 MB a flap), which app.portal.server now clears.",
    "Figure 4: each phone has its own source address on 127.0.1.0/24 and one connection; the "
    "D-Bus calls are the simulator's call log during the load minus the calls the idle flow "
    "makes in as long without phones (measured once, in the first run).",
    "Figure 5: the simulated NetworkManager runs in a process of its own (`python -m "
    "app.simulator`), as the real one does; the calls are counted on the adapter's side of the "
    "bus and its CPU time is the bench process's own (time.process_time) during the scan.",
    "Figure 6: the app in its own process (50 networks); each body is counted as it crossed the "
    "wire (the client does not decompress), for the page at / and every file its HTML names, "
    "plus /favicon.ico (browsers ask for it). The bundle is generated at bench time (minified-"
    "looking filler, `bench/spa.py`) under a hashed name in a UI_DIRECTORY; 'before' is its raw "
    "size, what the portal sent whatever the phone accepted until gzip came. Measured once: "
    "the same files give the same bytes every run.",
    "Figure 7: Debian's Chromium, headless, driven by Playwright, one fresh phone-sized context "
    "a load (empty cache), with CDP's Network.emulateNetworkConditions (download and upload "
    "at the link's rate, the RTT as latency) and Emulation.setCPUThrottlingRate. Times run from "
    "the page's navigation request, in Chromium's own clock (CDP timestamps; the page's own "
    "readings placed by the request's wall time): the HTML's "
    "arrival is its Network.loadingFinished, first paint the firstPaint lifecycle event. The "
    "list is usable once the strongest network's name is laid out, visible, its control "
    "(summary, label, button, option) enabled, and the page has had its first contentful "
    "paint. The page is asked every 10 ms through CDP (Runtime.evaluate, which works with its "
    "JavaScript off) and answers with the time it was asked, from the first moment of the "
    "navigation: an answer can wait long behind the page's own work on a slow CPU. The single-"
    "page app is, unless --peer-ui names one, "
    "a generated stand-in (`bench/spa.py`): a hashed bundle of minified-looking filler that, "
    "once run, fetches /networks and lists them as radio buttons. The app serves it as its "
    "UI_DIRECTORY, gzipped, and once more uncompressed (the browser asks with Accept-Encoding: "
    "identity), as balena's wifi-connect sends it: its server has no compression. The stand-in "
    "does less work at start than a real React UI, so it flatters the SPA; at 11 s to 45 s a "
    "load it runs fewer times than our page (the rows say how many).",
    "Figure 8: servers on 127.0.0.1 (TLS with a throwaway certificate, SNTP, DNS); a blocked "
    "service accepts or receives and never answers. CHECK_TIMEOUT is shortened so that the "
    "bench stays within its 5 minutes.",
)


@dataclass(frozen=True)
class Settings:
    """How big and how long: the default bench, or --quick's tiny counts."""

    runs: int
    clients: int
    load_seconds: float
    burst_seconds: float
    check_timeout: float
    scan_sizes: tuple[int, ...]
    # Figures 6 and 7: the single-page app's bundle, how often it is loaded, and the link.
    bundle_bytes: int
    spa_runs: int
    link: browser.Link
    soak: soak.Plan


DEFAULT = Settings(runs=3, clients=200, load_seconds=20, burst_seconds=5, check_timeout=1.0,
                   scan_sizes=SCAN_SIZES, bundle_bytes=spa.BUNDLE_BYTES, spa_runs=1,
                   link=browser.PHONE, soak=soak.Plan(seconds=30, period=5))  # fmt: skip
# A smoke run: Chromium still loads all three pages, on a fast link with a small bundle.
QUICK = Settings(runs=1, clients=10, load_seconds=1, burst_seconds=0.5, check_timeout=0.2,
                 scan_sizes=(2, 5), bundle_bytes=100_000, spa_runs=1,
                 link=browser.Link(kbit_per_s=8000, rtt_ms=20, cpu_slowdown=1),
                 soak=soak.Plan(seconds=6, period=2))  # fmt: skip
# --soak: the 10 minutes.
FULL_SOAK = soak.Plan(seconds=600, period=5)
# Figure 2's checks may take this long; the servers answer in milliseconds.
SUBMIT_CHECK_TIMEOUT = 2.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--runs", type=int, help="runs per figure [default: 3, --quick 1]")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the table")
    parser.add_argument(
        "--peer-ui", metavar="DIR", type=Path, help="a UI_DIRECTORY to compare with in figure 7"
    )
    parser.add_argument(
        "--soak",
        action="store_true",
        help="figure 3's --watch soak for the full 10 minutes (the default run soaks briefly)",
    )
    return parser  # fmt: skip


def _spa_name(peer_ui: Path | None, bundle_bytes: int) -> str:
    """How figure 7 names the single-page app it compares with."""
    if peer_ui is None:
        return f"a {bundle_bytes / 1e6:.1f} MB single-page app (generated stand-in)"
    size = sum(path.stat().st_size for path in peer_ui.rglob("*") if path.is_file())
    return f"the UI in {peer_ui} ({size / 1e6:.1f} MB of files)"


async def _repeat(runs: int, measure: Callable[[], Awaitable[None]]) -> None:
    for _ in range(runs):
        await measure()


async def _bench(settings: Settings, notes: list[str], peer_ui: Path | None) -> list[Row]:
    """Every implemented figure, `settings.runs` times each; the rows in the issue's order."""
    first = startup.rows()
    await _repeat(settings.runs, lambda: startup.measure(first))
    notes.append(startup.import_note(settings.runs, first))
    notes.append(startup.packages_note())
    notes.extend(analysis.startup_notes(first))
    for _ in range(settings.runs):
        startup.measure_help(first)
    proven = submit.rows()
    for _ in range(settings.runs):
        steps = await submit.measure(proven, SUBMIT_CHECK_TIMEOUT)
    notes.append(
        f"Figure 2, where one submission's time went (last run): {submit.breakdown(steps)}."
    )
    soaked = soak.rows(settings.soak)
    notes.append(await soak.measure(soaked, settings.soak))
    phones = load.rows(settings.clients, settings.load_seconds)
    calls: dict[str, int] = {}
    quiet: int | None = None
    for _ in range(settings.runs):
        calls, quiet = await load.measure(
            phones, settings.clients, settings.load_seconds, settings.burst_seconds, quiet
        )
    during = ", ".join(f"{method} x{count}" for method, count in sorted(calls.items()))
    notes.append(
        f"Figure 4, the D-Bus calls during the paced load (last run): {during or 'none'}; "
        f"the idle flow made {quiet} in as long without phones."
    )
    scans = scan.rows(settings.scan_sizes)
    await _repeat(settings.runs, lambda: scan.measure(scans, settings.scan_sizes))
    largest = settings.scan_sizes[-1]
    notes.append(analysis.scan_note(scans, await scan.profile(largest), largest))
    wire = page_bytes.rows(settings.bundle_bytes)
    lists = browser.rows(
        _spa_name(peer_ui, settings.bundle_bytes), settings.link, settings.runs, settings.spa_runs
    )
    with tempfile.TemporaryDirectory(prefix="bench-spa-") as generated:
        bundle = spa.write_ui(Path(generated), settings.bundle_bytes)
        # Once: the same page and files give the same bytes every time.
        notes.append(page_bytes.note(await page_bytes.measure(wire, Path(generated), bundle)))
        notes.append(
            await browser.measure(
                lists, peer_ui or Path(generated), settings.link, settings.runs, settings.spa_runs
            )
        )
    checks = reachability.rows(settings.check_timeout)
    await _repeat(settings.runs, lambda: reachability.measure(checks, settings.check_timeout))
    one = [
        first[key]
        for key in ("wall", "cpu", "list", "imports", "run imports", "stack imports", "help wall",
                    "help rss")
    ]  # fmt: skip
    memory = [first[key] for key in ("rss", "imported", "stack rss")]
    return [
        *one,
        *proven.values(),
        *memory,
        *soaked.values(),
        *phones.values(),
        *scans.values(),
        *wire.values(),
        *lists.values(),
        *checks.values(),
    ]


def main() -> None:
    """Parse the flags, run the bench, write the table."""
    parser = _parser()
    args = parser.parse_args()
    if args.peer_ui is not None:
        if not (args.peer_ui / "index.html").is_file():
            parser.error(f"--peer-ui {args.peer_ui}: no index.html there (a prebuilt UI needs one)")
        # The app process runs in the checkout: a relative path must not change meaning there.
        args.peer_ui = args.peer_ui.resolve()
    logging.basicConfig(level=logging.WARNING)
    settings = QUICK if args.quick else DEFAULT
    if args.runs:
        spa_runs = min(settings.spa_runs, args.runs)
        settings = Settings(**{**settings.__dict__, "runs": args.runs, "spa_runs": spa_runs})
    if args.soak:
        settings = Settings(**{**settings.__dict__, "soak": FULL_SOAK})
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if float(load_average.split()[0]) >= BUSY:
        load_average += " (the machine was busy with other work: the timings are pessimistic)"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    compile_bytecode()
    notes = list(METHOD)
    rows = asyncio.run(_bench(settings, notes, args.peer_ui))
    text = render(
        rows,
        date=date,
        load=load_average,
        runs=settings.runs,
        seconds=time.monotonic() - started,
        notes=notes,
    )
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
