"""Pure parts of dnsmasq and reachability: argv, lease file, SNTP packets, DNS replies, reports."""

from __future__ import annotations

import errno
import json
import os
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from app.cli_output import check_report
from app.flow.dnsmasq import Dnsmasq, DnsmasqError, dnsmasq_argv, dnsmasq_environment
from app.flow.reachability import (
    NTP_UNIX_OFFSET,
    BadReply,
    UnrelatedReply,
    answer_addresses,
    build_sntp_request,
    dns_answer,
    dns_name_for,
    link_unusable,
    parse_sntp_reply,
    unrelated_reason,
)
from app.flow.report import report_json
from app.flow.state import CheckResult, Service, blocked_services
from tests.net.helpers import DhcpLease, parse_leases
from tests.net.servers import SntpBehaviour, sntp_reply

GW = IPv4Address("192.168.42.1")

# --- dnsmasq argv and leases ------------------------------------------------------------------


def test_argv_is_the_documented_command_line() -> None:
    argv = dnsmasq_argv(
        interface="wlan0",
        gateway=GW,
        dhcp_range=(IPv4Address("192.168.42.2"), IPv4Address("192.168.42.254")),
        lease_file=Path("/tmp/x/leases"),
    )
    assert argv == [
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-hosts",
        "--no-resolv",
        "--pid-file=",
        "--log-facility=-",
        "--interface=wlan0",
        "--bind-interfaces",
        "--except-interface=lo",
        "--address=/#/192.168.42.1",
        "--address=/#/::",
        "--dhcp-range=192.168.42.2,192.168.42.254,255.255.255.0,1h",
        "--dhcp-option=option:router,192.168.42.1",
        "--dhcp-option=option:dns-server,192.168.42.1",
        "--dhcp-authoritative",
        "--no-ping",
        "--dhcp-leasefile=/tmp/x/leases",
    ]


def test_argv_follows_gateway_range_binary_and_lease_time() -> None:
    argv = dnsmasq_argv(
        interface="ap0",
        gateway=IPv4Address("10.0.0.1"),
        dhcp_range=(IPv4Address("10.0.0.100"), IPv4Address("10.0.0.150")),
        lease_file=Path("/run/l"),
        binary="/usr/sbin/dnsmasq",
        lease_time="10m",
    )
    assert argv[0] == "/usr/sbin/dnsmasq"
    assert "--interface=ap0" in argv
    assert "--address=/#/10.0.0.1" in argv
    assert "--dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,10m" in argv
    assert "--dhcp-option=option:router,10.0.0.1" in argv
    assert "--dhcp-option=option:dns-server,10.0.0.1" in argv


def test_dnsmasq_gets_no_environment_of_ours() -> None:
    # PORTAL_PASSPHRASE would be readable in dnsmasq's /proc/PID/environ for its whole life.
    parent = {"PATH": "/sbin:/bin", "PORTAL_PASSPHRASE": "hotspot secret", "HOME": "/root"}
    assert dnsmasq_environment(parent) == {"PATH": "/sbin:/bin", "LC_ALL": "C"}
    assert dnsmasq_environment({})["PATH"] == os.defpath


def test_parse_leases_reads_ipv4_leases_and_skips_the_rest() -> None:
    text = (
        "1767225600 AA:bb:cc:dd:ee:ff 192.168.42.107 pixel-7 01:aa:bb:cc:dd:ee:ff\n"
        "1767225700 11:22:33:44:55:66 192.168.42.9 * *\n"
        "duid 00:01:00:01:2c:5e\n"
        "1767225800 1234 fd00::5 * 00:02\n"
        "garbage\n"
    )
    assert parse_leases(text) == (
        DhcpLease(1767225600, "aa:bb:cc:dd:ee:ff", IPv4Address("192.168.42.107"), "pixel-7"),
        DhcpLease(1767225700, "11:22:33:44:55:66", IPv4Address("192.168.42.9"), None),
    )


