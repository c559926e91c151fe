"""The hotspot's dnsmasq: DHCP for phones and a DNS answer of the gateway for every name."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from app.errors import WifiConnectError
from app.flow.reachability import answer_addresses, dns_query
from app.rules import portal_network

_LOGGER = logging.getLogger(__name__)

# The lease directory of every dnsmasq we start: how a later run recognises one of ours.
_WORKDIR_PREFIX = "wifi-connect-dnsmasq-"

DNSMASQ = "dnsmasq"
LEASE_TIME = "1h"
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
MAX_RESTARTS = 5
# A dnsmasq that ran this long before it died counts as healthy: its restart budget refills.
STABLE_AFTER = 30.0
RESTART_DELAY_FIRST = 0.25
RESTART_DELAY_MAX = 8.0
# Any name works: dnsmasq answers every name with the gateway.
READY_PROBE_NAME = "wifi-connect-ready.invalid"
_READY_PROBE_TIMEOUT = 0.2
_READY_POLL_INTERVAL = 0.05
_TAIL_LINES = 20
_STARTED_LINE = "started, version"
# How dnsmasq's lines about what it could not do begin ("failed to write ...: No space left").
_FAILED_WORDS = "failed to "
# dnsmasq translates its messages; the C locale keeps the "started" line (and the error text
# users see) in English.
_DNSMASQ_ENV = {"LC_ALL": "C"}
DNS_PORT = 53
DHCP_PORT = 67
# A TCP socket's state in /proc/net/tcp while it listens.
_TCP_LISTEN = "0A"


def dnsmasq_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """dnsmasq's whole environment: PATH and the C locale, nothing else of ours.

    The app's environment may hold PORTAL_PASSPHRASE, and a child's environment is readable in
    /proc by whoever may read the child's: dnsmasq needs none of it.
    """
    return {"PATH": parent.get("PATH", os.defpath), **_DNSMASQ_ENV}


class DnsmasqError(WifiConnectError):
    """dnsmasq is missing, did not start serving, or could not be kept running."""


def dnsmasq_argv(
    *,
    interface: str,
    gateway: IPv4Address,
    dhcp_range: tuple[IPv4Address, IPv4Address],
    lease_file: Path,
    binary: str = DNSMASQ,
    lease_time: str = LEASE_TIME,
) -> list[str]:
    """The dnsmasq command line: no config, hosts or resolv files read; nothing system-wide."""
    start, end = dhcp_range
    return [
        binary,
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-hosts",
        "--no-resolv",
        "--pid-file=",
        "--log-facility=-",
        f"--interface={interface}",
        "--bind-interfaces",
        "--except-interface=lo",
        # Every A query gets the gateway, with TTL 0 so a phone caches nothing past the portal.
        f"--address=/#/{gateway}",
        # Every AAAA query gets `::` (TTL 0). Without it dnsmasq answers AAAA with REFUSED
        # (measured, 2.90), and a phone's stub resolver then retries or asks elsewhere before
        # it uses the A answer. `::` cannot be connected to (Linux and Android read it as "this
        # host", which refuses; other systems reject it), so the phone goes to the IPv4
        # gateway at once. PTR, TXT and HTTPS queries stay REFUSED: no captive probe waits on
        # them.
        "--address=/#/::",
        f"--dhcp-range={start},{end},{portal_network(gateway).netmask},{lease_time}",
        f"--dhcp-option=option:router,{gateway}",
        f"--dhcp-option=option:dns-server,{gateway}",
        "--dhcp-authoritative",
        # Without it every offer waits for an ICMP echo to time out: 3 s instead of 0.1 s.
        "--no-ping",
        f"--dhcp-leasefile={lease_file}",
    ]


def _exit_text(returncode: int | None) -> str:
    """How a process ended, in words: "exited with status 2" or "was killed by SIGKILL"."""
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


class _Run:
    """One dnsmasq process, the task that logs its output, and its last output lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.started = time.monotonic()
        self.tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        # Set at dnsmasq's "started" line, which it logs only once its sockets are bound.
        self.bound = asyncio.Event()
        # Set once it answered DNS: from then on it serves.
        self.serving = False
        self.reader = asyncio.create_task(self._read_output())

    async def _read_output(self) -> None:
        stream = self.process.stdout
        if stream is None:
            return
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if not text:
                continue
            self.tail.append(text)
            if _STARTED_LINE in text:
                self.bound.set()
            # What dnsmasq could not do (write its leases to a full disk, say) is worth a
            # warning; it goes on serving, and the rest is chatter.
            level = logging.WARNING if _FAILED_WORDS in text else logging.DEBUG
            _LOGGER.log(level, "dnsmasq[%s]: %s", self.process.pid, text)

    async def finish_output(self) -> str:
        """After the process ended: its last output lines, once the pipe is read to the end."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.shield(self.reader)
        return "\n".join(self.tail) or "(no output)"

    async def stop(self, timeout: float) -> None:
        """SIGTERM, a bounded wait, then SIGKILL; the process is reaped either way."""
        process = self.process
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                _LOGGER.warning(
                    "dnsmasq[%s] ignored SIGTERM for %s s; killing it", process.pid, timeout
                )
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        await self.finish_output()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


class Dnsmasq:
    """Owns the hotspot's dnsmasq: serving on enter, restarted if it dies, stopped on exit."""

    # dnsmasq runs in the caller's own network namespace, on `interface`, which must already
    # carry `gateway` (it binds to the interface's addresses as it starts).

    def __init__(
        self,
        *,
        interface: str,
        gateway: IPv4Address,
        dhcp_range: tuple[IPv4Address, IPv4Address],
        binary: str = DNSMASQ,
        start_timeout: float = START_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        max_restarts: int = MAX_RESTARTS,
        temp_parent: Path | None = None,
    ) -> None:
        self.interface = interface
        self.gateway = gateway
        self.dhcp_range = dhcp_range
        self._binary = binary
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._max_restarts = max_restarts
        self._temp_parent = temp_parent
        self._workdir: Path | None = None
        self._run: _Run | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._failed = asyncio.Event()
        self._failure: DnsmasqError | None = None
        self.restarts = 0
        # How long the last start took until dnsmasq answered DNS, in seconds.
        self.last_start_seconds: float | None = None

    @property
    def pid(self) -> int | None:
        """The running dnsmasq's process id, None while none runs."""
        run = self._run
        if run is None or run.process.returncode is not None:
            return None
        return run.process.pid

    @property
    def serving(self) -> bool:
        """True while a dnsmasq runs that has answered DNS (False between a crash and restart)."""
        run = self._run
        return run is not None and run.serving and run.process.returncode is None

    @property
    def lease_file(self) -> Path | None:
        """dnsmasq's lease file, in a directory this object owns; None outside the context."""
        return None if self._workdir is None else self._workdir / "leases"

    async def wait_failed(self) -> DnsmasqError:
        """Wait until dnsmasq died more often than the restart budget allows; return why."""
        await self._failed.wait()
        assert self._failure is not None
        return self._failure

    async def __aenter__(self) -> Dnsmasq:
        binary = shutil.which(self._binary)
        if binary is None:
            raise DnsmasqError(
                f"{self._binary} is not installed (not found on PATH); "
                "install dnsmasq, e.g. the Debian package dnsmasq-base"
            )
        self._binary = binary
        await stop_stale_dnsmasq(self.interface, self._temp_parent)
        try:
            self._workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX, dir=self._temp_parent))
        except OSError as err:
            where = self._temp_parent or tempfile.gettempdir()
            raise DnsmasqError(
                f"cannot make dnsmasq's lease directory in {where}: {err.strerror} "
                "(a full disk or a read-only file system?)"
            ) from err
        try:
            await self._start()
        except BaseException:
            self._run = None
            self._remove_workdir()
            raise
        self._supervisor = asyncio.create_task(self._supervise())
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        # The cleanup is bounded, so it finishes even when our task is cancelled meanwhile;
        # the cancellation is passed on once dnsmasq is gone.
        cleanup = asyncio.create_task(self._shutdown())
        cancelled = False
        while not cleanup.done():
            try:
                await asyncio.shield(cleanup)
            except asyncio.CancelledError:
                cancelled = True
        cleanup.result()
        if cancelled:
            raise asyncio.CancelledError

    async def _shutdown(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        run, self._run = self._run, None
        if run is not None:
            await run.stop(self._stop_timeout)
            _LOGGER.debug("dnsmasq[%s] stopped", run.process.pid)
        self._remove_workdir()

    def _remove_workdir(self) -> None:
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _start(self) -> None:
        """Start dnsmasq and wait until it answers DNS on the gateway; stop it again if not."""
        assert self._workdir is not None
        argv = dnsmasq_argv(
            interface=self.interface,
            gateway=self.gateway,
            dhcp_range=self.dhcp_range,
            lease_file=self._workdir / "leases",
            binary=self._binary,
        )
        _LOGGER.debug("starting %s", " ".join(argv))
        started = time.monotonic()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for us must not reach dnsmasq, which we stop
                # in order ourselves.
                start_new_session=True,
                env=dnsmasq_environment(os.environ),
            )
        except OSError as err:
            raise DnsmasqError(f"could not run {self._binary}: {err}") from err
        run = _Run(process)
        self._run = run
        try:
            await self._wait_serving(run)
        except BaseException:
            await run.stop(self._stop_timeout)
            raise
        run.serving = True
        self.last_start_seconds = time.monotonic() - started
        _LOGGER.info(
            "dnsmasq[%s] serves DHCP and DNS on %s (%s) after %.0f ms",
            process.pid,
            self.interface,
            self.gateway,
            self.last_start_seconds * 1000,
        )

    async def _wait_serving(self, run: _Run) -> None:
        """Return once dnsmasq answers a DNS query with the gateway; raise if it exits first."""
        exited = asyncio.create_task(run.process.wait())
        try:
            async with asyncio.timeout(self._start_timeout):
                while not exited.done():
                    # An answer alone could come from another server on the gateway (whose
                    # port then makes ours exit), so our process must also have bound its own.
                    if run.bound.is_set() and await self._answers_dns():
                        return
                    await asyncio.wait([exited], timeout=_READY_POLL_INTERVAL)
        except TimeoutError:
            output = "\n".join(run.tail) or "(no output)"
            raise DnsmasqError(
                f"dnsmasq did not answer DNS on {self.gateway} within {self._start_timeout:g} s; "
                f"its last lines:\n{output}"
            ) from None
        finally:
            exited.cancel()
        output = await run.finish_output()
        busy = busy_port(output)
        if busy is not None:
            holders = await asyncio.to_thread(port_holders, busy)
            raise DnsmasqError(
                f"port {busy} on {self.gateway} is already taken by "
                f"{describe_holders(holders)}, so dnsmasq cannot serve "
                f"{'DHCP' if busy == DHCP_PORT else 'DNS'}; stop it, then start again. "
                f"dnsmasq {_exit_text(run.process.returncode)}; its last lines:\n{output}"
            )
        raise DnsmasqError(
            f"dnsmasq {_exit_text(run.process.returncode)} as it started; its last lines:\n{output}"
        )

    async def _answers_dns(self) -> bool:
        try:
            reply = await dns_query(str(self.gateway), READY_PROBE_NAME, _READY_PROBE_TIMEOUT)
        except OSError:
            # Refused (nothing bound yet) or no answer yet (TimeoutError): poll again.
            return False
        return self.gateway in answer_addresses(reply)

    async def _supervise(self) -> None:
        """Restart dnsmasq whenever it dies, within the restart budget."""
        failures = 0
        # Deaths in a row of a dnsmasq that never served: only those slow the restarts down.
        start_failures = 0
        while True:
            run = self._run
            assert run is not None
            await run.process.wait()
            output = await run.finish_output()
            ran = time.monotonic() - run.started
            failures = 1 if ran >= STABLE_AFTER else failures + 1
            start_failures = 0 if run.serving else start_failures + 1
            if failures > self._max_restarts:
                restarts = failures - 1
                self._failure = DnsmasqError(
                    f"dnsmasq {_exit_text(run.process.returncode)} again; gave up after "
                    f"{restarts} restart{'' if restarts == 1 else 's'}; its last lines:\n{output}"
                )
                _LOGGER.error("%s", self._failure)
                self._failed.set()
                return
            delay = restart_delay(start_failures)
            _LOGGER.warning(
                "dnsmasq[%s] %s after %.1f s; restarting in %.2f s; its last lines:\n%s",
                run.process.pid,
                _exit_text(run.process.returncode),
                ran,
                delay,
                output,
            )
            await asyncio.sleep(delay)
            self.restarts += 1
            try:
                await self._start()
            except DnsmasqError as err:
                # _start stopped what it started; the loop sees that run as died at once.
                _LOGGER.warning("%s", err)


