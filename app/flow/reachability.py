"""Reachability of the device's own network needs through a new link: TLS/443, SNTP/123, DNS/53.

Checks of a new link go over that link only: every socket is bound to its interface
(SO_BINDTODEVICE) and names are asked of its own resolvers, so a working wire beside a dead
WiFi link proves nothing. Without an interface (`wifi-connect check`) the checks follow the
default route and resolve names as the rest of the device does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import functools
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

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from app.errors import LinkUnusable
from app.flow.state import CheckResult, Service
from app.nm.models import ActiveLink

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


# --- UDP request/response ---------------------------------------------------------------------


class _Listener:
    """Waits for the answer to one request; remembers why other datagrams were ignored."""

    def __init__(self) -> None:
        self.ignored: str | None = None

    def _ignore(self, reason: str) -> None:
        # Keep listening: the real answer may still come. The last reason goes into the report
        # should it not.
        _LOGGER.debug("Ignored a datagram: %s", reason)
        self.ignored = reason


class _Datagrams(asyncio.DatagramProtocol):
    """Queues what a connected UDP socket receives, ICMP errors included."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | OSError] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.queue.put_nowait(exc)


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ip_address(address).version == 6 else socket.AF_INET


def link_socket(
    family: socket.AddressFamily, kind: socket.SocketKind, interface: str | None
) -> socket.socket:
    """A non-blocking socket that only uses `interface` (SO_BINDTODEVICE); None: any route."""
    sock = socket.socket(family, kind)
    try:
        sock.setblocking(False)
        if interface is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
    except BaseException:
        sock.close()
        raise
    return sock


def link_unusable(interface: str, err: OSError) -> LinkUnusable:
    """Why no socket can be bound to `interface`, in plain words."""
    if err.errno in (errno.EPERM, errno.EACCES):
        # Measured on Linux 6.18: a new socket binds without any capability (Linux 5.7 made
        # that so); changing a binding, and before 5.7 any binding, needs CAP_NET_RAW.
        return LinkUnusable(
            f"binding the checks' sockets to {interface} (SO_BINDTODEVICE) was refused "
            f"({_os_error_text(err)}): before Linux 5.7 that needs CAP_NET_RAW; run "
            "wifi-connect as root or give it CAP_NET_RAW"
        )
    if err.errno == errno.ENODEV:
        return LinkUnusable(f"{interface} is gone: the new link went down before its checks")
    return LinkUnusable(f"cannot bind a socket to {interface}: {_os_error_text(err)}")


def check_bindable(interface: str) -> None:
    """Raise LinkUnusable, saying why, unless sockets can be bound to `interface`."""
    try:
        link_socket(socket.AF_INET, socket.SOCK_DGRAM, interface).close()
    except OSError as err:
        raise link_unusable(interface, err) from None


class UdpExchange(_Listener):
    """One UDP request and its answer over a connected socket, bound to `interface` if given."""

    def __init__(self, interface: str | None = None) -> None:
        super().__init__()
        self._interface = interface

    async def request(
        self, address: str, port: int, payload: bytes, accept: Callable[[bytes], _T]
    ) -> _T:
        """Send `payload`; return `accept`'s value for the first datagram it takes; no timeout."""
        loop = asyncio.get_running_loop()
        sock = link_socket(_family(address), socket.SOCK_DGRAM, self._interface)
        try:
            # Connected: only a connected UDP socket hears the ICMP port unreachable, which
            # comes back as ConnectionRefusedError. A UDP connect does not block.
            sock.connect((address, port))
            transport, protocol = await loop.create_datagram_endpoint(_Datagrams, sock=sock)
        except BaseException:
            sock.close()
            raise
        try:
            transport.sendto(payload)
            while True:
                item = await protocol.queue.get()
                if isinstance(item, OSError):
                    raise item
                try:
                    return accept(item)
                except UnrelatedReply as err:
                    self._ignore(str(err))
        finally:
            transport.close()


# --- DNS over UDP, through dnspython ----------------------------------------------------------


