"""The subcommands, and the one place that wires the app's parts together for each of them.

Every command gets its bus, its NetworkManager client and, for `run` and `simulate`, the
flow's Surroundings from here; nothing below this module builds another part.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, assert_never

from app import cli_output
from app.cli_output import PROG, ImportStatus
from app.config import Config
from app.errors import ConfigError, NetworkManagerError, ValidationError, WifiConnectError
from app.exitcodes import ExitStatus
from app.flow.timing import Timings
from app.nm.const import HOTSPOT_ID_PREFIX
from app.rules import (
    IPV4_ADDRESS,
    IPV4_DNS,
    IPV4_GATEWAY,
    check_credentials,
    display_ssid,
    inert_text,
    parse_static_ipv4,
    ssid_from_text,
)
from app.wifi import Credentials, SecurityKind, infer_security

# Each command imports what it uses when it runs: --help and the flags' errors need none of it,
# and only `run` and `simulate` need the flow's and the portal's stacks.
if TYPE_CHECKING:
    from app.flow.provision import Provisioner
    from app.nm.bus import SystemBus
    from app.nm.client import NetworkManagerClient
    from app.nm.keyfile import ImportResult
    from app.nm.models import SavedConnection
    from app.simulator import Scenario

_LOGGER = logging.getLogger(__name__)

# The flag each field of app.rules.check_credentials comes from in `add`.
_ADD_FLAGS = {
    "ssid": "--ssid",
    "passphrase": "--passphrase",
    "identity": "--identity",
    "security": "--security",
    IPV4_ADDRESS: "--ipv4-address",
    IPV4_GATEWAY: "--ipv4-gateway",
    IPV4_DNS: "--ipv4-dns",
}
# The demo's portal is this machine's browser's: served on loopback only.
DEMO_PORT = 8080
# After a success the demo brings its portal back for the next try, this many seconds later.
DEMO_PAUSE = 3.0

# How the import report names the config.json beside the directory (it is in DIR's parent).
BOOT_CONFIG_SHOWN = "../config.json"


@dataclass(frozen=True)
class Run:
    """Provision through the portal unless already online; Config.force and .watch refine it."""


@dataclass(frozen=True)
class Add:
    """Save (and by default activate) credentials for one network, without the portal."""

    ssid: str
    passphrase: str | None = field(default=None, repr=False)
    identity: str | None = None
    hidden: bool = False
    activate: bool = True
    # None: the scan's, else what the other flags suggest (app.wifi.infer_security).
    security: SecurityKind | None = None
    # A static set-up as given (app.rules.parse_static_ipv4); all None for DHCP.
    ipv4_address: str | None = None
    ipv4_gateway: str | None = None
    ipv4_dns: str | None = None


@dataclass(frozen=True)
class Forget:
    """Delete every saved profile for one SSID."""

    ssid: str


@dataclass(frozen=True)
class Import:
    """Add the NetworkManager keyfiles found in a directory."""

    directory: Path


@dataclass(frozen=True)
class Scan:
    """List the WiFi networks in range."""

    json: bool = False


@dataclass(frozen=True)
class Check:
    """Report whether the API endpoints are reachable over the current uplink."""

    json: bool = False


@dataclass(frozen=True)
class Qr:
    """Print the QR code that joins the hotspot; write Config.qr_file too when given."""


@dataclass(frozen=True)
class Identify:
    """Run IDENTIFY_COMMAND once, as the portal's Identify button does."""


@dataclass(frozen=True)
class Simulate:
    """Serve the portal on 127.0.0.1 over a simulated radio; None means the command's default."""

    scenario: Scenario | None = None
    port: int | None = None


Command: TypeAlias = Run | Scan | Add | Forget | Check | Import | Qr | Identify | Simulate


async def execute(command: Command, config: Config, timings: Timings | None = None) -> int:
    """Run one command; the result is the process exit status."""
    timings = timings or Timings()
    match command:
        case Run():
            return await _until_stopped(run(config, timings), ExitStatus.INTERRUPTED)
        case Scan():
            return await scan(command, config, timings)
        case Add():
            return await add(command, config, timings)
        case Forget():
            return await forget(command, config, timings)
        case Check():
            return await check(command, config, timings)
        case Import():
            return await import_keyfiles(command, config, timings)
        case Qr():
            return await qr_code(config)
        case Identify():
            return await _until_stopped(identify(config), ExitStatus.INTERRUPTED)
        case Simulate():
            return await _until_stopped(simulate(command, config, timings), ExitStatus.OK)
        case _:
            assert_never(command)


