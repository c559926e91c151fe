"""The server-rendered page: the list, the fields each network needs, the form flow without JS."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import ClientResponse

from app.errors import NetworkManagerUnavailable
from app.flow.state import AttemptOutcome, FlowState, FlowStatus, Service
from app.nm.models import FailureKind
from app.portal.pages import IPV4_FIELDS, LIST_LIMIT
from app.wifi import Credentials, SecurityKind
from tests.portal.helpers import XSS_IMG, XSS_SCRIPT, Client, RecordingController, network


class Page(HTMLParser):
    """The parts of a page the tests look at: elements by id, forms with their fields, text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.forms: list[dict[str, object]] = []
        self.text: list[str] = []
        self._tags: list[str] = []
        # Fields inside a <label>, which labels them without a `for`.
        self.labelled: list[dict[str, str]] = []
        self._labels = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        self._labels += tag == "label"
        if tag in ("input", "select") and self._labels:
            self.labelled.append(attributes)
        if tag == "form":
            self.forms.append({"attrs": attributes, "fields": []})
        elif tag in ("input", "select") and self.forms:
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, list)
            fields.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        self._labels -= tag == "label"

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def by_id(self, element_id: str) -> dict[str, str]:
        """The attributes of the element with this id."""
        [found] = [attrs for _, attrs in self.elements if attrs.get("id") == element_id]
        return found

    def connect_form(self, ssid: str) -> dict[str, object]:
        """The form that joins the listed network `ssid`."""
        for form in self.forms:
            fields = form["fields"]
            assert isinstance(fields, list)
            if any(f.get("name") == "ssid" and f.get("value") == ssid for f in fields):
                return form
        raise AssertionError(f"no form for {ssid!r}")

    def field_names(self, ssid: str) -> list[str]:
        """The visible (non-hidden) field names of a network's form."""
        fields = self.connect_form(ssid)["fields"]
        assert isinstance(fields, list)
        return [f["name"] for f in fields if f.get("type") != "hidden"]


async def get_page(portal: Client, path: str = "/") -> tuple[str, Page]:
    """GET a page; its HTML and parsed form."""
    response = await portal.get(path)
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    return html, Page(html)


HIDDEN_EAP = {
    "hidden": "true",
    "ssid": "Secret Lab",
    "security": "wpa-eap",
    "identity": "alice",
}


async def post_form(
    portal: Client, path: str, fields: dict[str, str], **options: bool
) -> ClientResponse:
    """POST a form as the page does: with the CSRF token of the list it was sent from."""
    _, page = await get_page(portal)
    return await portal.post(path, data={"csrf_token": csrf_token(page), **fields}, **options)


def csrf_token(page: Page) -> str:
    """The CSRF token the page's forms carry."""
    tokens = {attrs["value"] for tag, attrs in page.elements if attrs.get("name") == "csrf_token"}
    [token] = tokens
    return token


async def test_list_is_strongest_first_with_security_in_words_and_signal(portal: Client) -> None:
    html, page = await get_page(portal)
    names = re.findall(r'<span class="ssid"(?: dir="auto")?>([^<]*)</span>', html)
    assert names[:5] == ["Cafe", "Home 5G", "Campus", "Mixed", "Library"]
    assert names[-1] == "Other network…"
    # One row per SSID, and no row for a hidden network's empty name.
    assert names.count("Cafe") == 1
    assert "" not in names
    assert "WPA2 password" in page.text
    assert "WPA3 password" in page.text
    assert "WPA2/WPA3 password" in page.text
    assert "Enterprise: user name and password" in page.text
    assert "Open" in page.text
    assert "Enhanced Open" in page.text
    assert "WEP password (outdated)" in page.text
    assert 'class="bars b4" role="img" aria-label="Signal: 82%"' in html
    assert 'class="bars b1" role="img" aria-label="Signal: 10%"' in html


async def test_lock_only_on_secured_networks(portal: Client) -> None:
    html, _ = await get_page(portal)
    rows = dict(
        re.findall(r'<span class="ssid"[^>]*>([^<]*)</span><span class="sec">(.*?)</span>', html)
    )
    assert '<i class="lock">' in rows["Cafe"]
    assert '<i class="lock">' in rows["Campus"]
    assert '<i class="lock">' in rows["Old Router"]
    assert "lock" not in rows["Library"]
    assert "lock" not in rows["Enhanced"]


@pytest.mark.parametrize(
    ("ssid", "fields"),
    [
        ("Library", []),
        ("Enhanced", []),
        ("Cafe", ["passphrase"]),
        ("Home 5G", ["passphrase"]),
        ("Mixed", ["passphrase"]),
        ("Old Router", ["passphrase"]),
        ("Campus", ["identity", "passphrase"]),
    ],
)
async def test_each_network_asks_only_for_the_fields_it_needs(
    portal: Client, ssid: str, fields: list[str]
) -> None:
    _, page = await get_page(portal)
    # Every form has the "Advanced" fields of a static set-up after its own.
    assert page.field_names(ssid) == [*fields, *IPV4_FIELDS]
    form = page.connect_form(ssid)
    assert form["attrs"] == {"method": "post", "action": "/connect"}


