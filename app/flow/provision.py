"""The provisioning flow: the one place that sequences scan, hotspot, portal and connecting.

A device (`wifi-connect run`) and the demo (`wifi-connect simulate`) run this same code; what
differs between them comes in as a Surroundings: the portal's server, what runs beside the
hotspot, the checks, the timings and the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

from app import qr
from app.config import Config
from app.errors import (
    FlowBusy,
    NetworkManagerError,
    NetworkManagerUnavailable,
    NotYourTurn,
    NoWifiDevice,
    WifiConnectError,
)
from app.exitcodes import ExitStatus
from app.flow.attempt import ReachabilityCheck, connect_network
from app.flow.leftovers import settle_leftovers
from app.flow.state import AttemptOutcome, FlowState, FlowStatus
from app.flow.timing import Clock, MonotonicClock, Timings
from app.flow.turns import Turns
from app.flow.uplink import Uplink, default_route_exists
from app.logs import fields
from app.nm.avahi import IF_UNSPEC, AvahiClient, HttpService, service_name
from app.nm.client import NetworkManagerClient, WifiDevice
from app.nm.models import FailureKind, MdnsHost, SavedConnection, WifiNetwork
from app.nm.profiles import hotspot_profile
from app.rules import display_ssid
from app.wifi import Credentials

_LOGGER = logging.getLogger(__name__)


class PortalService(Protocol):
    """What runs beside the hotspot while the portal is open (dnsmasq)."""

    async def wait_failed(self) -> WifiConnectError:
        """Return once the service has died for good, with why."""
        ...


# Given the access point's interface, the service to run while the portal is open.
PortalServices = Callable[[str], AbstractAsyncContextManager[PortalService | None]]
# Serves the flow to phones while open: the portal's web server, listening on its addresses.
PortalServer = Callable[["Provisioner"], AbstractAsyncContextManager[object]]


@dataclass(frozen=True)
class Surroundings:
    """What a device and a demo wire differently into the same flow."""

    portal: PortalServer
    # dnsmasq on a device; nothing on the demo's loopback.
    services: PortalServices | None = None
    # Proves the new link; the demo's simulated radio has no link to prove.
    checks: ReachabilityCheck | None = None
    # Readies the checks while a phone's answer gets out (the answer grace), where the wait
    # costs nothing: the TLS check's CA store takes tens of milliseconds to load.
    prepare_checks: Callable[[], Awaitable[None]] | None = None
    timings: Timings = field(default_factory=Timings)
    clock: Clock = field(default_factory=MonotonicClock)
    has_default_route: Callable[[], bool] = default_route_exists
    # The demo goes on after a success: the portal returns this many seconds later.
    reopen_after_success: float | None = None
    # Called once the portal first serves phones (the demo prints where to open it).
    on_serving: Callable[[], None] | None = None
    # Announces the portal over mDNS and knows the device's .local name (Avahi on the bus).
    avahi: AvahiClient | None = None


class Provisioner:
    """Runs the flow against NetworkManager and serves as the portal's controller."""

    def __init__(
        self,
        config: Config,
        nm: NetworkManagerClient,
        *,
        checks: ReachabilityCheck | None = None,
        prepare_checks: Callable[[], Awaitable[None]] | None = None,
        services: PortalServices | None = None,
        timings: Timings | None = None,
        clock: Clock | None = None,
        avahi: AvahiClient | None = None,
    ) -> None:
        self._config = config
        self._avahi = avahi
        # Avahi's names for the device once it announced the portal (kept while connecting).
        self._mdns: MdnsHost | None = None
        self._nm = nm
        self._checks = checks
        self._prepare_checks = prepare_checks
        self._portal_services = services
        self._timings = timings or Timings()
        self._clock = clock or MonotonicClock()
        self._services = AsyncExitStack()
        self._service_failure: asyncio.Future[WifiConnectError] = (
            asyncio.get_running_loop().create_future()
        )
        self._portal_opened_at = self._last_request = self._clock.now()
        self._turns = Turns(self._timings.turn)
        self._wifi: WifiDevice | None = None
        self._networks: list[WifiNetwork] = []
        # The scan phones asked for, while it runs.
        self._rescan: asyncio.Future[list[WifiNetwork]] | None = None
        self._hotspot: SavedConnection | None = None
        self._hotspot_active: str | None = None
        self._submitted: asyncio.Queue[Credentials] = asyncio.Queue(maxsize=1)
        self._status = FlowStatus(FlowState.STARTING)
        # The state the last state line told; None until prepare() tells the first.
        self._logged_state: FlowState | None = None
        # The network being joined, as shown (None while trying saved networks), for the logs.
        self._joining: str | None = None
        # Set while the hotspot we brought up should be serving phones.
        self._portal_up = asyncio.Event()
        # How often the hotspot went away under the open portal and was brought back.
        self.hotspot_recoveries = 0

    # -- PortalController ------------------------------------------------------------------------

    async def networks(self) -> list[WifiNetwork]:
        """The list scanned before the hotspot came up (a single radio cannot scan as an AP)."""
        return list(self._networks)

    async def rescan(self) -> list[WifiNetwork]:
        """Scan again; NM refuses while the radio is an access point, and the old list stays.

        Phones asking at once share one scan: the radio is never asked for a second while one
        runs, and a phone that leaves does not cancel the scan the others wait for.
        """
        if self._wifi is None:
            raise FlowBusy("The device is still starting; try again in a moment.")
        if self._rescan is None:
            self._rescan = asyncio.ensure_future(self._rescan_once(self._wifi))
            self._rescan.add_done_callback(self._rescan_done)
        return list(await asyncio.shield(self._rescan))

    async def _rescan_once(self, wifi: WifiDevice) -> list[WifiNetwork]:
        fresh = await self._scan(wifi)
        if fresh:
            self._networks = fresh
        return self._networks

    def _rescan_done(self, scan: asyncio.Future[list[WifiNetwork]]) -> None:
        self._rescan = None
        if not scan.cancelled():
            # Retrieved here too: every phone that waited for it may have left.
            scan.exception()

    async def submit(self, credentials: Credentials, requester: str | None = None) -> None:
        """Take credentials from the portal; only the first of a burst is used."""
        if self._status.state is not FlowState.PORTAL:
            _LOGGER.info("Refusing a submission while %s", self._status.state)
            if self._status.state is FlowState.STARTING:
                raise FlowBusy("The device is still starting; try again in a moment.")
            raise FlowBusy(
                "The device is busy with another attempt; when its hotspot is back, try again."
            )
        wait = self._turns.wait(requester, self._clock.now())
        if wait is not None:
            _LOGGER.info("Letting another phone go first for %.0f s", wait)
            raise NotYourTurn(
                "Another phone is waiting to connect and goes first; try again in a minute.",
                retry_after=math.ceil(wait),
            )
        self._turns.submitted(requester)
        self._joining = display_ssid(credentials.ssid)
        self._set_state(FlowState.CONNECTING)
        self._submitted.put_nowait(credentials)

    def status(self) -> FlowStatus:
        """The flow's state and the outcome of the last attempt."""
        return self._status

    def note_request(self, requester: str | None = None) -> None:
        """A phone used the portal: the activity timeout starts again."""
        self._last_request = self._clock.now()
        self._turns.seen(requester)

    # -- the portal's life -----------------------------------------------------------------------

    async def prepare(self) -> None:
        """Find the WiFi device, remove stale hotspots, and scan while the radio is free."""
        if self._config.country is not None:
            # Before the scan: it sees only the channels the regulatory domain allows.
            await self._nm.supplicant().set_country(self._config.country)
        self._wifi = await self._nm.wifi_device(self._config.interface)
        self._set_state(FlowState.STARTING)
        # A hotspot left by a killed run may still be up, and a radio in AP mode cannot scan:
        # it goes first (run() settles before its online check too; this covers the demo, a
        # bare provision(), and each --watch round, after which NetworkManager may have moved).
        await settle_leftovers(self._nm, self._checks, release_timeout=self._timings.scan)
        self._networks = await self._scan(self._wifi)
        _LOGGER.info("Found %d networks", len(self._networks))
        if self._avahi is not None and self._mdns is None:
            self._mdns = await self._avahi.host()

    async def open_portal(self) -> None:
        """Bring the hotspot up, then what serves phones beside it (dnsmasq)."""
        device = self._device().device
        if self._hotspot is None:
            self._hotspot = await self._nm.add_connection(
                hotspot_profile(
                    ssid=self._config.ssid,
                    interface=device.interface,
                    gateway=self._config.gateway,
                    passphrase=self._config.passphrase,
                    band=self._config.band,
                    channel=self._config.channel,
                )
            )
        result = await self._nm.activate(self._hotspot, device, timeout=self._timings.activation)
        if not result.ok:
            raise NetworkManagerError(
                "hotspot", f"the hotspot '{self._config.ssid}' did not start ({result.failure})"
            )
        self._hotspot_active = result.active_path
        if self._portal_services is not None:
            service = await self._services.enter_async_context(
                self._portal_services(device.interface)
            )
            if service is not None:
                watch = asyncio.ensure_future(self._watch_service(service))
                self._services.callback(watch.cancel)
        self._portal_opened_at = self._clock.now()
        await self._announce(device.interface)
        await self._write_qr_file()
        self._set_state(FlowState.PORTAL)
        self._portal_up.set()

    async def _write_qr_file(self) -> None:
        """Write the QR code that joins the hotspot to --qr-file, if given; a failure is logged."""
        path = self._config.qr_file
        if path is None:
            return
        text = qr.wifi_text(self._config.ssid, self._config.passphrase)
        try:
            await asyncio.to_thread(qr.write_file, path, text)
        except OSError as err:
            # A screen without its code is no reason to keep phones off the portal.
            _LOGGER.error("Could not write the QR code to %s: %s", path, err.strerror or err)
        else:
            _LOGGER.info("QR code to join '%s' written to %s", self._config.ssid, path)

    async def _announce(self, interface: str) -> None:
        """Announce the portal over mDNS on the hotspot's interface, when Avahi is there."""
        if self._avahi is None or self._mdns is None:
            return
        service = HttpService(
            name=service_name(self._config.brand_name, self._mdns.host_name),
            port=self._config.listening_port,
            interface=_interface_index(interface),
        )
        await self._avahi.announce(service)

    async def close_portal(self) -> None:
        """Stop dnsmasq, then take the hotspot down (its profile stays until cleanup)."""
        self._portal_up.clear()
        if self._avahi is not None:
            # The portal is not served on the network the device joins: nothing to find there.
            await self._avahi.withdraw()
        await self._services.aclose()
        if self._hotspot_active is not None:
            await self._nm.deactivate(self._hotspot_active)
            self._hotspot_active = None
            _LOGGER.info("Hotspot is down")

    async def reopen_portal(self) -> None:
        """Bring the portal back after an attempt, retrying with a growing pause for ever."""
        pause = self._timings.reopen_first
        while True:
            try:
                await self.open_portal()
                return
            except WifiConnectError as err:
                _LOGGER.error("The hotspot did not come back (%s); retrying in %g s", err, pause)
            await self._clock.sleep(pause)
            pause = min(pause * 2, self._timings.reopen_max)
            with contextlib.suppress(WifiConnectError):
                await self._start_over()

    async def keep_hotspot(self) -> None:
        """Bring the hotspot back whenever it goes under the open portal (NM restarted, say)."""
        while True:
            await self._portal_up.wait()
            active = self._hotspot_active
            if active is None:  # pragma: no cover - open_portal sets both together
                raise RuntimeError("the portal is open without an active hotspot")
            try:
                await self._nm.wait_ended(active)
            except WifiConnectError as err:
                _LOGGER.warning("Lost sight of the hotspot (%s)", err)
            if not self._portal_up.is_set() or self._hotspot_active != active:
                continue  # we took it down ourselves, for an attempt
            _LOGGER.warning("The hotspot went away under the open portal; bringing it back")
            self._set_state(FlowState.STARTING)
            self._portal_up.clear()
            # What we hold of NM's objects may have died with an NM process: found afresh.
            with contextlib.suppress(WifiConnectError):
                await self._start_over()
            await self.reopen_portal()
            self.hotspot_recoveries += 1
            _LOGGER.info("The hotspot is back")

    async def cleanup(self) -> None:
        """Leave nothing of ours behind: dnsmasq stopped, hotspot down, its profile deleted."""
        if self._rescan is not None:
            self._rescan.cancel()
        # Each step on its own: one failing (NM restarted under us) must not skip the others.
        try:
            await self.close_portal()
        except WifiConnectError as err:
            _LOGGER.warning("Could not take the hotspot down: %s", err)
            self._hotspot_active = None
        if self._hotspot is not None:
            try:
                # Found again by id: after an NM restart the path we hold is stale.
                for profile in await self._nm.hotspot_connections():
                    await self._nm.delete_connection(profile.path)
                _LOGGER.info("Hotspot profile removed")
            except WifiConnectError as err:
                _LOGGER.warning("Could not remove the hotspot profile (next start will): %s", err)
            self._hotspot = None
        if self._avahi is not None:
            await self._avahi.close()

    async def portal_failed(self) -> WifiConnectError:
        """Return once a portal service (dnsmasq) has died for good: phones can't join then."""
        return await asyncio.shield(self._service_failure)

    async def _watch_service(self, service: PortalService) -> None:
        """Pass a service's final failure on to whoever waits in portal_failed()."""
        failure = await service.wait_failed()
        if not self._service_failure.done():
            self._service_failure.set_result(failure)

    async def _start_over(self) -> None:
        """Forget what we hold of NM's objects (an NM restart renews them) and find them again."""
        await self.close_portal()
        for profile in await self._nm.hotspot_connections():
            await self._nm.delete_connection(profile.path)
        self._hotspot = None
        self._wifi = await self._nm.wifi_device(self._config.interface)

    # -- attempts --------------------------------------------------------------------------------

    async def run_until_connected(self) -> AttemptOutcome:
        """Serve submissions until one connects and passes every check."""
        while True:
            credentials = await self._submitted.get()
            await self._answer_grace()
            outcome = await self.attempt(credentials)
            if outcome.ok:
                return outcome
            # The window starts now, before the portal returns: nobody can submit meanwhile.
            self._turns.attempt_failed(self._clock.now())
            await self.reopen_portal()

    async def _answer_grace(self) -> None:
        """Give the phone's answer time to get out before the hotspot goes; ready the checks."""
        grace = self._clock.sleep(self._timings.answer_grace)
        if self._prepare_checks is None:
            await grace
            return
        await asyncio.gather(grace, self._prepare_checks())

    async def attempt(self, credentials: Credentials) -> AttemptOutcome:
        """Drop the hotspot, save and activate the network, check it; undo it all on failure."""
        self._joining = display_ssid(credentials.ssid)
        self._set_state(FlowState.CONNECTING)
        try:
            await self.close_portal()
            outcome = await connect_network(
                self._nm,
                self._device().device,
                credentials,
                activation_timeout=self._timings.activation,
                check_reachability=self._checks,
                on_checking=lambda: self._set_state(FlowState.CHECKING),
            )
        except WifiConnectError as err:
            # NM refused the profile or went away mid-attempt: a failed attempt, not the end.
            name = display_ssid(credentials.ssid)
            _LOGGER.error("Attempt to join '%s' failed: %s", name, err)
            outcome = AttemptOutcome(name, FailureKind.OTHER)
        self._set_state(FlowState.CONNECTED if outcome.ok else FlowState.FAILED, outcome)
        return outcome

    async def wait_idle(self, timeout: float) -> None:
        """Return once the open portal has had no request for `timeout` seconds."""
        while True:
            idle = self._clock.now() - max(self._last_request, self._portal_opened_at)
            if self._status.state is FlowState.PORTAL and idle >= timeout:
                return
            await self._clock.sleep(max(self._timings.idle_poll, timeout - idle))

    async def rejoin_saved_when_quiet(self) -> None:
        """--watch: every so often, while no phone uses the portal, look for a saved network.

        NetworkManager failing on the way ends only that look, as it ends an attempt: it is
        logged, the portal comes back (retried with a growing pause), and the next look follows.
        """
        every = self._timings.watch_retry_saved
        while True:
            await self._clock.sleep(every)
            quiet = self._clock.now() - self._last_request >= every / 2
            if self._status.state is not FlowState.PORTAL or not quiet:
                continue
            try:
                if await self.try_saved_networks():
                    return
            except WifiConnectError as err:
                _LOGGER.error("Looking for a saved network failed (%s); reopening the portal", err)
                await self.reopen_portal()

    async def try_saved_networks(self) -> bool:
        """Step the portal aside, scan, and join a saved network in range; reopen if none works.

        When NetworkManager fails on the way the error goes to the caller, with the state
        STARTING: the portal serves no phone until it is open again.
        """
        self._joining = None
        self._set_state(FlowState.CONNECTING)
        try:
            if await self._join_saved():
                self._set_state(FlowState.CONNECTED)
                return True
            await self.open_portal()
        except WifiConnectError:
            self._set_state(FlowState.STARTING)
            raise
        return False

    async def _join_saved(self) -> bool:
        """Close the portal, scan, and activate the first saved network in range that works."""
        await self.close_portal()
        wifi = self._device()
        if self._rescan is not None:
            # One scan at a time: a phone's may still be running.
            await asyncio.wait([self._rescan])
        await self._nm.wait_device_released(wifi.device, timeout=self._timings.scan)
        visible = {network.ssid for network in await self._scan(wifi)}
        for saved in await self._nm.wifi_connections():
            if saved.ssid not in visible:
                continue
            _LOGGER.info("Saved network '%s' is in range again; joining it", saved.id)
            self._joining = saved.id
            self._set_state(FlowState.CONNECTING)  # /status names it now
            try:
                result = await self._nm.activate(
                    saved, wifi.device, timeout=self._timings.activation
                )
            except NetworkManagerError as err:
                # One profile NM refuses to activate must not keep the others from a try.
                _LOGGER.error("Could not activate '%s': %s", saved.id, err)
                continue
            if result.ok:
                return True
        return False

    async def _scan(self, wifi: WifiDevice) -> list[WifiNetwork]:
        """A scan bounded by the injected timings, any pause slept on the injected clock."""
        return await wifi.scan(
            timeout=self._timings.scan, scan_time=self._timings.legacy_scan, pause=self._clock.sleep
        )

    def _device(self) -> WifiDevice:
        if self._wifi is None:
            raise RuntimeError("prepare() must run first")
        return self._wifi

    def _set_state(self, state: FlowState, outcome: AttemptOutcome | None = None) -> None:
        """Move the flow to `state` (an attempt's end brings its outcome); a change is logged."""
        trying = self._joining if state in (FlowState.CONNECTING, FlowState.CHECKING) else None
        self._status = FlowStatus(
            state,
            last_attempt=outcome or self._status.last_attempt,
            trying=trying,
            mdns=self._mdns,
        )
        if state is not self._logged_state:
            self._logged_state = state
            self._log_state(outcome)

    def _log_state(self, outcome: AttemptOutcome | None) -> None:
        """One INFO line for the state just entered, its values as fields of a JSON line."""
        state = self._status.state
        interface = self._wifi.device.interface if self._wifi is not None else None
        network = self._joining
        detail = ""
        match state:
            case FlowState.STARTING:
                detail = f" on {interface}"
            case FlowState.PORTAL:
                detail = f", hotspot '{self._config.ssid}' up on {interface}"
                network = None
            case FlowState.CONNECTING:
                target = "a saved network" if network is None else f"'{network}'"
                detail = f" to {target} on {interface}"
            case FlowState.CHECKING:
                detail = f" the link to '{network}'"
            case FlowState.CONNECTED:
                detail = f" to '{network}'" if network is not None else " to a saved network"
            case FlowState.FAILED:
                detail = f" to join '{network}': {_why(outcome)}"
        _LOGGER.info(
            "state: %s%s",
            state,
            detail,
            extra=fields(
                state=state,
                interface=interface,
                network=network,
                hotspot=self._config.ssid if state is FlowState.PORTAL else None,
                failure=_why(outcome) if state is FlowState.FAILED else None,
            ),
        )


