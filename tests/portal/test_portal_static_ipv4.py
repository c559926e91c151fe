"""A static IPv4 set-up through the portal: JSON /connect, the page's form, its errors."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

import pytest

from app.portal.openapi import openapi_document
from app.wifi import Credentials, SecurityKind, StaticIPv4
from tests.portal.helpers import CONNECTING, Client, RecordingController
from tests.portal.test_portal_api import connect_json
from tests.portal.test_portal_page import Page, get_page, post_form

FIELDS = {
    "ipv4_address": "192.168.1.127/24",
    "ipv4_gateway": "192.168.1.1",
    "ipv4_dns": "192.168.1.1, 1.1.1.1",
}
STATIC = StaticIPv4(
    IPv4Interface("192.168.1.127/24"),
    IPv4Address("192.168.1.1"),
    (IPv4Address("192.168.1.1"), IPv4Address("1.1.1.1")),
)
CAFE = Credentials(b"Cafe", SecurityKind.WPA_PSK, "password1")


async def test_json_connect_takes_the_static_fields(
    portal: Client, controller: RecordingController
) -> None:
    status, answer = await connect_json(
        portal, {"ssid": "Cafe", "passphrase": "password1", **FIELDS}
    )
    assert (status, answer) == (200, CONNECTING)
    assert controller.submitted == [
        Credentials(b"Cafe", SecurityKind.WPA_PSK, "password1", ipv4=STATIC)
    ]


async def test_json_connect_with_the_static_fields_empty_is_dhcp(
    portal: Client, controller: RecordingController
) -> None:
    """What a UI that always sends every field sends when nothing was typed."""
    empty = dict.fromkeys(FIELDS, "")
    status, _ = await connect_json(portal, {"ssid": "Cafe", "passphrase": "password1", **empty})
    assert status == 200
    assert controller.submitted == [CAFE]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({**FIELDS, "ipv4_gateway": "10.0.0.1"}, "ipv4_gateway", "outside 192.168.1.0/24"),
        ({**FIELDS, "ipv4_address": "192.168.1.255/24"}, "ipv4_address", "broadcast address"),
        ({**FIELDS, "ipv4_address": "224.0.0.9/24"}, "ipv4_address", "multicast"),
        ({**FIELDS, "ipv4_dns": "1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4"}, "ipv4_dns", "at most 3"),
        ({"ipv4_gateway": "192.168.1.1"}, "ipv4_gateway", "goes with a static address"),
        ({"ipv4_dns": "1.1.1.1"}, "ipv4_dns", "go with a static address"),
        ({**FIELDS, "ipv4_dns": ["1.1.1.1"]}, "ipv4_dns", "must be text"),
        ({**FIELDS, "ipv4_address": 3232235903}, "ipv4_address", "must be text"),
    ],
)  # fmt: skip
async def test_json_connect_refuses_a_bad_set_up_naming_the_field(
    portal: Client, controller: RecordingController, fields: dict[str, Any], field: str, words: str
) -> None:
    status, answer = await connect_json(
        portal, {"ssid": "Cafe", "passphrase": "password1", **fields}
    )
    assert status == 400
    assert answer["field"] == field
    assert words in answer["error"]
    assert controller.submitted == []


def test_the_openapi_description_names_the_fields() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    connect = document["paths"]["/connect"]["post"]["requestBody"]["content"]
    for content in connect.values():
        properties = content["schema"].get("properties") or _resolved(content["schema"], schemas)
        assert {"ipv4_address", "ipv4_gateway", "ipv4_dns"} <= set(properties)
    assert {"ipv4_address", "ipv4_gateway", "ipv4_dns"} <= set(
        schemas["Error"]["properties"]["field"]["enum"]
    )


def _resolved(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[-1]
    properties: dict[str, Any] = schemas[name]["properties"]
    return properties


async def test_every_form_has_a_closed_advanced_disclosure(portal: Client) -> None:
    html, page = await get_page(portal)
    disclosures = re.findall(r"<details class=\"adv\"( open)?><summary>Advanced</summary>", html)
    forms = [f for f in page.forms if f["attrs"].get("action") == "/connect"]  # type: ignore[union-attr]
    assert len(disclosures) == len(forms) > 1
    assert not any(disclosures), "closed until opened"
    for form in forms:
        names = [f["name"] for f in form["fields"]]  # type: ignore[union-attr]
        assert names[-3:] == ["ipv4_address", "ipv4_gateway", "ipv4_dns"]


async def test_form_without_javascript_sends_the_static_fields(
    portal: Client, controller: RecordingController
) -> None:
    fields = {"ssid": "Cafe", "passphrase": "password1", **FIELDS}
    response = await post_form(portal, "/connect", fields, allow_redirects=False)
    assert response.status == 303
    assert controller.submitted == [
        Credentials(b"Cafe", SecurityKind.WPA_PSK, "password1", ipv4=STATIC)
    ]


async def test_form_error_opens_advanced_keeps_what_was_typed_and_names_the_field(
    portal: Client, controller: RecordingController
) -> None:
    fields = {"ssid": "Cafe", "passphrase": "password1", **FIELDS, "ipv4_gateway": "10.0.0.1"}
    response = await post_form(portal, "/connect", fields)
    assert response.status == 400
    html = await response.text()
    # Only the chosen network's disclosure opens, and the error sits under the gateway.
    assert html.count('<details class="adv" open>') == 1
    chosen = re.search(
        r'<details name="net" open>.*?<details class="adv" open>(.*?)</details>', html, re.S
    )
    assert chosen is not None
    values = {attrs["name"]: attrs.get("value") for attrs in Page(chosen.group(1)).labelled}
    assert values == {
        "ipv4_address": "192.168.1.127/24",
        "ipv4_gateway": "10.0.0.1",
        "ipv4_dns": "192.168.1.1, 1.1.1.1",
    }
    gateway = re.search(r'<input name="ipv4_gateway"[^>]*>', chosen.group(1))
    assert gateway is not None
    assert 'aria-invalid="true"' in gateway.group(0)
    assert 'aria-describedby="n1-ipv4_gateway"' in gateway.group(0)
    error = re.search(r'<p class="err" id="n1-ipv4_gateway">([^<]*)</p>', html)
    assert error is not None
    assert "The gateway 10.0.0.1 is outside 192.168.1.0/24" in error.group(1)
    assert 'value="password1"' not in html
    assert controller.submitted == []


async def test_another_error_keeps_the_static_fields_open(portal: Client) -> None:
    """A short password: the typed set-up stays, so the user fixes only the password."""
    fields = {"ssid": "Cafe", "passphrase": "short", **FIELDS}
    response = await post_form(portal, "/connect", fields)
    assert response.status == 400
    html = await response.text()
    assert html.count('<details class="adv" open>') == 1
    assert 'value="192.168.1.127/24"' in html


async def test_a_page_in_another_language_says_what_the_field_needs(portal: Client) -> None:
    fields = {"ssid": "Cafe", "passphrase": "password1", **FIELDS, "ipv4_dns": "1.1.1.1;8.8.8.8"}
    _, page = await get_page(portal)
    token = {a["value"] for t, a in page.elements if a.get("name") == "csrf_token"}.pop()
    response = await portal.post(
        "/connect", data={"csrf_token": token, **fields}, headers={"Accept-Language": "de"}
    )
    assert response.status == 400
    html = await response.text()
    assert "Erweitert" in html
    assert "Prüfen Sie die DNS-Server: 1 bis 3 IPv4-Adressen, durch Kommas getrennt." in html
