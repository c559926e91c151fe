"""Local stand-ins for the internet the reachability checks need: SNTP, TLS with a test CA, DNS.

Each server listens on a socket made inside a test namespace (helpers.netns_socket), so the
event loop of the test serves it while the code under test reaches it over a veth.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

from tests.net.helpers import netns_socket

_NTP_UNIX_OFFSET = 2_208_988_800


class SntpBehaviour(StrEnum):
    """How the SNTP responder answers a request."""

    OK = "ok"
    KISS_OF_DEATH = "kiss"  # stratum 0, kiss code RATE
    WRONG_MODE = "wrong-mode"  # mode 3, as if it echoed a client packet
    WRONG_ORIGINATE = "wrong-originate"  # does not echo the request's transmit time
    SILENT = "silent"  # reads and never answers, like a firewall that drops


def _ntp_timestamp(unix_time: float) -> bytes:
    seconds = int(unix_time) + _NTP_UNIX_OFFSET
    fraction = int((unix_time % 1) * 2**32)
    return struct.pack(">II", seconds & 0xFFFFFFFF, fraction)


def sntp_reply(request: bytes, behaviour: SntpBehaviour, now: float | None = None) -> bytes:
    """The 48-byte server reply to `request` that `behaviour` calls for."""
    now = time.time() if now is None else now
    mode = 3 if behaviour is SntpBehaviour.WRONG_MODE else 4
    stratum = 0 if behaviour is SntpBehaviour.KISS_OF_DEATH else 2
    reference_id = b"RATE" if behaviour is SntpBehaviour.KISS_OF_DEATH else b"\x7f\x00\x00\x01"
    originate = request[40:48] if len(request) >= 48 else bytes(8)
    if behaviour is SntpBehaviour.WRONG_ORIGINATE:
        originate = bytes(b ^ 0xFF for b in originate)
    timestamp = _ntp_timestamp(now)
    header = struct.pack(">BBbb", (4 << 3) | mode, stratum, 6, -20)
    # Root delay and dispersion (zero), reference id, then reference, originate, receive and
    # transmit timestamps.
    return header + bytes(8) + reference_id + timestamp + originate + timestamp + timestamp


class _UdpResponder(asyncio.DatagramProtocol):
    """A UDP server that sends back what `answers` makes of each request; `requests` counts."""

    def __init__(self) -> None:
        self.requests = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: the selector loop's datagram transport is no subclass.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.requests += 1
        for answer in self.answers(data):
            if self.transport is not None:
                self.transport.sendto(answer, addr)

    def answers(self, request: bytes) -> list[bytes]:
        """The datagrams to send back, in order; none for silence."""
        raise NotImplementedError


class SntpResponder(_UdpResponder):
    """An SNTP server on UDP."""

    def __init__(self, behaviour: SntpBehaviour) -> None:
        super().__init__()
        self.behaviour = behaviour

    def answers(self, request: bytes) -> list[bytes]:
        """The reply the behaviour calls for; none when silent."""
        if self.behaviour is SntpBehaviour.SILENT:
            return []
        return [sntp_reply(request, self.behaviour)]


class DnsBehaviour(StrEnum):
    """How the DNS responder answers a query."""

    OK = "ok"  # an A question gets the responder's address, any other an empty NOERROR
    TRUNCATED = "truncated"  # TC set and no records, as an answer too big for UDP comes
    STALE_FIRST = "stale-first"  # an answer to another query id first, then the right one
    GARBLED_FIRST = "garbled-first"  # two bytes that are no DNS message first, then the answer
    SILENT = "silent"  # reads and never answers, like a resolver that is cut off


def dns_answer(query: dns.message.Message, address: str) -> dns.message.Message:
    """The answer of a resolver that knows every name, at `address` (for A questions)."""
    answer = dns.message.make_response(query)
    for question in query.question:
        if question.rdtype == dns.rdatatype.A:
            answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", address))
    return answer


class DnsResponder(_UdpResponder):
    """A DNS server on UDP that knows every name, at `address`."""

    def __init__(self, behaviour: DnsBehaviour = DnsBehaviour.OK, address: str = "127.0.0.1"):
        super().__init__()
        self.behaviour = behaviour
        self.address = address

    def answers(self, request: bytes) -> list[bytes]:
        """The datagrams the behaviour calls for; none for what is not a DNS query."""
        try:
            query = dns.message.from_wire(request)
        except dns.exception.DNSException:
            return []
        answer = dns_answer(query, self.address)
        match self.behaviour:
            case DnsBehaviour.SILENT:
                return []
            case DnsBehaviour.TRUNCATED:
                answer.answer.clear()
                answer.flags |= dns.flags.TC
            case DnsBehaviour.STALE_FIRST:
                stale = dns_answer(query, self.address)
                stale.id = (query.id + 1) % 0x10000
                return [stale.to_wire(), answer.to_wire()]
            case DnsBehaviour.GARBLED_FIRST:
                return [b"\x00\x01", answer.to_wire()]
        return [answer.to_wire()]


@contextlib.asynccontextmanager
async def udp_server(
    netns: str, address: str, port: int, protocol: asyncio.DatagramProtocol
) -> AsyncIterator[asyncio.DatagramProtocol]:
    """Serve `protocol` on UDP address:port inside the namespace until the block ends."""
    sock = netns_socket(netns, socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol, sock=sock)
    try:
        yield protocol
    finally:
        transport.close()


@dataclass(frozen=True)
class CertPair:
    """A PEM certificate and its key."""

    cert: Path
    key: Path


# A config of our own: the system's openssl.cnf would add extensions of its own choosing.
_OPENSSL_CONF = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"
_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def make_ca(directory: Path, name: str) -> CertPair:
    """A self-signed CA certificate, valid for two days."""
    conf = directory / "openssl.cnf"
    conf.write_text(_OPENSSL_CONF)
    ca = CertPair(directory / f"{name}.pem", directory / f"{name}.key")
    _openssl(
        "req", "-x509", "-config", str(conf), *_EC_KEY,
        "-keyout", str(ca.key), "-out", str(ca.cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
    )  # fmt: skip
    return ca


def issue_cert(directory: Path, ca: CertPair, name: str, alt_names: list[str]) -> CertPair:
    """A server certificate signed by `ca` for `alt_names` (e.g. ["DNS:api.rc.test", "IP:..."])."""
    conf = directory / "openssl.cnf"
    conf.write_text(_OPENSSL_CONF)
    leaf = CertPair(directory / f"{name}.pem", directory / f"{name}.key")
    # The extensions Python's strict verification (3.13's VERIFY_X509_STRICT) insists on.
    _openssl(
        "req", "-x509", "-config", str(conf), "-CA", str(ca.cert), "-CAkey", str(ca.key),
        *_EC_KEY, "-keyout", str(leaf.key), "-out", str(leaf.cert), "-days", "2",
        "-subj", f"/CN={name}",
        "-addext", "subjectAltName=" + ",".join(alt_names),
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature",
        "-addext", "extendedKeyUsage=serverAuth",
        "-addext", "authorityKeyIdentifier=keyid",
        "-addext", "subjectKeyIdentifier=hash",
    )  # fmt: skip
    return leaf


def issue_dated_cert(
    directory: Path, ca: CertPair, name: str, alt_names: list[str], start: str, end: str
) -> CertPair:
    """Like issue_cert, valid only from `start` to `end` (YYYYMMDDHHMMSSZ): `openssl ca`."""
    work = directory / f"{name}-ca"
    work.mkdir()
    (work / "index.txt").write_text("")
    (work / "serial").write_text("01\n")
    conf = work / "ca.cnf"
    conf.write_text(
        "[ca]\ndefault_ca = test\n[test]\n"
        f"database = {work}/index.txt\nnew_certs_dir = {work}\nserial = {work}/serial\n"
        "default_md = sha256\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n"
        "x509_extensions = leaf\n[any]\ncommonName = supplied\n"
        "[leaf]\nauthorityKeyIdentifier = keyid\n" + _OPENSSL_CONF
    )
    leaf = CertPair(directory / f"{name}.pem", directory / f"{name}.key")
    request = work / "leaf.csr"
    _openssl(
        "req", "-new", "-config", str(conf), *_EC_KEY, "-keyout", str(leaf.key),
        "-out", str(request), "-subj", f"/CN={name}",
        "-addext", "subjectAltName=" + ",".join(alt_names),
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature",
        "-addext", "extendedKeyUsage=serverAuth",
    )  # fmt: skip
    _openssl(
        "ca", "-batch", "-config", str(conf), "-cert", str(ca.cert), "-keyfile", str(ca.key),
        "-in", str(request), "-out", str(leaf.cert), "-notext",
        "-startdate", start, "-enddate", end,
    )  # fmt: skip
    return leaf


@contextlib.asynccontextmanager
async def tls_server(
    netns: str, address: str, port: int, pair: CertPair
) -> AsyncIterator[list[str]]:
    """A TLS server that completes handshakes and hangs up; yields the SNI names it saw."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.cert, pair.key)
    seen: list[str] = []

    def remember(sslobj: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        seen.append(server_name or "")

    context.sni_callback = remember

    async def handle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    sock = netns_socket(netns, socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    server = await asyncio.start_server(handle, sock=sock, ssl=context)
    try:
        yield seen
    finally:
        server.close()
        await server.wait_closed()


@dataclass(frozen=True)
class Internet:
    """What a joined device must reach, on one address: how often SNTP was asked, and the SNI
    names TLS saw."""

    sntp: SntpResponder
    tls_names: list[str]


@contextlib.asynccontextmanager
async def internet_servers(netns: str, address: str, pair: CertPair) -> AsyncIterator[Internet]:
    """TLS on 443 with `pair` and SNTP on 123 that answers, until the block ends."""
    sntp = SntpResponder(SntpBehaviour.OK)
    async with (
        tls_server(netns, address, 443, pair) as tls_names,
        udp_server(netns, address, 123, sntp),
    ):
        yield Internet(sntp, tls_names)


@contextlib.contextmanager
def dnsmasq_dns_server(
    netns: str, address: str, records: dict[str, str], local_domain: str
) -> Iterator[subprocess.Popen[bytes]]:
    """dnsmasq answering DNS only: `records` name -> address, NXDOMAIN in `local_domain`."""
    argv = [
        "ip", "netns", "exec", netns,
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-hosts",
        "--no-resolv", "--pid-file=", "--log-facility=-", f"--listen-address={address}",
        "--bind-interfaces", f"--local=/{local_domain}/",
        *(f"--host-record={name},{value}" for name, value in records.items()),
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_udp_port(netns, address, 53, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def _wait_udp_port(netns: str, address: str, port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) until something listens on UDP address:port in the namespace."""
    # ss only looks: a probe that bound the port itself could take it from the server.
    ss = ["ip", "netns", "exec", netns, "ss", "-H", "-u", "-l", "-n", f"src {address}:{port}"]
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"dnsmasq exited at once: {stderr}")
        if subprocess.run(ss, capture_output=True, text=True, check=False).stdout.strip():
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listened on {address}:{port} within 5 s")
