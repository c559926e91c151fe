"""The portal in headless Chromium at a phone's size, served on 127.0.0.1 with a test controller."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface

import pytest

from app.errors import NetworkManagerUnavailable
from app.flow.state import AttemptOutcome, FlowState, FlowStatus, Service
from app.nm.models import FailureKind, WifiNetwork
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from app.wifi import Credentials, SecurityKind, StaticIPv4
from tests.browser import SCREENSHOTS, Browser, chromium, expect, join, open_phone
from tests.portal.helpers import (
    PROBES,
    RecordingController,
    make_config,
    network,
)
from tests.support import free_port


@dataclass
class Served:
    """The portal on 127.0.0.1: its URL and the controller behind it."""

    url: str
    port: int
    controller: RecordingController


@pytest.fixture
async def served(controller: RecordingController) -> AsyncIterator[Served]:
    """The portal on 127.0.0.1:PORT, its gateway being 127.0.0.1 so redirects come back here."""
    port = free_port()
    config = make_config(gateway=IPv4Address("127.0.0.1"), listening_port=port)
    async with serve_portal(create_app(config, controller), LOOPBACK, port):
        yield Served(f"http://127.0.0.1:{port}/", port, controller)


@pytest.fixture
async def browser(served: Served) -> AsyncIterator[Browser]:
    """Chromium that resolves every name to the portal, as the hotspot's wildcard DNS does."""
    async with chromium(f"--host-resolver-rules=MAP * 127.0.0.1:{served.port}") as launched:
        yield launched


async def test_every_os_probe_lands_on_the_portal(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser)
    for host, path in PROBES:
        await phone.page.goto(f"http://{host}{path}")
        # A redirect lands at once; Android's probes get a page whose refresh leads here.
        await phone.page.wait_for_url(served.url)
        await expect(
            phone.page.get_by_role("heading", name="Choose a WiFi network")
        ).to_be_visible()
        if host == "captive.apple.com" and path == "/hotspot-detect.html":
            await phone.shot("probe-apple-lands-on-portal")
    phone.assert_clean()


async def test_wpa2_network_with_javascript(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)
    page = phone.page
    await phone.shot("wpa2-1-list")
    row = phone.row("Cafe")
    await row.locator(":scope > summary").click()
    password = row.get_by_label("Password", exact=True)
    connect = row.get_by_role("button", name="Connect")

    # The page checks the rule before anything is sent.
    await password.fill("short")
    await connect.click()
    assert await password.evaluate("field => !field.validity.valid")
    assert page.url == served.url
    assert served.controller.submitted == []

    await password.fill("correct horse")
    show = row.get_by_label("Show password")
    await show.check()
    assert await password.get_attribute("type") == "text"
    await phone.shot("wpa2-2-password-shown")
    await show.uncheck()
    assert await password.get_attribute("type") == "password"

    await connect.click()
    await page.wait_for_url(re.compile(r"/connecting\?ssid=Cafe$"))
    await expect(page.get_by_role("heading")).to_have_text("Connecting to 'Cafe'…")
    assert "correct horse" not in await page.content()
    await phone.shot("wpa2-3-connecting")
    assert served.controller.submitted == [
        Credentials(ssid=b"Cafe", security=SecurityKind.WPA_PSK, passphrase="correct horse")
    ]
    phone.assert_clean()


async def test_hidden_network(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)
    page = phone.page
    other = page.locator("details.other")
    await other.locator(":scope > summary").click()
    name = other.get_by_label("Network name")
    security = other.get_by_label("Security")
    identity = other.get_by_label("User name")
    password = other.get_by_label("Password", exact=True)

    # Only the fields the stated security needs are shown.
    await security.select_option("open")
    await expect(password).to_be_hidden()
    await expect(identity).to_be_hidden()
    await security.select_option("wpa-eap")
    await expect(identity).to_be_visible()
    await expect(password).to_be_visible()
    await security.select_option("sae")
    await expect(identity).to_be_hidden()
    await expect(password).to_be_visible()

    # A name longer than 32 bytes is caught in the page (é takes two bytes).
    await name.fill("é" * 17)
    await other.get_by_role("button", name="Connect").click()
    assert await name.evaluate("field => field.validity.customError")
    assert served.controller.submitted == []

    # The stated security's password rule is checked in the page too.
    await name.fill("Secret Lab")
    await security.select_option("wpa-psk")
    await password.fill("short")
    await other.get_by_role("button", name="Connect").click()
    assert await password.evaluate("field => field.validity.patternMismatch")
    assert served.controller.submitted == []

    await security.select_option("sae")
    await password.fill("wpa3 pass")
    await phone.shot("hidden-1-form")
    await other.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting"))
    assert served.controller.submitted == [
        Credentials(
            ssid=b"Secret Lab", security=SecurityKind.SAE, passphrase="wpa3 pass", hidden=True
        )
    ]
    phone.assert_clean()