def restart_delay(start_failures: int) -> float:
    """How long to wait before restarting dnsmasq, after this many failed starts in a row.

    A dnsmasq that served and was then killed comes back at once (0 failed starts), however
    often that happens; only one that dies as it starts (a taken port, a broken option) backs
    off, so a hopeless start does not spin.
    """
    if start_failures <= 0:
        return RESTART_DELAY_FIRST
    return min(RESTART_DELAY_FIRST * 2.0**start_failures, RESTART_DELAY_MAX)


def busy_port(output: str) -> int | None:
    """The port dnsmasq found taken, from its last lines: 53 (DNS), 67 (DHCP) or None."""
    for line in output.splitlines():
        if "Address already in use" in line:
            # "failed to bind DHCP server socket: ..." or "failed to create listening socket
            # for 192.168.42.1: ..." (DNS), in the C locale we run it in.
            return DHCP_PORT if "DHCP" in line else DNS_PORT
    return None


@dataclass(frozen=True)
class PortHolder:
    """A process holding a socket on a port, as /proc shows it."""

    pid: int
    name: str
    protocol: str


def socket_inodes(port: int, tables: dict[str, str]) -> dict[int, str]:
    """The inodes of the sockets bound to `port`, with their protocol, from /proc/net tables.

    `tables` maps a protocol ("udp", "tcp6", ...) to its /proc/net file's text. TCP sockets
    count only while listening (state 0A); UDP ones always.
    """
    found = {}
    for protocol, text in tables.items():
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or ":" not in fields[1]:
                continue
            local_port = int(fields[1].rpartition(":")[2], 16)
            listening = protocol.startswith("udp") or fields[3] == _TCP_LISTEN
            if local_port == port and listening and fields[9].isdigit():
                found[int(fields[9])] = protocol.rstrip("6")
    return found


