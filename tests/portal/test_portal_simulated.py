"""The portal in headless Chromium at a phone's size, its controller the real flow on the simulator.

Each test runs what `wifi-connect simulate` runs: a private dbus-daemon, the simulated
NetworkManager, the adapter, the Provisioner (prepared, hotspot up, `run_until_connected()` in a
background task) and the portal on 127.0.0.1. The browser submits; the simulator says what
NetworkManager would have received.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import aiohttp
import pytest

from app.flow.state import AttemptOutcome, FlowState
from app.nm.const import DeviceStateReason
from app.nm.models import FailureKind
from app.portal.middlewares import SIGN_IN_PAGE_PATHS

# Importing the browser module skips this one too when playwright or Chromium is missing.
from tests.browser import Browser, assert_shown_as_text, chromium, expect, join, open_phone
from tests.portal.helpers import CONNECTING, XSS_IMG, XSS_SCRIPT
from tests.portal.simulated import SimPortal, simulated_portal
from tests.support import eventually

HOME_PASSWORD = "correct horse battery"
CORP_IDENTITY = "alice@example.org"
CORP_PASSWORD = "eap secret 1"
HIDDEN_NAME = "Attic"
HIDDEN_PASSWORD = "attic pass 9"
XSS_PASSWORD = "password1"

# Small and fast: every delay is tens of milliseconds.
SCENARIO: dict[str, Any] = {
    "activation_delay_ms": 40,
    "deactivation_delay_ms": 10,
    "scan_delay_ms": 30,
    "devices": [{"interface": "wlan0"}],
    "networks": [
        {"ssid": "Home", "security": "wpa-psk", "passphrase": HOME_PASSWORD, "strength": 85},
        {
            "ssid": "Corp",
            "security": "wpa-eap",
            "identity": CORP_IDENTITY,
            "passphrase": CORP_PASSWORD,
            "strength": 70,
        },
        {
            "ssid": HIDDEN_NAME,
            "security": "wpa-psk",
            "passphrase": HIDDEN_PASSWORD,
            "hidden": True,
            "strength": 90,
        },
        {
            "ssid": "Refuser",
            "security": "wpa-psk",
            "passphrase": "never matters",
            "failure": "wrong_password",
            "strength": 60,
        },
        {"ssid": XSS_IMG, "security": "wpa-psk", "passphrase": XSS_PASSWORD, "strength": 45},
        {"ssid": XSS_SCRIPT, "security": "open", "strength": 30},
    ],
}
# (captive probe host, path) of each OS, from the reference facts.
OS_PROBES = [
    ("captive.apple.com", "/hotspot-detect.html"),  # Apple
    ("connectivitycheck.gstatic.com", "/generate_204"),  # Android
    ("connectivitycheck.samsung.com", "/generate_204"),  # Samsung
    ("www.msftconnecttest.com", "/connecttest.txt"),  # Windows
    ("detectportal.firefox.com", "/success.txt"),  # Firefox
]


def expected_profile(
    received: dict[str, dict[str, Any]],
    ssid: str,
    security: dict[str, dict[str, Any]],
    *,
    hidden: bool = False,
) -> dict[str, dict[str, Any]]:
    """The client profile the flow must send for `ssid`; its uuid, checked, from `received`."""
    wireless: dict[str, Any] = {"ssid": ssid.encode(), "mode": "infrastructure"}
    if hidden:
        wireless["hidden"] = True
    return {
        "connection": {
            "type": "802-11-wireless",
            "id": ssid,
            "uuid": str(UUID(received["connection"]["uuid"])),
            "autoconnect": True,
        },
        "802-11-wireless": wireless,
        "ipv4": {"method": "auto"},
        "ipv6": {"method": "auto"},
        **security,
    }


@pytest.fixture
async def simulated() -> AsyncIterator[SimPortal]:
    """What `wifi-connect simulate` runs, with the scenario above, on a free port."""
    async with simulated_portal(SCENARIO) as portal:
        yield portal


@pytest.fixture
async def browser(simulated: SimPortal) -> AsyncIterator[Browser]:
    """Chromium resolving each OS's probe host to the portal, as the hotspot's DNS does."""
    rules = ", ".join(f"MAP {host} 127.0.0.1:{simulated.port}" for host, _ in OS_PROBES)
    async with chromium(f"--host-resolver-rules={rules}") as launched:
        yield launched


async def test_each_os_probe_lands_on_the_portal(browser: Browser, simulated: SimPortal) -> None:
    phone = await open_phone(browser)
    page = phone.page
    for host, path in OS_PROBES:
        for url in (f"{simulated.url.rstrip('/')}{path}", f"http://{host}{path}"):
            response = await page.goto(url)
            assert response is not None and response.status == 200, url
            if path in SIGN_IN_PAGE_PATHS:
                # Android's probe gets a page (Samsung ignores a redirect) that leads on here.
                assert response.url == url
                await page.wait_for_url(simulated.url)
            else:
                assert page.url == simulated.url, url
                first = response.request.redirected_from
                assert first is not None and first.url == url
                probe = await first.response()
                assert probe is not None and probe.status == 302, url
                assert await probe.header_value("location") == simulated.url
            await expect(page.get_by_role("heading", name="Choose a WiFi network")).to_be_visible()
            # The list is the simulator's scan, strongest first, the hidden network left out.
            ssids = await page.locator("details:not(.other) .ssid").all_inner_texts()
            assert ssids == ["Home", "Corp", "Refuser", XSS_IMG, XSS_SCRIPT], url
    await phone.shot("sim-probe-lands-on-portal")
    assert simulated.flow.status().state is FlowState.PORTAL
    assert simulated.clients() == []
    phone.assert_clean()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
async def test_wpa2_network_connects(
    browser: Browser, simulated: SimPortal, javascript: bool
) -> None:
    phone = await open_phone(browser, simulated.url, javascript=javascript)
    page = phone.page
    shots = "sim-wpa2" if javascript else "sim-nojs"
    # The show-password toggles come from the script; without it the form works alone.
    assert bool(await page.get_by_label("Show password").count()) is javascript
    await join(phone, "Home", HOME_PASSWORD, shot=f"{shots}-1-form")
    await expect(page.get_by_role("heading")).to_have_text("Connecting to 'Home'…")
    assert HOME_PASSWORD not in await page.content()

    await simulated.connected("Home")
    received = simulated.profile()
    assert received == expected_profile(
        received,
        "Home",
        {"802-11-wireless-security": {"key-mgmt": "wpa-psk", "psk": HOME_PASSWORD}},
    )
    if javascript:
        # The page follows the real flow's /status to the end.
        live = page.locator("#live")
        await expect(live).to_have_text("The device is connected.", timeout=5000)
    await phone.shot(f"{shots}-2-connected")
    phone.assert_clean()


async def test_hidden_network_connects(browser: Browser, simulated: SimPortal) -> None:
    phone = await open_phone(browser, simulated.url)
    page = phone.page
    assert await phone.row(HIDDEN_NAME).count() == 0
    other = page.locator("details.other")
    await other.locator(":scope > summary").click()
    await other.get_by_label("Network name").fill(HIDDEN_NAME)
    await other.get_by_label("Security").select_option("wpa-psk")
    await other.get_by_label("Password", exact=True).fill(HIDDEN_PASSWORD)
    await phone.shot("sim-hidden-form")
    await other.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(rf"/connecting\?ssid={HIDDEN_NAME}$"))

    await simulated.connected(HIDDEN_NAME)
    received = simulated.profile()
    # The simulated network answers only a profile that probes for it (hidden=true).
    assert received == expected_profile(
        received,
        HIDDEN_NAME,
        {"802-11-wireless-security": {"key-mgmt": "wpa-psk", "psk": HIDDEN_PASSWORD}},
        hidden=True,
    )
    phone.assert_clean()


async def test_enterprise_network_connects(browser: Browser, simulated: SimPortal) -> None:
    phone = await open_phone(browser, simulated.url)
    await join(phone, "Corp", CORP_PASSWORD, identity=CORP_IDENTITY, shot="sim-enterprise-form")
    assert phone.page.url.endswith("/connecting?ssid=Corp")

    await simulated.connected("Corp")
    received = simulated.profile()
    assert received == expected_profile(
        received,
        "Corp",
        {
            "802-11-wireless-security": {"key-mgmt": "wpa-eap"},
            "802-1x": {
                "eap": ["peap"],
                "identity": CORP_IDENTITY,
                "password": CORP_PASSWORD,
                "phase2-auth": "mschapv2",
            },
        },
    )
    phone.assert_clean()


async def test_refused_password_is_explained_when_the_hotspot_is_back(
    browser: Browser, simulated: SimPortal
) -> None:
    phone = await open_phone(browser, simulated.url)
    await join(phone, "Refuser", "not the one")
    flow = simulated.flow
    # The flow tries, fails, and brings the hotspot back (PORTAL again) for another try.
    await eventually(
        lambda: flow.status().state is FlowState.PORTAL and flow.status().last_attempt is not None
    )
    assert flow.status().last_attempt == AttemptOutcome(
        "Refuser", FailureKind.WRONG_PASSWORD, nm_reason=DeviceStateReason.NO_SECRETS
    )
    assert not simulated.task.done()
    # The refused profile is gone; only the hotspot's is left, and it is active again.
    assert simulated.clients() == []
    assert [c.id for c in simulated.sim.connections] == ["wifi-connect-hotspot"]
    assert simulated.sim.device_state("wlan0")[0] == 100  # activated (as the access point)

    # The phone rejoins the hotspot and opens the portal again.
    await phone.page.close()
    again = await open_phone(browser, simulated.url)
    notice = again.page.get_by_role("alert")
    await expect(notice).to_contain_text("The password for 'Refuser' was not accepted.")
    await again.shot("sim-refused-notice")

    # The portal still works: the next choice connects.
    await join(again, "Home", HOME_PASSWORD)
    await simulated.connected("Home")
    assert [c.id for c in simulated.clients()] == ["Home"]
    phone.assert_clean()
    again.assert_clean()


async def test_hostile_names_render_as_text_and_run_nothing(
    browser: Browser, simulated: SimPortal
) -> None:
    phone = await open_phone(browser, simulated.url)
    page = phone.page
    await assert_shown_as_text(phone, XSS_IMG, XSS_SCRIPT)
    await phone.shot("sim-hostile-names")

    await join(phone, XSS_IMG, XSS_PASSWORD)
    await expect(page.get_by_role("heading")).to_have_text(f"Connecting to '{XSS_IMG}'…")
    await simulated.connected(XSS_IMG)
    received = simulated.profile()
    assert received["802-11-wireless"]["ssid"] == XSS_IMG.encode()
    assert received["connection"]["id"] == XSS_IMG
    # Give a payload time to fire, had the page run one; the dialog listener records any.
    await asyncio.sleep(0.3)
    phone.assert_clean()


STATIC_FIELDS = {
    "ipv4_address": "192.168.1.127/24",
    "ipv4_gateway": "192.168.1.1",
    "ipv4_dns": "192.168.1.1, 1.1.1.1",
}
# What the flow sends for those fields: ipv4.dns is in_addr_t in this host's byte order.
STATIC_SETTING = {
    "method": "manual",
    "address-data": [{"address": "192.168.1.127", "prefix": 24}],
    "gateway": "192.168.1.1",
    "dns": [int.from_bytes(bytes(b), sys.byteorder) for b in ((192, 168, 1, 1), (1, 1, 1, 1))],
}


async def test_static_address_from_the_advanced_fields_connects(
    browser: Browser, simulated: SimPortal
) -> None:
    phone = await open_phone(browser, simulated.url)
    row = phone.row("Home")
    await row.locator(":scope > summary").click()
    await row.locator("details.adv > summary").click()
    for name, label in (
        ("ipv4_address", "IPv4 address"),
        ("ipv4_gateway", "Gateway"),
        ("ipv4_dns", "DNS servers"),
    ):
        await row.get_by_label(label).fill(STATIC_FIELDS[name])
    await row.get_by_label("Password", exact=True).fill(HOME_PASSWORD)
    await phone.shot("sim-static-1-form")
    await row.get_by_role("button", name="Connect").click()
    await expect(phone.page.get_by_role("heading")).to_have_text("Connecting to 'Home'…")

    await simulated.connected("Home")
    received = simulated.profile()
    assert received["ipv4"] == STATIC_SETTING
    phone.assert_clean()


async def test_static_address_by_json_connects(simulated: SimPortal) -> None:
    async with aiohttp.ClientSession() as session:
        body = {"ssid": "Home", "passphrase": HOME_PASSWORD, **STATIC_FIELDS}
        async with session.post(f"{simulated.url}connect", json=body) as response:
            assert (response.status, await response.json()) == (200, CONNECTING)
    await simulated.connected("Home")
    assert simulated.profile()["ipv4"] == STATIC_SETTING