async def test_enterprise_network(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)
    user = "alice@example.org"
    await join(phone, "Campus", "s3cret pass", identity=user, shot="enterprise-1-form")
    assert phone.page.url.endswith("/connecting?ssid=Campus")
    assert served.controller.submitted == [
        Credentials(
            ssid=b"Campus",
            security=SecurityKind.WPA_EAP,
            passphrase="s3cret pass",
            identity=user,
        )
    ]
    phone.assert_clean()


async def test_failed_last_attempt_shows_the_reason(browser: Browser, served: Served) -> None:
    served.controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", FailureKind.WRONG_PASSWORD)
    )
    phone = await open_phone(browser, served.url)
    alert = phone.page.get_by_role("alert")
    await expect(alert).to_contain_text("The password for 'Cafe' was not accepted.")
    await phone.shot("failed-wrong-password")

    served.controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", None, blocked=(Service.NTP,))
    )
    await phone.page.reload()
    await expect(alert).to_contain_text(
        "Connected to 'Cafe', but time servers (UDP 123) are blocked."
    )
    phone.assert_clean()

    # The same in German, whose longer words must still fit a phone.
    german = await open_phone(browser, served.url, locale="de-DE")
    await expect(german.page.get_by_role("alert")).to_contain_text(
        "Mit „Cafe“ verbunden, aber Zeitserver (UDP 123) sind gesperrt."
    )
    row = german.row("Campus")
    await row.locator(":scope > summary").click()
    await expect(row.get_by_label("Benutzername")).to_be_visible()
    width = await german.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360
    await german.shot("failed-blocked-ntp-german")
    german.assert_clean()


async def test_main_flow_without_javascript(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url, javascript=False)
    page = phone.page
    row = phone.row("Cafe")
    await row.locator(":scope > summary").click()
    # The show-password switch needs JavaScript, so it is not there at all.
    assert await page.get_by_label("Show password").count() == 0
    await row.get_by_label("Password", exact=True).fill("correct horse")
    await phone.shot("nojs-1-form")
    await row.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting\?ssid=Cafe$"))
    await expect(page.get_by_role("heading")).to_have_text("Connecting to 'Cafe'…")
    await phone.shot("nojs-2-connecting")
    assert served.controller.submitted == [
        Credentials(ssid=b"Cafe", security=SecurityKind.WPA_PSK, passphrase="correct horse")
    ]
    phone.assert_clean()


async def test_server_error_without_javascript_is_shown_next_to_the_field(
    browser: Browser, served: Served
) -> None:
    phone = await open_phone(browser, served.url, javascript=False)
    page = phone.page
    other = page.locator("details.other")
    await other.locator(":scope > summary").click()
    # Without JavaScript the page cannot require the password of an "Other" network: the server
    # says so, next to the field, and keeps what was typed except the password.
    await other.get_by_label("Network name").fill("Secret Lab")
    await other.get_by_label("Security").select_option("wpa-psk")
    await expect(other.get_by_label("User name")).to_be_hidden()
    await other.get_by_role("button", name="Connect").click()
    await page.wait_for_load_state()
    error = page.locator("#o-pw-e")
    await expect(error).to_have_text("This network needs a password.")
    await expect(page.get_by_label("Network name")).to_have_value("Secret Lab")
    await expect(page.locator("details.other")).to_have_attribute("open", "")
    await phone.shot("nojs-3-server-error")
    other = page.locator("details.other")
    await other.get_by_label("Password", exact=True).fill("password1")
    await other.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting"))
    assert served.controller.submitted == [
        Credentials(
            ssid=b"Secret Lab", security=SecurityKind.WPA_PSK, passphrase="password1", hidden=True
        )
    ]
    # Chromium logs the 400 status of the re-rendered form page as a console error.
    phone.assert_clean("status of 400 (Bad Request)")


async def test_live_rescan_that_fails_says_why(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)

    async def broken() -> list[WifiNetwork]:
        raise NetworkManagerUnavailable("NetworkManager went away")

    served.controller.rescan = broken  # type: ignore[method-assign]
    await phone.page.get_by_role("button", name="Scan again").click()
    await expect(phone.page.get_by_text("NetworkManager went away")).to_be_visible()
    await expect(phone.page.get_by_role("heading", name="Could not scan")).to_be_visible()
    # The script's JSON try and the form's answer page are both 503s, which Chromium logs.
    phone.assert_clean("status of 503 (Service Unavailable)")


