"""Reachability of the device's own network needs through a new link: TLS/443, SNTP/123, DNS/53."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import ssl
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from app.flow.state import CheckResult, Service

_LOGGER = logging.getLogger(__name__)

# OpenSSL's X509_V_ERR_CERT_NOT_YET_VALID and X509_V_ERR_CERT_HAS_EXPIRED: what a wrong clock
# looks like; and X509_V_FLAG_NO_CHECK_TIME, which Python's ssl.VerifyFlags does not name.
_CLOCK_ERRORS = frozenset({9, 10})
_NO_CHECK_TIME = 0x200000

_T = TypeVar("_T")

# Read only when NetworkManager knows no DNS server of the uplink (`wifi-connect check`).
RESOLV_CONF = Path("/etc/resolv.conf")

HTTPS_PORT = 443
NTP_PORT = 123
DNS_PORT = 53

# Seconds between 1900-01-01 (the NTP era 0 epoch) and 1970-01-01 (the Unix epoch).
NTP_UNIX_OFFSET = 2_208_988_800
NTP_PACKET_SIZE = 48
_NTP_VERSION = 4
_NTP_MODE_CLIENT = 3
_NTP_MODE_SERVER = 4

QTYPE_A = 1
QTYPE_AAAA = 28
QCLASS_IN = 1
RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_DNS_HEADER = struct.Struct(">HHHHHH")
_DNS_FLAG_QR = 0x8000
_DNS_FLAG_TC = 0x0200
_DNS_FLAG_RD = 0x0100
# A well-formed name has at most 127 labels, so more jumps than that can only be a pointer loop.
_DNS_MAX_POINTERS = 127

# A TLS close_notify exchange must not hold a finished check for long.
_TLS_CLOSE_TIMEOUT = 1.0


class BadReply(ValueError):
    """A reply to our request that cannot be used; the message says why in plain words."""


class UnrelatedReply(BadReply):
    """A datagram that is not an answer to our request (stale, spoofed or garbled): ignore it."""


@dataclass(frozen=True)
class SntpReply:
    """The parts of a valid SNTP server reply the checks report."""

    stratum: int
    # The server's transmit time in Unix seconds.
    server_time: float


@dataclass(frozen=True)
class DnsReply:
    """A DNS answer that matches our query: its RCODE and the addresses of the asked type."""

    rcode: int
    addresses: tuple[IPv4Address | IPv6Address, ...]
    truncated: bool = False

    @property
    def rcode_name(self) -> str:
        """The RCODE's mnemonic, e.g. NXDOMAIN."""
        return RCODE_NAMES.get(self.rcode, f"RCODE {self.rcode}")


class CheckTargets(Protocol):
    """What to check; app.config.Config satisfies it."""

    @property
    def check_https(self) -> tuple[str, ...]:
        """https:// URLs whose TLS handshake must succeed."""
        ...

    @property
    def check_ntp(self) -> str:
        """The NTP server that must answer."""
        ...

    @property
    def check_timeout(self) -> float:
        """Seconds each check may take."""
        ...


# --- SNTP wire format (RFC 4330 / RFC 5905), pure ---------------------------------------------


def build_sntp_request(transmit: bytes) -> bytes:
    """A 48-byte SNTP client request (version 4, mode 3) whose transmit time is `transmit`."""
    if len(transmit) != 8:
        raise ValueError("an NTP timestamp is 8 bytes")
    # Every other field stays zero, so the request tells the server nothing about our clock.
    first = (_NTP_VERSION << 3) | _NTP_MODE_CLIENT
    return bytes([first]) + bytes(39) + transmit


def parse_sntp_reply(data: bytes, transmit: bytes) -> SntpReply:
    """Validate a reply to the request that carried `transmit`; raise BadReply if unusable."""
    if len(data) < NTP_PACKET_SIZE:
        raise UnrelatedReply(
            f"the reply is {len(data)} bytes, shorter than an NTP packet ({NTP_PACKET_SIZE})"
        )
    # The originate field echoes our random transmit time: without it the packet is not ours.
    if data[24:32] != transmit:
        raise UnrelatedReply("the reply does not echo our transmit time (stale or spoofed)")
    mode = data[0] & 0x07
    if mode != _NTP_MODE_SERVER:
        raise BadReply(f"the reply has mode {mode}, not a server reply (mode 4)")
    stratum = data[1]
    if stratum == 0:
        code = data[12:16].decode("ascii", errors="replace").strip("\x00 ")
        raise BadReply(
            f"the server sent a kiss-o'-death ({code or 'no code'}): it refuses to serve"
        )
    seconds, fraction = struct.unpack(">II", data[40:48])
    return SntpReply(stratum=stratum, server_time=seconds - NTP_UNIX_OFFSET + fraction / 2**32)


