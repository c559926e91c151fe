"""The simulated world the simulator and adapter tiers start from: quick, a network per outcome."""

from __future__ import annotations

from typing import Any

# Milliseconds: fast enough for the suite, slow enough that signals and reads interleave.
FAST: dict[str, Any] = {"activation_delay_ms": 40, "deactivation_delay_ms": 5, "scan_delay_ms": 60}

HOME: dict[str, Any] = {
    "ssid": "Home",
    "security": "wpa-psk",
    "passphrase": "password1",
    "strength": 80,
}
OFFICE: dict[str, Any] = {
    "ssid": "Office",
    "security": "sae",
    "passphrase": "sae-secret",
    "strength": 50,
}
CORP: dict[str, Any] = {
    "ssid": "Corp",
    "security": "wpa-eap",
    "identity": "alice",
    "passphrase": "pw-alice",
}
# One network for each way joining goes wrong whatever the client sends.
FAILING: list[dict[str, Any]] = [
    {
        "ssid": "Refuser",
        "security": "wpa-psk",
        "passphrase": "whatever1",
        "failure": "wrong_password",
    },
    {"ssid": "NoDhcp", "security": "wpa-psk", "passphrase": "password1", "failure": "dhcp_fails"},
    {"ssid": "Hangs", "security": "open", "failure": "hang"},
    {"ssid": "Ghost", "security": "open", "failure": "not_found"},
]
HIDDEN: dict[str, Any] = {
    "ssid": "Hidden",
    "security": "wpa-psk",
    "passphrase": "password1",
    "hidden": True,
}


def scenario(networks: list[dict[str, Any]], /, **changes: Any) -> dict[str, Any]:
    """FAST timings, one WiFi device (wlan0) and these networks, with top-level keys replaced."""
    return {**FAST, "devices": [{"interface": "wlan0"}], "networks": networks, **changes}
