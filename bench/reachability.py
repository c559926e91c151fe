"""Figure 8: the three reachability checks against servers on loopback, then each one blocked.

A blocked service is one that never answers: a TCP listener that accepts and stays silent
(HTTPS), a UDP socket that drops every datagram (NTP, DNS). Nothing here needs root or a
namespace: the checks take the servers' ports, and HTTPS a context trusting a throwaway cert.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import dns.message
import dns.rrset

from app.flow.reachability import check_dns, check_https, check_ntp
from app.flow.state import CheckResult
from bench.results import Row

SERVICES = ("https", "ntp", "dns")
HOST = "localhost"
ADDRESS = "127.0.0.1"
_NTP_UNIX_OFFSET = 2_208_988_800


def rows(timeout: float) -> dict[str, Row]:
    """Figure 8's rows, keyed for measure()."""
    figures = {
        "all": Row("8. Reachability", "all three checks, every service answering", "ms"),
    }
    for service in SERVICES:
        figures[service] = Row(
            "8. Reachability",
            f"{service.upper()} blocked: duration / CHECK_TIMEOUT ({timeout:g} s)",
            "x",
            "1 within 5%",
            lambda value: abs(value - 1) <= 0.05,
        )
    return figures


class _Sntp(asyncio.DatagramProtocol):
    """Answers each SNTP request as a stratum-2 server with this machine's time."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.time() + _NTP_UNIX_OFFSET
        stamp = struct.pack(">II", int(now), int((now % 1) * 2**32))
        header = bytes([0x24, 2, 6, 0xEC]) + bytes(8) + b"LOCL" + stamp
        self.transport.sendto(header + data[40:48] + stamp + stamp, addr)


class _Dns(asyncio.DatagramProtocol):
    """Answers every A question with 127.0.0.1."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "127.0.0.1"))
        self.transport.sendto(reply.to_wire(), addr)


class _Silent(asyncio.DatagramProtocol):
    """Drops every datagram: a blocked UDP service."""


@dataclass(frozen=True)
class Servers:
    """Where the three services listen on 127.0.0.1, and the certificate HTTPS presents."""

    https: int
    ntp: int
    dns: int
    context: ssl.SSLContext
    cafile: Path
    # The system's CA file with the throwaway certificate added, for an SSL_CERT_FILE.
    bundle: Path


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost: its cert and key files."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST},IP:{ADDRESS}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _bundle(directory: Path, cert: Path) -> Path:
    """The system's CA file with `cert` added: what an SSL_CERT_FILE trusting both names."""
    bundle = directory / "bundle.pem"
    system = ssl.get_default_verify_paths().cafile
    bundle.write_bytes((Path(system).read_bytes() if system else b"") + cert.read_bytes())
    return bundle


async def _silent_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts and never answers: a blocked HTTPS service (the handshake waits)."""
    await reader.read()
    writer.close()


@contextlib.asynccontextmanager
async def servers(blocked: str | None = None) -> AsyncIterator[Servers]:
    """The three services on 127.0.0.1's free ports, `blocked` silent."""
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as directory:
        cert, key = _certificate(Path(directory))
        serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        serving.load_cert_chain(cert, key)
        trusting = ssl.create_default_context(cafile=str(cert))
        bundle = _bundle(Path(directory), cert)

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()
            writer.close()

        tcp = await asyncio.start_server(
            _silent_tcp if blocked == "https" else answer,
            "127.0.0.1",
            0,
            ssl=None if blocked == "https" else serving,
        )
        ntp, _ = await loop.create_datagram_endpoint(
            _Silent if blocked == "ntp" else _Sntp, local_addr=("127.0.0.1", 0)
        )
        resolver, _ = await loop.create_datagram_endpoint(
            _Silent if blocked == "dns" else _Dns, local_addr=("127.0.0.1", 0)
        )
        try:
            yield Servers(
                https=tcp.sockets[0].getsockname()[1],
                ntp=ntp.get_extra_info("sockname")[1],
                dns=resolver.get_extra_info("sockname")[1],
                context=trusting,
                cafile=cert,
                bundle=bundle,
            )
        finally:
            tcp.close()
            ntp.close()
            resolver.close()


async def checks(servers: Servers, timeout: float) -> tuple[float, tuple[CheckResult, ...]]:
    """All three checks at once, as the flow runs them: their wall time and results."""
    each: list[Callable[[], Awaitable[CheckResult]]] = [
        # By address: "localhost" may resolve to ::1 first, where nothing listens.
        lambda: check_https(f"https://{ADDRESS}:{servers.https}/", timeout, servers.context),
        lambda: check_ntp(ADDRESS, timeout, port=servers.ntp),
        lambda: check_dns([ADDRESS], HOST, timeout, port=servers.dns),
    ]
    started = time.perf_counter()
    results = await asyncio.gather(*(check() for check in each))
    return time.perf_counter() - started, tuple(results)


async def measure(figures: dict[str, Row], timeout: float) -> None:
    """One run: every service answering, then each blocked in turn."""
    async with servers() as answering:
        took, results = await checks(answering, timeout)
    failed = [f"{result.service}: {result.reason}" for result in results if not result.ok]
    if failed:
        raise RuntimeError(f"checks against answering servers failed: {failed}")
    figures["all"].values.append(took * 1000)
    for service in SERVICES:
        async with servers(service) as blocking:
            took, results = await checks(blocking, timeout)
        if all(result.ok for result in results):
            raise RuntimeError(f"every check passed with {service} blocked")
        figures[service].values.append(took / timeout)