# --- DNS wire format (RFC 1035), pure ---------------------------------------------------------


def encode_dns_name(name: str) -> bytes:
    """A host name in DNS label form; raise ValueError for names DNS cannot carry."""
    labels = name.rstrip(".").split(".")
    try:
        encoded = [label.encode("ascii") for label in labels]
    except UnicodeEncodeError:
        raise ValueError(f"{name!r} is not an ASCII host name") from None
    if any(not 0 < len(label) < 64 for label in encoded):
        raise ValueError(f"{name!r} has an empty label or one longer than 63 bytes")
    wire = b"".join(bytes([len(label)]) + label for label in encoded) + b"\x00"
    if len(wire) > 255:
        raise ValueError(f"{name!r} is longer than DNS allows")
    return wire


def build_dns_query(name: str, query_id: int, qtype: int = QTYPE_A) -> bytes:
    """A recursive DNS query (RD set) for `name` of type `qtype`, class IN."""
    header = _DNS_HEADER.pack(query_id, _DNS_FLAG_RD, 1, 0, 0, 0)
    return header + encode_dns_name(name) + struct.pack(">HH", qtype, QCLASS_IN)


def _read_dns_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at `offset` (following compression pointers) and the offset just after it."""
    labels: list[str] = []
    end: int | None = None
    jumps = 0
    while True:
        if offset >= len(data):
            raise BadReply("the reply is truncated inside a name")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise BadReply("the reply is truncated inside a name")
            jumps += 1
            if jumps > _DNS_MAX_POINTERS:
                raise BadReply("the reply has a name compression loop")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length & 0xC0:
            raise BadReply(f"the reply has an unknown label type {length:#04x}")
        offset += 1
        if length == 0:
            return ".".join(labels), end if end is not None else offset
        if offset + length > len(data):
            raise BadReply("the reply is truncated inside a name")
        labels.append(data[offset : offset + length].decode("ascii", errors="replace"))
        offset += length


def parse_dns_reply(data: bytes, query_id: int, name: str, qtype: int = QTYPE_A) -> DnsReply:
    """Validate a reply to our query (id, question) and collect its `qtype` addresses."""
    if len(data) < _DNS_HEADER.size:
        raise UnrelatedReply(f"the reply is {len(data)} bytes, shorter than a DNS header")
    reply_id, flags, qdcount, ancount, _, _ = _DNS_HEADER.unpack_from(data)
    if reply_id != query_id:
        raise UnrelatedReply(f"the reply has id {reply_id}, not our query's {query_id}")
    if not flags & _DNS_FLAG_QR:
        raise UnrelatedReply("the packet is a query, not a reply")
    if qdcount != 1:
        raise UnrelatedReply(f"the reply carries {qdcount} questions instead of ours")
    try:
        asked, offset = _read_dns_name(data, _DNS_HEADER.size)
    except BadReply as err:
        raise UnrelatedReply(str(err)) from None
    if offset + 4 > len(data):
        raise UnrelatedReply("the reply is truncated inside its question")
    asked_type, asked_class = struct.unpack_from(">HH", data, offset)
    offset += 4
    # Resolvers may echo the name in another case (DNS 0x20), so compare case-insensitively.
    if (asked.lower(), asked_type, asked_class) != (name.rstrip(".").lower(), qtype, QCLASS_IN):
        raise UnrelatedReply(f"the reply answers {asked!r} type {asked_type}, not our question")
    addresses: list[IPv4Address | IPv6Address] = []
    for _ in range(ancount):
        _, offset = _read_dns_name(data, offset)
        if offset + 10 > len(data):
            raise BadReply("the reply is truncated inside an answer")
        rtype, rclass, _, rdlength = struct.unpack_from(">HHIH", data, offset)
        offset += 10
        rdata = data[offset : offset + rdlength]
        if len(rdata) != rdlength:
            raise BadReply("the reply is truncated inside an answer")
        offset += rdlength
        # A CNAME chain comes first; only the records of the asked type are addresses.
        if rclass == QCLASS_IN and rtype == qtype == QTYPE_A and rdlength == 4:
            addresses.append(IPv4Address(rdata))
        elif rclass == QCLASS_IN and rtype == qtype == QTYPE_AAAA and rdlength == 16:
            addresses.append(IPv6Address(rdata))
    return DnsReply(
        rcode=flags & 0x000F, addresses=tuple(addresses), truncated=bool(flags & _DNS_FLAG_TC)
    )


# --- UDP request/response ---------------------------------------------------------------------


class _Datagrams(asyncio.DatagramProtocol):
    """Queues what a connected UDP socket receives, ICMP errors included."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | OSError] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.queue.put_nowait(exc)


