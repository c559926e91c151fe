"""The JSON the flow reports in: GET /networks, GET /status and `check --json`; no web types.

The portal and the CLI both serialise through here, so `scan --json` prints exactly the body
of GET /networks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from app.flow.messages import Translator, attempt_texts
from app.flow.networks import unique_networks
from app.flow.state import CheckResult, FlowStatus, blocked_services
from app.nm.models import WifiNetwork


def networks_json(networks: Iterable[WifiNetwork]) -> list[dict[str, Any]]:
    """GET /networks: wifi-connect's fields plus the precise `auth`, one entry per shown name."""
    return [
        {
            "ssid": network.display_ssid,
            "security": network.security.legacy,
            "strength": network.strength,
            "frequency": network.frequency,
            "auth": network.security.auth,
        }
        for network in unique_networks(networks)
    ]


def check_json(result: CheckResult) -> dict[str, Any]:
    """One reachability check."""
    return {
        "service": result.service.value,
        "target": result.target,
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "reason": result.reason,
    }


def status_json(status: FlowStatus, t: Translator) -> dict[str, Any]:
    """GET /status, its reasons in `t`'s language; FlowStatus holds no secret, nor does this."""
    attempt = status.last_attempt
    last: dict[str, Any] | None = None
    if attempt is not None:
        last = {
            "ssid": attempt.ssid,
            "ok": attempt.ok,
            "failure": attempt.failure.value if attempt.failure is not None else None,
            "nm_reason": attempt.nm_reason,
            "blocked": [service.value for service in attempt.blocked],
            "reasons": attempt_texts(t, attempt),
            "checks": [check_json(check) for check in attempt.checks],
        }
    # `trying` came later than wifi-connect's fields: added after them, never instead.
    return {"state": status.state.value, "last_attempt": last, "trying": status.trying}


def report_json(results: Sequence[CheckResult]) -> str:
    """`check --json`: the overall verdict, the blocked services and every check."""
    report = {
        "ok": all(result.ok for result in results),
        "blocked": [service.value for service in blocked_services(results)],
        "checks": [check_json(result) for result in results],
    }
    return json.dumps(report, indent=2)
