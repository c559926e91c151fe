"""The subcommands: one frozen dataclass of arguments each, and one async function that runs it."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias, assert_never

from app.config import Config
from app.exitcodes import ExitStatus


@dataclass(frozen=True)
class Run:
    """Provision through the portal unless already online; Config.force and .watch refine it."""


@dataclass(frozen=True)
class Scan:
    """List the WiFi networks in range."""

    json: bool = False


@dataclass(frozen=True)
class Add:
    """Save (and by default activate) credentials for one network, without the portal."""

    ssid: str
    passphrase: str | None = field(default=None, repr=False)
    identity: str | None = None
    hidden: bool = False
    activate: bool = True


@dataclass(frozen=True)
class Forget:
    """Delete every saved profile for one SSID."""

    ssid: str


@dataclass(frozen=True)
class Check:
    """Report whether the API endpoints are reachable over the current uplink."""

    json: bool = False


@dataclass(frozen=True)
class Import:
    """Add the NetworkManager keyfiles found in a directory."""

    directory: Path


@dataclass(frozen=True)
class Simulate:
    """Serve the portal on 127.0.0.1 over a simulated radio; None means the command's default."""

    scenario: Path | None = None
    port: int | None = None


Command: TypeAlias = Run | Scan | Add | Forget | Check | Import | Simulate


async def execute(command: Command, config: Config) -> int:
    """Run one command; the result is the process exit status."""
    match command:
        case Run():
            return await run(config)
        case Scan():
            return await scan(command, config)
        case Add():
            return await add(command, config)
        case Forget():
            return await forget(command, config)
        case Check():
            return await check(command, config)
        case Import():
            return await import_keyfiles(command, config)
        case Simulate():
            return await simulate(command, config)
        case _:
            assert_never(command)


async def run(config: Config) -> int:
    """The provisioning flow: portal, credentials, activation, reachability."""
    return _not_available("run")


async def scan(command: Scan, config: Config) -> int:
    """Print the networks in range, as a table or JSON."""
    return _not_available("scan")


async def add(command: Add, config: Config) -> int:
    """Write a client profile for the network and, unless told not to, activate it."""
    return _not_available("add")


async def forget(command: Forget, config: Config) -> int:
    """Delete the saved profiles of one SSID."""
    return _not_available("forget")


async def check(command: Check, config: Config) -> int:
    """Print the reachability report of the current uplink."""
    return _not_available("check")


async def import_keyfiles(command: Import, config: Config) -> int:
    """Add the keyfiles of a directory as NetworkManager connections."""
    return _not_available("import")


async def simulate(command: Simulate, config: Config) -> int:
    """Run the portal against the simulated NetworkManager until Ctrl-C or SIGTERM."""
    # Imported here: the simulator and the web stack are not needed by the other commands.
    from app.demo import serve_simulation

    serving = asyncio.ensure_future(serve_simulation(config, command.scenario, command.port))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, serving.cancel)
    try:
        await serving
    except asyncio.CancelledError:
        return ExitStatus.OK
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    return ExitStatus.OK


def _not_available(name: str) -> int:
    """Say the command is missing from this build, on one stderr line."""
    print(f"wifi-connect: {name!r} is not available yet in this build", file=sys.stderr)
    return ExitStatus.NOT_AVAILABLE