def unrelated_reason(query: dns.message.Message, reply: dns.message.Message) -> str | None:
    """None when `reply` answers `query`; otherwise why it does not, in plain words."""
    # dnspython's is_response also compares the questions case-insensitively (resolvers may
    # echo the name in another case, DNS 0x20); it only says no, so the rest says why.
    if query.is_response(reply):
        return None
    if not reply.flags & dns.flags.QR:
        return "the packet is a query, not a reply"
    if reply.id != query.id:
        return f"the reply has id {reply.id}, not our query's {query.id}"
    asked = "; ".join(str(question) for question in reply.question) or "no question"
    return f"the reply answers {asked}, not our question"


def answer_addresses(
    reply: dns.message.Message, rdtype: dns.rdatatype.RdataType = dns.rdatatype.A
) -> tuple[IPv4Address | IPv6Address, ...]:
    """The addresses of type `rdtype` (A or AAAA) in a reply's answer section, in order."""
    # A CNAME chain comes first; only the records of the asked type are addresses.
    return tuple(
        ip_address(rdata.to_text())
        for rrset in reply.answer
        if rrset.rdclass == dns.rdataclass.IN and rrset.rdtype == rdtype
        for rdata in rrset
    )


def dns_answer(query: dns.message.Message, data: bytes) -> dns.message.Message:
    """The reply to `query` in a datagram; UnrelatedReply says why it is not one."""
    try:
        reply = dns.message.from_wire(data)
    except dns.exception.DNSException as err:
        raise UnrelatedReply(f"the reply is malformed ({err})") from None
    reason = unrelated_reason(query, reply)
    if reason is not None:
        raise UnrelatedReply(reason)
    return reply


class DnsExchange(UdpExchange):
    """One DNS query over UDP, built and read by dnspython, and its answer."""

    async def query(
        self,
        server: str,
        name: str,
        *,
        rdtype: dns.rdatatype.RdataType = dns.rdatatype.A,
        port: int = DNS_PORT,
    ) -> dns.message.Message:
        """Ask `server` (an IP address) for `name` once; return the answer; no timeout."""
        # Recursion desired, no EDNS: what every resolver answers. Not dns.asyncquery.udp: it
        # cannot bind its socket to an interface, its socket is not connected (so it never
        # hears a refusal), and it ends at the first datagram that is not our answer without
        # saying why; we ignore such a datagram and remember why.
        query = dns.message.make_query(name, rdtype)
        return await self.request(
            server, port, query.to_wire(), lambda data: dns_answer(query, data)
        )


async def dns_query(
    server: str,
    name: str,
    timeout: float,
    *,
    rdtype: dns.rdatatype.RdataType = dns.rdatatype.A,
    port: int = DNS_PORT,
) -> dns.message.Message:
    """Ask `server` for `name` once; raise TimeoutError or OSError (e.g. refused)."""
    async with asyncio.timeout(timeout):
        return await DnsExchange().query(server, name, rdtype=rdtype, port=port)


# --- the checks -------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g} s"


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


async def _resolve_over_link(
    host: str, interface: str, resolvers: Sequence[str], timeout: float
) -> str:
    """The first IPv4 address the link's resolvers give for `host`, asked over the link."""
    with contextlib.suppress(ValueError):
        return str(ip_address(host))
    if not resolvers:
        raise socket.gaierror(socket.EAI_NONAME, f"the network gave {interface} no DNS server")
    answer, failures = await _ask_resolvers(resolvers, host, timeout, DNS_PORT, interface)
    if answer is None:
        raise socket.gaierror(
            socket.EAI_NONAME, "; ".join(result.reason or "failed" for result in failures)
        )
    return str(answer.addresses[0])


@dataclass(frozen=True)
class _Reach:
    """How a check reaches its service, and what a refusal there means."""

    transport: str
    port: int
    # Said after "... was refused"; nothing where the refusal speaks for itself.
    refused: str


_REACH = {
    Service.HTTPS: _Reach("TCP", HTTPS_PORT, ""),
    Service.NTP: _Reach("UDP", NTP_PORT, ": nothing answers NTP there"),
    Service.DNS: _Reach("UDP", DNS_PORT, ": no DNS server answers there"),
}


