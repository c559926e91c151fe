"""Captive-portal detection: every OS probe and every foreign Host lands on the portal."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from app.portal.app import create_app
from app.portal.middlewares import PROBE_PATHS
from app.portal.state import accepted_hosts
from tests.portal.helpers import (
    GATEWAY,
    PROBES,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
)


def test_probe_list_covers_every_path_in_the_facts() -> None:
    assert {path for _, path in PROBES} == PROBE_PATHS


@pytest.mark.parametrize(("host", "path"), PROBES)
async def test_os_probe_is_redirected_to_the_portal(portal: Client, host: str, path: str) -> None:
    response = await portal.get(path, headers={"Host": host}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "http://192.168.42.1/"
    # A cached redirect would keep the sign-in sheet from opening next time, or open it later.
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", sorted(PROBE_PATHS))
async def test_probe_path_on_the_gateway_itself_is_redirected_too(
    portal: Client, path: str
) -> None:
    # Never a 204 or "Success": that answer would tell the phone it is online.
    response = await portal.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "http://192.168.42.1/"


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
    assert probe.status == 302
    assert probe.headers["Location"] == "http://10.0.5.1:8080/"
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
