"""Recognising a dnsmasq that an earlier, killed run of ours left behind."""

from __future__ import annotations

import pytest

from app.flow.dnsmasq import is_our_dnsmasq

OURS = [
    "/usr/sbin/dnsmasq",
    "--keep-in-foreground",
    "--interface=wlan0",
    "--dhcp-leasefile=/tmp/wifi-connect-dnsmasq-abc123/leases",
]


@pytest.mark.parametrize(
    ("argv", "interface", "ours"),
    [
        (OURS, "wlan0", True),
        (OURS, "wlan1", False),
        (
            ["/usr/sbin/dnsmasq", "--interface=wlan0", "--dhcp-leasefile=/var/lib/misc/dnsmasq"],
            "wlan0",
            False,
        ),
        (["/usr/bin/python3", *OURS[1:]], "wlan0", False),
        ([], "wlan0", False),
    ],
    ids=["ours", "other-interface", "system-dnsmasq", "not-dnsmasq", "kernel-thread"],
)
def test_is_our_dnsmasq(argv: list[str], interface: str, ours: bool) -> None:
    assert is_our_dnsmasq(argv, interface) is ours
