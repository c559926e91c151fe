"""Helpers of the CLI tier: the simulated world, running a command, the local internet."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from app.__main__ import main
from app.flow.timing import Timings

# DnsResponder: a resolver that knows every name, at 127.0.0.1 (the `internet` fixture's).
from tests.net.servers import DnsResponder as DnsResponder
from tests.net.servers import SntpResponder

# Milliseconds: fast enough for the suite, slow enough that signals and reads interleave.
FAST: dict[str, Any] = {"activation_delay_ms": 40, "deactivation_delay_ms": 5, "scan_delay_ms": 60}

# A resolver on loopback that the `internet` fixture serves, and one where nothing listens.
RESOLVER = "127.0.0.77"
DEAD_RESOLVER = "127.0.0.78"
# `check` resolves this name with no resolver of the machine's own (it is in /etc/hosts); `add`
# asks the new link's resolver, as every check of a new link does.
NTP_HOST = "localhost"


def ip4(subnet: int, *dns: str) -> dict[str, Any]:
    """A network's DHCP answer: an address with a gateway (so it becomes the primary uplink)."""
    return {
        "address": f"192.168.{subnet}.23/24",
        "gateway": f"192.168.{subnet}.1",
        "dns": list(dns),
    }


NETWORKS: list[dict[str, Any]] = [
    {
        "ssid": "Home",
        "security": "wpa-psk",
        "passphrase": "password1",
        "strength": 80,
        "frequency": 2437,
        "ip4": ip4(50, RESOLVER),
    },
    {"ssid": "Home", "security": "wpa-psk", "passphrase": "password1", "strength": 35},
    {"ssid": "Cafe", "security": "open", "strength": 60, "frequency": 5180, "ip4": ip4(51)},
    {"ssid": "Office", "security": "sae", "passphrase": "sae-secret", "strength": 50},
    {
        "ssid": "Corp",
        "security": "wpa-eap",
        "identity": "alice",
        "passphrase": "pw-alice",
        "strength": 45,
        "frequency": 5955,
    },
    {"ssid_hex": "436166e9", "security": "wpa-psk+sae", "passphrase": "password1", "strength": 20},
    {
        "ssid": "Filtered",
        "security": "wpa-psk",
        "passphrase": "password1",
        "strength": 30,
        "ip4": ip4(52, DEAD_RESOLVER),
    },
    {
        "ssid": "Secret",
        "security": "wpa-psk",
        "passphrase": "password1",
        "hidden": True,
        "ip4": ip4(53, RESOLVER),
    },
]


def scenario(**changes: Any) -> dict[str, Any]:
    """The tier's usual scenario with top-level keys replaced."""
    # The checks bind to IpInterface: loopback, where this tier's internet listens.
    device = {"interface": "wlan0", "ip_interface": "lo"}
    return {**FAST, "devices": [device], "networks": NETWORKS, **changes}


@dataclass(frozen=True)
class Outcome:
    """What one command did: its exit status and what it printed."""

    status: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """stderr, line by line."""
        return self.err.splitlines()


class Cli:
    """Runs `wifi-connect ARGS` in-process and captures its output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    async def __call__(self, *args: str, timings: Timings | None = None) -> Outcome:
        self._capsys.readouterr()
        status = await asyncio.to_thread(main, list(args), timings)
        out, err = self._capsys.readouterr()
        return Outcome(status, out, err)


# --- the internet, on loopback ----------------------------------------------------------------


@dataclass(frozen=True)
class Internet:
    """Where the stand-ins listen (CHECK_* point at them), and what they were asked."""

    https_url: str
    sntp: list[SntpResponder]

    @property
    def ntp_requests(self) -> int:
        """SNTP requests answered so far."""
        return sum(responder.requests for responder in self.sntp)