class _Probe:
    """One check under way: its target, its clock, and its failures in plain words."""

    def __init__(
        self,
        service: Service,
        host: str,
        port: int,
        timeout: float,
        *,
        interface: str | None = None,
        resolvers: Sequence[str] = (),
    ) -> None:
        self.service = service
        self._reach = _REACH[service]
        self.target = _endpoint_text(host, port, self._reach.port)
        self._host = host
        self._port = port
        self._timeout = timeout
        self._interface = interface
        self._resolvers = resolvers
        self._resolved = False
        self._start = time.monotonic()

    async def resolve(self, kind: socket.SocketKind) -> str:
        """The host's address; a timeout from here on is no longer the resolver's."""
        if self._interface is None:
            address = await _resolve(self._host, self._port, kind)
        else:
            # The check's own bound, which started first, ends a silent lookup: "could not
            # resolve ... in N s".
            address = await _resolve_over_link(
                self._host, self._interface, self._resolvers, self._timeout
            )
        self._resolved = True
        return address

    def elapsed_ms(self) -> float:
        """Milliseconds since the check started."""
        return round((time.monotonic() - self._start) * 1000, 1)

    def passed(self, latency_ms: float | None = None) -> CheckResult:
        """The check worked; the latency is the time until now unless given."""
        latency = self.elapsed_ms() if latency_ms is None else latency_ms
        return CheckResult(self.service, self.target, True, latency)

    def failed(self, reason: str, *, answered: bool = True) -> CheckResult:
        """The check failed; without an answer there is no latency to report."""
        latency = self.elapsed_ms() if answered else None
        return CheckResult(self.service, self.target, False, latency, reason)

    def failure(
        self,
        err: OSError | BadReply,
        *,
        ignored: str | None = None,
        silence: str | None = None,
    ) -> CheckResult:
        """A failure every check meets, in plain words.

        `ignored`: why the last datagram that was not our answer was ignored; `silence`: what a
        timeout means once the host is resolved, where it is more than "no answer".
        """
        transport = self._reach.transport
        link = f"{transport} {self._port} to {self._host}"
        within = _seconds(self._timeout)
        match err:
            case TimeoutError() if not self._resolved:
                return self.failed(f"could not resolve {self._host} in {within}", answered=False)
            case TimeoutError() if ignored:
                reason = f"{link} got no valid answer in {within}: {ignored}"
                return self.failed(reason, answered=False)
            case TimeoutError():
                return self.failed(silence or f"{link} got no answer in {within}", answered=False)
            case BadReply():
                return self.failed(f"{self._host} answered on {transport} {self._port}, but {err}")
            case socket.gaierror():
                return self.failed(f"could not resolve {self._host}: {_os_error_text(err)}")
            case ConnectionRefusedError():
                return self.failed(f"{link} was refused{self._reach.refused}")
        return self.failed(f"{link} failed: {_os_error_text(err)}")


