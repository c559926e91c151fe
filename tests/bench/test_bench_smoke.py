"""The bench's smoke run: `scripts/bench --quick` runs and writes a row for every figure.

The values are not checked (a shared CI machine's timings prove nothing); that the bench still
runs, and that its table still names every figure of issue 11 with its goal, is.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = [
    "1. Time to portal",
    "2. Submit to proven",
    "3. Memory",
    "4. Phones at once",
    "5. Scan cost",
    "6. Bytes on the wire",
    "7. Time to a usable list",
    "8. Reachability",
]
# What bench/results.py writes for a row without values (tests/bench shadows the bench package).
NOT_MEASURED = "not measured yet"
# Measures that a smoke run fills in, not only lists: (figure, the start of its measure).
MEASURED = [
    ("2. Submit to proven", "POST /connect → reachability proven, wall"),
    ("2. Submit to proven", "POST /connect → reachability proven, our overhead"),
    ("3. Memory", "6 s --watch soak, uplink flaps every 2 s"),
    ("3. Memory", "the soak: asyncio tasks gained"),
    ("3. Memory", "the soak: file descriptors gained"),
    ("3. Memory", "the soak: D-Bus match rules gained"),
]


def test_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    committed = ROOT / "bench" / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    done = subprocess.run(
        [str(ROOT / "scripts" / "bench"), "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    text = output.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| \d\. ", line)]
    for figure in FIGURES:
        assert any(row.startswith(f"| {figure} |") for row in rows), f"no row for {figure}"
    # Each row: figure, measure, value (or why not), goal, verdict.
    assert all(row.count(" | ") == 4 for row in rows), rows
    # Figures 6 and 7 are measured, Chromium's included, not placeholders.
    measured = [row for row in rows if row.startswith(("| 6. ", "| 7. "))]
    assert measured, rows
    assert not [row for row in measured if NOT_MEASURED in row or "failed" in row], measured
    cells = [row.strip("| ").split(" | ") for row in rows]
    for figure, measure in MEASURED:
        (value,) = [c[2] for c in cells if c[0] == figure and c[1].startswith(measure)]
        assert value[0].isdigit() or value[0] == "-", f"{figure}, {measure}: {value}"
    for header in ("- Date:", "- Machine:", "- Commit:", "- Load average at start:"):
        assert header in text
    # A run given --output leaves the committed table alone.
    assert (committed.read_bytes() if committed.exists() else None) == before
