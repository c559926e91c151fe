"""The subcommands: one frozen dataclass of arguments each, and one async function that runs it."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TypeAlias, assert_never

from app import cli_output
from app.cli_output import PROG, ImportStatus
from app.config import Config
from app.errors import (
    NetworkManagerError,
    ValidationError,
    WifiConnectError,
)
from app.exitcodes import ExitStatus
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.const import (
    HOTSPOT_ID_PREFIX,
)
from app.nm.keyfile import ImportResult, import_directory
from app.nm.models import (
    Credentials,
    SavedConnection,
    SecurityKind,
    WifiNetwork,
    display_ssid,
    infer_security,
)
from app.nm.profiles import client_profile, validate_credentials
from app.portal.controller import CheckResult
from app.provision import SCAN_TIMEOUT, connect_network
from app.reachability import check_reachability, format_report, report_json

_LOGGER = logging.getLogger(__name__)

# How long a command waits for NetworkManager on the bus: an installer at a terminal wants an
# answer soon, while `run` at boot may wait longer for NetworkManager to start.
NM_TIMEOUT = 10.0
# Read only when NetworkManager knows no DNS server of the uplink (see check()).
RESOLV_CONF = Path("/etc/resolv.conf")
# The flag each field of app.nm.profiles.validate_credentials comes from in `add`.
_ADD_FLAGS = {
    "ssid": "--ssid",
    "passphrase": "--passphrase",
    "identity": "--identity",
    # The security comes from the scan, or from which of these flags were given.
    "security": "--ssid",
}


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
    """The provisioning flow; SIGTERM, SIGINT and SIGHUP tear everything down before exiting."""
    from app.provision import run as run_flow

    return await _until_stopped(run_flow(config), ExitStatus.INTERRUPTED)


async def scan(command: Scan, config: Config) -> int:
    """Print the networks in range, as a table or as GET /networks' JSON."""
    # Imported here: only scan needs the portal's web stack, for its /networks serialisation.
    from app.portal.pages import unique_networks
    from app.portal.views import networks_json

    async with SystemBus() as bus:
        nm = await _network_manager(bus)
        wifi = await nm.wifi_device(config.interface)
        networks = await wifi.scan(timeout=SCAN_TIMEOUT)
    if command.json:
        # Serialised exactly as the portal's GET /networks body.
        print(json.dumps(networks_json(networks)))
    else:
        print(cli_output.scan_table(unique_networks(networks)))
    return ExitStatus.OK


async def add(command: Add, config: Config) -> int:
    """Write a client profile for the network and, unless told not to, activate it.

    The security is the scan's when the SSID is in range (matched on its bytes, or on the name
    `scan` shows); otherwise it is inferred: --identity means WPA-Enterprise, --passphrase
    WPA-Personal, neither an open network. Activating follows the portal's rules
    (app.provision.connect_network): a failed activation or reachability check deletes only
    the new profile; success deletes the older profiles of the same SSID. With --no-activate
    the older profiles stay, as nothing proved the new one works.
    """
    try:
        raw_ssid = _ssid_bytes(command.ssid)
    except ValidationError as err:
        return _usage_error("--ssid", err.message)
    async with SystemBus() as bus:
        nm = await _network_manager(bus)
        wifi = await nm.wifi_device(config.interface)
        seen = _find_network(await wifi.scan(timeout=SCAN_TIMEOUT), raw_ssid, command.ssid)
        credentials = Credentials(
            ssid=seen.ssid if seen is not None else raw_ssid,
            security=(
                seen.security
                if seen is not None
                else infer_security(command.passphrase, command.identity)
            ),
            passphrase=command.passphrase or None,
            identity=command.identity or None,
            hidden=command.hidden,
        )
        try:
            validate_credentials(credentials)
        except ValidationError as err:
            return _usage_error(_ADD_FLAGS.get(err.field, err.field), err.message)
        name = display_ssid(credentials.ssid)
        how = cli_output.security_words(credentials.security)
        if seen is None:
            how += ", inferred from the flags: not in the scan"
        if not command.activate:
            await nm.add_connection(client_profile(credentials))
            print(f"Saved '{name}' ({how}); not activated.")
            return ExitStatus.OK

        async def check_link(active_path: str) -> tuple[CheckResult, ...]:
            return await check_reachability(config, await nm.nameservers(active_path))

        outcome = await connect_network(nm, wifi.device, credentials, check_reachability=check_link)
    if outcome.failure is not None:
        raise WifiConnectError(cli_output.failure_line(outcome.failure, name))
    print(f"Connected to '{name}' ({how}) on {wifi.device.interface}.")
    print(format_report(outcome.checks))
    if outcome.blocked:
        raise WifiConnectError(cli_output.blocked_line(outcome.blocked, name))
    return ExitStatus.OK


async def forget(command: Forget, config: Config) -> int:
    """Delete every saved WiFi client profile of one SSID; hotspot profiles are never touched."""
    try:
        raw_ssid = _ssid_bytes(command.ssid)
    except ValidationError as err:
        return _usage_error("SSID", err.message)
    name = display_ssid(raw_ssid)
    async with SystemBus() as bus:
        nm = await _network_manager(bus)
        doomed = [
            profile
            for profile in await nm.wifi_connections()
            if _same_ssid(profile, raw_ssid, command.ssid)
            and not profile.id.startswith(HOTSPOT_ID_PREFIX)
        ]
        if not doomed:
            raise WifiConnectError(f"no saved WiFi profile for '{name}'")
        for profile in doomed:
            await nm.delete_connection(profile.path)
    plural = "" if len(doomed) == 1 else "s"
    print(f"Forgot {len(doomed)} saved profile{plural} of '{name}'.")
    return ExitStatus.OK