class UdpExchange:
    """One UDP request and its answer; remembers why datagrams were ignored, for the report."""

    def __init__(self) -> None:
        self.ignored: str | None = None

    async def request(
        self, address: str, port: int, payload: bytes, accept: Callable[[bytes], _T]
    ) -> _T:
        """Send `payload`; return `accept`'s value for the first datagram it takes; no timeout."""
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            _Datagrams, remote_addr=(address, port)
        )
        try:
            transport.sendto(payload)
            while True:
                item = await protocol.queue.get()
                if isinstance(item, OSError):
                    raise item
                try:
                    return accept(item)
                except UnrelatedReply as err:
                    # Keep listening: the real answer may still come.
                    self.ignored = str(err)
        finally:
            transport.close()


async def dns_query(
    server: str, name: str, timeout: float, *, qtype: int = QTYPE_A, port: int = DNS_PORT
) -> DnsReply:
    """Ask `server` for `name` once; raise TimeoutError, OSError (e.g. refused) or BadReply."""
    query_id = int.from_bytes(os.urandom(2), "big")
    query = build_dns_query(name, query_id, qtype)
    async with asyncio.timeout(timeout):
        return await UdpExchange().request(
            server, port, query, lambda data: parse_dns_reply(data, query_id, name, qtype)
        )


# --- the checks -------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _elapsed_ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