def port_holders(port: int, proc: Path = Path("/proc")) -> list[PortHolder]:
    """The processes holding `port` (TCP listening or UDP) in our network namespace."""
    tables = {}
    for protocol in ("udp", "udp6", "tcp", "tcp6"):
        with contextlib.suppress(OSError):
            tables[protocol] = (proc / "net" / protocol).read_text()
    inodes = socket_inodes(port, tables)
    holders: dict[tuple[int, str], PortHolder] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit() or not inodes:
            continue
        try:
            name = (entry / "comm").read_text().strip()
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue  # gone meanwhile, or not ours to read
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor, for one)
            inode = link.removeprefix("socket:[").removesuffix("]")
            if link.startswith("socket:[") and inode.isdigit() and int(inode) in inodes:
                protocol = inodes[int(inode)]
                holders[(int(entry.name), protocol)] = PortHolder(int(entry.name), name, protocol)
    return sorted(holders.values(), key=lambda holder: (holder.pid, holder.protocol))


def describe_holders(holders: list[PortHolder]) -> str:
    """Who holds a port, in words: "dnsmasq (pid 1234, udp and tcp)"."""
    if not holders:
        return "a process this user cannot see (another user's, or another namespace's)"
    by_pid: dict[tuple[int, str], list[str]] = {}
    for holder in holders:
        by_pid.setdefault((holder.pid, holder.name), []).append(holder.protocol)
    return ", ".join(
        f"{name} (pid {pid}, {' and '.join(protocols)})"
        for (pid, name), protocols in by_pid.items()
    )


