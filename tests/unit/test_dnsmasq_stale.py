"""Recognising a dnsmasq that an earlier, killed run of ours left behind, and its lease dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.flow.dnsmasq import is_our_dnsmasq, stale_lease_dir

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


def _lease_arg(path: Path) -> list[str]:
    return ["/usr/sbin/dnsmasq", "--interface=wlan0", f"--dhcp-leasefile={path}"]


def test_our_lease_directory_is_found(tmp_path: Path) -> None:
    ours = tmp_path / "wifi-connect-dnsmasq-abc123"
    ours.mkdir()
    assert stale_lease_dir(_lease_arg(ours / "leases"), [tmp_path]) == ours


@pytest.mark.parametrize(
    "lease_file",
    [
        # Climbs out of our directory: what a local user's fake "dnsmasq" would claim.
        "wifi-connect-dnsmasq-x/../../etc/NetworkManager/system-connections/l",
        # Not right under a temporary directory we use.
        "elsewhere/wifi-connect-dnsmasq-x/leases",
        # Under it, but not named as ours.
        "saved-networks/leases",
        # Named as ours, but a link to somewhere else.
        "wifi-connect-dnsmasq-link/leases",
        # Named as ours, but a file.
        "wifi-connect-dnsmasq-file/leases",
        # Named as ours, not there.
        "wifi-connect-dnsmasq-gone/leases",
    ],
    ids=["dot-dot", "deeper", "other-name", "symlink", "file", "missing"],
)
def test_a_lease_directory_not_ours_is_never_removed(tmp_path: Path, lease_file: str) -> None:
    """Whatever a process claims, only a real directory of ours is ever taken for removal."""
    (tmp_path / "wifi-connect-dnsmasq-x").mkdir()
    (tmp_path / "elsewhere" / "wifi-connect-dnsmasq-x").mkdir(parents=True)
    (tmp_path / "saved-networks").mkdir()
    (tmp_path / "wifi-connect-dnsmasq-link").symlink_to(tmp_path / "saved-networks")
    (tmp_path / "wifi-connect-dnsmasq-file").write_text("")
    assert stale_lease_dir(_lease_arg(tmp_path / lease_file), [tmp_path]) is None


def test_a_lease_directory_of_another_user_is_not_ours(tmp_path: Path) -> None:
    """Made by someone else (here: owned by another uid), it is left alone."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory away")
    theirs = tmp_path / "wifi-connect-dnsmasq-theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert stale_lease_dir(_lease_arg(theirs / "leases"), [tmp_path]) is None