async def test_password_rules_are_in_the_page(portal: Client) -> None:
    _, page = await get_page(portal)
    wpa = page.by_id("n1-pw")
    assert wpa["type"] == "password"
    assert (wpa["minlength"], wpa["maxlength"]) == ("8", "64")
    assert re.fullmatch(wpa["pattern"], "password1")
    assert re.fullmatch(wpa["pattern"], "ab12" * 16)
    assert not re.fullmatch(wpa["pattern"], "g" * 64)
    assert not re.fullmatch(wpa["pattern"], "pässwörter")
    assert "required" in wpa
    # Every input has a label.
    labels = {attrs["for"] for tag, attrs in page.elements if tag == "label" and "for" in attrs}
    inputs = [
        attrs
        for tag, attrs in page.elements
        if tag in ("input", "select") and attrs.get("type") != "hidden"
    ]
    unlabelled = [
        attrs for attrs in inputs if attrs.get("id") not in labels and attrs not in page.labelled
    ]
    assert inputs and unlabelled == []


async def test_other_network_offers_name_and_security(portal: Client) -> None:
    _, page = await get_page(portal)
    assert page.by_id("o-ssid")["name"] == "ssid"
    assert page.by_id("o-sec")["name"] == "security"
    options = [attrs["value"] for tag, attrs in page.elements if tag == "option"]
    assert options == ["wpa-psk", "sae", "wpa-eap", "open", "owe", "wep"]
    fields = {
        attrs["value"]: attrs["data-fields"] for tag, attrs in page.elements if tag == "option"
    }
    assert fields == {
        "wpa-psk": "passphrase",
        "sae": "passphrase",
        "wpa-eap": "identity passphrase",
        "open": "",
        "owe": "",
        "wep": "passphrase",
    }


async def test_no_external_resources(portal: Client) -> None:
    html, page = await get_page(portal)
    for _, attrs in page.elements:
        for name in ("src", "href", "action"):
            if name in attrs:
                assert attrs[name].startswith("/"), (name, attrs[name])
                assert not attrs[name].startswith("//")
    # No inline script at all, and no style but the page's one stylesheet (the CSP allows only
    # that one, by its hash: tests/portal/test_portal_security.py).
    assert html.count("<style") == 1
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    for _, attrs in page.elements:
        assert not [name for name in attrs if name.startswith("on") or name == "style"]


@pytest.mark.parametrize("name", [XSS_IMG, XSS_SCRIPT])
async def test_hostile_ssids_render_as_text(portal: Client, name: str) -> None:
    html, page = await get_page(portal)
    assert name not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert name in page.text
    # Attribute values are escaped too, so the hidden ssid field carries the exact name.
    assert page.connect_form(name)


