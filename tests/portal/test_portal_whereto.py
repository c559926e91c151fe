"""Where the device will be: the page after a submission (no JS) and the JSON answer."""

from __future__ import annotations

import socket

import pytest
from aiohttp.test_utils import TestClient

from app.config import Config
from app.flow.state import FlowState, FlowStatus
from app.nm.models import MdnsHost
from app.portal.app import create_app
from tests.portal.helpers import GATEWAY, Client, ClientFactory, RecordingController, make_config
from tests.portal.test_portal_page import get_page, post_form

ANNOUNCED = MdnsHost("sensor-7", "sensor-7.local")
NEXT = "https://fleet.example.com/devices/{hostname}?joined={ssid}"


async def portal_with(
    aiohttp_client: ClientFactory, controller: RecordingController, config: Config
) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(config, controller), headers={"Host": GATEWAY})


def links(page_elements: list[tuple[str, dict[str, str]]]) -> list[str]:
    """Every link's target, in page order."""
    return [attrs["href"] for tag, attrs in page_elements if tag == "a" and "href" in attrs]


async def test_the_page_after_the_form_says_where_the_device_will_be(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, mdns=ANNOUNCED)
    portal = await portal_with(aiohttp_client, controller, make_config(next_url=NEXT))
    response = await post_form(portal, "/connect", {"ssid": "Cafe", "passphrase": "password1"})
    assert response.status == 200  # the 303 followed
    assert response.url.path == "/connecting"
    _, page = await get_page(portal, f"/connecting?{response.url.query_string}")
    assert "Where the device will be" in page.text
    assert links(page.elements)[:2] == [
        "http://sensor-7.local/",
        "https://fleet.example.com/devices/sensor-7?joined=Cafe",
    ]
    assert "http://sensor-7.local/" in page.text


async def test_without_avahi_no_local_address_but_the_next_url(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    portal = await portal_with(aiohttp_client, controller, make_config(next_url=NEXT))
    html, page = await get_page(portal, "/connecting?ssid=Home")
    assert ".local" not in html
    # {hostname} is still the device's name: the kernel's.
    expected = f"https://fleet.example.com/devices/{socket.gethostname()}?joined=Home"
    assert expected in links(page.elements)


async def test_with_neither_the_page_has_no_such_section(portal: Client) -> None:
    html, _ = await get_page(portal, "/connecting?ssid=Home")
    assert "Where the device will be" not in html


@pytest.mark.parametrize(
    ("ssid", "quoted"),
    [
        ('"><script>alert(1)</script>', "%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"),
        ("a/b?c=d&e#f", "a%2Fb%3Fc%3Dd%26e%23f"),
        ("Café Libre", "Caf%C3%A9%20Libre"),
    ],
)
async def test_the_network_name_is_quoted_into_the_url_and_escaped_in_the_page(
    aiohttp_client: ClientFactory, controller: RecordingController, ssid: str, quoted: str
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, mdns=ANNOUNCED)
    portal = await portal_with(aiohttp_client, controller, make_config(next_url=NEXT))
    response = await portal.get("/connecting", params={"ssid": ssid})
    html = await response.text()
    assert "<script>alert" not in html
    expected = f"https://fleet.example.com/devices/sensor-7?joined={quoted}"
    assert f'href="{expected}"' in html


async def test_json_answer_adds_where_the_device_will_be(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, mdns=ANNOUNCED)
    portal = await portal_with(aiohttp_client, controller, make_config(next_url=NEXT))
    response = await portal.post("/connect", json={"ssid": "Cafe", "passphrase": "password1"})
    assert response.status == 200
    assert await response.json() == {
        "status": "connecting",
        "local_url": "http://sensor-7.local/",
        "next_url": "https://fleet.example.com/devices/sensor-7?joined=Cafe",
    }


async def test_json_answer_keeps_wifi_connects_field_with_nulls_beside_it(portal: Client) -> None:
    response = await portal.post("/connect", json={"ssid": "Cafe", "passphrase": "password1"})
    assert await response.json() == {"status": "connecting", "local_url": None, "next_url": None}


async def test_status_names_the_network_being_tried(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(FlowState.CHECKING, trying="Home")
    body = await (await portal.get("/status")).json()
    assert body == {"state": "checking", "last_attempt": None, "trying": "Home"}
    controller.current = FlowStatus(FlowState.PORTAL)
    body = await (await portal.get("/status")).json()
    assert body["trying"] is None


async def test_the_page_is_translated(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, mdns=ANNOUNCED)
    portal = await portal_with(aiohttp_client, controller, make_config())
    response = await portal.get("/connecting?ssid=Home", headers={"Accept-Language": "de"})
    html = await response.text()
    assert "Wo das Gerät zu finden sein wird" in html
    assert "http://sensor-7.local/" in html
