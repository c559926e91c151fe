"""`python -m app.simulator`: run the simulated NetworkManager until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from app.simulator.bus import PrivateBus, PrivateBusError
from app.simulator.scenario import Scenario, ScenarioError, default_scenario, load_scenario
from app.simulator.service import SimulatedNetworkManager

_LOGGER = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.simulator",
        description="A simulated NetworkManager on a D-Bus bus, driven by a scenario file.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bus", metavar="ADDRESS", help="the D-Bus address to serve on")
    where.add_argument(
        "--private",
        action="store_true",
        help="start a private bus and print its address on the first line of output",
    )
    parser.add_argument(
        "--scenario", metavar="FILE", help="scenario JSON (default: the bundled default.json)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    return parser


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


async def _serve(address: str, scenario: Scenario) -> None:
    async with SimulatedNetworkManager.start(address, scenario):
        await _wait_for_signal()


async def _run(args: argparse.Namespace, scenario: Scenario) -> None:
    if not args.private:
        await _serve(args.bus, scenario)
        return
    async with PrivateBus() as bus:
        # The address goes to stdout alone, so a script can read it with one `read`.
        print(bus.address, flush=True)
        await _serve(bus.address, scenario)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load the scenario, serve until told to stop; 2 on a bad scenario."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(args, scenario))
    except (PrivateBusError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
