"""What dominates where a goal is missed, from the figures just measured, and what would fix it."""

from __future__ import annotations

import statistics

from bench.results import Row


def _median(row: Row) -> float | None:
    return statistics.median(row.values) if row.values else None


def _missed(row: Row) -> bool:
    return row.verdict() == "**NOT met**"


def startup_notes(first: dict[str, Row]) -> list[str]:
    """Figures 1 and 3: how much of the CPU and of the peak RSS the required stack takes alone."""
    notes = []
    cpu, run, stack = (_median(first[key]) for key in ("cpu", "run imports", "stack imports"))
    if (_missed(first["cpu"]) or _missed(first["wall"])) and None not in (cpu, run, stack):
        assert cpu is not None and run is not None and stack is not None
        notes.append(
            f"Figure 1, what dominates: of the {cpu:.2f} CPU-s to the first probe, importing "
            f"the required stack alone takes {stack:.2f} (aiohttp's import builds two TLS client "
            f"contexts, loading the CA bundle, which a portal never uses); the app's own modules "
            f"add {max(run - stack, 0):.2f}, and connecting to the bus, the first reads and "
            f"starting the portal {max(cpu - run, 0):.2f}. What would fix it: an aiohttp that "
            f"builds its client contexts on first use, or a lighter HTTP server than the required "
            f"aiohttp; on the app's side nothing large is left to defer (`--help`, `scan` and "
            f"`check` import none of the web stack)."
        )
    rss, imported, stack_rss = (_median(first[key]) for key in ("rss", "imported", "stack rss"))
    if _missed(first["rss"]) and None not in (rss, imported, stack_rss):
        assert rss is not None and imported is not None and stack_rss is not None
        notes.append(
            f"Figure 3, what dominates: a Python that only imports the required stack peaks at "
            f"{stack_rss:.1f} MiB, near the goal before the app has run a line; the app's own "
            f"modules add {max(imported - stack_rss, 0):.1f} MiB and serving 50 networks "
            f"{max(rss - imported, 0):.1f} MiB. What would fix it: the same as figure 1, fewer or "
            f"lighter third-party modules; within the app, only a few MiB are ours to win."
        )
    return notes


def scan_note(scans: dict[str, Row], shares: dict[str, float], size: int) -> str:
    """Figure 5: where the adapter's CPU goes during a scan of `size` access points."""
    per_ap = _median(scans[f"cpu {size}"])
    parts = ", ".join(f"{part} {share:.0%}" for part, share in sorted(
        shares.items(), key=lambda item: -item[1]))  # fmt: skip
    cost = f"{per_ap:.2f} ms of the adapter's CPU per access point" if per_ap else "its CPU"
    verdict = "misses" if _missed(scans["ratio"]) else "meets"
    return (
        f"Figure 5, what dominates: the reads overlap (32 awaited at once) and each access point "
        f"costs one GetAll, so what is left is {cost}, which grows with the list. A profile of "
        f"one scan of {size} (bus waits left out) splits it: {parts}; the time in dbus-next is "
        f"its pure-Python marshalling and unmarshalling. The ratio {verdict} its goal. What would "
        f"fix it: a compiled marshaller (dbus-fast, dbus-next's maintained fork, is Cython), "
        f"outside the stack the project requires."
    )
