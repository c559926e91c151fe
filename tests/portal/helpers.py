"""Shared by the portal tests: sample networks and a controller that records what it is handed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from app.config import Config
from app.flow.provision import Provisioner
from app.flow.state import FlowState, FlowStatus
from app.nm.models import WifiNetwork
from app.portal.app import create_app
from app.portal.controller import PortalController
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import PORTAL
from app.wifi import Credentials, SecurityKind
from tests.support import free_port

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]

GATEWAY = "192.168.42.1"
# POST /connect's 200: wifi-connect's field, and where the device will be (none configured).
CONNECTING = {"status": "connecting", "local_url": None, "next_url": None}
# (Host the phone asks, path it probes) from the reference facts, one per OS and probe.
PROBES = [
    ("captive.apple.com", "/hotspot-detect.html"),
    ("captive.apple.com", "/library/test/success.html"),
    ("connectivitycheck.gstatic.com", "/generate_204"),
    ("clients3.google.com", "/generate_204"),
    ("www.gstatic.com", "/generate_204"),
    ("www.google.com", "/gen_204"),
    ("www.msftconnecttest.com", "/connecttest.txt"),
    ("www.msftncsi.com", "/ncsi.txt"),
    ("www.msftconnecttest.com", "/redirect"),
    ("detectportal.firefox.com", "/success.txt"),
    ("detectportal.firefox.com", "/canonical.html"),
    # Beyond the big three: Android's vendors on their own hosts, the Kindle, Windows over IPv6.
    ("connectivitycheck.android.com", "/generate_204"),
    ("connectivitycheck.samsung.com", "/generate_204"),
    ("connectivity.samsung.com.cn", "/generate_204"),
    ("connect.rom.miui.com", "/generate_204"),
    ("connectivitycheck.platform.hicloud.com", "/generate_204"),
    ("wifi.vivo.com.cn", "/generate_204"),
    ("spectrum.s3.amazonaws.com", "/kindle-wifi/wifistub.html"),
    ("ipv6.msftconnecttest.com", "/connecttest.txt"),
    ("ipv6.msftncsi.com", "/ncsi.txt"),
]
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = '"><script>alert(2)</script>'


def network(
    ssid: bytes, security: SecurityKind, strength: int, frequency: int = 2437
) -> WifiNetwork:
    """A scanned network with a made-up BSSID."""
    return WifiNetwork(
        ssid=ssid,
        strength=strength,
        frequency=frequency,
        bssid=f"02:00:00:00:00:{strength:02x}",
        security=security,
    )


# Deliberately not sorted: the portal must order them strongest first itself.
NETWORKS = (
    network(b"Library", SecurityKind.OPEN, 40),
    network(b"Cafe", SecurityKind.WPA_PSK, 82),
    network(b"Home 5G", SecurityKind.SAE, 67, 5180),
    network(b"Campus", SecurityKind.WPA_EAP, 55),
    network(b"Mixed", SecurityKind.WPA_PSK_SAE, 50),
    network(b"Old Router", SecurityKind.WEP, 20),
    network(b"Enhanced", SecurityKind.OWE, 30),
    network(b"Cafe", SecurityKind.WPA_PSK, 12),  # a weaker access point of the same SSID
    network(XSS_IMG.encode(), SecurityKind.WPA_PSK, 35),
    network(XSS_SCRIPT.encode(), SecurityKind.OPEN, 15),
    network(b"Caf\xe9 raw", SecurityKind.WPA_PSK, 10),  # Latin-1, not UTF-8
    network(b"", SecurityKind.WPA_PSK, 90),  # a hidden network's beacon
)


class RecordingController:
    """A PortalController that remembers every submission and rescan."""

    def __init__(self, networks: tuple[WifiNetwork, ...] = NETWORKS) -> None:
        self.available = list(networks)
        self.submitted: list[Credentials] = []
        self.rescans = 0
        self.requests = 0
        # Who each request named as a phone that opened the portal (None: not one of those).
        self.requesters: list[str | None] = []
        self.current = FlowStatus(FlowState.PORTAL)

    async def networks(self) -> list[WifiNetwork]:
        """The scan list, in the order given."""
        return list(self.available)

    async def rescan(self) -> list[WifiNetwork]:
        """Count the rescan; the list stays as it is."""
        self.rescans += 1
        return list(self.available)

    async def submit(self, credentials: Credentials, requester: str | None = None) -> None:
        """Record the credentials."""
        self.submitted.append(credentials)

    def status(self) -> FlowStatus:
        """Whatever the test set."""
        return self.current

    def note_request(self, requester: str | None = None) -> None:
        """Count the request."""
        self.requests += 1
        self.requesters.append(requester)


def inline_style(html: str) -> str:
    """The text of a page's one <style> element."""
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    assert len(styles) == 1, styles
    return str(styles[0])


def make_config(**changes: Any) -> Config:
    """The default configuration with `changes`."""
    return replace(Config(), **changes)


def multipart(part_headers: bytes, value: bytes) -> bytes:
    """A form of one part, "ssid", under boundary "b", the part with `part_headers` of its own."""
    return (
        b'--b\r\nContent-Disposition: form-data; name="ssid"\r\n'
        + part_headers
        + b"\r\n"
        + value
        + b"\r\n--b--\r\n"
    )


def portal_app(config: Config, controller: PortalController, **changes: Any) -> web.Application:
    """create_app's portal with `changes` to its state (limits, body timeout), not yet served."""
    app = create_app(config, controller)
    app[PORTAL] = replace(app[PORTAL], **changes)
    return app


class LoopbackPortal:
    """provision()'s portal server on 127.0.0.1 at a free port; it keeps the flow it serves."""

    def __init__(self, **config: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.config = make_config(gateway=LOOPBACK, listening_port=self.port, **config)
        # Set once the flow serves phones: pass `serving.set` as Surroundings.on_serving.
        self.serving = asyncio.Event()
        self.flows: list[Provisioner] = []

    def __call__(self, flow: Provisioner) -> AbstractAsyncContextManager[None]:
        """Surroundings.portal: serve this flow."""
        self.flows.append(flow)
        return serve_portal(create_app(self.config, flow), LOOPBACK, self.port)
