"""What a prying phone on the hotspot can learn: open ports, and the passphrases anywhere.

One run of `wifi-connect run` with a protected hotspot (PORTAL_PASSPHRASE) and debug logging:
the phone scans every TCP and UDP port of the gateway, submits a wrong password, then the right
one. Meanwhile every process's command line on the machine, the environment of every process
the app started and each /status are collected; afterwards all of that, and every file the run
left in its directory, is searched for the three passphrases.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.e2e import topology
from tests.e2e.processes import Process
from tests.e2e.world import (
    GOOD_PASSWORD,
    GOOD_SSID,
    PORT,
    PYTHON,
    REPO,
    Certificates,
    DeviceStack,
    Timings,
    app_children,
    http_post_json,
    join_hotspot,
    portal_status,
    start_app,
    wait_portal,
    wait_status,
)
from tests.net import helpers
from tests.net.servers import Internet

pytestmark = pytest.mark.root

HOTSPOT_PASSPHRASE = "hotspot-secret-7731"
WRONG_PASSWORD = "wrong-secret-5519"
SECRETS = (HOTSPOT_PASSPHRASE, WRONG_PASSWORD, GOOD_PASSWORD)
# The simulated NetworkManager's own: its networks (the test's input) and its log. They stand
# for NetworkManager's keyfiles, the one place a secret belongs.
NETWORK_MANAGERS_OWN = frozenset({"scenario.json", "simulator.log"})
OPEN_TCP = [53, PORT]
OPEN_UDP = [53, 67]
START_TIMEOUT = 30.0
FLOW_TIMEOUT = 60.0
SCAN_TIMEOUT = 60.0
SNAPSHOT_EVERY = 0.05
_ICMP = Path("/proc/sys/net/ipv4")
ICMP_UNLIMITED = {"icmp_ratelimit": "0", "icmp_msgs_per_sec": "100000", "icmp_msgs_burst": "100000"}


def _forms(secret: str) -> list[bytes]:
    """The secret as it could be written down: plain, JSON-escaped, URL-encoded."""
    texts = {secret, json.dumps(secret)[1:-1], quote(secret), quote_plus(secret)}
    return [text.encode() for text in texts]


def _leaks(where: str, data: bytes) -> list[str]:
    """`where`, once per secret found in `data`."""
    return [f"{where}: {secret!r}" for secret in SECRETS if any(f in data for f in _forms(secret))]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone meanwhile, or not readable as a file
        return b""


class Collected:
    """What the run showed: command lines, child environments, /status answers, files."""

    def __init__(self) -> None:
        self.seen: dict[str, bytes] = {}

    def keep(self, where: str, data: bytes) -> None:
        """Remember `data` under `where` (the latest copy of each)."""
        if data:
            self.seen[where] = data

    def snapshot(self, app: Process | None, workdir: Path) -> None:
        """Every process's arguments, the environment of the app's children, the run's files."""
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                cmdline = _read(entry / "cmdline")
                self.keep(f"/proc/{entry.name}/cmdline {cmdline[:60]!r}", cmdline)
        if app is not None and app.returncode is None:
            for pid in app_children(app):
                self.keep(
                    f"/proc/{pid}/environ (a child of the app)", _read(Path(f"/proc/{pid}/environ"))
                )
        for path in _files(workdir):
            self.keep(str(path), _read(path))

    def leaks(self) -> list[str]:
        """Every place a secret was seen."""
        return [leak for where, data in self.seen.items() for leak in _leaks(where, data)]


def _files(workdir: Path) -> Iterator[Path]:
    """Every file under the run's directory but NetworkManager's own."""
    for path in workdir.rglob("*"):
        if path.is_file() and path.name not in NETWORK_MANAGERS_OWN:
            yield path


@contextlib.asynccontextmanager
async def _watching(workdir: Path, collected: Collected) -> AsyncIterator[list[Process]]:
    """Snapshot every SNAPSHOT_EVERY seconds while the block runs; it appends the app it starts."""
    apps: list[Process] = []

    async def watch() -> None:
        while True:
            collected.snapshot(apps[0] if apps else None, workdir)
            await asyncio.sleep(SNAPSHOT_EVERY)

    task = asyncio.create_task(watch())
    try:
        yield apps
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        collected.snapshot(None, workdir)


