"""What the portal needs from the provisioning flow, so it can be served with or without one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from app.nm.models import Credentials, FailureKind, WifiNetwork


class FlowState(StrEnum):
    """Where the provisioning flow is, as GET /status reports it."""

    STARTING = "starting"
    PORTAL = "portal"
    CONNECTING = "connecting"
    CHECKING = "checking"
    CONNECTED = "connected"
    FAILED = "failed"


class Service(StrEnum):
    """A reachability check of the device's own network requirements."""

    HTTPS = "https"  # TCP 443, TLS with a verified certificate
    NTP = "ntp"  # UDP 123
    DNS = "dns"  # UDP 53


@dataclass(frozen=True)
class CheckResult:
    """One reachability check: whether it passed, how long it took, and why not."""

    service: Service
    target: str
    ok: bool
    latency_ms: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    """The result of the last connection attempt, as the portal tells it to the user."""

    ssid: str
    failure: FailureKind | None
    # Services that failed although the link came up ("connected but blocked").
    blocked: tuple[Service, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    # NetworkManager's device state reason for a failed activation (0: none), for support.
    nm_reason: int = 0

    @property
    def ok(self) -> bool:
        """True when the device connected and every check passed."""
        return self.failure is None and not self.blocked


@dataclass(frozen=True)
class FlowStatus:
    """A snapshot for GET /status; never holds a secret."""

    state: FlowState
    last_attempt: AttemptOutcome | None = None


class PortalController(Protocol):
    """The flow as the portal sees it; provision.py implements it, tests may too."""

    async def networks(self) -> list[WifiNetwork]:
        """The networks to offer, strongest first (the list scanned before the hotspot)."""
        ...

    async def rescan(self) -> list[WifiNetwork]:
        """Scan again if the radio can (a single radio in AP mode cannot) and return the list."""
        ...

    async def submit(self, credentials: Credentials) -> None:
        """Accept validated credentials; the flow connects after the phone got its answer."""
        ...

    def status(self) -> FlowStatus:
        """The flow's state and the outcome of the last attempt."""
        ...
