"""Captive-portal detection: every OS probe and every foreign Host lands on the portal."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

import pytest

from app.portal.app import create_app
from app.portal.middlewares import PROBE_PATHS, SIGN_IN_PAGE_PATHS
from app.portal.state import accepted_hosts
from tests.portal.helpers import (
    GATEWAY,
    PROBES,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
)


@dataclass(frozen=True)
class Probe:
    """One vendor's captive probe: the URL it fetches and what would tell it "online"."""

    vendor: str
    host: str
    path: str
    # The answer that would mean online: a status, and a body that must not be sent either.
    online_status: int
    online_body: str | None = None


# The Kindle's reachability page carries this uuid when the device is online.
KINDLE_ONLINE = "81ce4465-7167-4dcb-835b-dcc9e44c112a"
# Every captive probe we know of, by vendor. Android's vendors keep Android's probe and path
# but ask their own hosts (their phones sold in China cannot reach Google's).
PROBE_TABLE = [
    Probe("Apple", "captive.apple.com", "/hotspot-detect.html", 200, "Success"),
    Probe("Apple", "captive.apple.com", "/library/test/success.html", 200, "Success"),
    Probe("Android", "connectivitycheck.gstatic.com", "/generate_204", 204),
    Probe("Android", "connectivitycheck.android.com", "/generate_204", 204),
    Probe("Android", "clients3.google.com", "/generate_204", 204),
    Probe("Chrome", "www.gstatic.com", "/generate_204", 204),
    Probe("Chrome", "www.google.com", "/gen_204", 204),
    Probe("Samsung", "connectivitycheck.samsung.com", "/generate_204", 204),
    Probe("Samsung", "connectivity.samsung.com.cn", "/generate_204", 204),
    Probe("Xiaomi", "connect.rom.miui.com", "/generate_204", 204),
    Probe("Huawei", "connectivitycheck.platform.hicloud.com", "/generate_204", 204),
    Probe("vivo", "wifi.vivo.com.cn", "/generate_204", 204),
    Probe("Kindle", "spectrum.s3.amazonaws.com", "/kindle-wifi/wifistub.html", 200, KINDLE_ONLINE),
    Probe("Windows", "www.msftconnecttest.com", "/connecttest.txt", 200, "Microsoft Connect Test"),
    Probe("Windows", "ipv6.msftconnecttest.com", "/connecttest.txt", 200, "Microsoft Connect Test"),
    Probe("Windows", "www.msftconnecttest.com", "/redirect", 200),
    Probe("Windows", "www.msftncsi.com", "/ncsi.txt", 200, "Microsoft NCSI"),
    Probe("Windows", "ipv6.msftncsi.com", "/ncsi.txt", 200, "Microsoft NCSI"),
    Probe("Firefox", "detectportal.firefox.com", "/success.txt", 200, "success"),
    Probe("Firefox", "detectportal.firefox.com", "/canonical.html", 200),
]
# Android's probe, on every vendor's host: a page leading to the portal, not a redirect.
PAGE = "page"
REDIRECT = "redirect"
EXPECTED = {
    (probe.host, probe.path): PAGE if probe.path in ("/generate_204", "/gen_204") else REDIRECT
    for probe in PROBE_TABLE
}


def _ids(probe: Probe) -> str:
    return f"{probe.vendor}:{probe.host}{probe.path}"


def test_probe_table_covers_every_probe_path_and_the_facts() -> None:
    assert {probe.path for probe in PROBE_TABLE} == PROBE_PATHS
    assert set(PROBES) == {(probe.host, probe.path) for probe in PROBE_TABLE}
    assert {path for host, path in EXPECTED if EXPECTED[host, path] == PAGE} == SIGN_IN_PAGE_PATHS


@pytest.mark.parametrize("probe", PROBE_TABLE, ids=_ids)
async def test_probe_gets_its_answer_and_never_online(portal: Client, probe: Probe) -> None:
    response = await portal.get(probe.path, headers={"Host": probe.host}, allow_redirects=False)
    body = await response.text()
    # A cached answer would keep the sign-in sheet from opening next time, or open it later.
    assert response.headers["Cache-Control"] == "no-store"
    if EXPECTED[probe.host, probe.path] == PAGE:
        assert response.status == 200
        assert response.content_type == "text/html"
        # Longer than Android's "empty page" (4 bytes at most), which would read as online.
        assert len(body.encode()) > 4
        assert '<meta http-equiv="refresh" content="0; url=http://192.168.42.1/">' in body
        assert '<a href="http://192.168.42.1/">Choose a WiFi network</a>' in body
        # Nothing on it loads from the probe's host, which is not the portal's.
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none';")
    else:
        assert response.status == 302
        assert response.headers["Location"] == "http://192.168.42.1/"
    online = response.status == probe.online_status and (
        probe.online_body is None or probe.online_body in body
    )
    assert not online
    assert response.status != 204