def _interface_index(name: str) -> int:
    """The kernel's index of an interface, or Avahi's "every interface" when it has none."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        # The simulator's radio is no kernel interface.
        return IF_UNSPEC


def _why(outcome: AttemptOutcome | None) -> str:
    """An attempt's failure in the logs' words: its kind, or the services that were blocked."""
    if outcome is None:
        return "other"
    if outcome.failure is not None:
        return str(outcome.failure)
    return "blocked: " + ", ".join(outcome.blocked)


# NetworkManager's errors, which --watch outlives; any other (a busy port, dnsmasq dying for
# good) still ends the run, for a supervisor to act on.
_NM_TROUBLE = (NetworkManagerError, NetworkManagerUnavailable, NoWifiDevice)


async def run(config: Config, nm: NetworkManagerClient, surroundings: Surroundings) -> ExitStatus:
    """`wifi-connect run`: nothing when already online, else provision; --watch goes on."""
    uplink = Uplink(
        nm,
        timings=surroundings.timings,
        clock=surroundings.clock,
        has_default_route=surroundings.has_default_route,
    )
    force = config.force  # --force is for the start only; later rounds follow the uplink
    pause = surroundings.timings.reopen_first
    while True:
        try:
            status = await _round(config, nm, surroundings, uplink, force=force)
        except _NM_TROUBLE as err:
            if not config.watch:
                raise
            # A device watched for years outlives NetworkManager's bad moments (a restart, a
            # dongle pulled): the round is tried again, online check first, as a reopen is.
            _LOGGER.error("NetworkManager failed (%s); trying again in %g s", err, pause)
            await surroundings.clock.sleep(pause)
            pause = min(pause * 2, surroundings.timings.reopen_max)
            continue
        if status is not None and (status is not ExitStatus.OK or not config.watch):
            return status
        force = False
        pause = surroundings.timings.reopen_first
        await uplink.wait_until_gone()


async def _round(
    config: Config,
    nm: NetworkManagerClient,
    surroundings: Surroundings,
    uplink: Uplink,
    *,
    force: bool,
) -> ExitStatus | None:
    """Settle leftovers, then provision unless online; None: online, nothing to do yet."""
    # Before the online check: a killed run's proven profile may be what makes us online.
    await settle_leftovers(nm, surroundings.checks, release_timeout=surroundings.timings.scan)
    if force or not await uplink.works():
        return await provision(config, nm, surroundings)
    if not config.watch:
        _LOGGER.info("Already online: nothing to do (--force opens the portal anyway)")
        return ExitStatus.ALREADY_ONLINE
    _LOGGER.info("Online")
    return None


async def provision(
    config: Config, nm: NetworkManagerClient, surroundings: Surroundings
) -> ExitStatus:
    """Open the portal and serve it until a network works or the activity timeout passes."""
    flow = Provisioner(
        config,
        nm,
        checks=surroundings.checks,
        prepare_checks=surroundings.prepare_checks,
        services=surroundings.services,
        timings=surroundings.timings,
        clock=surroundings.clock,
        avahi=surroundings.avahi,
    )
    # Listening before the hotspot comes up: a busy port fails at once, with nothing to undo.
    async with surroundings.portal(flow):
        try:
            await flow.prepare()
            await flow.open_portal()
            _LOGGER.info("Portal serving at %s", config.portal_url)
            if surroundings.on_serving is not None:
                surroundings.on_serving()
            return await _serve(flow, config, surroundings)
        finally:
            await flow.cleanup()


async def _serve(flow: Provisioner, config: Config, surroundings: Surroundings) -> ExitStatus:
    """Wait for the first of: a network that works, a saved one back, idleness, a broken portal."""
    tasks: list[asyncio.Future[Any]] = []
    try:
        connected = asyncio.ensure_future(_attempts(flow, surroundings))
        tasks.append(connected)
        tasks.append(asyncio.ensure_future(flow.keep_hotspot()))
        rejoined: asyncio.Future[None] | None = None
        if config.watch:
            rejoined = asyncio.ensure_future(flow.rejoin_saved_when_quiet())
            tasks.append(rejoined)
        if config.activity_timeout:
            tasks.append(asyncio.ensure_future(flow.wait_idle(config.activity_timeout)))
        broken = asyncio.ensure_future(flow.portal_failed())
        tasks.append(broken)
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finished = done.pop()
        if finished is broken:
            raise broken.result()  # exit 1 with why; a supervisor may start us afresh
        finished.result()  # an error in the flow ends the run with it
        if finished in (connected, rejoined):
            return ExitStatus.OK
        _LOGGER.warning("Nobody used the portal for %d s; giving up", config.activity_timeout)
        return ExitStatus.TIMED_OUT
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _attempts(flow: Provisioner, surroundings: Surroundings) -> AttemptOutcome:
    """Attempts until one works; the demo brings its portal back for the next try instead."""
    while True:
        outcome = await flow.run_until_connected()
        pause = surroundings.reopen_after_success
        if pause is None:
            return outcome
        _LOGGER.info("Connected to '%s'; the portal returns in %g s", outcome.ssid, pause)
        await surroundings.clock.sleep(pause)
        await flow.reopen_portal()
