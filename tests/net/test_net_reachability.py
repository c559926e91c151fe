"""Reachability checks from rc-dev against real servers (and their absence) in rc-inet."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator
from ipaddress import IPv4Address

import pytest

from app.cli_output import check_report
from app.config import Config
from app.errors import LinkUnusable
from app.flow.reachability import (
    DnsExchange,
    answer_addresses,
    check_dns,
    check_https,
    check_link,
    check_ntp,
    check_reachability,
)
from app.flow.report import report_json
from app.flow.state import CheckResult, Service, blocked_services
from app.nm.models import ActiveLink
from tests.net import helpers
from tests.net.conftest import (
    API_HOST,
    CLOSED,
    DEAD_IFACE,
    DEV,
    DROPPED_PORT,
    INET,
    SERVERS,
    SILENT,
    SPARE,
    UNKNOWN_CA_PORT,
    UPLINK_IFACE,
    V6_ONLY_HOST,
    Certificates,
    Network,
)
from tests.net.servers import (
    DnsBehaviour,
    DnsResponder,
    SntpBehaviour,
    SntpResponder,
    issue_dated_cert,
    make_ca,
    tls_server,
    udp_server,
)

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("internet")]

_LOGGER = logging.getLogger(__name__)

TIMEOUT = 1.0
# Its own port, so no other test's server on SPARE:443 is in the way.
DATED_PORT = 8443
# A check that waits out its timeout ends within this much more.
SLACK = 0.5


async def _https(url: str) -> CheckResult:
    # The context is made inside the test, after the fixture set SSL_CERT_FILE.
    context = ssl.create_default_context()
    with helpers.enter_netns(DEV):
        return await check_https(url, TIMEOUT, context)


async def _ntp(server: str) -> CheckResult:
    with helpers.enter_netns(DEV):
        return await check_ntp(server, TIMEOUT)


async def _dns(resolvers: list[str], name: str = API_HOST) -> CheckResult:
    with helpers.enter_netns(DEV):
        return await check_dns(resolvers, name, TIMEOUT)


async def test_everything_reachable() -> None:
    targets = Config(check_https=(f"https://{SERVERS}/",), check_ntp=SERVERS, check_timeout=TIMEOUT)
    with helpers.enter_netns(DEV):
        results = await check_reachability(targets, [SERVERS], dns_name=API_HOST)
    _LOGGER.info("latencies: %s", {str(r.service): r.latency_ms for r in results})
    assert [(r.service, r.target, r.ok, r.reason) for r in results] == [
        (Service.HTTPS, SERVERS, True, None),
        (Service.NTP, SERVERS, True, None),
        (Service.DNS, SERVERS, True, None),
    ]
    for result in results:
        assert result.latency_ms is not None and 0 < result.latency_ms < TIMEOUT * 1000
    assert blocked_services(results) == ()
    assert check_report(results).endswith("Every check passed.")
    assert json.loads(report_json(results))["ok"] is True


def _needs_nft(network: Network) -> None:
    if not network.has_nft:
        pytest.skip("nft (Debian package nftables) is not installed; it drops the test port")


async def test_everything_blocked_is_reported_at_once_after_one_timeout(network: Network) -> None:
    _needs_nft(network)
    targets = Config(
        check_https=(f"https://{SERVERS}:{DROPPED_PORT}/", f"https://{CLOSED}/"),
        check_ntp=SILENT,
        check_timeout=TIMEOUT,
    )
    start = time.monotonic()
    with helpers.enter_netns(DEV):
        results = await check_reachability(targets, [CLOSED, SILENT], dns_name=API_HOST)
    elapsed = time.monotonic() - start
    assert [r.ok for r in results] == [False, False, False, False]
    assert blocked_services(results) == (Service.HTTPS, Service.NTP, Service.DNS)
    # The checks run in parallel: the whole report takes one timeout, not four.
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK
    report = check_report(results)
    assert report.splitlines()[-1] == "Blocked on this network: HTTPS, NTP, DNS"
    assert f"TCP {DROPPED_PORT} to {SERVERS} got no answer in 1 s" in report
    assert f"UDP 53 to {CLOSED} was refused" in report
    assert f"UDP 53 to {SILENT} got no answer in 1 s" in report


async def test_the_dns_check_is_left_out_when_every_target_is_an_address() -> None:
    targets = Config(check_https=(f"https://{SERVERS}/",), check_ntp=SERVERS, check_timeout=TIMEOUT)
    with helpers.enter_netns(DEV):
        results = await check_reachability(targets, [])
    assert [r.service for r in results] == [Service.HTTPS, Service.NTP]


# --- HTTPS ------------------------------------------------------------------------------------


async def test_certificate_from_an_unknown_ca_reads_as_interception() -> None:
    result = await _https(f"https://{SERVERS}:{UNKNOWN_CA_PORT}/")
    assert not result.ok
    assert result.target == f"{SERVERS}:{UNKNOWN_CA_PORT}"
    assert result.reason is not None
    assert result.reason.startswith(f"the network intercepts HTTPS to {SERVERS} (a sign-in page?)")
    assert "unable to get local issuer certificate" in result.reason
    assert result.latency_ms is not None


async def test_certificate_for_another_host_reads_as_interception(
    internet: Certificates,
) -> None:
    async with tls_server(INET, SPARE, 443, internet.trusted):
        result = await _https(f"https://{SPARE}/")
    assert not result.ok and result.reason is not None
    assert "intercepts HTTPS" in result.reason and "mismatch" in result.reason


@pytest.mark.parametrize(
    ("start", "end", "complaint"),
    [
        ("20200101000000Z", "20200102000000Z", "certificate has expired"),
        ("20990101000000Z", "20990102000000Z", "certificate is not yet valid"),
    ],
    ids=["clock-ahead", "clock-behind"],
)
async def test_a_wrong_clock_is_told_apart_from_interception(
    network: Network, internet: Certificates, start: str, end: str, complaint: str
) -> None:
    # A device with no RTC boots in the past: the chain is good, only the dates disagree.
    leaf = issue_dated_cert(
        network.workdir, internet.ca, f"dated-{start}", [f"IP:{SPARE}"], start, end
    )
    async with tls_server(INET, SPARE, DATED_PORT, leaf):
        result = await _https(f"https://{SPARE}:{DATED_PORT}/")
    assert result.ok, result.reason
    assert result.reason is not None and "clock is wrong" in result.reason
    assert complaint in result.reason


async def test_a_wrong_clock_does_not_excuse_an_unknown_issuer(
    network: Network, internet: Certificates
) -> None:
    stranger = make_ca(network.workdir, "dated-stranger-ca")
    leaf = issue_dated_cert(
        network.workdir,
        stranger,
        "dated-stranger",
        [f"IP:{SPARE}"],
        "20200101000000Z",
        "20200102000000Z",
    )
    async with tls_server(INET, SPARE, DATED_PORT, leaf):
        result = await _https(f"https://{SPARE}:{DATED_PORT}/")
    assert not result.ok and result.reason is not None and "intercepts HTTPS" in result.reason


async def test_the_test_ca_is_trusted_only_through_ssl_cert_file(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await _https(f"https://{SERVERS}/")).ok
    monkeypatch.setenv("SSL_CERT_FILE", str(network.workdir / "rc-no-such-bundle.pem"))
    result = await _https(f"https://{SERVERS}/")
    assert not result.ok and result.reason is not None and "intercepts HTTPS" in result.reason


async def test_closed_port_is_refused() -> None:
    result = await _https(f"https://{CLOSED}/")
    assert (result.ok, result.reason) == (False, f"TCP 443 to {CLOSED} was refused")
    assert result.latency_ms is not None and result.latency_ms < 100


async def test_dropped_port_times_out(network: Network) -> None:
    _needs_nft(network)
    start = time.monotonic()
    result = await _https(f"https://{SERVERS}:{DROPPED_PORT}/")
    elapsed = time.monotonic() - start
    assert (result.ok, result.latency_ms, result.reason) == (
        False,
        None,
        f"TCP {DROPPED_PORT} to {SERVERS} got no answer in 1 s",
    )
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK


@contextlib.asynccontextmanager
async def _tcp_server_that_hangs_up(address: str, port: int) -> AsyncIterator[None]:
    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    sock = helpers.netns_socket(INET, socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, port))
    server = await asyncio.start_server(hang_up, sock=sock)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def test_a_server_that_hangs_up_fails_the_handshake() -> None:
    async with _tcp_server_that_hangs_up(SPARE, 443):
        result = await _https(f"https://{SPARE}/")
    assert not result.ok and result.reason is not None
    assert "TLS handshake" in result.reason and SPARE in result.reason


# --- NTP --------------------------------------------------------------------------------------


async def test_ntp_server_answers() -> None:
    result = await _ntp(SERVERS)
    assert (result.service, result.target, result.ok, result.reason) == (
        Service.NTP,
        SERVERS,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("behaviour", "reason", "waits"),
    [
        (
            SntpBehaviour.KISS_OF_DEATH,
            f"{SPARE} answered on UDP 123, but the server sent a kiss-o'-death (RATE): "
            "it refuses to serve",
            False,
        ),
        (
            SntpBehaviour.WRONG_MODE,
            f"{SPARE} answered on UDP 123, but the reply has mode 3, not a server reply (mode 4)",
            False,
        ),
        (
            SntpBehaviour.WRONG_ORIGINATE,
            f"UDP 123 to {SPARE} got no valid answer in 1 s: the reply does not echo our "
            "transmit time (stale or spoofed)",
            True,
        ),
        (SntpBehaviour.SILENT, f"UDP 123 to {SPARE} got no answer in 1 s", True),
    ],
)
async def test_bad_ntp_servers(behaviour: SntpBehaviour, reason: str, waits: bool) -> None:
    responder = SntpResponder(behaviour)
    start = time.monotonic()
    async with udp_server(INET, SPARE, 123, responder):
        result = await _ntp(SPARE)
    elapsed = time.monotonic() - start
    assert (result.ok, result.reason) == (False, reason)
    assert responder.requests == 1
    # A reply that is not ours is ignored until the timeout; one that is ours ends the check.
    assert (result.latency_ms is None) is waits
    assert (elapsed >= TIMEOUT) is waits


async def test_no_ntp_server_is_refused() -> None:
    result = await _ntp(CLOSED)
    assert (result.ok, result.reason) == (
        False,
        f"UDP 123 to {CLOSED} was refused: nothing answers NTP there",
    )


# --- DNS --------------------------------------------------------------------------------------


async def test_resolver_answers_the_api_host() -> None:
    result = await _dns([SERVERS])
    assert (result.service, result.target, result.ok, result.reason) == (
        Service.DNS,
        SERVERS,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.rc.test", f"{SERVERS} says missing.rc.test does not exist (NXDOMAIN)"),
        (V6_ONLY_HOST, f"{SERVERS} has no IPv4 address for {V6_ONLY_HOST}"),
        # No upstream server: dnsmasq refuses names outside its local domain.
        ("api.example.com", f"{SERVERS} did not resolve api.example.com: it answered REFUSED"),
    ],
)
async def test_resolver_answers_that_fail(name: str, reason: str) -> None:
    result = await _dns([SERVERS], name)
    assert (result.ok, result.reason) == (False, reason)
    assert result.latency_ms is not None


async def test_one_working_resolver_is_enough_and_ends_the_wait() -> None:
    start = time.monotonic()
    result = await _dns([SILENT, CLOSED, SERVERS])
    assert result.ok and result.target == f"{SILENT}, {CLOSED}, {SERVERS}"
    assert time.monotonic() - start < TIMEOUT / 2


async def test_every_resolver_failing_gives_each_reason_in_order() -> None:
    result = await _dns([SILENT, CLOSED])
    assert (result.ok, result.reason) == (
        False,
        f"UDP 53 to {SILENT} got no answer in 1 s; "
        f"UDP 53 to {CLOSED} was refused: no DNS server answers there",
    )


async def test_a_truncated_answer_without_addresses_says_so() -> None:
    async with udp_server(INET, SPARE, 53, DnsResponder(DnsBehaviour.TRUNCATED, SERVERS)):
        result = await _dns([SPARE])
    assert (result.ok, result.reason) == (
        False,
        f"{SPARE} has no IPv4 address for {API_HOST} (the answer was truncated)",
    )


@pytest.mark.parametrize(
    ("behaviour", "ignored"),
    [
        (DnsBehaviour.STALE_FIRST, r"the reply has id \d+, not our query's \d+"),
        (DnsBehaviour.GARBLED_FIRST, r"the reply is malformed \(.*too short.*\)"),
    ],
)
async def test_datagrams_that_are_not_our_answer_are_ignored_and_told(
    behaviour: DnsBehaviour, ignored: str
) -> None:
    # The right answer follows at once, so nothing waits for the timeout; what the exchange
    # ignored is what a check that times out would report.
    exchange = DnsExchange()
    async with udp_server(INET, SPARE, 53, DnsResponder(behaviour, SERVERS)):
        with helpers.enter_netns(DEV):
            async with asyncio.timeout(TIMEOUT):
                reply = await exchange.query(SPARE, API_HOST)
    assert answer_addresses(reply) == (IPv4Address(SERVERS),)
    assert exchange.ignored is not None and re.fullmatch(ignored, exchange.ignored)


async def test_no_resolver_at_all() -> None:
    result = await _dns([])
    assert (result.ok, result.target, result.reason) == (
        False,
        "no resolver",
        "the network gave the device no DNS server",
    )


# --- over one link only -----------------------------------------------------------------------

# Every target by address, so only the link decides; the DNS check still asks for a name.
_BY_ADDRESS = Config(check_https=(f"https://{SERVERS}/",), check_ntp=SERVERS, check_timeout=TIMEOUT)


async def _over(link: ActiveLink, targets: Config = _BY_ADDRESS) -> tuple[CheckResult, ...]:
    with helpers.enter_netns(DEV):
        return await check_reachability(
            targets, link.resolvers, interface=link.interface, dns_name=API_HOST
        )


async def test_checks_bound_to_the_link_that_reaches_the_servers_pass() -> None:
    results = await _over(ActiveLink(UPLINK_IFACE, (SERVERS,)))
    assert [(r.service, r.ok, r.reason) for r in results] == [
        (Service.HTTPS, True, None),
        (Service.NTP, True, None),
        (Service.DNS, True, None),
    ]


async def test_checks_bound_to_a_dead_link_fail_though_another_link_reaches_the_servers() -> None:
    # Unbound, the same checks pass: the routing table sends them over the uplink.
    with helpers.enter_netns(DEV):
        unbound = await check_reachability(_BY_ADDRESS, [SERVERS], dns_name=API_HOST)
    assert all(r.ok for r in unbound)
    start = time.monotonic()
    results = await _over(ActiveLink(DEAD_IFACE, (SERVERS,)))
    assert time.monotonic() - start < TIMEOUT + SLACK
    assert blocked_services(results) == (Service.HTTPS, Service.NTP, Service.DNS)
    # Bound to the dead link, nothing reaches a server: no route leads anywhere from it.
    for result in results:
        assert result.reason is not None and SERVERS in result.reason, result


async def test_a_host_name_is_asked_of_the_links_resolvers_over_the_link() -> None:
    # Only the resolver on SERVERS knows API_HOST; the system resolver has never heard of it.
    by_name = Config(
        check_https=(f"https://{API_HOST}/",), check_ntp=SERVERS, check_timeout=TIMEOUT
    )
    with helpers.enter_netns(DEV):
        (https, *_) = await check_link(by_name, ActiveLink(UPLINK_IFACE, (SERVERS,)))
        (dead, *_) = await check_link(by_name, ActiveLink(DEAD_IFACE, (SERVERS,)))
    assert (https.target, https.ok, https.reason) == (API_HOST, True, None)
    assert (dead.ok, dead.reason) == (False, f"could not resolve {API_HOST} in 1 s")


@pytest.mark.parametrize(
    ("resolvers", "reason"),
    [
        ((), f"could not resolve {API_HOST}: the network gave {UPLINK_IFACE} no DNS server"),
        (
            (CLOSED,),
            f"could not resolve {API_HOST}: UDP 53 to {CLOSED} was refused: "
            "no DNS server answers there",
        ),
        (
            (SERVERS, CLOSED),
            None,
        ),
    ],
    ids=["no-resolver", "refused", "one-of-two"],
)
async def test_a_host_name_the_links_resolvers_cannot_give(
    resolvers: tuple[str, ...], reason: str | None
) -> None:
    context = ssl.create_default_context()
    with helpers.enter_netns(DEV):
        result = await check_https(
            f"https://{API_HOST}/",
            TIMEOUT,
            context,
            interface=UPLINK_IFACE,
            resolvers=resolvers,
        )
    assert (result.ok, result.reason) == (reason is None, reason)


async def test_a_link_whose_interface_is_gone_is_refused_before_anything_is_sent() -> None:
    with helpers.enter_netns(DEV), pytest.raises(LinkUnusable, match="rcnosuch0 is gone"):
        await check_link(_BY_ADDRESS, ActiveLink("rcnosuch0", (SERVERS,)))
