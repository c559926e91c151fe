"""The wall clock may jump (a Pi without a battery-backed clock syncs over NTP): no bound reads it.

Every timeout and pause in app/ runs on the monotonic clock (time.monotonic, the event loop's
time, the injected Clock). The first test reads every module for a wall-clock read, so a new
one cannot slip in; the second jumps the wall clock a year either way during a bounded wait.
"""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path

import pytest

import app
from app.nm.bus import SignalSubscription

APP = Path(app.__file__).parent
# Calls that read the wall clock, as (module or class, function).
WALL_CLOCK = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "asctime"),
    ("time", "strftime"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
YEAR = 365 * 24 * 3600.0


def _wall_clock_reads(source: str) -> list[str]:
    """Each wall-clock read in a module's source, as "line: owner.function"."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                if (node.module, alias.name) in WALL_CLOCK:
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.attr) in WALL_CLOCK:
            found.append(f"{node.lineno}: {name}.{node.attr}")
    return found


def test_the_finder_sees_each_form_of_wall_clock_read() -> None:
    source = (
        "import time, datetime\nfrom time import time_ns\n"
        "a = time.time()\nb = datetime.datetime.now()\nc = datetime.date.today()\n"
        "d = time.monotonic()\n"
    )
    assert _wall_clock_reads(source) == [
        "2: from time import time_ns",
        "3: time.time",
        "4: datetime.now",
        "5: date.today",
    ]


def test_no_module_of_the_app_reads_the_wall_clock() -> None:
    modules = sorted(APP.rglob("*.py"))
    assert len(modules) > 40, "the app's modules were found"
    reads = {
        str(path.relative_to(APP)): found
        for path in modules
        if (found := _wall_clock_reads(path.read_text(encoding="utf-8")))
    }
    assert reads == {}


@pytest.mark.parametrize("jump", [YEAR, -YEAR], ids=["year-forward", "year-back"])
async def test_a_bounded_wait_ends_on_time_when_the_wall_clock_jumps(
    monkeypatch: pytest.MonkeyPatch, jump: float
) -> None:
    real = time.time
    jumped = asyncio.Event()

    async def settled(_signal: object) -> bool:
        # Partway through the wait, the wall clock jumps (as NTP setting it would).
        if not jumped.is_set():
            monkeypatch.setattr(time, "time", lambda: real() + jump)
            jumped.set()
        return False

    started = time.monotonic()
    assert not await SignalSubscription().wait_until(settled, timeout=0.3, recheck=0.05)
    waited = time.monotonic() - started
    assert jumped.is_set()
    assert 0.3 <= waited < 2.0, f"a 0.3 s bound ended after {waited:.2f} s"
