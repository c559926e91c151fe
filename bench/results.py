"""The figures' rows and bench/RESULTS.md: median (min-max) of several runs beside each goal."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NOT_MEASURED = "not measured yet"


@dataclass
class Row:
    """One measure of a figure over its runs, with its goal; no values: not measured."""

    figure: str
    measure: str
    unit: str
    goal: str = ""
    # Whether a value meets the goal; None: the row has no goal of its own.
    meets: Callable[[float], bool] | None = None
    values: list[float] = field(default_factory=list)
    note: str = ""
    # Why runs that gave no value failed, one entry a failed run.
    failures: list[str] = field(default_factory=list)

    def cell(self) -> str:
        """median (min-max) unit, or why there is no value; failed runs are counted."""
        failed = ""
        if self.failures:
            runs = len(self.failures) + len(self.values)
            failed = f"{len(self.failures)} of {runs} runs failed: {self.failures[-1]}"
        if not self.values:
            return failed or self.note or NOT_MEASURED
        low, middle, high = min(self.values), statistics.median(self.values), max(self.values)
        value = f"{_number(middle)} ({_number(low)}-{_number(high)}) {self.unit}"
        if low == high:
            value = f"{_number(middle)} {self.unit}"
        return f"{value}; {failed}" if failed else value

    def verdict(self) -> str:
        """met / NOT met by the median, or a dash without a goal or a value."""
        if self.meets is None or not self.values:
            return "-"
        return "met" if self.meets(statistics.median(self.values)) else "**NOT met**"


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 10:
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.4g}"


def machine() -> str:
    """CPU model, cores, RAM, kernel and Python version of this machine."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            ram_kib = int(line.split()[1])
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram_kib / 2**20:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def commit() -> str:
    """The checkout's commit, marked when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def render(
    rows: Sequence[Row], *, date: str, load: str, runs: int, seconds: float, notes: Sequence[str]
) -> str:
    """RESULTS.md: the header lines, the table, then what was found along the way."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `./scripts/bench`; do not edit by hand. Each value is the median of the runs,",
        "with the lowest and highest in brackets.",
        "",
        f"- Date: {date}",
        f"- Machine: {machine()}",
        f"- Load average at start: {load}",
        f"- Commit: {commit()}",
        f"- Runs per figure: {runs}; the whole bench took {seconds:.0f} s",
        f"- Command: `{' '.join(['./scripts/bench', *sys.argv[1:]])}`",
        "",
        "| Figure | Measure | Median (min-max) | Goal | Met |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {row.figure} | {row.measure} | {row.cell()} | {row.goal or '-'} | {row.verdict()} |"
        for row in rows
    ]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