async def test_missing_dnsmasq_is_a_clear_error() -> None:
    owner = Dnsmasq(
        interface="rcv0",
        gateway=GW,
        dhcp_range=(IPv4Address("192.168.42.2"), IPv4Address("192.168.42.254")),
        binary="rc-no-such-dnsmasq",
    )
    with pytest.raises(DnsmasqError, match="rc-no-such-dnsmasq is not installed"):
        async with owner:
            pass
    assert owner.pid is None and owner.lease_file is None


# --- SNTP -------------------------------------------------------------------------------------

TRANSMIT = bytes.fromhex("e8c0d3a1f00dbabe")


def test_sntp_request_is_48_bytes_mode_3_with_our_transmit_time_only() -> None:
    request = build_sntp_request(TRANSMIT)
    assert len(request) == 48
    assert request[0] & 0x07 == 3  # mode: client
    assert (request[0] >> 3) & 0x07 == 4  # version 4
    assert request[40:48] == TRANSMIT
    assert request[1:40] == bytes(39)


def test_sntp_request_needs_an_8_byte_timestamp() -> None:
    with pytest.raises(ValueError, match="8 bytes"):
        build_sntp_request(b"\x01\x02")


def test_valid_sntp_reply_gives_stratum_and_server_time() -> None:
    now = 1_767_225_600.5
    reply = parse_sntp_reply(
        sntp_reply(build_sntp_request(TRANSMIT), SntpBehaviour.OK, now), TRANSMIT
    )
    assert reply.stratum == 2
    assert reply.server_time == pytest.approx(now, abs=1e-6)


def _with(packet: bytes, offset: int, value: bytes) -> bytes:
    return packet[:offset] + value + packet[offset + len(value) :]


_GOOD = sntp_reply(build_sntp_request(TRANSMIT), SntpBehaviour.OK, 1_767_225_600.0)