def is_our_dnsmasq(argv: list[str], interface: str) -> bool:
    """Whether a process's argv is a dnsmasq this app started for `interface`."""
    return (
        bool(argv)
        and Path(argv[0]).name == "dnsmasq"
        and f"--interface={interface}" in argv
        and any(a.startswith("--dhcp-leasefile=") and _WORKDIR_PREFIX in a for a in argv)
    )


def find_stale_dnsmasq(interface: str, proc: Path = Path("/proc")) -> list[tuple[int, list[str]]]:
    """The pids and argvs of dnsmasq processes a killed earlier run of ours left on `interface`."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
            stat_line = (entry / "stat").read_text(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        # Orphaned: its run is gone and init adopted it. One whose run is alive is not stale.
        parent = int(stat_line.rpartition(")")[2].split()[1])
        if parent == 1 and is_our_dnsmasq(argv, interface):
            found.append((int(entry.name), argv))
    return found


def stale_lease_dir(argv: list[str], parents: list[Path]) -> Path | None:
    """The lease directory of a stale dnsmasq, if it is truly one we made; else None.

    Any local process can name itself dnsmasq and claim any lease file, so before removing
    anything as root, the directory must be one of ours: right under a temporary directory we
    use, named with our prefix, a real directory (not a link) owned by us.
    """
    for arg in argv:
        if not arg.startswith("--dhcp-leasefile="):
            continue
        lease_dir = Path(arg.partition("=")[2]).parent
        if (
            ".." in lease_dir.parts
            or lease_dir.parent not in parents
            or not lease_dir.name.startswith(_WORKDIR_PREFIX)
        ):
            return None
        try:
            info = lease_dir.lstat()
        except OSError:
            return None
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            return lease_dir
        return None
    return None


async def stop_stale_dnsmasq(interface: str, temp_parent: Path | None = None) -> None:
    """Stop a dnsmasq that a killed earlier run left serving `interface`, and its lease dir."""
    # A SIGKILLed or OOM-killed run cannot stop its dnsmasq, which then holds port 53 on the
    # gateway: the next run would fail to start its own. (dnsmasq drops privileges, which
    # clears a parent-death signal, so the kernel cannot do this for us.)
    parents = [Path(tempfile.gettempdir())]
    if temp_parent is not None:
        parents.append(temp_parent)
    for pid, argv in await asyncio.to_thread(find_stale_dnsmasq, interface):
        _LOGGER.warning("Stopping dnsmasq %d left on %s by an earlier run", pid, interface)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                await asyncio.sleep(0.05)
                os.kill(pid, 0)  # raises once it is gone
            os.kill(pid, signal.SIGKILL)
        lease_dir = stale_lease_dir(argv, parents)
        if lease_dir is not None:
            shutil.rmtree(lease_dir, ignore_errors=True)
