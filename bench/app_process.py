"""The app alone in its process, for the benchmarks: the portal's flow on a bus given to it.

Run: python -m bench.app_process BUS_ADDRESS PORT. It is `wifi-connect simulate` without the
simulator (which runs in the bench's process), so only the app's own start-up and memory are
measured. `wifi-connect run` itself needs dnsmasq and the hotspot's gateway address on a real
interface, which a bench on loopback does not have; the flow, portal and imports are the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import sys

from app import __main__ as cli  # the console script's imports, as `wifi-connect` pays them
from app.flow import provision
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal


async def _serve(bus_address: str, port: int) -> int:
    """Provision through the portal on 127.0.0.1:`port` until told to stop."""
    _, config = cli.parse_command_line([], os.environ)
    config = dataclasses.replace(config, gateway=LOOPBACK, listening_port=port, interface=None)
    timings = Timings()
    async with SystemBus(bus_address) as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=timings.command_nm_wait)
        surroundings = provision.Surroundings(
            portal=lambda flow: serve_portal(create_app(config, flow), config.gateway, port),
            timings=timings,
        )
        return await provision.provision(config, nm, surroundings)


def main() -> int:
    """Serve until SIGTERM (the default action ends the process)."""
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    sys.exit(main())
