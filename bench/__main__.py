"""`python -m bench`: run every figure of issue 11 several times and write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench import analysis, load, reachability, scan, startup
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
    "Figure 4: each phone has its own source address on 127.0.1.0/24 and one connection; the "
    "D-Bus calls are the simulator's call log during the load minus the calls the idle flow "
    "makes in as long without phones (measured just before).",
    "Figure 5: the simulated NetworkManager runs in a process of its own (`python -m "
    "app.simulator`), as the real one does; the calls are counted on the adapter's side of the "
    "bus and its CPU time is the bench process's own (time.process_time) during the scan.",
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


DEFAULT = Settings(runs=3, clients=200, load_seconds=20, burst_seconds=5, check_timeout=2.0,
                   scan_sizes=SCAN_SIZES)  # fmt: skip
QUICK = Settings(runs=1, clients=10, load_seconds=1, burst_seconds=0.5, check_timeout=0.2,
                 scan_sizes=(2, 5))  # fmt: skip


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
        help="also figure 3's 10-minute --watch soak (not in the default run)",
    )
    return parser  # fmt: skip


def _planned(peer_ui: Path | None) -> list[Row]:
    """The figures nobody measures yet, with their goals, so the table lists all of them."""
    peer = f" (--peer-ui {peer_ui} given)" if peer_ui else ""
    return [
        Row("2. Submit to proven", "POST /connect → reachability proven, our overhead", "ms",
            "< 100 ms"),
        Row("6. Bytes on the wire", "first load of our page (HTML, CSS, JS, logo), raw", "KB",
            "≤ 30 KB raw"),
        Row("6. Bytes on the wire", "a large JS bundle in a UI_DIRECTORY, sent, before/after", "KB",
            "compressed when accepted, hashed assets cacheable"),
        Row("7. Time to a usable list", f"our page vs a 2 MB single-page app, throttled{peer}",
            "x", "≥ 50x faster"),
        Row("7. Time to a usable list", "first paint / HTML arrival, throttled", "x", "≤ 1.1x"),
    ]  # fmt: skip


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
    phones = load.rows(settings.clients, settings.load_seconds)
    calls: dict[str, int] = {}
    quiet = 0
    for _ in range(settings.runs):
        calls, quiet = await load.measure(
            phones, settings.clients, settings.load_seconds, settings.burst_seconds
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
    checks = reachability.rows(settings.check_timeout)
    await _repeat(settings.runs, lambda: reachability.measure(checks, settings.check_timeout))
    planned = _planned(peer_ui)
    one = [
        first[key]
        for key in ("wall", "cpu", "list", "imports", "run imports", "stack imports", "help wall",
                    "help rss")
    ]  # fmt: skip
    memory = [first[key] for key in ("rss", "imported", "stack rss", "soak")]
    return [
        *one,
        planned[0],
        *memory,
        *phones.values(),
        *scans.values(),
        *planned[1:],
        *checks.values(),
    ]


def main() -> None:
    """Parse the flags, run the bench, write the table."""
    args = _parser().parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = QUICK if args.quick else DEFAULT
    if args.runs:
        settings = Settings(**{**settings.__dict__, "runs": args.runs})
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if float(load_average.split()[0]) >= BUSY:
        load_average += " (the machine was busy with other work: the timings are pessimistic)"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    compile_bytecode()
    notes = list(METHOD)
    rows = asyncio.run(_bench(settings, notes, args.peer_ui))
    if args.peer_ui:
        notes.append(f"--peer-ui {args.peer_ui} was given; figure 7 is not measured yet.")
    if args.soak:
        notes.append("--soak was given; the soak of figure 3 is not measured yet.")
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
