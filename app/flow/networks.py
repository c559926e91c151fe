"""The scanned networks as users see them: one per shown name, and found again by that name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.nm.models import WifiNetwork


def unique_networks(networks: Iterable[WifiNetwork]) -> list[WifiNetwork]:
    """One entry per shown name, strongest first; nameless (hidden) access points left out."""
    seen: set[str] = set()
    unique = []
    for network in sorted(networks, key=lambda network: -network.strength):
        name = network.display_ssid
        if name and name not in seen:
            seen.add(name)
            unique.append(network)
    return unique


def find_network(networks: Sequence[WifiNetwork], name: str) -> WifiNetwork | None:
    """The network listed under `name`, else the strongest whose SSID bytes `name` spells.

    The shown name wins, so a name from GET /networks or `scan` always reaches the very
    network listed under it, even when two SSIDs show alike (the strongest is the one listed).
    """
    shown = [network for network in networks if network.display_ssid == name]
    raw = _spelled(name)
    spelled = [network for network in networks if network.ssid == raw]
    return max(shown or spelled, key=lambda network: network.strength, default=None)


def _spelled(name: str) -> bytes | None:
    """The bytes a name spells; a command line's non-UTF-8 bytes arrive as lone surrogates."""
    try:
        return name.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return None
