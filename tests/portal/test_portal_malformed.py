"""A malformed scan reply through the portal: "Could not scan" (503) or the good networks, no 500.

The real flow and portal run on the simulator, which sends one access point's property or one
scan reply malformed; the phone asks for a rescan, as JSON and as the page's form.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest
from dbus_next.signature import Variant
from hypothesis import given, settings
from hypothesis import strategies as st

from app.nm.const import ACCESS_POINT_IFACE, WIRELESS_IFACE
from app.simulator import Malformation
from tests.nm.dbus_values import malformed
from tests.portal.simulated import SimPortal, simulated_portal
from tests.simulator.world import HOME, OFFICE, scenario
from tests.support import on_own_loop

# A second radio scans while the first is the hotspot: a rescan lists what is in the air.
SCENARIO = scenario(
    [HOME, {"ssid": "Cafe", "security": "open", "strength": 60}, OFFICE],
    devices=[{"interface": "wlan0", "ap_mode_scan": "works"}],
)
NAMES = {"Home", "Cafe", "Office"}
AP_PROPERTIES = {"Ssid": "ay", "Strength": "y", "Flags": "u", "WpaFlags": "u", "RsnFlags": "u"}
SCAN_REPLIES = {"LastScan": "x", "GetAllAccessPoints": "ao"}
# A quarter of the profile's examples (25 under CI): each is a rescan through the whole stack.
BUDGET = settings(max_examples=max(10, settings.default.max_examples // 4))


@pytest.fixture
async def portal() -> AsyncIterator[SimPortal]:
    async with simulated_portal(SCENARIO) as simulated:
        yield simulated


async def _rescan(url: str, phone: int = 1) -> tuple[int, Any]:
    """POST /rescan as a script does, from phone number `phone` (127.0.0.N, 1 to 254): the
    status and the JSON answer. Each phone has its own rescan limit (10 a minute)."""
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{phone}", 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(f"{url}rescan", json={}) as response,
    ):
        return response.status, await response.json()


async def _scanned(portal: SimPortal) -> dict[str, str]:
    """The access points' paths by name, once a rescan listed them beside the hotspot."""
    status, body = await _rescan(portal.url, phone=254)
    assert status == 200 and {entry["ssid"] for entry in body} == NAMES
    bssids = {n.ssid.decode(): n.bssid for n in portal.sim.networks}
    return {name: portal.sim.access_point_path(bssid) for name, bssid in bssids.items()}


async def test_an_access_point_without_flags_is_left_out_and_the_others_listed(
    portal: SimPortal,
) -> None:
    home = (await _scanned(portal))["Home"]
    portal.sim.inject(Malformation(ACCESS_POINT_IFACE, "Flags", None, home))
    status, body = await _rescan(portal.url)
    assert status == 200
    assert {entry["ssid"] for entry in body} == {"Cafe", "Office"}
    async with aiohttp.ClientSession() as phone, phone.get(f"{portal.url}networks") as response:
        assert {entry["ssid"] for entry in await response.json()} == {"Cafe", "Office"}


@pytest.mark.parametrize(
    "malformation",
    [
        Malformation(WIRELESS_IFACE, "GetAllAccessPoints", Variant("s", "nothing")),
        Malformation(WIRELESS_IFACE, "LastScan", Variant("s", "just now")),
    ],
    ids=lambda m: m.member,
)
async def test_a_malformed_scan_reply_is_could_not_scan_for_a_script_and_a_form(
    portal: SimPortal, malformation: Malformation
) -> None:
    portal.sim.inject(malformation)
    status, body = await _rescan(portal.url)
    assert status == 503 and malformation.member in body["error"], body
    async with aiohttp.ClientSession() as phone:
        async with phone.get(portal.url) as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert token is not None
        form = {"csrf_token": token.group(1)}
        async with phone.post(f"{portal.url}rescan", data=form) as response:
            page = await response.text()
            assert response.status == 503
        assert "Could not scan" in page and malformation.member in page
        assert await portal.flow.networks(), "the list scanned before is still offered"


def test_any_malformed_scan_reply_is_could_not_scan_or_the_good_networks() -> None:
    async def start(stack: AsyncExitStack) -> SimPortal:
        # A LastScan stuck at one number is a scan that never ends: the bound is made short.
        return await stack.enter_async_context(simulated_portal(SCENARIO, scan_timeout=0.2))

    with on_own_loop(start) as (loop, portal):
        paths = loop.run_until_complete(_scanned(portal))
        per_ap = st.sampled_from(sorted(NAMES)).flatmap(
            lambda name: st.sampled_from(sorted(AP_PROPERTIES)).flatmap(
                lambda member: malformed(AP_PROPERTIES[member]).map(
                    lambda value: Malformation(ACCESS_POINT_IFACE, member, value, paths[name])
                )
            )
        )
        per_scan = st.sampled_from(sorted(SCAN_REPLIES)).flatmap(
            lambda member: malformed(SCAN_REPLIES[member]).map(
                lambda value: Malformation(WIRELESS_IFACE, member, value)
            )
        )
        examples = 0

        @BUDGET
        @given(malformation=per_ap | per_scan)
        def rescan(malformation: Malformation) -> None:
            nonlocal examples
            examples += 1
            portal.sim.clear_injected()
            portal.sim.inject(malformation)
            offered = {n.display_ssid for n in loop.run_until_complete(portal.flow.networks())}
            # A phone of its own for every few examples, each within its rescan limit.
            phone = 1 + examples // 5 % 250
            status, body = loop.run_until_complete(_rescan(portal.url, phone))
            if status == 503:
                assert malformation.interface == WIRELESS_IFACE, body
                assert malformation.member in body["error"], body
                return
            assert status == 200, (status, body)
            listed = {entry["ssid"] for entry in body}
            if malformation.interface == ACCESS_POINT_IFACE:
                bad = next(name for name, path in paths.items() if path == malformation.path)
                assert NAMES - {bad} <= listed, "a bad access point hid a good one"
            else:
                # A scan that found nothing leaves the list offered before (the last example's).
                assert listed <= NAMES | offered

        rescan()
        print(f"{examples} rescans with a malformed reply")
