"""Network namespaces for tests: creation and clean-up, sockets inside them, a phone's DNS and
DHCP clients, and dnsmasq's lease file.

Every namespace, interface and temp directory made here starts with "rc" (the e2e tier passes
its own prefix), so what a crashed run left behind is found by name and removed
(remove_leftovers). Code runs "inside" a namespace in
one of two ways, neither of which needs a subprocess:
- enter_netns(name) moves the calling thread; sockets and child processes it creates live there
  (the app under test, e.g. Dnsmasq, runs like this);
- netns_socket(name, ...) makes one socket there from a short-lived thread; the socket stays in
  that namespace, so the event loop can use it from anywhere (the phone, the servers).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import TypeVar

import dns.message
import dns.rdatatype

_T = TypeVar("_T")

PREFIX = "rc"
NETNS_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000
STOP_TIMEOUT = 5.0


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `ip ARGS`; a failure raises with ip's own message."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def netns_names() -> list[str]:
    """The named network namespaces."""
    return [line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line.strip()]


def alive(pid: int) -> bool:
    """True while the process runs; a zombie counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def netns_pids(name: str) -> list[int]:
    """The live processes in a namespace, not counting this one (whose thread may be there)."""
    pids = [int(pid) for pid in ip("netns", "pids", name, check=False).stdout.split()]
    return [pid for pid in pids if pid != os.getpid() and alive(pid)]


def delete_netns(name: str) -> None:
    """Stop every process in the namespace (TERM, bounded wait, KILL), then delete it."""
    pids = netns_pids(name)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for pid in pids:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # Deleting the namespace deletes the veth ends in it, which takes their peers along.
    ip("netns", "del", name, check=False)


def remove_leftovers(
    prefix: str = PREFIX, *, links: str = f"{PREFIX}v", temp_dirs: str = f"{PREFIX}-net-*"
) -> None:
    """Remove the namespaces ("PREFIX-*"), root-namespace links and temp dirs of an earlier run."""
    for name in netns_names():
        if name.startswith(f"{prefix}-"):
            delete_netns(name)
    for line in ip("-o", "link", "show").stdout.splitlines():
        link = line.split(":")[1].strip().split("@")[0]
        if link.startswith(links):
            ip("link", "del", link, check=False)
    for path in Path(tempfile.gettempdir()).glob(temp_dirs):
        shutil.rmtree(path, ignore_errors=True)


def add_netns(name: str) -> None:
    """A new namespace with its loopback up."""
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")


def add_veth(netns_a: str, iface_a: str, netns_b: str, iface_b: str) -> None:
    """A veth pair with one end in each namespace, both up, no addresses."""
    ip("link", "add", iface_a, "netns", netns_a, "type", "veth", "peer", iface_b, "netns", netns_b)
    ip("-n", netns_a, "link", "set", iface_a, "up")
    ip("-n", netns_b, "link", "set", iface_b, "up")


def add_address(netns: str, iface: str, cidr: str) -> None:
    """Add an address; nodad, so it is usable at once."""
    ip("-n", netns, "addr", "add", cidr, "dev", iface, "nodad")


def nft(netns: str, rules: str) -> None:
    """Load nftables rules in the namespace."""
    subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", "-"],
        input=rules,
        text=True,
        check=True,
        capture_output=True,
    )


def interface_mac(netns: str, iface: str) -> bytes:
    """The interface's MAC address as 6 bytes."""
    (link,) = json.loads(ip("-n", netns, "-j", "link", "show", iface).stdout)
    return bytes.fromhex(str(link["address"]).replace(":", ""))


def _setns(fd: int) -> None:
    setns = getattr(os, "setns", None)
    if setns is not None:
        setns(fd, _CLONE_NEWNET)
        return
    # Python 3.11 has no os.setns; the libc call does the same for the calling thread.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def enter_netns(name: str) -> Iterator[None]:
    """Move the calling thread into the namespace; it moves back on exit."""
    # thread-self, not self: /proc/self/ns/net is the main thread's, which may differ.
    with open("/proc/thread-self/ns/net") as own, open(NETNS_DIR / name) as target:
        _setns(target.fileno())
        try:
            yield
        finally:
            _setns(own.fileno())


