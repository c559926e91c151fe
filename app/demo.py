"""`wifi-connect simulate`: the real portal and flow on a simulated radio, served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from ipaddress import IPv4Address
from pathlib import Path

from aiohttp import web

from app.config import Config
from app.errors import WifiConnectError
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.provision import Provisioner
from app.simulator import PrivateBus, SimulatedNetworkManager, default_scenario, load_scenario

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 8080
LOOPBACK = IPv4Address("127.0.0.1")


async def serve_simulation(config: Config, scenario_path: Path | None, port: int | None) -> None:
    """Run until cancelled; every resource started here is stopped on the way out."""
    scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    # The phone of the demo is this machine's browser: captive redirects must point at loopback.
    config = dataclasses.replace(
        config, gateway=LOOPBACK, listening_port=port or DEFAULT_PORT, interface=None
    )
    async with (
        PrivateBus() as private_bus,
        SimulatedNetworkManager.start(private_bus.address, scenario),
        SystemBus(private_bus.address) as bus,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=10)
        flow = Provisioner(config, nm)
        runner = web.AppRunner(create_app(config, flow))
        await runner.setup()
        try:
            # Listen first, so a busy port fails at once rather than after the hotspot is up.
            await _listen(runner, config.listening_port)
            await flow.prepare()
            await flow.open_portal()
            print(f"Portal on a simulated radio: open {config.portal_url}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            while True:
                outcome = await flow.run_until_connected()
                _LOGGER.info("Simulated device connected to '%s'", outcome.ssid)
                # A demo goes on: bring the portal back so the next try can be made.
                await asyncio.sleep(3)
                await flow.open_portal()
        finally:
            await runner.cleanup()
            with contextlib.suppress(Exception):
                await flow.cleanup()


async def _listen(runner: web.AppRunner, port: int) -> None:
    """Serve the portal on loopback; a busy port is a clear error."""
    try:
        await web.TCPSite(runner, str(LOOPBACK), port).start()
    except OSError as err:
        raise WifiConnectError(
            f"cannot listen on {LOOPBACK}:{port}: {err.strerror}; try --port with another number"
        ) from err