async def check(command: Check, config: Config) -> int:
    """Print the reachability report of the current uplink; exit 1 when a check fails.

    DNS is asked of the resolvers NetworkManager set on its primary connection (IP4Config
    NameserverData), as the portal flow asks those of the new link. Only when NetworkManager
    knows none (no primary connection, or one without DNS) are /etc/resolv.conf's used: they
    are what this process resolves with anyway.
    """
    async with SystemBus() as bus:
        nm = await _network_manager(bus)
        uplink = await nm.survive_restart(nm.primary_uplink)
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
            print(f"Uplink: '{uplink.name}' on {', '.join(uplink.interfaces) or '?'}")
        print(f"DNS servers (from {source}): {', '.join(resolvers) or 'none'}")
        print(format_report(results))
    return ExitStatus.OK if all(result.ok for result in results) else ExitStatus.FAILED


async def import_keyfiles(command: Import, config: Config) -> int:
    """Add the keyfiles of a directory as NetworkManager connections, one report line per file.

    A file whose uuid is already saved updates that profile in place (Settings.Connection.
    Update), so importing the same directory again, or an edited copy, never duplicates a
    profile; a keyfile without a uuid gets one derived from its file name, so it updates too.
    Two files of one import with the same uuid: the second is an error. Profiles of the same
    SSID under other uuids are left alone. Exit 0 when every file that is not skipped was
    imported or updated, 1 when any failed; the good ones are imported either way.
    """
    try:
        results = await asyncio.to_thread(import_directory, command.directory)
    except OSError as err:
        raise WifiConnectError(f"cannot read {command.directory}: {err.strerror or err}") from None
    counts: Counter[ImportStatus] = Counter()
    async with SystemBus() as bus:
        nm = await _network_manager(bus)
        saved = {profile.uuid: profile for profile in await nm.saved_connections()}
        imported: dict[str, str] = {}
        for result in results:
            status, detail = await _import_one(nm, result, saved, imported)
            counts[status] += 1
            print(cli_output.import_line(status, result.filename, detail), flush=True)
    if not results:
        print(f"Nothing to import: {command.directory} holds no files.")
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
        return ImportStatus.ERROR, str(err)
    imported[uuid] = result.filename
    return status, described


def system_resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """The nameserver lines of a resolv.conf; none when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        _LOGGER.debug("Cannot read %s: %s", path, err.strerror)
        return []
    return parse_resolv_conf(text)


def parse_resolv_conf(text: str) -> list[str]:
    """The addresses of `nameserver` lines, in order, once each; anything else is ignored."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append(words[1])
    return _addresses(found)


def _addresses(values: Any) -> list[str]:
    """The values that are IP addresses, normalised, in order, once each."""
    addresses: list[str] = []
    for value in values:
        try:
            address = str(ip_address(str(value)))
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


async def _network_manager(bus: SystemBus) -> NetworkManagerClient:
    """NetworkManager on this command's bus, waited for within NM_TIMEOUT."""
    return await NetworkManagerClient.connect(bus, timeout=NM_TIMEOUT)


def _ssid_bytes(text: str) -> bytes:
    """An SSID argument as bytes, checked against the SSID rule before NetworkManager is asked."""
    try:
        # os.fsdecode turned bytes from the shell that are not UTF-8 into lone surrogates;
        # this turns them back, so such an SSID can be given as the router sends it.
        raw = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raise ValidationError("ssid", "The network name is not valid text.") from None
    # Credentials of an open network can only break the SSID rule: the profiles' own check.
    validate_credentials(Credentials(raw, SecurityKind.OPEN))
    return raw


def _find_network(networks: Sequence[WifiNetwork], raw: bytes, text: str) -> WifiNetwork | None:
    """The scanned network with these SSID bytes, else the one `scan` shows under this name."""
    for network in networks:
        if network.ssid == raw:
            return network
    for network in networks:
        if network.display_ssid == text:
            return network
    return None


def _same_ssid(profile: SavedConnection, raw: bytes, text: str) -> bool:
    """True when a saved profile is for this SSID, given as bytes or as `scan` shows it."""
    return profile.ssid is not None and (profile.ssid == raw or display_ssid(profile.ssid) == text)


def _usage_error(flag: str, message: str) -> int:
    """Report bad input on one stderr line naming the flag, like a bad configuration value."""
    line = f"{flag}: {message}".replace("\n", "\\n")
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return ExitStatus.BAD_CONFIG


async def simulate(command: Simulate, config: Config) -> int:
    """Run the portal against the simulated NetworkManager until Ctrl-C, SIGTERM or SIGHUP."""
    # Imported here: the simulator and the web stack are not needed by the other commands.
    from app.demo import serve_simulation

    return await _until_stopped(
        serve_simulation(config, command.scenario, command.port), ExitStatus.OK
    )


async def _until_stopped(work: Coroutine[Any, Any, Any], stopped: ExitStatus) -> int:
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
        result = await task
    except asyncio.CancelledError:
        _LOGGER.info("Stopped by a signal; everything this run started is gone")
        return stopped
    finally:
        for number in stop_signals:
            loop.remove_signal_handler(number)
    return int(result) if result is not None else ExitStatus.OK