def in_netns(name: str, make: Callable[[], _T]) -> _T:
    """Call `make` on a fresh thread inside the namespace (sockets it makes stay there)."""

    def call() -> _T:
        with enter_netns(name):
            return make()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def netns_socket(name: str, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A non-blocking socket that lives in the namespace."""
    sock = in_netns(name, lambda: socket.socket(family, kind, proto))
    sock.setblocking(False)
    return sock


async def udp_ask(
    netns: str, server: str, port: int, payload: bytes, timeout: float = 2.0
) -> bytes:
    """Send one datagram from the namespace and return the first datagram that comes back."""
    loop = asyncio.get_running_loop()
    with netns_socket(netns, socket.AF_INET, socket.SOCK_DGRAM) as sock:
        await loop.sock_connect(sock, (server, port))
        await loop.sock_sendall(sock, payload)
        async with asyncio.timeout(timeout):
            return await loop.sock_recv(sock, 4096)


async def dns_ask(
    netns: str,
    server: str,
    name: str,
    rdtype: dns.rdatatype.RdataType = dns.rdatatype.A,
    timeout: float = 2.0,
) -> dns.message.Message:
    """Ask server:53 for `name` from the namespace, as a phone's stub resolver does."""
    query = dns.message.make_query(name, rdtype)
    reply = dns.message.from_wire(await udp_ask(netns, server, 53, query.to_wire(), timeout))
    if not query.is_response(reply):
        raise ValueError(f"{server} sent something that does not answer our query: {reply}")
    return reply


# --- DHCP client (RFC 2131), enough for a phone's first lease --------------------------------

_DHCP_MAGIC = b"\x63\x82\x53\x63"
_DHCP_HEADER = struct.Struct(">BBBB4sHH4s4s4s4s16s64s128s")
_BOOTREQUEST, _BOOTREPLY = 1, 2
DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, DHCPNAK = 1, 2, 3, 5, 6
_OPT_SUBNET, _OPT_ROUTER, _OPT_DNS, _OPT_REQUESTED_IP = 1, 3, 6, 50
_OPT_LEASE_TIME, _OPT_MESSAGE_TYPE, _OPT_SERVER_ID, _OPT_PARAMS = 51, 53, 54, 55
# Broadcast flag: the server answers to 255.255.255.255, since we have no address to unicast to.
_FLAG_BROADCAST = 0x8000
_RETRANSMIT = 1.0


@dataclass(frozen=True)
class Lease:
    """What a DHCP server gave us, and how long the exchange took."""

    address: IPv4Address
    prefix: int
    router: IPv4Address | None
    dns: tuple[IPv4Address, ...]
    server: IPv4Address
    lease_seconds: int
    elapsed: float


def dhcp_packet(xid: bytes, mac: bytes, message_type: int, options: bytes = b"") -> bytes:
    """A BOOTREQUEST carrying DHCP option 53 and `options`."""
    zero = bytes(4)
    header = _DHCP_HEADER.pack(
        _BOOTREQUEST, 1, 6, 0, xid, 0, _FLAG_BROADCAST, zero, zero, zero, zero, mac, b"", b""
    )
    params = bytes([_OPT_PARAMS, 4, _OPT_SUBNET, _OPT_ROUTER, _OPT_DNS, _OPT_LEASE_TIME])
    return (
        header + _DHCP_MAGIC + bytes([_OPT_MESSAGE_TYPE, 1, message_type]) + params + options
    ) + b"\xff"


def parse_dhcp_reply(data: bytes, xid: bytes, mac: bytes) -> tuple[IPv4Address, dict[int, bytes]]:
    """yiaddr and options of a BOOTREPLY to our xid and MAC; ValueError for anything else."""
    if len(data) < _DHCP_HEADER.size + 4:
        raise ValueError("too short for DHCP")
    fields = _DHCP_HEADER.unpack_from(data)
    if fields[0] != _BOOTREPLY or fields[4] != xid or fields[11][:6] != mac:
        raise ValueError("not a reply to us")
    if data[_DHCP_HEADER.size : _DHCP_HEADER.size + 4] != _DHCP_MAGIC:
        raise ValueError("no DHCP magic cookie")
    options: dict[int, bytes] = {}
    offset = _DHCP_HEADER.size + 4
    while offset < len(data):
        code = data[offset]
        if code == 255:
            break
        if code == 0:
            offset += 1
            continue
        if offset + 1 >= len(data):
            raise ValueError("option truncated")
        length = data[offset + 1]
        options[code] = data[offset + 2 : offset + 2 + length]
        offset += 2 + length
    return IPv4Address(fields[8]), options


async def _dhcp_exchange(
    sock: socket.socket, request: bytes, xid: bytes, mac: bytes, want: int
) -> tuple[IPv4Address, dict[int, bytes]]:
    """Send `request` (again every second) until a reply of type `want` (or a NAK) arrives."""
    loop = asyncio.get_running_loop()
    while True:
        await loop.sock_sendto(sock, request, ("255.255.255.255", 67))
        try:
            async with asyncio.timeout(_RETRANSMIT):
                while True:
                    data, _ = await loop.sock_recvfrom(sock, 4096)
                    try:
                        address, options = parse_dhcp_reply(data, xid, mac)
                    except ValueError:
                        continue
                    kind = options.get(_OPT_MESSAGE_TYPE, b"\x00")[0]
                    if kind == DHCPNAK:
                        raise RuntimeError("the DHCP server sent a NAK")
                    if kind == want:
                        return address, options
        except TimeoutError:
            continue


def _addresses(raw: bytes) -> tuple[IPv4Address, ...]:
    return tuple(IPv4Address(raw[i : i + 4]) for i in range(0, len(raw) - 3, 4))


async def dhcp_lease(netns: str, iface: str, timeout: float = 10.0) -> Lease:
    """DISCOVER, OFFER, REQUEST, ACK from `iface` in `netns`, which needs no address yet."""
    mac = interface_mac(netns, iface)
    xid = secrets.token_bytes(4)
    sock = netns_socket(netns, socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        # Without an address the kernel cannot route the broadcast; the bound device tells it
        # which link to send on and to take replies from.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        sock.bind(("0.0.0.0", 68))
        start = time.monotonic()
        async with asyncio.timeout(timeout):
            discover = dhcp_packet(xid, mac, DHCPDISCOVER)
            offered, options = await _dhcp_exchange(sock, discover, xid, mac, DHCPOFFER)
            server = options[_OPT_SERVER_ID]
            request = dhcp_packet(
                xid,
                mac,
                DHCPREQUEST,
                bytes([_OPT_REQUESTED_IP, 4])
                + offered.packed
                + bytes([_OPT_SERVER_ID, 4])
                + server,
            )
            address, options = await _dhcp_exchange(sock, request, xid, mac, DHCPACK)
        elapsed = time.monotonic() - start
    mask = int.from_bytes(options.get(_OPT_SUBNET, b"\xff\xff\xff\x00"), "big")
    routers = _addresses(options.get(_OPT_ROUTER, b""))
    return Lease(
        address=address,
        prefix=bin(mask).count("1"),
        router=routers[0] if routers else None,
        dns=_addresses(options.get(_OPT_DNS, b"")),
        server=IPv4Address(options.get(_OPT_SERVER_ID, server)),
        lease_seconds=int.from_bytes(options.get(_OPT_LEASE_TIME, b"\x00" * 4), "big"),
        elapsed=elapsed,
    )


def apply_lease(netns: str, iface: str, lease: Lease) -> None:
    """Configure the lease on the interface like a phone would: address and default route."""
    add_address(netns, iface, f"{lease.address}/{lease.prefix}")
    if lease.router is not None:
        ip("-n", netns, "route", "replace", "default", "via", str(lease.router))


# --- dnsmasq's lease file: what the hotspot handed out ---------------------------------------


@dataclass(frozen=True)
class DhcpLease:
    """One line of dnsmasq's lease file."""

    expires: int  # Unix time; 0 for an infinite lease
    mac: str
    address: IPv4Address
    hostname: str | None


def parse_leases(text: str) -> tuple[DhcpLease, ...]:
    """The IPv4 leases in dnsmasq's lease-file text; malformed lines are skipped."""
    leases = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        try:
            address = IPv4Address(fields[2])
        except ValueError:
            # DHCPv6 leases and the "duid" line carry no IPv4 address.
            continue
        hostname = None if fields[3] == "*" else fields[3]
        leases.append(DhcpLease(int(fields[0]), fields[1].lower(), address, hostname))
    return tuple(leases)


def dnsmasq_leases(lease_file: Path | None) -> tuple[DhcpLease, ...]:
    """The leases in a dnsmasq's lease file; none before it wrote one (or outside its run)."""
    if lease_file is None:
        return ()
    try:
        return parse_leases(lease_file.read_text(errors="replace"))
    except FileNotFoundError:
        return ()
