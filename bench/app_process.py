"""The app alone in its process, for the benchmarks: the portal's flow on a bus given to it.

Run: python -m bench.app_process BUS_ADDRESS PORT [--watch] [--checks JSON] [--timings JSON]
[--events]. It is `wifi-connect simulate` without the simulator (which runs in the bench's
process), so only the app's own start-up and memory are measured. `wifi-connect run` itself
needs dnsmasq and the hotspot's gateway address on a real interface, which a bench on loopback
does not have; the flow, portal and imports are the same.

Bench-only hooks, none of them in the app: --checks proves each new link against the bench's
servers on loopback (their ports are not the services' own, which an unprivileged bench cannot
bind); --events writes the flow's log lines to stdout as JSON lines stamped with
time.monotonic() (one clock for every process of the machine); SIGUSR1 writes the process's
live asyncio tasks and open file descriptors as one such line.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import logging
import os
import signal
import sys
import time
import tracemalloc
from typing import Any

from app import __main__ as cli  # the console script's imports, as `wifi-connect` pays them
from app.flow import provision
from app.flow.attempt import ReachabilityCheck
from app.flow.state import CheckResult
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal

# Where the bench's local servers listen, and the name the DNS check resolves.
CHECK_ADDRESS = "127.0.0.1"
CHECK_NAME = "localhost"


@dataclasses.dataclass(frozen=True)
class LocalChecks:
    """The bench's HTTPS, SNTP and DNS servers on loopback, as --checks gives them (JSON)."""

    https: int
    ntp: int
    dns: int
    # The system's CA file with the HTTPS server's throwaway certificate added.
    bundle: str
    timeout: float


def local_checks(servers: LocalChecks) -> ReachabilityCheck:
    """The app's own three checks, over the new link, against the bench's servers.

    What app.flow.reachability.check_link does, with the servers' ports: bound to the link's
    interface, its resolvers asked, all at once, the CA store the system's (SSL_CERT_FILE: the
    system's CA file with the bench's certificate added, loaded by the first attempt).
    """
    # Here, not at the top: the figures without checks import what they did before; at the
    # start, as `wifi-connect run` does, not in the first attempt.
    from app.flow.reachability import (
        check_bindable,
        check_dns,
        check_https,
        check_ntp,
        tls_context,
    )

    os.environ["SSL_CERT_FILE"] = servers.bundle

    async def check(link: ActiveLink) -> tuple[CheckResult, ...]:
        check_bindable(link.interface)
        context = tls_context()
        timeout = servers.timeout
        return tuple(
            await asyncio.gather(
                check_https(f"https://{CHECK_ADDRESS}:{servers.https}/", timeout, context,
                            interface=link.interface, resolvers=link.resolvers),
                check_ntp(CHECK_ADDRESS, timeout, port=servers.ntp, interface=link.interface,
                          resolvers=link.resolvers),
                check_dns(link.resolvers, CHECK_NAME, timeout, port=servers.dns,
                          interface=link.interface),
            )
        )  # fmt: skip

    return check


def _emit(entry: dict[str, Any]) -> None:
    """One JSON line on stdout, stamped with the monotonic clock the bench reads too."""
    sys.stdout.write(json.dumps({"at": time.monotonic(), **entry}) + "\n")
    sys.stdout.flush()


class _Events(logging.Handler):
    """Every log line of INFO and above as an event on stdout, at the moment it is logged."""

    def emit(self, record: logging.LogRecord) -> None:
        _emit({"event": "log", "logger": record.name, "message": record.getMessage()})


# The first tracemalloc snapshot SIGUSR1 took (--trace-memory); later ones are compared to it.
_first_snapshot: list[tracemalloc.Snapshot] = []
# How many of the places whose allocations grew most a report names.
_GREW = 8


def _grown() -> list[str]:
    """With --trace-memory: the places whose live allocations grew most since the first report."""
    if not tracemalloc.is_tracing():
        return []
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    if not _first_snapshot:
        _first_snapshot.append(snapshot)
        return []
    stats = snapshot.compare_to(_first_snapshot[0], "traceback")
    return [
        f"{stat.size_diff / 1024:+.0f} KiB in {stat.count_diff:+d} blocks: "
        + " <- ".join(f"{frame.filename}:{frame.lineno}" for frame in stat.traceback)
        for stat in stats[:_GREW]
    ]


def _report_live() -> None:
    """SIGUSR1: the live asyncio tasks (by coroutine) and open file descriptors, on stdout."""
    tasks = collections.Counter(
        getattr(task.get_coro(), "__qualname__", "?") for task in asyncio.all_tasks()
    )
    _emit({
        "event": "live",
        "tasks": sum(tasks.values()),
        "by_coroutine": dict(tasks),
        "fds": len(os.listdir("/proc/self/fd")),
        "grown": _grown(),
    })  # fmt: skip


async def _serve(bus_address: str, port: int, options: argparse.Namespace) -> int:
    """Provision through the portal on 127.0.0.1:`port` (--watch: for ever) until stopped."""
    _, config = cli.parse_command_line([], os.environ)
    config = dataclasses.replace(
        config, gateway=LOOPBACK, listening_port=port, interface=None, watch=options.watch
    )
    timings = Timings(**json.loads(options.timings))
    checks: ReachabilityCheck | None = None
    prepare_checks = None
    if options.checks:
        from app.flow.reachability import prepare_tls_context  # as local_checks' imports

        checks = local_checks(LocalChecks(**json.loads(options.checks)))
        prepare_checks = prepare_tls_context
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _report_live)
    async with SystemBus(bus_address) as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=timings.command_nm_wait)
        surroundings = provision.Surroundings(
            portal=lambda flow: serve_portal(create_app(config, flow), config.gateway, port),
            checks=checks,
            prepare_checks=prepare_checks,
            timings=timings,
            # The kernel's routes are the bench machine's: NetworkManager's view decides.
            has_default_route=lambda: True,
        )
        if options.watch:
            return await provision.run(config, nm, surroundings)
        return await provision.provision(config, nm, surroundings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.app_process", description=__doc__)
    parser.add_argument("bus_address")
    parser.add_argument("port", type=int)
    parser.add_argument("--watch", action="store_true", help="`run --watch`: go on for ever")
    parser.add_argument("--checks", help="LocalChecks as JSON: prove each link against them")
    parser.add_argument("--timings", default="{}", help="Timings fields to change, as JSON")
    parser.add_argument("--events", action="store_true", help="log lines as JSON on stdout")
    parser.add_argument(
        "--trace-memory",
        type=int,
        metavar="FRAMES",
        help="tracemalloc with this many frames: SIGUSR1 also names where memory grew",
    )
    return parser


def main() -> int:
    """Serve until SIGTERM (the default action ends the process)."""
    options = _parser().parse_args()
    if options.trace_memory:
        tracemalloc.start(options.trace_memory)
    logging.basicConfig(level=logging.WARNING)
    if options.events:
        root = logging.getLogger()
        for handler in root.handlers:
            handler.setLevel(logging.WARNING)
        root.addHandler(_Events(logging.INFO))
        root.setLevel(logging.INFO)
    return asyncio.run(_serve(options.bus_address, options.port, options))


if __name__ == "__main__":
    sys.exit(main())
