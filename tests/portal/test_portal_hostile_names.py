"""Hostile access-point names (tests/hostile.py) stay inert in the page, the JSON, /status and logs.

Each shows exactly as rules.display_ssid gives it (HTML-escaped in the page), and nothing a
browser would run or a terminal would obey is in any answer or log line raw.
"""

from __future__ import annotations

import logging

import pytest
from markupsafe import escape

from app.flow.state import AttemptOutcome, FlowState, FlowStatus
from app.nm.models import FailureKind
from app.rules import display_ssid
from app.wifi import SecurityKind
from tests.hostile import HOSTILE_BYTES, HOSTILE_IDS, raw_forbidden
from tests.portal.helpers import Client, RecordingController, network

pytestmark = pytest.mark.parametrize("ssid", HOSTILE_BYTES, ids=HOSTILE_IDS)


@pytest.fixture
def controller(ssid: bytes) -> RecordingController:
    """The hostile name in range, open (so a submission needs no password), and a last attempt."""
    recording = RecordingController((network(ssid, SecurityKind.OPEN, 70),))
    outcome = AttemptOutcome(display_ssid(ssid), FailureKind.NOT_FOUND)
    recording.current = FlowStatus(FlowState.FAILED, last_attempt=outcome)
    return recording


def _inert(text: str) -> None:
    assert raw_forbidden(text) == [], text


async def test_the_page_shows_the_name_escaped_and_inert(portal: Client, ssid: bytes) -> None:
    """GET /: the name as display_ssid gives it, HTML-escaped, in the list and the last outcome."""
    response = await portal.get("/")
    page = await response.text()
    assert response.status == 200
    shown = str(escape(display_ssid(ssid)))
    # Once in the list and at least once in the failed attempt's explanation.
    assert page.count(shown) >= 2, shown
    _inert(page)
    assert "<script>alert" not in page and "<img src=x" not in page


async def test_the_json_carries_the_name_byte_for_byte(portal: Client, ssid: bytes) -> None:
    """GET /networks: the shown name exactly; the body itself holds no raw control byte."""
    response = await portal.get("/networks")
    body = await response.read()
    assert [entry["ssid"] for entry in await response.json()] == [display_ssid(ssid)]
    _inert(body.decode())


async def test_status_carries_the_name_byte_for_byte(portal: Client, ssid: bytes) -> None:
    """GET /status: the last attempt's name exactly, and its reason quoting it, inert."""
    response = await portal.get("/status")
    body = await response.read()
    last = (await response.json())["last_attempt"]
    assert last["ssid"] == display_ssid(ssid)
    assert all(display_ssid(ssid) in reason for reason in last["reasons"]), last["reasons"]
    _inert(body.decode())


async def test_connecting_a_listed_name_logs_it_inert(
    portal: Client, controller: RecordingController, ssid: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """POST /connect with the listed name reaches those bytes; the log line shows it as listed."""
    caplog.set_level(logging.DEBUG)
    response = await portal.post("/connect", json={"ssid": display_ssid(ssid)})
    assert response.status == 200
    assert [credentials.ssid for credentials in controller.submitted] == [ssid]
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"'{display_ssid(ssid)}'" in message for message in messages), messages
    for message in messages:
        _inert(message)
        assert "\n" not in message


async def test_the_connecting_page_shows_the_name_inert(portal: Client, ssid: bytes) -> None:
    """GET /connecting?ssid=...: where the form lands, the name it carries escaped and inert."""
    response = await portal.get("/connecting", params={"ssid": display_ssid(ssid)})
    page = await response.text()
    assert str(escape(display_ssid(ssid))) in page
    _inert(page)