async def test_live_rescan_updates_the_list_in_place(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)
    page = phone.page
    await page.evaluate("() => { window.stayed = true; }")
    served.controller.available.append(network(b"Just Switched On", SecurityKind.SAE, 99))
    await page.get_by_role("button", name="Scan again").click()
    new_row = phone.row("Just Switched On")
    await expect(new_row).to_be_visible()
    assert await page.evaluate("() => window.stayed === true")
    assert served.controller.rescans == 1
    # The new rows are enhanced too.
    await new_row.locator(":scope > summary").click()
    await new_row.get_by_label("Show password").check()
    phone.assert_clean()


async def test_connecting_page_shows_the_reason_when_the_hotspot_is_back(
    browser: Browser, served: Served
) -> None:
    phone = await open_phone(browser)
    page = phone.page
    # The page polls /status every 2 s: its clock is moved by hand, so no test time passes.
    await page.clock.install()
    async with page.expect_response("**/status"):
        await page.goto(served.url + "connecting?ssid=Cafe")
    served.controller.current = FlowStatus(FlowState.CONNECTING)
    async with page.expect_response("**/status") as polled:
        await page.clock.run_for(2000)
    assert (await (await polled.value).json())["state"] == "connecting"
    served.controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", FailureKind.NOT_FOUND)
    )
    await page.clock.run_for(2000)
    await page.wait_for_url(served.url, timeout=10_000)
    await expect(page.get_by_role("alert")).to_contain_text("'Cafe' was not found.")
    phone.assert_clean()


async def test_keyboard_alone_can_join_a_network(browser: Browser, served: Served) -> None:
    phone = await open_phone(browser, served.url)
    page = phone.page
    await page.keyboard.press("Tab")  # "Scan again"
    await page.keyboard.press("Tab")  # the strongest network's row
    focused = await page.evaluate("() => document.activeElement.textContent")
    assert focused.startswith("Cafe")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.name") == "passphrase"
    await page.keyboard.type("correct horse")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/connecting"))
    assert served.controller.submitted[0].passphrase == "correct horse"
    phone.assert_clean()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
async def test_advanced_static_address_with_a_bad_gateway_then_a_good_one(
    browser: Browser, served: Served, javascript: bool
) -> None:
    phone = await open_phone(browser, served.url, javascript=javascript)
    page = phone.page
    row = phone.row("Cafe")
    await row.locator(":scope > summary").click()
    address = row.get_by_label("IPv4 address")
    # Closed until opened: a user who wants DHCP never sees the fields.
    await expect(address).to_be_hidden()
    await row.locator("details.adv > summary").click()
    await expect(address).to_be_visible()
    await row.get_by_label("Password", exact=True).fill("correct horse")
    await address.fill("192.168.1.127/24")
    await row.get_by_label("Gateway").fill("10.0.0.1")
    await row.get_by_label("DNS servers").fill("192.168.1.1, 1.1.1.1")
    await row.get_by_role("button", name="Connect").click()

    # The list again: Cafe and its Advanced fields open, the error under the gateway.
    gateway = phone.row("Cafe").get_by_label("Gateway")
    await expect(gateway).to_have_attribute("aria-invalid", "true")
    await expect(gateway).to_have_accessible_description(
        "The gateway 10.0.0.1 is outside 192.168.1.0/24, the network of the address: "
        "the router must be in the device's own network."
    )
    await expect(gateway).to_be_focused()
    await expect(phone.row("Cafe").get_by_label("IPv4 address")).to_have_value("192.168.1.127/24")
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert served.controller.submitted == []
    await phone.shot(f"advanced-error-{'js' if javascript else 'nojs'}")
    if javascript:
        # What the phone's screen shows: the field at fault, scrolled into view by autofocus.
        await page.screenshot(path=str(SCREENSHOTS / "advanced-error-screen.png"))

    await gateway.fill("192.168.1.1")
    # The password is never sent back: typed again.
    await phone.row("Cafe").get_by_label("Password", exact=True).fill("correct horse")
    await phone.row("Cafe").get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/connecting\?ssid=Cafe$"))
    assert served.controller.submitted == [
        Credentials(
            ssid=b"Cafe",
            security=SecurityKind.WPA_PSK,
            passphrase="correct horse",
            ipv4=StaticIPv4(
                IPv4Interface("192.168.1.127/24"),
                IPv4Address("192.168.1.1"),
                (IPv4Address("192.168.1.1"), IPv4Address("1.1.1.1")),
            ),
        )
    ]
    # The refused form's answer is a 400, which Chromium logs as a console error.
    phone.assert_clean("400 (Bad Request)")
