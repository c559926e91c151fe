"""Real NetworkManager in a network namespace on a private system bus, for the contract tier.

Layout: a dbus-daemon and NetworkManager live in netns `ct-nm`, which holds one end of a veth
pair (`ctv0`); the other end (`ctv1`, PEER_ADDRESS) is in netns `ct-peer`, where a small HTTP
server plays NetworkManager's connectivity check target. The bus socket is a file in the work
directory, so the code under test talks to NetworkManager from the root namespace. The
NetworkManager is the host's, or another Debian release's run chrooted in a cached root
(tests/contract/nmroots.py), on the same bus and network. Every name
starts with "ct", and every process lives in one of the two namespaces, so a crashed run's
leftovers are found and removed by name.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from dbus_next import Message, MessageType
from dbus_next.aio import MessageBus

from app.simulator.bus import bus_config
from tests.contract.nmroots import Release
from tests.net.helpers import delete_netns

NM_NETNS = "ct-nm"
PEER_NETNS = "ct-peer"
NM_VETH = "ctv0"
PEER_VETH = "ctv1"
# The namespaces are private, so this subnet cannot clash with other helpers' namespaces.
SUBNET = "10.77.81"
PEER_ADDRESS = f"{SUBNET}.1"
NM_ADDRESS = f"{SUBNET}.2"
CHECK_PORT = 8080
CHECK_RESPONSE = "NetworkManager is online"

STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

_CHECK_SERVER = Path(__file__).with_name("checkserver.py")

_NM_CONF = """[main]
plugins=keyfile
dns=none
rc-manager=unmanaged
hostname-mode=none
auth-polkit=false
systemd-resolved=false
no-auto-default=*

[keyfile]
path={keyfiles}
unmanaged-devices=none

[logging]
level=INFO

[connectivity]
enabled=true
uri=http://{peer}:{port}/check
response={response}
interval=3
"""

# Run by `ip netns exec`, which gives the shell a private mount namespace, so no mount here is
# seen outside. $1 is a Debian root to chroot into ("" for the host's NetworkManager), $2 the
# work directory. The tmpfs mounts hide the host's (or the cached root's) NetworkManager state,
# and a read-only /sys makes NetworkManager run without udev, the only way it manages the veth
# (with /sys writable the veth stays unmanaged for ever). A chrooted NetworkManager sees the work
# directory at its host path (bound over a tmpfs /tmp in the root), so the keyfile paths it
# reports are the host's, and the cached root is never written to.
_NM_SHELL = """set -e
root=$1 work=$2
if [ -z "$root" ]; then
  mount -t tmpfs ct-run /run
  mkdir -p /var/lib/NetworkManager
  mount -t tmpfs ct-nmlib /var/lib/NetworkManager
  mount -o remount,ro /sys
  set --
else
  mount -t proc ct-proc "$root/proc"
  mount -t sysfs -o ro ct-sys "$root/sys"
  for dir in run var/lib/NetworkManager tmp; do mount -t tmpfs ct-tmpfs "$root/$dir"; done
  mkdir -p "$root$work"
  mount --bind "$work" "$root$work"
  set -- chroot "$root"
fi
exec "$@" NetworkManager --debug --config="$work/NetworkManager.conf" --config-dir="$work/conf.d" \\
  --system-config-dir="$work/sysconf.d" --intern-config="$work/state/NetworkManager-intern.conf" \\
  --state-file="$work/state/NetworkManager.state" --pid-file=/run/NetworkManager/NetworkManager.pid
"""


class CheckMode(StrEnum):
    """How the connectivity check server answers, named after what NetworkManager concludes."""

    FULL = "full"
    PORTAL = "portal"
    LIMITED = "limited"


class RealNMError(RuntimeError):
    """The real NetworkManager environment could not be set up."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _netns_exists(name: str) -> bool:
    return name in _ip("netns", "list").stdout.split()


def _kill_netns_processes(name: str) -> None:
    """Stop whatever a crashed run left running in one of our namespaces, then the namespace."""
    if _netns_exists(name):
        delete_netns(name)


