"""The first NetworkManager version that has each D-Bus member the adapter may use.

A placeholder of two entries, each checked against the `@since` of NetworkManager's own
introspection XML; the contract tier proves every entry against real NetworkManager 1.30, 1.42
and 1.52.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MEMBER_SINCE: Mapping[tuple[str, str], tuple[int, int]] = MappingProxyType(
    {
        ("org.freedesktop.NetworkManager.Device.Wireless", "LastScan"): (1, 12),
        ("org.freedesktop.NetworkManager.IP4Config", "NameserverData"): (1, 14),
    }
)
