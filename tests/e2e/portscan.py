"""A bounded port scan of one address, run inside the phone's namespace by the security test.

`python -m tests.e2e.portscan ADDRESS` prints one JSON line: the TCP ports that accepted a
connection, the UDP ports that sent no ICMP port-unreachable, and how many of each it tried.
TCP: a non-blocking connect to every port, many at once under epoll, each with a short
timeout. UDP: an empty datagram
to every port from one socket with IP_RECVERR, which queues each ICMP error with the port it
answered; the target namespace's ICMP rate limit must be off, or most answers are never sent.
"""

from __future__ import annotations

import contextlib
import errno
import json
import select
import socket
import struct
import sys
import time

PORTS = range(1, 65536)
TCP_CONCURRENCY = 400
TCP_TIMEOUT = 2.0
UDP_BATCH = 500
# How long a batch waits for its last unreachables after the previous one came.
UDP_QUIET = 0.3
UDP_CONFIRMATIONS = 2
# <linux/in.h>: queue ICMP errors on the socket, with the destination they answered.
_IP_RECVERR = 11
# struct sock_extended_err: ee_errno u32, ee_origin u8, ee_type u8, ee_code u8, pad u8, ...
_EXTENDED_ERR = struct.Struct("=IBBBB")


def _connect(address: str, port: int) -> socket.socket:
    """A non-blocking socket whose connect to `port` is under way."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex((address, port))
    return sock


def scan_tcp(address: str) -> tuple[list[int], list[int]]:
    """The ports that accepted, and those that neither accepted nor refused in time."""
    accepted: list[int] = []
    silent: list[int] = []
    todo = list(reversed(PORTS))
    pending: dict[int, tuple[socket.socket, int, float]] = {}
    with select.epoll() as poller:
        while todo or pending:
            while todo and len(pending) < TCP_CONCURRENCY:
                port = todo.pop()
                sock = _connect(address, port)
                pending[sock.fileno()] = (sock, port, time.monotonic() + TCP_TIMEOUT)
                poller.register(sock, select.EPOLLOUT | select.EPOLLERR)
            for fd, _ in poller.poll(0.1):
                sock, port, _ = pending.pop(fd)
                poller.unregister(fd)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    accepted.append(port)
                sock.close()
            now = time.monotonic()
            for fd, (sock, port, deadline) in list(pending.items()):
                if now > deadline:
                    del pending[fd]
                    poller.unregister(fd)
                    sock.close()
                    silent.append(port)
    return sorted(accepted), sorted(silent)


def _refused_ports(sock: socket.socket) -> set[int]:
    """Drain the socket's error queue: the ports that answered with port-unreachable."""
    refused: set[int] = set()
    while True:
        try:
            _, ancillary, _, destination = sock.recvmsg(0, 1024, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            return refused
        for level, kind, data in ancillary:
            refusal = _EXTENDED_ERR.unpack_from(data)[0] == errno.ECONNREFUSED
            if level == socket.IPPROTO_IP and kind == _IP_RECVERR and refusal:
                refused.add(destination[1])


def _udp_silent(sock: socket.socket, address: str, ports: list[int]) -> set[int]:
    """Of `ports`, those that sent no port-unreachable within UDP_QUIET of the last one that did."""
    silent = set(ports)
    for port in ports:
        # An unreachable already queued makes the next send report it: send again.
        for _ in range(2):
            with contextlib.suppress(ConnectionRefusedError):
                sock.sendto(b"", (address, port))
                break
    poller = select.poll()
    poller.register(sock, select.POLLERR)
    while silent and poller.poll(UDP_QUIET * 1000):
        silent -= _refused_ports(sock)
    return silent


def scan_udp(address: str) -> list[int]:
    """The ports that never answered with port-unreachable, each tried UDP_CONFIRMATIONS more."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.setblocking(False)
        ports = list(PORTS)
        silent: set[int] = set()
        for start in range(0, len(ports), UDP_BATCH):
            silent |= _udp_silent(sock, address, ports[start : start + UDP_BATCH])
        # A lost unreachable would look like an open port: ask the silent ones again.
        for _ in range(UDP_CONFIRMATIONS):
            silent = _udp_silent(sock, address, sorted(silent))
        return sorted(silent)


def main(address: str) -> None:
    """Scan `address` and print the JSON line."""
    started = time.monotonic()
    tcp_open, tcp_silent = scan_tcp(address)
    tcp_seconds = time.monotonic() - started
    udp_open = scan_udp(address)
    report = {
        "tcp_open": tcp_open,
        "tcp_silent": tcp_silent,
        "udp_open": udp_open,
        "tcp_scanned": len(PORTS),
        "udp_scanned": len(PORTS),
        "tcp_seconds": round(tcp_seconds, 1),
        "udp_seconds": round(time.monotonic() - started - tcp_seconds, 1),
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