async def test_form_post_redirects_to_the_connecting_page(
    portal: Client, controller: RecordingController
) -> None:
    fields = {"ssid": "Cafe", "passphrase": "password1"}
    response = await post_form(portal, "/connect", fields, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/connecting?ssid=Cafe"
    assert controller.submitted == [
        Credentials(ssid=b"Cafe", security=SecurityKind.WPA_PSK, passphrase="password1")
    ]
    html, following = await get_page(portal, response.headers["Location"])
    assert "Connecting to 'Cafe'…" in "".join(following.text)
    # What happens next: the hotspot goes away, and comes back with the reason on failure.
    assert "WiFi Connect" in html
    assert any("comes back" in text and "tell you why" in text for text in following.text)
    assert "password1" not in html


async def test_form_other_network_is_joined_hidden(
    portal: Client, controller: RecordingController
) -> None:
    response = await post_form(
        portal, "/connect", {**HIDDEN_EAP, "passphrase": "pw"}, allow_redirects=False
    )
    assert response.status == 303
    assert controller.submitted == [
        Credentials(
            ssid=b"Secret Lab",
            security=SecurityKind.WPA_EAP,
            passphrase="pw",
            identity="alice",
            hidden=True,
        )
    ]


async def test_form_error_is_shown_next_to_its_field_without_the_password(
    portal: Client, controller: RecordingController
) -> None:
    secret = "short"
    response = await post_form(portal, "/connect", {"ssid": "Cafe", "passphrase": secret})
    assert response.status == 400
    html = await response.text()
    again = Page(html)
    field = again.by_id("n1-pw")
    assert field["aria-invalid"] == "true"
    assert "n1-pw-e" in field["aria-describedby"]
    assert "value" not in field
    error = re.search(r'<p class="err" id="n1-pw-e">([^<]*)</p>', html)
    assert error is not None and "too short" in error.group(1)
    # The chosen network stays open, and the password is not sent back anywhere.
    assert re.search(r'<details name="net" open>\s*<summary><span class="ssid"[^>]*>Cafe<', html)
    assert f'value="{secret}"' not in html
    assert controller.submitted == []


async def test_form_error_on_other_network_keeps_name_identity_and_security(
    portal: Client,
) -> None:
    response = await post_form(portal, "/connect", {**HIDDEN_EAP, "passphrase": ""})
    assert response.status == 400
    html = await response.text()
    again = Page(html)
    assert again.by_id("o-ssid")["value"] == "Secret Lab"
    assert again.by_id("o-id")["value"] == "alice"
    assert again.by_id("o-pw")["aria-invalid"] == "true"
    assert '<option value="wpa-eap" data-fields="identity passphrase"' in html
    assert re.search(r'value="wpa-eap"[^>]* selected', html)
    assert re.search(r'<details name="net" class="other" open>', html)


async def test_connecting_page_escapes_the_name(portal: Client) -> None:
    html, page = await get_page(portal, "/connecting?ssid=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in html
    assert "Connecting to '<script>alert(1)</script>'…" in "".join(page.text)


FAILURES = [
    (FailureKind.WRONG_PASSWORD, "The password for 'Cafe' was not accepted."),
    (FailureKind.NOT_FOUND, "'Cafe' was not found. Is it in range?"),
    (FailureKind.NO_ADDRESS, "'Cafe' gave the device no address."),
    (FailureKind.TIMEOUT, "Joining 'Cafe' took too long."),
    (FailureKind.OTHER, "The device could not join 'Cafe'."),
]
BLOCKED = [
    (
        Service.HTTPS,
        "Connected to 'Cafe', but secure web connections (TCP 443) are blocked. "
        "Does the network need a sign-in page?",
    ),
    (Service.NTP, "Connected to 'Cafe', but time servers (UDP 123) are blocked."),
    (Service.DNS, "Connected to 'Cafe', but name lookups (UDP 53) are blocked."),
]


@pytest.mark.parametrize(("failure", "text"), FAILURES)
async def test_last_failure_is_told_in_plain_words(
    portal: Client, controller: RecordingController, failure: FailureKind, text: str
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, AttemptOutcome("Cafe", failure))
    html, page = await get_page(portal)
    assert text in page.text
    assert 'class="notice" role="alert"' in html


@pytest.mark.parametrize(("service", "text"), BLOCKED)
async def test_blocked_service_is_told_in_plain_words(
    portal: Client, controller: RecordingController, service: Service, text: str
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", None, blocked=(service,))
    )
    _, page = await get_page(portal)
    assert text in page.text


async def test_every_blocked_service_is_listed(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", None, blocked=(Service.NTP, Service.DNS))
    )
    _, page = await get_page(portal)
    assert BLOCKED[1][1] in page.text
    assert BLOCKED[2][1] in page.text


async def test_failure_reason_escapes_the_name(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome(XSS_IMG, FailureKind.NOT_FOUND)
    )
    html, page = await get_page(portal)
    assert XSS_IMG not in html
    assert f"'{XSS_IMG}' was not found. Is it in range?" in page.text


async def test_successful_last_attempt_shows_no_notice(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(FlowState.PORTAL, AttemptOutcome("Cafe", None))
    html, _ = await get_page(portal)
    assert 'class="notice"' not in html


async def test_empty_scan_says_what_to_do(portal: Client, controller: RecordingController) -> None:
    controller.available = []
    _, page = await get_page(portal)
    assert any(text.startswith("No networks were found.") for text in page.text)
    assert page.by_id("o-ssid")


async def test_long_lists_show_the_strongest_and_link_to_the_rest(
    portal: Client, controller: RecordingController
) -> None:
    controller.available = [
        network(f"Net {i:02d}".encode(), SecurityKind.WPA_PSK, 100 - i) for i in range(30)
    ]
    html, _ = await get_page(portal)
    names = re.findall(r'<span class="ssid" dir="auto">Net (\d\d)</span>', html)
    assert names == [f"{i:02d}" for i in range(LIST_LIMIT)]
    assert f"Show {30 - LIST_LIMIT} more networks" in html
    html, _ = await get_page(portal, "/?all=1")
    assert len(re.findall(r'<span class="ssid" dir="auto">Net \d\d</span>', html)) == 30
    assert "more network" not in html


async def test_form_rescan_that_fails_says_why(
    portal: Client, controller: RecordingController
) -> None:
    async def broken() -> list[Any]:
        raise NetworkManagerUnavailable("NetworkManager went away")

    controller.rescan = broken  # type: ignore[method-assign]
    response = await post_form(portal, "/rescan", {}, allow_redirects=False)
    assert response.status == 503
    text = await response.text()
    assert "Could not scan" in text and "NetworkManager went away" in text


async def test_form_rescan_goes_back_to_the_list(
    portal: Client, controller: RecordingController
) -> None:
    response = await post_form(portal, "/rescan", {}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"
    assert controller.rescans == 1
