"""Fixtures of the net tier: namespaces rc-dev, rc-phone, rc-inet and rc-void joined by veths.

    rc-phone  rcv1 (DHCP) ---- rcv0 192.168.42.1/24  rc-dev  10.99.0.1/24 rcv2 ---- rcv3  rc-inet
                                (the hotspot side)               (the uplink)     10.99.0.2-.5/24
                                                     rc-dev  10.98.0.1/24 rcv4 ---- rcv5  rc-void
                                                                 (a dead link)    10.98.0.2/24

rc-void holds an address and nothing else, and forwards nothing: what is sent over the dead
link reaches no server.

The code under test runs in rc-dev (helpers.enter_netns); the phone and the servers use
sockets made in their namespaces. Everything is removed at the end, and at the start too, in
case an earlier run crashed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from tests.net import helpers
from tests.net.servers import (
    CertPair,
    DnsBehaviour,
    DnsResponder,
    SntpBehaviour,
    SntpResponder,
    dnsmasq_dns_server,
    internet_servers,
    issue_cert,
    make_ca,
    tls_server,
    udp_server,
)

DEV, PHONE, INET, VOID = "rc-dev", "rc-phone", "rc-inet", "rc-void"
HOTSPOT_IFACE, PHONE_IFACE = "rcv0", "rcv1"
UPLINK_IFACE, INET_IFACE = "rcv2", "rcv3"
DEAD_IFACE, VOID_IFACE = "rcv4", "rcv5"
GATEWAY = IPv4Address("192.168.42.1")
DHCP_RANGE = (IPv4Address("192.168.42.2"), IPv4Address("192.168.42.254"))
UPLINK_ADDRESS = "10.99.0.1"
# In rc-inet: the servers that work, a spare address for per-test servers, one that never
# answers, and one where nothing listens.
SERVERS = "10.99.0.2"
SPARE = "10.99.0.3"
SILENT = "10.99.0.4"
CLOSED = "10.99.0.5"
API_HOST = "api.rc.test"
V6_ONLY_HOST = "v6only.rc.test"
UNKNOWN_CA_PORT = 8443
DROPPED_PORT = 9443

_NFT_RULES = f"""table inet rc {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {DROPPED_PORT} drop
    }}
}}
"""


@dataclass(frozen=True)
class Network:
    """The namespaces are up; `workdir` is an rc-net-* temp dir removed with them."""

    workdir: Path
    has_nft: bool


@pytest.fixture(scope="session")
def network() -> Iterator[Network]:
    """The four namespaces and three veths, removed afterwards (and before, after a crash)."""
    if os.geteuid() != 0:
        pytest.skip("the net tier needs root: it creates network namespaces")
    if shutil.which("ip") is None:
        pytest.skip("the net tier needs ip (iproute2), which is not installed")
    helpers.remove_leftovers()
    workdir = Path(tempfile.mkdtemp(prefix=f"{helpers.PREFIX}-net-"))
    try:
        for name in (DEV, PHONE, INET, VOID):
            helpers.add_netns(name)
        helpers.add_veth(DEV, HOTSPOT_IFACE, PHONE, PHONE_IFACE)
        helpers.add_address(DEV, HOTSPOT_IFACE, f"{GATEWAY}/24")
        helpers.add_veth(DEV, UPLINK_IFACE, INET, INET_IFACE)
        helpers.add_address(DEV, UPLINK_IFACE, f"{UPLINK_ADDRESS}/24")
        for address in (SERVERS, SPARE, SILENT, CLOSED):
            helpers.add_address(INET, INET_IFACE, f"{address}/24")
        helpers.add_veth(DEV, DEAD_IFACE, VOID, VOID_IFACE)
        helpers.add_address(DEV, DEAD_IFACE, "10.98.0.1/24")
        helpers.add_address(VOID, VOID_IFACE, "10.98.0.2/24")
        has_nft = shutil.which("nft") is not None
        if has_nft:
            helpers.nft(INET, _NFT_RULES)
        yield Network(workdir, has_nft)
    finally:
        helpers.remove_leftovers()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def dnsmasq_installed() -> None:
    """Skip unless dnsmasq is installed."""
    if shutil.which("dnsmasq") is None:
        pytest.skip("dnsmasq is not installed (Debian package dnsmasq-base)")


@pytest.fixture
def phone(network: Network) -> Iterator[str]:
    """The phone namespace, its interface left without addresses or routes afterwards."""
    yield PHONE
    helpers.ip("-n", PHONE, "addr", "flush", "dev", PHONE_IFACE)


@dataclass(frozen=True)
class Certificates:
    """The test CA the checks trust (via SSL_CERT_FILE), and certificates for the servers."""

    ca: CertPair
    trusted: CertPair
    unknown: CertPair


@pytest.fixture(scope="session")
def certificates(network: Network) -> Certificates:
    """A trusted CA with a server certificate, and one from a CA the device does not know."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed; the TLS tests make their certificates with it")
    ca = make_ca(network.workdir, "rc-test-ca")
    other_ca = make_ca(network.workdir, "rc-sign-in-page-ca")
    names = [f"DNS:{API_HOST}", f"IP:{SERVERS}"]
    return Certificates(
        ca=ca,
        trusted=issue_cert(network.workdir, ca, "rc-api", names),
        unknown=issue_cert(network.workdir, other_ca, "rc-sign-in-page", names),
    )


@pytest.fixture(scope="session")
def dns_server(network: Network, dnsmasq_installed: None) -> Iterator[str]:
    """dnsmasq on SERVERS:53 in rc-inet: the API host has an A record, rc.test is local."""
    records = {API_HOST: SERVERS, V6_ONLY_HOST: "fd00::1"}
    with dnsmasq_dns_server(INET, SERVERS, records, "rc.test"):
        yield SERVERS


@pytest.fixture
async def internet(
    network: Network,
    certificates: Certificates,
    dns_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Certificates]:
    """Every server that works, with the test CA trusted through SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca.cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with (
        internet_servers(INET, SERVERS, certificates.trusted),
        tls_server(INET, SERVERS, UNKNOWN_CA_PORT, certificates.unknown),
        # Silent responders read and never answer, like a firewall that drops.
        udp_server(INET, SILENT, 123, SntpResponder(SntpBehaviour.SILENT)),
        udp_server(INET, SILENT, 53, DnsResponder(DnsBehaviour.SILENT)),
    ):
        yield certificates