@pytest.mark.parametrize(
    ("packet", "error", "message"),
    [
        pytest.param(_GOOD[:47], UnrelatedReply, "47 bytes", id="truncated"),
        pytest.param(b"", UnrelatedReply, "0 bytes", id="empty"),
        pytest.param(
            _with(_GOOD, 24, bytes(8)), UnrelatedReply, "does not echo", id="wrong-originate"
        ),
        pytest.param(
            sntp_reply(build_sntp_request(TRANSMIT), SntpBehaviour.WRONG_ORIGINATE),
            UnrelatedReply,
            "does not echo",
            id="responder-wrong-originate",
        ),
        pytest.param(
            sntp_reply(build_sntp_request(TRANSMIT), SntpBehaviour.WRONG_MODE),
            BadReply,
            "mode 3",
            id="mode-3",
        ),
        pytest.param(_with(_GOOD, 0, b"\x25"), BadReply, "mode 5", id="mode-5-broadcast"),
        pytest.param(
            sntp_reply(build_sntp_request(TRANSMIT), SntpBehaviour.KISS_OF_DEATH),
            BadReply,
            r"kiss-o'-death \(RATE\)",
            id="kiss-of-death",
        ),
        pytest.param(
            _with(_with(_GOOD, 1, b"\x00"), 12, bytes(4)),
            BadReply,
            r"kiss-o'-death \(no code\)",
            id="stratum-0-without-code",
        ),
    ],
)
def test_bad_sntp_replies_are_rejected_with_a_reason(
    packet: bytes, error: type[BadReply], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        parse_sntp_reply(packet, TRANSMIT)
    assert type(caught.value) is error


def test_sntp_reply_longer_than_48_bytes_is_accepted() -> None:
    # Servers may append extension fields or a MAC after the 48-byte header.
    assert parse_sntp_reply(_GOOD + bytes(20), TRANSMIT).stratum == 2


def test_ntp_epoch_offset() -> None:
    assert NTP_UNIX_OFFSET == (70 * 365 + 17) * 86400  # 1900 to 1970, 17 leap days


# --- DNS (the wire format is dnspython's; what the checks make of a reply is ours) ----------

NAME = "api.rc.test"
QUERY = dns.message.make_query(NAME, dns.rdatatype.A)


def _reply(
    query: dns.message.Message = QUERY, *records: str, rcode: dns.rcode.Rcode = dns.rcode.NOERROR
) -> dns.message.Message:
    """A response to `query` whose answer section holds `records` ("owner TYPE data")."""
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    for record in records:
        owner, rdtype, data = record.split()
        reply.answer.append(dns.rrset.from_text(owner, 60, "IN", rdtype, data))
    return reply


def test_answer_with_a_records_through_a_cname_chain() -> None:
    reply = _reply(
        QUERY,
        f"{NAME} CNAME edge.cdn.test.",
        "edge.cdn.test A 10.99.0.2",
        "edge.cdn.test A 10.99.0.3",
        "edge.cdn.test AAAA fd00::2",
    )
    assert unrelated_reason(QUERY, reply) is None
    assert answer_addresses(reply) == (IPv4Address("10.99.0.2"), IPv4Address("10.99.0.3"))


def test_aaaa_answer() -> None:
    query = dns.message.make_query(NAME, dns.rdatatype.AAAA)
    reply = _reply(query, f"{NAME} AAAA ::")
    assert answer_addresses(reply, dns.rdatatype.AAAA) == (IPv6Address("::"),)
    assert answer_addresses(reply) == ()


def test_question_is_matched_case_insensitively() -> None:
    # Resolvers may echo the name in another case (DNS 0x20).
    reply = _reply(dns.message.make_query(NAME.upper(), dns.rdatatype.A, id=QUERY.id))
    assert unrelated_reason(QUERY, reply) is None


def test_a_refusal_without_the_question_still_answers_ours() -> None:
    reply = _reply(rcode=dns.rcode.REFUSED)
    reply.question = []
    assert unrelated_reason(QUERY, reply) is None


def test_a_truncated_answer_keeps_its_flag() -> None:
    reply = _reply()
    reply.flags |= dns.flags.TC
    parsed = dns.message.from_wire(reply.to_wire())
    assert unrelated_reason(QUERY, parsed) is None
    assert parsed.flags & dns.flags.TC and answer_addresses(parsed) == ()


def _with_id(reply: dns.message.Message, new_id: int) -> dns.message.Message:
    reply.id = new_id
    return reply


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(
            _with_id(_reply(), (QUERY.id + 1) % 65536),
            f"the reply has id {(QUERY.id + 1) % 65536}, not our query's {QUERY.id}",
            id="wrong-id",
        ),
        pytest.param(QUERY, "the packet is a query, not a reply", id="not-a-reply"),
        pytest.param(
            _reply(dns.message.make_query("other.rc.test", dns.rdatatype.A, id=QUERY.id)),
            "the reply answers other.rc.test. IN A, not our question",
            id="other-name",
        ),
        pytest.param(
            _reply(dns.message.make_query(NAME, dns.rdatatype.AAAA, id=QUERY.id)),
            f"the reply answers {NAME}. IN AAAA, not our question",
            id="other-type",
        ),
    ],
)
def test_replies_to_other_queries_are_told_apart(reply: dns.message.Message, reason: str) -> None:
    assert unrelated_reason(QUERY, reply) == reason


def test_a_datagram_is_our_answer_or_ignored_with_the_reason() -> None:
    assert answer_addresses(dns_answer(QUERY, _reply(QUERY, f"{NAME}. A 10.99.0.2").to_wire())) == (
        IPv4Address("10.99.0.2"),
    )
    with pytest.raises(UnrelatedReply, match=r"^the reply is malformed \(.*too short.*\)$"):
        dns_answer(QUERY, b"\x00\x01")
    with pytest.raises(UnrelatedReply, match=r"^the packet is a query, not a reply$"):
        dns_answer(QUERY, QUERY.to_wire())


