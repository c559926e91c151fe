"""Where the flow is and what its attempts came to: what /status, the CLI and the logs report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.nm.models import FailureKind, MdnsHost


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
    # The network being joined while connecting or checking (as shown), else None.
    trying: str | None = None
    # The names Avahi announced the device under; None when it did not (no Avahi on the bus).
    mdns: MdnsHost | None = None


def blocked_services(results: Iterable[CheckResult]) -> tuple[Service, ...]:
    """The services with at least one failed check, in Service order."""
    failed = {result.service for result in results if not result.ok}
    return tuple(service for service in Service if service in failed)