def remove_leftovers() -> None:
    """Remove the namespaces, processes and veths of an earlier run that could not clean up."""
    # Deleting a namespace also deletes the veth end in it, which takes the other end along.
    for name in (NM_NETNS, PEER_NETNS):
        _kill_netns_processes(name)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, a bounded wait, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


async def _manager_property(address: str, name: str) -> Any:
    """One property of NetworkManager's manager object; None when it cannot be read (yet)."""
    bus = await MessageBus(bus_address=address).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.NetworkManager",
                path="/org/freedesktop/NetworkManager",
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=["org.freedesktop.NetworkManager", name],
            )
        )
    finally:
        bus.disconnect()
    if reply is None or reply.message_type != MessageType.METHOD_RETURN:
        return None
    return reply.body[0].value


async def _startup_done(address: str) -> bool:
    """True once NetworkManager owns its name and reports Startup false."""
    return await _manager_property(address, "Startup") is False


async def _version(address: str) -> str:
    """The version NetworkManager reports, e.g. "1.42.4"."""
    return str(await _manager_property(address, "Version"))


class RealNetworkManager:
    """One running NetworkManager with its bus, namespaces and check server; stop() undoes all."""

    def __init__(self, workdir: Path, release: Release) -> None:
        self.workdir = workdir
        self.release = release
        # Where its files are: the host's own, or a cached Debian root it runs chrooted in.
        self.root = release.root or Path("/")
        # The full version NetworkManager reports, e.g. "1.42.4"; read once it has started.
        self.version = ""
        self.socket = workdir / "ct-bus.sock"
        self.bus_address = f"unix:path={self.socket}"
        self.keyfile_dir = workdir / "system-connections"
        self.interface = NM_VETH
        self.peer_address = PEER_ADDRESS
        self.nm_log = workdir / "NetworkManager.log"
        self._control = workdir / "check-control"
        self._daemon: subprocess.Popen[bytes] | None = None
        self._nm: subprocess.Popen[bytes] | None = None
        self._check: subprocess.Popen[bytes] | None = None

    @property
    def major_minor(self) -> tuple[int, int]:
        """(major, minor) of the running NetworkManager, e.g. (1, 42)."""
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @classmethod
    def start(cls, workdir: Path, release: Release) -> RealNetworkManager:
        """Set everything up and wait until NetworkManager has finished starting."""
        remove_leftovers()
        nm = cls(workdir, release)
        try:
            nm._write_config()
            nm._make_network()
            nm._start_bus()
            nm._start_check_server()
            nm._start_network_manager()
        except BaseException:
            nm.stop()
            raise
        return nm

    def _write_config(self) -> None:
        for sub in ("system-connections", "conf.d", "sysconf.d", "state", "check-control"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        (self.workdir / "dbus.conf").write_text(bus_config(self.socket))
        (self.workdir / "NetworkManager.conf").write_text(
            _NM_CONF.format(
                keyfiles=self.keyfile_dir,
                peer=PEER_ADDRESS,
                port=CHECK_PORT,
                response=CHECK_RESPONSE,
            )
        )
        (self._control / "mode").write_text(CheckMode.FULL)

    def _make_network(self) -> None:
        for name in (NM_NETNS, PEER_NETNS):
            _ip("netns", "add", name)
        # Made inside ct-nm with the peer sent straight to ct-peer: no name is ever taken in the
        # root namespace, where another run's veth could clash with it.
        veth = ["link", "add", NM_VETH, "type", "veth", "peer", PEER_VETH, "netns", PEER_NETNS]
        _ip("-n", NM_NETNS, *veth)
        _ip("-n", NM_NETNS, "link", "set", "lo", "up")
        _ip("-n", PEER_NETNS, "link", "set", "lo", "up")
        _ip("-n", PEER_NETNS, "addr", "add", f"{PEER_ADDRESS}/24", "dev", PEER_VETH)
        _ip("-n", PEER_NETNS, "link", "set", PEER_VETH, "up")

    def _spawn(self, netns: str, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}
        # A session of its own keeps Ctrl-C away from the children, so teardown stops them in order.
        with (self.workdir / log).open("wb") as out:
            return subprocess.Popen(
                ["ip", "netns", "exec", netns, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def _start_bus(self) -> None:
        # The daemon lives in ct-nm only so that remove_leftovers() finds it after a crash.
        self._daemon = self._spawn(
            NM_NETNS,
            ["dbus-daemon", f"--config-file={self.workdir / 'dbus.conf'}", "--nofork"],
            "dbus.log",
        )
        self._wait(lambda: self.socket.exists(), self._daemon, "dbus-daemon", "dbus.log")

    def _start_check_server(self) -> None:
        self._check = self._spawn(
            PEER_NETNS,
            [
                sys.executable,
                str(_CHECK_SERVER),
                PEER_ADDRESS,
                str(CHECK_PORT),
                str(self._control),
                CHECK_RESPONSE,
            ],
            "checkserver.log",
        )
        self._wait(
            self._check_applied(CheckMode.FULL), self._check, "check server", "checkserver.log"
        )

    def _start_network_manager(self) -> None:
        root = "" if self.release.root is None else str(self.release.root)
        self._nm = self._spawn(
            NM_NETNS, ["sh", "-c", _NM_SHELL, "sh", root, str(self.workdir)], self.nm_log.name
        )

        def started() -> bool:
            # dbus-next is asynchronous; a thread of its own keeps its event loop away from
            # pytest-asyncio's, which may be set up in this thread.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                try:
                    return pool.submit(asyncio.run, _startup_done(self.bus_address)).result()
                except (OSError, EOFError):
                    return False

        self._wait(started, self._nm, "NetworkManager", self.nm_log.name)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            self.version = pool.submit(asyncio.run, _version(self.bus_address)).result()

    def _wait(
        self,
        ready: Callable[[], bool],
        process: subprocess.Popen[bytes],
        what: str,
        log: str,
    ) -> None:
        """Poll `ready` until true; fail with the log's tail if the process dies or time is up."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not ready():
            if process.poll() is not None:
                raise RealNMError(
                    f"{what} exited with status {process.returncode}:\n{_tail(self.workdir / log)}"
                )
            if time.monotonic() > deadline:
                raise RealNMError(
                    f"{what} not ready after {STARTUP_TIMEOUT:.0f} s:\n{_tail(self.workdir / log)}"
                )
            time.sleep(0.02)

    def _check_applied(self, mode: CheckMode) -> Callable[[], bool]:
        def applied() -> bool:
            try:
                return (self._control / "applied").read_text() == mode
            except FileNotFoundError:
                return False

        return applied

    def set_check_mode(self, mode: CheckMode) -> None:
        """Switch the connectivity check server; returns once the server has switched."""
        assert self._check is not None
        partial = self._control / "mode.partial"
        partial.write_text(mode)
        os.replace(partial, self._control / "mode")
        self._wait(self._check_applied(mode), self._check, "check server", "checkserver.log")

    def ethernet_profile(self) -> dict[str, dict[str, Any]]:
        """A static profile for the veth, with a default route via the check server's address."""
        # Without a default route NetworkManager never runs its connectivity check (stays LIMITED).
        return {
            "connection": {
                "id": "ct-ethernet",
                "uuid": str(uuid.uuid4()),
                "type": "802-3-ethernet",
                "autoconnect": False,
                "interface-name": self.interface,
            },
            "ipv4": {
                "method": "manual",
                "address-data": [{"address": NM_ADDRESS, "prefix": 24}],
                "gateway": PEER_ADDRESS,
            },
            "ipv6": {"method": "ignore"},
        }

    def veth_addresses(self) -> list[str]:
        """The IPv4 addresses on NetworkManager's end of the veth, as the kernel has them."""
        shown = _ip("-n", NM_NETNS, "-j", "-4", "addr", "show", "dev", self.interface).stdout
        return [
            f"{entry['local']}/{entry['prefixlen']}"
            for link in json.loads(shown)
            for entry in link.get("addr_info", [])
        ]

    def log_tail(self, lines: int = 40) -> str:
        """The end of NetworkManager's log, for failure messages."""
        return _tail(self.nm_log, lines)

    def stop(self) -> None:
        """Stop NetworkManager first (it talks to the bus while shutting down), then the rest."""
        try:
            _stop(self._nm)
            _stop(self._check)
            _stop(self._daemon)
        finally:
            remove_leftovers()