def _os_error_text(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _url_endpoint(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    return parts.hostname, parts.port or HTTPS_PORT


def _endpoint_text(host: str, port: int, default_port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


async def _resolve(host: str, port: int, kind: socket.SocketKind) -> str:
    """The first address the system resolver gives for `host` (an IP literal is returned as is)."""
    with contextlib.suppress(ValueError):
        return str(ip_address(host))
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=kind, flags=socket.AI_ADDRCONFIG)
    return str(infos[0][4][0])


async def check_https(url: str, timeout: float, context: ssl.SSLContext) -> CheckResult:
    """TCP to the URL's host and port, then a TLS handshake that verifies the certificate."""
    host, port = _url_endpoint(url)
    target = _endpoint_text(host, port, HTTPS_PORT)
    start = time.monotonic()
    stage = "resolve"

    def failed(reason: str, answered: bool = True) -> CheckResult:
        latency = _elapsed_ms(start) if answered else None
        return CheckResult(Service.HTTPS, target, False, latency, reason)

    try:
        async with asyncio.timeout(timeout):
            address = await _resolve(host, port, socket.SOCK_STREAM)
            stage = "connect"
            _, writer = await asyncio.open_connection(address, port)
            try:
                stage = "handshake"
                await writer.start_tls(context, server_hostname=host)
                latency = _elapsed_ms(start)
            finally:
                writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(_TLS_CLOSE_TIMEOUT):
                await writer.wait_closed()
    except TimeoutError:
        reason = {
            "resolve": f"could not resolve {host} in {_seconds(timeout)}",
            "connect": f"TCP {port} to {host} got no answer in {_seconds(timeout)}",
            "handshake": f"the TLS handshake with {host} did not finish in {_seconds(timeout)}",
        }[stage]
        return failed(reason, answered=False)
    except ssl.SSLCertVerificationError as err:
        if err.verify_code in _CLOCK_ERRORS and not context.verify_flags & _NO_CHECK_TIME:
            return await _check_https_ignoring_the_clock(
                url, timeout, host, str(err.verify_message)
            )
        return failed(
            f"the network intercepts HTTPS to {host} (a sign-in page?): its certificate is "
            f"not trusted ({err.verify_message})"
        )
    except ssl.SSLError as err:
        return failed(f"the TLS handshake with {host} failed ({err.reason or err})")
    except socket.gaierror as err:
        return failed(f"could not resolve {host}: {_os_error_text(err)}")
    except ConnectionRefusedError:
        return failed(f"TCP {port} to {host} was refused")
    except (ConnectionResetError, ConnectionAbortedError, asyncio.IncompleteReadError):
        if stage == "handshake":
            return failed(f"{host} cut the connection during the TLS handshake (HTTPS filtered?)")
        return failed(f"TCP {port} to {host} was reset")
    except OSError as err:
        return failed(f"TCP {port} to {host} failed: {_os_error_text(err)}")
    return CheckResult(Service.HTTPS, target, True, latency)


async def _check_https_ignoring_the_clock(
    url: str, timeout: float, host: str, complaint: str
) -> CheckResult:
    """Verify again with the certificate's dates ignored, the rest of the chain still checked."""
    # A device without a battery-backed clock boots in the past; its link is fine all the same.
    relaxed = ssl.create_default_context()
    relaxed.verify_flags |= _NO_CHECK_TIME
    result = await check_https(url, timeout, relaxed)
    if not result.ok:
        return result
    _LOGGER.warning("The clock is wrong: %s's certificate %s by our time", host, complaint)
    return dataclasses.replace(
        result,
        reason=f"trusted, but this device's clock is wrong ({complaint}); NTP will set it",
    )


async def check_ntp(server: str, timeout: float, *, port: int = NTP_PORT) -> CheckResult:
    """One SNTP request with a random transmit time; a valid server reply must echo it."""
    target = _endpoint_text(server, port, NTP_PORT)
    exchange = UdpExchange()
    start = time.monotonic()
    resolved = False

    def failed(reason: str, answered: bool = True) -> CheckResult:
        latency = _elapsed_ms(start) if answered else None
        return CheckResult(Service.NTP, target, False, latency, reason)

    try:
        async with asyncio.timeout(timeout):
            address = await _resolve(server, port, socket.SOCK_DGRAM)
            resolved = True
            # A random transmit time instead of our clock: the device's clock is not yet set,
            # and a random value is what makes a spoofed or stale reply recognisable.
            transmit = os.urandom(8)
            reply = await exchange.request(
                address,
                port,
                build_sntp_request(transmit),
                lambda data: parse_sntp_reply(data, transmit),
            )
    except TimeoutError:
        if not resolved:
            return failed(f"could not resolve {server} in {_seconds(timeout)}", answered=False)
        reason = f"UDP {port} to {server} got no answer in {_seconds(timeout)}"
        if exchange.ignored:
            reason = f"UDP {port} to {server} got no valid answer in {_seconds(timeout)}: "
            reason += exchange.ignored
        return failed(reason, answered=False)
    except BadReply as err:
        return failed(f"{server} answered on UDP {port}, but {err}")
    except socket.gaierror as err:
        return failed(f"could not resolve {server}: {_os_error_text(err)}")
    except ConnectionRefusedError:
        return failed(f"UDP {port} to {server} was refused: nothing answers NTP there")
    except OSError as err:
        return failed(f"UDP {port} to {server} failed: {_os_error_text(err)}")
    _LOGGER.debug("%s answered SNTP with stratum %d", server, reply.stratum)
    return CheckResult(Service.NTP, target, True, _elapsed_ms(start))


async def _query_resolver(resolver: str, name: str, timeout: float, port: int) -> CheckResult:
    """One resolver's answer for `name`: ok only for NOERROR with at least one A record."""
    target = _endpoint_text(resolver, port, DNS_PORT)
    query_id = int.from_bytes(os.urandom(2), "big")
    exchange = UdpExchange()
    start = time.monotonic()

    def failed(reason: str, answered: bool = True) -> CheckResult:
        latency = _elapsed_ms(start) if answered else None
        return CheckResult(Service.DNS, target, False, latency, reason)

    try:
        async with asyncio.timeout(timeout):
            query = build_dns_query(name, query_id)
            reply = await exchange.request(
                resolver, port, query, lambda data: parse_dns_reply(data, query_id, name)
            )
    except TimeoutError:
        reason = f"UDP {port} to {resolver} got no answer in {_seconds(timeout)}"
        if exchange.ignored:
            reason = f"UDP {port} to {resolver} got no valid answer in {_seconds(timeout)}: "
            reason += exchange.ignored
        return failed(reason, answered=False)
    except BadReply as err:
        return failed(f"{resolver} answered on UDP {port}, but {err}")
    except ConnectionRefusedError:
        return failed(f"UDP {port} to {resolver} was refused: no DNS server answers there")
    except OSError as err:
        return failed(f"UDP {port} to {resolver} failed: {_os_error_text(err)}")
    # NXDOMAIN is a failure although port 53 works: the device cannot reach its API without
    # the name, and the reason tells this apart from a blocked port.
    if reply.rcode == RCODE_NXDOMAIN:
        return failed(f"{resolver} says {name} does not exist (NXDOMAIN)")
    if reply.rcode != RCODE_NOERROR:
        return failed(f"{resolver} did not resolve {name}: it answered {reply.rcode_name}")
    if not reply.addresses:
        extra = " (the answer was truncated)" if reply.truncated else ""
        return failed(f"{resolver} has no IPv4 address for {name}{extra}")
    return CheckResult(Service.DNS, target, True, _elapsed_ms(start))


async def check_dns(
    resolvers: Sequence[str], name: str, timeout: float, *, port: int = DNS_PORT
) -> CheckResult:
    """Ask every resolver at once; DNS works when one of them resolves `name` to an address."""
    target = ", ".join(_endpoint_text(resolver, port, DNS_PORT) for resolver in resolvers)
    if not resolvers:
        return CheckResult(
            Service.DNS, "no resolver", False, None, "the network gave the device no DNS server"
        )
    tasks = [
        asyncio.create_task(_query_resolver(resolver, name, timeout, port))
        for resolver in resolvers
    ]
    failures: list[CheckResult] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            result = await next_done
            if result.ok:
                return CheckResult(Service.DNS, target, True, result.latency_ms)
            failures.append(result)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # Report in the order the link lists its resolvers, not the order they failed.
    order = [_endpoint_text(resolver, port, DNS_PORT) for resolver in resolvers]
    failures.sort(key=lambda result: order.index(result.target))
    reason = "; ".join(result.reason or "failed" for result in failures)
    latencies = [result.latency_ms for result in failures if result.latency_ms is not None]
    return CheckResult(Service.DNS, target, False, max(latencies, default=None), reason)


def dns_name_for(https_urls: Sequence[str], ntp_server: str) -> str | None:
    """The name the DNS check resolves: the first HTTPS host that is a name, else the NTP host."""
    for host in [_url_endpoint(url)[0] for url in https_urls] + [ntp_server]:
        try:
            ip_address(host)
        except ValueError:
            return host
    return None


async def check_reachability(
    targets: CheckTargets, resolvers: Sequence[str], *, dns_name: str | None = None
) -> tuple[CheckResult, ...]:
    """Every check in parallel, each bounded by check_timeout: HTTPS per URL, then NTP, then DNS."""
    # The DNS check is left out when every target is an IP address and no `dns_name` is
    # given: then the device needs no name resolved.
    timeout = targets.check_timeout
    # The default context verifies certificates and host names against the system store, or
    # against SSL_CERT_FILE / SSL_CERT_DIR when they are set.
    context = ssl.create_default_context()
    name = dns_name or dns_name_for(targets.check_https, targets.check_ntp)
    checks = [check_https(url, timeout, context) for url in targets.check_https]
    checks.append(check_ntp(targets.check_ntp, timeout))
    if name is not None:
        checks.append(check_dns([str(resolver) for resolver in resolvers], name, timeout))
    results = tuple(await asyncio.gather(*checks))
    for result in results:
        _LOGGER.debug(
            "check %s %s: %s %s ms %s",
            result.service,
            result.target,
            "ok" if result.ok else "FAILED",
            result.latency_ms,
            result.reason or "",
        )
    return results


def system_resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """The nameserver lines of a resolv.conf; none when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        _LOGGER.debug("Cannot read %s: %s", path, err.strerror)
        return []
    return parse_resolv_conf(text)


def parse_resolv_conf(text: str) -> list[str]:
    """The addresses of `nameserver` lines, in order, once each; anything else is ignored."""
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            address = str(ip_address(words[1]))
        except ValueError:
            continue
        if address not in found:
            found.append(address)
    return found