@pytest.mark.parametrize("path", sorted(PROBE_PATHS))
async def test_probe_path_on_the_gateway_itself_is_the_portal_too(
    portal: Client, path: str
) -> None:
    # Never a 204 or "Success": that answer would tell the phone it is online.
    response = await portal.get(path, allow_redirects=False)
    if path in SIGN_IN_PAGE_PATHS:
        assert response.status == 200
        assert "url=http://192.168.42.1/" in await response.text()
    else:
        assert response.status == 302
        assert response.headers["Location"] == "http://192.168.42.1/"


async def test_sign_in_page_speaks_the_phones_language(portal: Client) -> None:
    response = await portal.get(
        "/generate_204",
        headers={"Host": "connectivitycheck.samsung.com", "Accept-Language": "de"},
        allow_redirects=False,
    )
    assert response.status == 200
    assert response.headers["Content-Language"] == "de"
    assert '<html lang="de">' in await response.text()


@pytest.mark.parametrize(
    "path", ["/", "/networks", "/some/page.html", "/static/portal.css", "/favicon.ico"]
)
async def test_any_request_for_another_host_is_redirected(portal: Client, path: str) -> None:
    response = await portal.get(path, headers={"Host": "example.com"}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "http://192.168.42.1/"


async def test_post_for_another_host_is_redirected_and_not_handled(
    portal: Client, controller: RecordingController
) -> None:
    response = await portal.post(
        "/connect",
        json={"ssid": "Library"},
        headers={"Host": "evil.example"},
        allow_redirects=False,
    )
    assert response.status == 302
    assert controller.submitted == []


@pytest.mark.parametrize("host", ["192.168.42.1", "192.168.42.1:80", "192.168.42.1:80".upper()])
async def test_gateway_host_is_served(portal: Client, host: str) -> None:
    response = await portal.get("/", headers={"Host": host}, allow_redirects=False)
    assert response.status == 200


async def test_wrong_port_on_the_gateway_is_redirected(portal: Client) -> None:
    response = await portal.get("/", headers={"Host": "192.168.42.1:8080"}, allow_redirects=False)
    assert response.status == 302


async def test_missing_host_is_redirected(portal: Client) -> None:
    response = await portal.get("/", headers={"Host": ""}, allow_redirects=False)
    assert response.status == 302


async def test_redirect_keeps_a_port_other_than_80(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    config = make_config(gateway=IPv4Address("10.0.5.1"), listening_port=8080)
    client = await aiohttp_client(create_app(config, controller), headers={"Host": "10.0.5.1:8080"})
    probe = await client.get(
        "/generate_204",
        headers={"Host": "connectivitycheck.gstatic.com"},
        allow_redirects=False,
    )
    assert probe.status == 200
    assert "url=http://10.0.5.1:8080/" in await probe.text()
    redirected = await client.get(
        "/connecttest.txt", headers={"Host": "www.msftconnecttest.com"}, allow_redirects=False
    )
    assert redirected.status == 302
    assert redirected.headers["Location"] == "http://10.0.5.1:8080/"
    page = await client.get("/", allow_redirects=False)
    assert page.status == 200
    bare = await client.get("/", headers={"Host": "10.0.5.1"}, allow_redirects=False)
    assert bare.status == 200


def test_accepted_hosts_are_the_gateway_and_loopback_with_and_without_the_port() -> None:
    assert accepted_hosts(IPv4Address(GATEWAY), 8080) == {
        "192.168.42.1",
        "192.168.42.1:8080",
        "localhost",
        "localhost:8080",
        "127.0.0.1",
        "127.0.0.1:8080",
        "[::1]",
        "[::1]:8080",
    }


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.1:80", "LOCALHOST:80"])
async def test_loopback_names_are_the_portal_too(portal: Client, host: str) -> None:
    # `wifi-connect simulate` and the browser tests serve the portal on 127.0.0.1.
    response = await portal.get("/", headers={"Host": host}, allow_redirects=False)
    assert response.status == 200


async def test_every_request_counts_as_activity(
    portal: Client, controller: RecordingController
) -> None:
    await portal.get("/generate_204", allow_redirects=False)
    await portal.get("/", headers={"Host": "example.com"}, allow_redirects=False)
    await portal.get("/status")
    assert controller.requests == 3