# --- binding to a link ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        # What Linux before 5.7 says to a process without CAP_NET_RAW (since 5.7 only changing
        # a socket's binding needs it); an LSM may refuse with EACCES.
        (
            errno.EPERM,
            "(Operation not permitted): before Linux 5.7 that needs CAP_NET_RAW; run "
            "wifi-connect as root or give it CAP_NET_RAW",
        ),
        (errno.EACCES, "(Permission denied): before Linux 5.7 that needs CAP_NET_RAW"),
    ],
    ids=["EPERM", "EACCES"],
)
def test_a_refused_binding_says_which_capability_it_takes(code: int, words: str) -> None:
    message = str(link_unusable("wlan0", OSError(code, os.strerror(code))))
    assert message.startswith("binding the checks' sockets to wlan0 (SO_BINDTODEVICE) was refused ")
    assert words in message


def test_a_binding_to_a_vanished_interface_says_the_link_went_down() -> None:
    gone = OSError(errno.ENODEV, os.strerror(errno.ENODEV))
    assert str(link_unusable("wlan0", gone)) == (
        "wlan0 is gone: the new link went down before its checks"
    )
    other = OSError(errno.EINVAL, os.strerror(errno.EINVAL))
    assert str(link_unusable("wlan0", other)) == "cannot bind a socket to wlan0: Invalid argument"


# --- targets and reports ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urls", "ntp", "expected"),
    [
        (("https://api.balena-cloud.com",), "pool.ntp.org", "api.balena-cloud.com"),
        (
            ("https://10.0.0.1:8443/x", "https://API.example.com/"),
            "pool.ntp.org",
            "api.example.com",
        ),
        (("https://10.0.0.1",), "time.example", "time.example"),
        (("https://[fd00::1]/",), "10.0.0.2", None),
    ],
)
def test_dns_name_is_the_first_host_name(
    urls: tuple[str, ...], ntp: str, expected: str | None
) -> None:
    assert dns_name_for(urls, ntp) == expected


OK_HTTPS = CheckResult(Service.HTTPS, "api.example.com", True, 41.5)
BAD_HTTPS = CheckResult(
    Service.HTTPS, "10.0.0.1:8443", False, 3.0, "TCP 8443 to 10.0.0.1 was refused"
)
BAD_NTP = CheckResult(
    Service.NTP, "pool.ntp.org", False, None, "UDP 123 to pool.ntp.org got no answer in 5 s"
)
OK_DNS = CheckResult(Service.DNS, "192.168.1.1", True, 2.25)


def test_blocked_services_in_service_order_once_each() -> None:
    results = [OK_DNS, BAD_NTP, BAD_HTTPS, OK_HTTPS, BAD_HTTPS]
    assert blocked_services(results) == (Service.HTTPS, Service.NTP)
    assert blocked_services([OK_HTTPS, OK_DNS]) == ()
    assert blocked_services([]) == ()


def test_format_report_lines_and_verdict() -> None:
    report = check_report([OK_HTTPS, BAD_HTTPS, BAD_NTP, OK_DNS])
    assert report.splitlines() == [
        "https  api.example.com  ok         42 ms",
        "https  10.0.0.1:8443    FAILED      3 ms  TCP 8443 to 10.0.0.1 was refused",
        "ntp    pool.ntp.org     FAILED            UDP 123 to pool.ntp.org got no answer in 5 s",
        "dns    192.168.1.1      ok          2 ms",
        "Blocked on this network: HTTPS, NTP",
    ]
    assert check_report([OK_HTTPS]).splitlines()[-1] == "Every check passed."


def test_report_json_is_plain_json() -> None:
    report = json.loads(report_json([OK_HTTPS, BAD_NTP]))
    assert report == {
        "ok": False,
        "blocked": ["ntp"],
        "checks": [
            {
                "service": "https",
                "target": "api.example.com",
                "ok": True,
                "latency_ms": 41.5,
                "reason": None,
            },
            {
                "service": "ntp",
                "target": "pool.ntp.org",
                "ok": False,
                "latency_ms": None,
                "reason": "UDP 123 to pool.ntp.org got no answer in 5 s",
            },
        ],
    }
    assert json.loads(report_json([OK_DNS]))["ok"] is True
