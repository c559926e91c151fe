"""Who holds the port dnsmasq needs (dnsmasq's words, /proc/net, /proc/*/fd), and restart delays."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from app.flow.dnsmasq import (
    DHCP_PORT,
    DNS_PORT,
    RESTART_DELAY_FIRST,
    RESTART_DELAY_MAX,
    PortHolder,
    busy_port,
    describe_holders,
    port_holders,
    restart_delay,
    socket_inodes,
)

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  inode"


def _row(local: str, state: str, inode: int) -> str:
    return f"   0: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 0 0 0 {inode} 2"


@pytest.mark.parametrize(
    ("output", "port"),
    [
        ("dnsmasq: failed to create listening socket for 192.168.42.1: Address already in use", 53),
        ("dnsmasq: failed to bind DHCP server socket: Address already in use", 67),
        ("dnsmasq: unknown interface wlan9", None),
        ("", None),
    ],
)
def test_busy_port_from_dnsmasq_s_words(output: str, port: int | None) -> None:
    assert busy_port(f"dnsmasq: started, version 2.90\n{output}") == port


def test_socket_inodes_counts_udp_always_and_tcp_only_listening() -> None:
    tables = {
        "udp": "\n".join(
            [HEADER, _row("012AA8C0:0035", "07", 11), _row("00000000:0043", "07", 12)]
        ),
        "udp6": "\n".join([HEADER, _row("00000000000000000000000000000000:0035", "07", 13)]),
        "tcp": "\n".join(
            [HEADER, _row("012AA8C0:0035", "0A", 14), _row("012AA8C0:0035", "01", 15)]
        ),
        "tcp6": HEADER + "\n   malformed line\n",
    }
    assert socket_inodes(DNS_PORT, tables) == {11: "udp", 13: "udp", 14: "tcp"}
    assert socket_inodes(DHCP_PORT, tables) == {12: "udp"}
    assert socket_inodes(80, tables) == {}


def test_port_holders_finds_this_process_holding_a_udp_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        holders = port_holders(port)
    name = Path(f"/proc/{os.getpid()}/comm").read_text().strip()
    assert holders == [PortHolder(os.getpid(), name, "udp")]
    assert port_holders(port) == [], "closed: nobody holds it"


def test_describe_holders() -> None:
    holders = [
        PortHolder(10, "dnsmasq", "tcp"),
        PortHolder(10, "dnsmasq", "udp"),
        PortHolder(22, "systemd-resolve", "udp"),
    ]
    assert describe_holders(holders) == (
        "dnsmasq (pid 10, tcp and udp), systemd-resolve (pid 22, udp)"
    )
    assert "cannot see" in describe_holders([])


def test_a_killed_dnsmasq_that_served_comes_back_at_once_every_time() -> None:
    """No failed start in a row: the shortest delay, however many kills came before."""
    assert restart_delay(0) == RESTART_DELAY_FIRST < 1.0


def test_only_failed_starts_back_off_up_to_the_cap() -> None:
    """Each start that died before serving doubles the wait, never past the cap."""
    delays = [restart_delay(n) for n in range(1, 10)]
    assert delays[:3] == [2 * RESTART_DELAY_FIRST, 4 * RESTART_DELAY_FIRST, 8 * RESTART_DELAY_FIRST]
    assert delays == sorted(delays) and delays[-1] == RESTART_DELAY_MAX