async def _open_tcp(
    address: str, port: int, interface: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to address:port, over `interface` only when one is given."""
    sock = link_socket(_family(address), socket.SOCK_STREAM, interface)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise


async def check_https(
    url: str,
    timeout: float,
    context: ssl.SSLContext,
    *,
    interface: str | None = None,
    resolvers: Sequence[str] = (),
) -> CheckResult:
    """TCP to the URL's host and port, then a TLS handshake that verifies the certificate.

    With `interface`, the connection uses that link only and its `resolvers` find the host.
    """
    host, port = _url_endpoint(url)
    probe = _Probe(Service.HTTPS, host, port, timeout, interface=interface, resolvers=resolvers)
    handshake = False
    try:
        async with asyncio.timeout(timeout):
            address = await probe.resolve(socket.SOCK_STREAM)
            _, writer = await _open_tcp(address, port, interface)
            try:
                handshake = True
                await writer.start_tls(context, server_hostname=host)
                latency = probe.elapsed_ms()
            finally:
                writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(_TLS_CLOSE_TIMEOUT):
                await writer.wait_closed()
    except ssl.SSLCertVerificationError as err:
        if err.verify_code in _CLOCK_ERRORS and not context.verify_flags & _NO_CHECK_TIME:
            return await _check_https_ignoring_the_clock(
                url, timeout, host, str(err.verify_message), interface, resolvers
            )
        return probe.failed(
            f"the network intercepts HTTPS to {host} (a sign-in page?): its certificate is "
            f"not trusted ({err.verify_message})"
        )
    except ssl.SSLError as err:
        return probe.failed(f"the TLS handshake with {host} failed ({err.reason or err})")
    except (ConnectionResetError, ConnectionAbortedError, asyncio.IncompleteReadError):
        if handshake:
            return probe.failed(
                f"{host} cut the connection during the TLS handshake (HTTPS filtered?)"
            )
        return probe.failed(f"TCP {port} to {host} was reset")
    except OSError as err:
        stalled = f"the TLS handshake with {host} did not finish in {_seconds(timeout)}"
        return probe.failure(err, silence=stalled if handshake else None)
    return probe.passed(latency)


async def _check_https_ignoring_the_clock(
    url: str,
    timeout: float,
    host: str,
    complaint: str,
    interface: str | None,
    resolvers: Sequence[str],
) -> CheckResult:
    """Verify again with the certificate's dates ignored, the rest of the chain still checked."""
    # A device without a battery-backed clock boots in the past; its link is fine all the same.
    relaxed = ssl.create_default_context()
    relaxed.verify_flags |= _NO_CHECK_TIME
    result = await check_https(url, timeout, relaxed, interface=interface, resolvers=resolvers)
    if not result.ok:
        return result
    _LOGGER.warning("The clock is wrong: %s's certificate %s by our time", host, complaint)
    return dataclasses.replace(
        result,
        reason=f"trusted, but this device's clock is wrong ({complaint}); NTP will set it",
    )


async def check_ntp(
    server: str,
    timeout: float,
    *,
    port: int = NTP_PORT,
    interface: str | None = None,
    resolvers: Sequence[str] = (),
) -> CheckResult:
    """One SNTP request with a random transmit time; a valid server reply must echo it.

    With `interface`, the request uses that link only and its `resolvers` find the server.
    """
    probe = _Probe(Service.NTP, server, port, timeout, interface=interface, resolvers=resolvers)
    exchange = UdpExchange(interface)
    try:
        async with asyncio.timeout(timeout):
            address = await probe.resolve(socket.SOCK_DGRAM)
            # A random transmit time instead of our clock: the device's clock is not yet set,
            # and a random value is what makes a spoofed or stale reply recognisable.
            transmit = os.urandom(8)
            reply = await exchange.request(
                address,
                port,
                build_sntp_request(transmit),
                lambda data: parse_sntp_reply(data, transmit),
            )
    except (OSError, BadReply) as err:
        return probe.failure(err, ignored=exchange.ignored)
    _LOGGER.debug("%s answered SNTP with stratum %d", server, reply.stratum)
    return probe.passed()


@dataclass(frozen=True)
class _Answer:
    """One resolver's answer: its check result, and the addresses it gave when that passed."""

    result: CheckResult
    addresses: tuple[IPv4Address | IPv6Address, ...] = ()


async def _query_resolver(
    resolver: str, name: str, timeout: float, port: int, interface: str | None
) -> _Answer:
    """One resolver's answer for `name`: ok only for NOERROR with at least one A record."""
    probe = _Probe(Service.DNS, resolver, port, timeout)
    exchange = DnsExchange(interface)
    try:
        async with asyncio.timeout(timeout):
            address = await probe.resolve(socket.SOCK_DGRAM)
            reply = await exchange.query(address, name, port=port)
    except OSError as err:
        return _Answer(probe.failure(err, ignored=exchange.ignored))
    rcode = reply.rcode()
    # NXDOMAIN is a failure although port 53 works: the device cannot reach its API without
    # the name, and the reason tells this apart from a blocked port.
    if rcode == dns.rcode.NXDOMAIN:
        return _Answer(probe.failed(f"{resolver} says {name} does not exist (NXDOMAIN)"))
    if rcode != dns.rcode.NOERROR:
        return _Answer(
            probe.failed(
                f"{resolver} did not resolve {name}: it answered {dns.rcode.to_text(rcode)}"
            )
        )
    addresses = answer_addresses(reply)
    if not addresses:
        extra = " (the answer was truncated)" if reply.flags & dns.flags.TC else ""
        return _Answer(probe.failed(f"{resolver} has no IPv4 address for {name}{extra}"))
    return _Answer(probe.passed(), addresses)


async def _ask_resolvers(
    resolvers: Sequence[str], name: str, timeout: float, port: int, interface: str | None
) -> tuple[_Answer | None, list[CheckResult]]:
    """Ask every resolver at once: the first answer with an address, else every failure."""
    tasks = [
        asyncio.create_task(_query_resolver(resolver, name, timeout, port, interface))
        for resolver in resolvers
    ]
    failures: list[CheckResult] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            answer = await next_done
            if answer.result.ok:
                return answer, []
            failures.append(answer.result)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # In the order the link lists its resolvers, not the order they failed.
    order = [_endpoint_text(resolver, port, DNS_PORT) for resolver in resolvers]
    failures.sort(key=lambda result: order.index(result.target))
    return None, failures


async def check_dns(
    resolvers: Sequence[str],
    name: str,
    timeout: float,
    *,
    port: int = DNS_PORT,
    interface: str | None = None,
) -> CheckResult:
    """Ask every resolver at once (over `interface` only, if given); DNS works when one of them
    resolves `name` to an address."""
    target = ", ".join(_endpoint_text(resolver, port, DNS_PORT) for resolver in resolvers)
    if not resolvers:
        return CheckResult(
            Service.DNS, "no resolver", False, None, "the network gave the device no DNS server"
        )
    answer, failures = await _ask_resolvers(resolvers, name, timeout, port, interface)
    if answer is not None:
        return CheckResult(Service.DNS, target, True, answer.result.latency_ms)
    reason = "; ".join(result.reason or "failed" for result in failures)
    latencies = [result.latency_ms for result in failures if result.latency_ms is not None]
    return CheckResult(Service.DNS, target, False, max(latencies, default=None), reason)


def tls_context() -> ssl.SSLContext:
    """The default context: certificates and host names verified against the system's CA store,
    or against SSL_CERT_FILE / SSL_CERT_DIR when they are set.

    Made again only when the store changes: loading it blocks the event loop for tens of
    milliseconds (30 ms for 144 CAs on the bench machine), which every attempt paid before.
    """
    paths = ssl.get_default_verify_paths()
    return _tls_context(paths.cafile, _stamp(paths.cafile), paths.capath, _stamp(paths.capath))


async def prepare_tls_context() -> None:
    """Load the CA store now, in a thread, so that the next checks find it loaded."""
    try:
        await asyncio.to_thread(tls_context)
    except (OSError, ssl.SSLError) as err:
        # The checks meet it again, and report it as their own failure.
        _LOGGER.debug("Cannot load the CA store yet: %s", err)


def _stamp(path: str | None) -> tuple[int, int, int, int] | None:
    """What changes when a CA file or directory is replaced, edited or made readable; None when
    it is absent."""
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_ctime_ns, status.st_size


@functools.lru_cache(maxsize=1)
def _tls_context(*store: object) -> ssl.SSLContext:
    """A default context; `store` names the CA store it loads, as the cache's key only."""
    return ssl.create_default_context()


def dns_name_for(https_urls: Sequence[str], ntp_server: str) -> str | None:
    """The name the DNS check resolves: the first HTTPS host that is a name, else the NTP host."""
    for host in [_url_endpoint(url)[0] for url in https_urls] + [ntp_server]:
        try:
            ip_address(host)
        except ValueError:
            return host
    return None


async def check_reachability(
    targets: CheckTargets,
    resolvers: Sequence[str],
    *,
    interface: str | None = None,
    dns_name: str | None = None,
) -> tuple[CheckResult, ...]:
    """Every check in parallel, each bounded by check_timeout: HTTPS per URL, then NTP, then DNS.

    With `interface`, every socket is bound to it and host names are asked of `resolvers`
    over it; LinkUnusable, before anything is sent, when sockets cannot be bound to it.
    """
    # The DNS check is left out when every target is an IP address and no `dns_name` is
    # given: then the device needs no name resolved.
    if interface is not None:
        check_bindable(interface)
    timeout = targets.check_timeout
    context = tls_context()
    name = dns_name or dns_name_for(targets.check_https, targets.check_ntp)
    checks = [
        check_https(url, timeout, context, interface=interface, resolvers=resolvers)
        for url in targets.check_https
    ]
    checks.append(check_ntp(targets.check_ntp, timeout, interface=interface, resolvers=resolvers))
    if name is not None:
        checks.append(check_dns(resolvers, name, timeout, interface=interface))
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


async def check_link(targets: CheckTargets, link: ActiveLink) -> tuple[CheckResult, ...]:
    """Every check over one link only: bound to its interface, names asked of its resolvers."""
    return await check_reachability(targets, link.resolvers, interface=link.interface)


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
    # Not dnspython's Resolver(filename=..., configure=True): one nameserver line that is not an
    # address makes it reject the whole file (ValueError), and it keeps duplicates as written.
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