# --- the flow, on a device and on the simulator -------------------------------------------------


async def run(config: Config, timings: Timings) -> ExitStatus:
    """The provisioning flow on this device's NetworkManager."""
    from app.flow import provision
    from app.flow.dnsmasq import Dnsmasq
    from app.flow.reachability import check_link, prepare_tls_context
    from app.nm.avahi import AvahiClient

    async with _owned_bus() as bus:
        nm = await _network_manager(bus, timings.nm_wait)
        _LOGGER.info("NetworkManager is ready")

        def dnsmasq(interface: str) -> Dnsmasq:
            return Dnsmasq(
                interface=interface, gateway=config.gateway, dhcp_range=config.dhcp_range
            )

        surroundings = provision.Surroundings(
            portal=_portal_server(config),
            services=dnsmasq,
            checks=functools.partial(check_link, config),
            prepare_checks=prepare_tls_context,
            timings=timings,
            avahi=AvahiClient(bus),
        )
        return await provision.run(config, nm, surroundings)


async def simulate(command: Simulate, config: Config, timings: Timings) -> ExitStatus:
    """The same flow as `run`, on the simulated NetworkManager, its portal on 127.0.0.1."""
    from app.flow import provision
    from app.nm.avahi import AvahiClient
    from app.portal.server import LOOPBACK
    from app.simulator import PrivateBus, SimulatedNetworkManager, default_scenario
    from app.simulator.avahi import simulated_avahi
    from app.simulator.supplicant import SimulatedSupplicant

    # The phone of the demo is this machine's browser: the portal's gateway is loopback.
    config = dataclasses.replace(
        config, gateway=LOOPBACK, listening_port=command.port or DEMO_PORT, interface=None
    )

    def announce() -> None:
        print(f"Portal on a simulated radio: open {config.portal_url}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)

    scenario = command.scenario or default_scenario()
    async with (
        PrivateBus() as private_bus,
        SimulatedNetworkManager.start(private_bus.address, scenario) as sim,
        simulated_avahi(private_bus.address, scenario.avahi_host_name),
        SimulatedSupplicant.start(private_bus.address) as supplicant,
        _system_bus(private_bus.address) as bus,
    ):
        # The radio follows the country only when one is given: without it the demo lists
        # every network of the scenario, as it always has.
        if config.country is not None:
            sim.supplicant = supplicant
        nm = await _network_manager(bus, timings.command_nm_wait)
        surroundings = provision.Surroundings(
            portal=_portal_server(config),
            timings=timings,
            reopen_after_success=DEMO_PAUSE,
            on_serving=announce,
            avahi=AvahiClient(bus),
        )
        return await provision.provision(config, nm, surroundings)


def _portal_server(config: Config) -> Callable[[Provisioner], AbstractAsyncContextManager[object]]:
    """The portal's web server for a flow, on the configured gateway and port."""
    from app.portal.app import create_app
    from app.portal.server import serve_portal

    def serve(flow: Provisioner) -> AbstractAsyncContextManager[None]:
        return serve_portal(create_app(config, flow), config.gateway, config.listening_port)

    return serve


# --- the installer's commands -------------------------------------------------------------------


async def scan(command: Scan, config: Config, timings: Timings) -> int:
    """Print the networks in range, as a table or as GET /networks' JSON."""
    from app.flow.report import networks_json

    async with _system_bus() as bus:
        nm = await _network_manager(bus, timings.command_nm_wait)
        if config.country is not None:
            # The same view as the portal's first scan: the country's channels.
            await nm.supplicant().set_country(config.country)
        wifi = await nm.wifi_device(config.interface)
        networks = await wifi.scan(timeout=timings.scan, scan_time=timings.legacy_scan)
    if command.json:
        # Serialised exactly as the portal's GET /networks body.
        print(json.dumps(networks_json(networks)))
    else:
        print(cli_output.scan_table(networks))
    return ExitStatus.OK


async def add(command: Add, config: Config, timings: Timings) -> int:
    """Write a client profile for the network and, unless told not to, activate it.

    The flags are checked before NetworkManager is asked anything, against --security or else
    the security they suggest (--identity: WPA-Enterprise, --passphrase: WPA-Personal, neither:
    open). A network in the scan then brings its own security and exact SSID bytes. Activating
    follows the portal's rules (app.flow.attempt): a failed activation or reachability check
    deletes only the new profile; success deletes the older profiles of the same SSID. With
    --no-activate the older profiles stay, as nothing proved the new one works.
    """
    from app.flow.attempt import connect_network
    from app.flow.leftovers import settle_leftovers
    from app.flow.networks import find_network
    from app.flow.reachability import check_link
    from app.nm.profiles import client_profile

    stated = command.security or infer_security(command.passphrase, command.identity)
    try:
        wanted = check_credentials(_add_credentials(command, ssid_from_text(command.ssid), stated))
    except ValidationError as err:
        return _add_error(err, command)
    async with _owned_bus() as bus:
        nm = await _network_manager(bus, timings.command_nm_wait)

        checks = functools.partial(check_link, config)
        # What a killed run (of `add` or the portal) left goes before the radio is used.
        await settle_leftovers(nm, checks, release_timeout=timings.scan)
        wifi = await nm.wifi_device(config.interface)
        seen = find_network(
            await wifi.scan(timeout=timings.scan, scan_time=timings.legacy_scan), command.ssid
        )
        credentials = wanted
        if seen is not None and not command.hidden:
            try:
                credentials = check_credentials(_add_credentials(command, seen.ssid, seen.security))
            except ValidationError as err:
                return _add_error(err, command)
        name = display_ssid(credentials.ssid)
        how = cli_output.security_words(credentials.security)
        if seen is None:
            how += ", inferred from the flags: not in the scan"
        if credentials.ipv4 is not None:
            how += f", static {credentials.ipv4.address} via {credentials.ipv4.gateway}"
        if not command.activate:
            await nm.add_connection(client_profile(credentials))
            print(f"Saved '{name}' ({how}); not activated.")
            return ExitStatus.OK
        outcome = await connect_network(
            nm,
            wifi.device,
            credentials,
            activation_timeout=timings.activation,
            check_reachability=checks,
        )
    if outcome.failure is not None:
        raise WifiConnectError(cli_output.failure_line(outcome.failure, name))
    print(f"Connected to '{name}' ({how}) on {wifi.device.interface}.")
    print(cli_output.check_report(outcome.checks))
    if outcome.blocked:
        raise WifiConnectError(cli_output.blocked_line(outcome.blocked, name))
    return ExitStatus.OK


def _add_credentials(command: Add, ssid: bytes, security: SecurityKind) -> Credentials:
    return Credentials(
        ssid=ssid,
        security=security,
        passphrase=command.passphrase or None,
        identity=command.identity or None,
        hidden=command.hidden,
        ipv4=parse_static_ipv4(command.ipv4_address, command.ipv4_gateway, command.ipv4_dns),
    )


def _add_error(err: ValidationError, command: Add) -> int:
    """A broken credential rule of `add`, named by its flag."""
    message = err.message
    if err.field == "passphrase" and command.security is None:
        # Without --security the password was checked as WPA2's; say how to check it otherwise.
        message += " For a WEP or WPA3 network, say so: --security wep or --security sae."
    return _usage_error(_ADD_FLAGS.get(err.field, err.field), message)


async def forget(command: Forget, config: Config, timings: Timings) -> int:
    """Delete every saved WiFi client profile of one SSID; hotspot profiles are never touched."""
    try:
        raw = ssid_from_text(command.ssid)
    except ValidationError as err:
        return _usage_error("SSID", err.message)
    name = display_ssid(raw)
    async with _system_bus() as bus:
        nm = await _network_manager(bus, timings.command_nm_wait)
        saved = [
            profile
            for profile in await nm.wifi_connections()
            if profile.ssid is not None and not profile.id.startswith(HOTSPOT_ID_PREFIX)
        ]
        # The very bytes first; else the name `scan` would show, which two SSIDs may share.
        doomed = [profile for profile in saved if profile.ssid == raw] or [
            profile for profile in saved if display_ssid(profile.ssid or b"") == command.ssid
        ]
        if not doomed:
            raise WifiConnectError(f"no saved WiFi profile for '{name}'")
        for profile in doomed:
            await nm.delete_connection(profile.path)
    plural = "" if len(doomed) == 1 else "s"
    print(f"Forgot {len(doomed)} saved profile{plural} of '{name}'.")
    return ExitStatus.OK


async def check(command: Check, config: Config, timings: Timings) -> int:
    """Print the reachability report of the current uplink; exit 1 when a check fails.

    DNS is asked of the resolvers NetworkManager set on its primary connection, as the portal
    flow asks those of the new link. Only when NetworkManager knows none (no primary
    connection, or one without DNS) are /etc/resolv.conf's used: they are what this process
    resolves with anyway.

    Unlike the proof of a new link, these checks are not bound to an interface: they follow
    the default route, so they report what the device's own software meets, whichever link
    (or VPN, or policy route) carries it, and they still work when NetworkManager has no
    primary connection at all.
    """
    from app.flow.reachability import RESOLV_CONF, check_reachability, system_resolvers
    from app.flow.report import report_json

    async with _system_bus() as bus:
        nm = await _network_manager(bus, timings.command_nm_wait)
        uplink = await nm.primary_uplink()
    resolvers = list(uplink.resolvers) if uplink is not None else []
    source = "NetworkManager"
    if not resolvers:
        resolvers = await asyncio.to_thread(system_resolvers)
        source = str(RESOLV_CONF)
    results = await check_reachability(config, resolvers)
    if command.json:
        print(report_json(results))
    else:
        if uplink is None:
            print("Uplink: none (NetworkManager has no primary connection)")
        else:
            # Any profile's id, which anyone who may add a profile chose: never raw to a terminal.
            name = inert_text(uplink.name)
            print(f"Uplink: '{name}' on {', '.join(uplink.interfaces) or '?'}")
        print(f"DNS servers (from {source}): {', '.join(resolvers) or 'none'}")
        print(cli_output.check_report(results))
    return ExitStatus.OK if all(result.ok for result in results) else ExitStatus.FAILED


async def import_keyfiles(command: Import, config: Config, timings: Timings) -> int:
    """Add the keyfiles of a directory as NetworkManager connections, one report line per file.

    A file whose uuid is already saved updates that profile in place (Settings.Connection.
    Update), so importing the same directory again, or an edited copy, never duplicates a
    profile; a keyfile without a uuid gets one derived from its file name, so it updates too.
    Two files of one import with the same uuid: the second is an error. Profiles of the same
    SSID under other uuids are left alone. Exit 0 when every file that is not skipped was
    imported or updated, 1 when any failed; the good ones are imported either way.
    """
    from app.boot_config import BootConfigError, boot_config_path, read_country
    from app.nm.keyfile import import_directory

    try:
        results = await asyncio.to_thread(import_directory, command.directory)
    except OSError as err:
        raise WifiConnectError(f"cannot read {command.directory}: {err.strerror or err}") from None
    # A bad config.json is one more error line: the keyfiles are imported all the same.
    try:
        country = await asyncio.to_thread(read_country, boot_config_path(command.directory))
        config_error = None
    except BootConfigError as err:
        country, config_error = None, str(err)
    counts: Counter[ImportStatus] = Counter()
    async with _system_bus() as bus:
        nm = await _network_manager(bus, timings.command_nm_wait)
        saved = {profile.uuid: profile for profile in await nm.saved_connections()}
        imported: dict[str, str] = {}
        for result in results:
            status, detail = await _import_one(nm, result, saved, imported)
            counts[status] += 1
            print(cli_output.import_line(status, result.filename, detail), flush=True)
        if config_error is not None:
            counts[ImportStatus.ERROR] += 1
            print(cli_output.import_line(ImportStatus.ERROR, BOOT_CONFIG_SHOWN, config_error))
        elif country is not None:
            applied = await nm.supplicant().set_country(country)
            how = "set through wpa_supplicant" if applied else "not set (see the warning)"
            print(cli_output.country_line(BOOT_CONFIG_SHOWN, f"{country}, {how}"), flush=True)
    if not results:
        print(f"Nothing to import: {inert_text(str(command.directory))} holds no files.")
    else:
        print(cli_output.import_summary(counts))
    if failed := counts[ImportStatus.ERROR]:
        plural = "" if failed == 1 else "s"
        raise WifiConnectError(f"{failed} file{plural} could not be imported (see above)")
    return ExitStatus.OK


async def _import_one(
    nm: NetworkManagerClient,
    result: ImportResult,
    saved: dict[str, SavedConnection],
    imported: dict[str, str],
) -> tuple[ImportStatus, str]:
    """Add or update one parsed file; the status and the detail its report line gives."""
    if result.skipped:
        return ImportStatus.SKIPPED, "not read (*.ignore, hidden, backup or certificate file)"
    if result.settings is None:
        return ImportStatus.ERROR, result.error or "not a keyfile"
    connection = result.settings.get("connection", {})
    uuid, connection_id = str(connection.get("uuid", "")), str(connection.get("id", ""))
    if connection_id.startswith(HOTSPOT_ID_PREFIX):
        # The portal deletes such profiles as stale hotspots of an earlier run.
        return ImportStatus.ERROR, f"[connection] id: '{HOTSPOT_ID_PREFIX}' names are reserved"
    if uuid in imported:
        return ImportStatus.ERROR, f"[connection] uuid: the same as {imported[uuid]}'s"
    described = f"'{connection_id}' ({uuid})"
    try:
        if uuid in saved:
            await nm.update_connection(saved[uuid].path, result.settings)
            status = ImportStatus.UPDATED
            described += " replaces the saved profile with this uuid"
        else:
            await nm.add_connection(result.settings)
            status = ImportStatus.IMPORTED
    except NetworkManagerError as err:
        # NetworkManager names its "setting.key"; the report names the file's [section] key.
        return ImportStatus.ERROR, f"{result.refusal(err.message)} ({err.name})"
    imported[uuid] = result.filename
    return status, described


async def qr_code(config: Config) -> int:
    """Print the QR code that joins the hotspot, for a serial console or SSH; write the file too.

    Black on white when standard output is a terminal, whatever its colours; plain block
    characters (dark on a light page) when it is a file or a pipe; `##` for a dark module when
    its encoding has no block characters.
    """
    from app import qr

    text = qr.wifi_text(config.ssid, config.passphrase)
    how = "open" if config.passphrase is None else "WPA2, its passphrase in the code"
    print(f"Scan to join the hotspot '{inert_text(config.ssid)}' ({how}):")
    blocks = qr.encodes_blocks(sys.stdout.encoding)
    print(qr.terminal_text(text, ansi=sys.stdout.isatty(), blocks=blocks))
    if config.qr_file is not None:
        try:
            await asyncio.to_thread(qr.write_file, config.qr_file, text)
        except OSError as err:
            raise WifiConnectError(
                f"cannot write {config.qr_file}: {err.strerror or err}"
            ) from None
        print(f"Written to {inert_text(str(config.qr_file))}.")
    return ExitStatus.OK


async def identify(config: Config) -> ExitStatus:
    """Run IDENTIFY_COMMAND as POST /identify does (environment, timeout); fails unless 0."""
    # Its output goes to the DEBUG log, as on the portal: -v shows it.
    from app.identify import Identifier, identify_environment

    if config.identify_command is None:
        raise ConfigError("IDENTIFY_COMMAND is not set (nor --identify-command): nothing to run")
    environment = identify_environment(os.environ, config.ssid)
    async with Identifier(config.identify_command, environment) as identifier:
        outcome = await identifier.run()
    if not outcome.ok:
        raise WifiConnectError(f"IDENTIFY_COMMAND {outcome.describe()}")
    print(f"IDENTIFY_COMMAND {outcome.describe()}.")
    return ExitStatus.OK


@contextlib.asynccontextmanager
async def _owned_bus() -> AsyncIterator[SystemBus]:
    """The system bus, for a command that owns the radio: one such wifi-connect at a time."""
    from app.flow.instance import one_instance

    # Both settle what a killed run left, which must never be a live run's hotspot or attempt.
    with one_instance(os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")):
        async with _system_bus() as bus:
            yield bus


def _system_bus(address: str | None = None) -> SystemBus:
    """The system bus (or the bus at `address`), for the caller to open with `async with`."""
    from app.nm.bus import SystemBus

    return SystemBus(address)


async def _network_manager(bus: SystemBus, wait: float) -> NetworkManagerClient:
    """NetworkManager on this command's bus, waited for at most `wait` seconds."""
    from app.nm.client import NetworkManagerClient

    return await NetworkManagerClient.connect(bus, timeout=wait)


def _usage_error(flag: str, message: str) -> int:
    """Report bad input on one stderr line naming the flag, like a bad configuration value."""
    line = inert_text(f"{flag}: {message}".replace("\n", "\\n"))
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return ExitStatus.BAD_CONFIG


async def _until_stopped(work: Coroutine[Any, Any, ExitStatus], stopped: ExitStatus) -> int:
    """Run `work`; the first SIGTERM, SIGINT or SIGHUP cancels it so its cleanup runs."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def stop() -> None:
        # Only once: a second signal must not cut the teardown the first one started.
        for number in stop_signals:
            loop.add_signal_handler(number, lambda: None)
        task.cancel()

    for number in stop_signals:
        loop.add_signal_handler(number, stop)
    try:
        return int(await task)
    except asyncio.CancelledError:
        _LOGGER.info("Stopped by a signal; everything this run started is gone")
        return stopped
    finally:
        for number in stop_signals:
            loop.remove_signal_handler(number)