def _set(setting: Path, value: str) -> str:
    """Write a sysctl; its old value."""
    old = setting.read_text().strip()
    setting.write_text(value)
    return old


def _set_for_dev(setting: Path, value: str) -> tuple[bool, str]:
    """Set the device namespace's own sysctl, else (a global one) the host's; where, and the old."""
    if helpers.in_netns(topology.DEV, setting.exists):
        return True, helpers.in_netns(topology.DEV, functools.partial(_set, setting, value))
    return False, _set(setting, value)


@contextlib.contextmanager
def _icmp_unlimited() -> Iterator[None]:
    """Let the device namespace answer every closed UDP port while the block runs.

    Linux limits ICMP errors per peer (icmp_ratelimit) and in all (icmp_msgs_per_sec and
    _burst: per namespace on newer kernels, global on older ones, where the host's are raised
    for the scan's few seconds). Every value is put back.
    """
    changed: list[tuple[Path, bool, str]] = []
    try:
        for name, value in ICMP_UNLIMITED.items():
            in_dev, old = _set_for_dev(_ICMP / name, value)
            changed.append((_ICMP / name, in_dev, old))
        yield
    finally:
        for setting, in_dev, old in changed:
            restore = functools.partial(_set, setting, old)
            if in_dev:
                helpers.in_netns(topology.DEV, restore)
            else:
                restore()


async def _scan() -> dict[str, Any]:
    """Scan the gateway from the phone's namespace (tests.e2e.portscan)."""
    scanner = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", topology.PHONE, PYTHON, "-m", "tests.e2e.portscan",
        str(topology.GATEWAY),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    output, _ = await asyncio.wait_for(scanner.communicate(), SCAN_TIMEOUT)
    assert scanner.returncode == 0, output
    report: dict[str, Any] = json.loads(output)
    return report


async def _submit(password: str) -> None:
    """The phone posts the network and a password to the portal, as wifi-connect's UI does."""
    body = {"ssid": GOOD_SSID, "passphrase": password}
    code, answer = await http_post_json(
        topology.PHONE, str(topology.GATEWAY), PORT, "/connect", body
    )
    assert code == 200, answer


async def test_a_prying_phone_finds_only_the_portals_ports_and_no_secret(
    workdir: Path,
    device: DeviceStack,
    internet: Internet,
    certificates: Certificates,
    timings: Timings,
) -> None:
    collected = Collected()
    env = {"PORTAL_PASSPHRASE": HOTSPOT_PASSPHRASE, "LOG_LEVEL": "debug"}
    async with _watching(workdir, collected) as apps:
        app = await start_app(workdir, device.address, certificates.ca.cert, extra_env=env)
        apps.append(app)
        try:
            await wait_portal(app, START_TIMEOUT)
            await join_hotspot()
            with _icmp_unlimited():
                scan = await _scan()
            timings.record("port scan, TCP 1-65535", scan["tcp_seconds"])
            timings.record("port scan, UDP 1-65535", scan["udp_seconds"])
            assert (scan["tcp_open"], scan["tcp_silent"]) == (OPEN_TCP, []), scan
            assert scan["udp_open"] == OPEN_UDP, scan

            await _submit(WRONG_PASSWORD)
            _, failed = await wait_status(
                lambda s: s["state"] == "portal" and s["last_attempt"] is not None,
                FLOW_TIMEOUT,
                app,
                "the failed attempt",
            )
            collected.keep("/status after the wrong password", json.dumps(failed).encode())
            await join_hotspot()
            await _submit(GOOD_PASSWORD)
            status = await portal_status()
            collected.keep("/status while connecting", json.dumps(status).encode())
            assert await app.wait(FLOW_TIMEOUT) == 0, app.tail()
        finally:
            await app.stop()
    # Debug logging was on: the passphrases were used, and nothing wrote them down.
    assert app.find(r"DEBUG") is not None
    assert app.find(rf"Connected to '{GOOD_SSID}'") is not None
    assert any("/environ" in where for where in collected.seen), "dnsmasq was never seen"
    assert collected.leaks() == []
