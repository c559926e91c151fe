"""Hostile bodies and where they come from: slow, broken, in unknown charsets or encodings,
sent by another site's page, or too often. Every one is a clean 4xx, never a 500 or a traceback.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import ClientResponse

from app.config import Config
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from app.portal.state import PORTAL
from tests.hostile import raw_forbidden
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
    multipart,
    portal_app,
)
from tests.support import eventually, free_port

# The body timeout the slow-body tests give the portal: the wait is this, not 15 s.
SLOW = 0.05
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
async def slow_portal(
    aiohttp_client: ClientFactory, config: Config, controller: RecordingController
) -> Client:
    """The portal with a body timeout of SLOW seconds."""
    app = portal_app(config, controller, body_timeout=SLOW)
    return await aiohttp_client(app, headers={"Host": GATEWAY})


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Fails the test if anything logged a traceback (aiohttp logs one with every 500)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def _head(client: Client, request: bytes) -> bytes:
    """Send `request` as raw bytes and return the answer's status line and headers."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/connect", JSON),
        ("/connect", FORM),
        ("/connect", "multipart/form-data; boundary=b"),
        ("/rescan", FORM),
    ],
)
async def test_a_body_that_never_arrives_is_408_and_closed(
    slow_portal: Client,
    controller: RecordingController,
    no_tracebacks: pytest.LogCaptureFixture,
    path: str,
    content_type: str,
) -> None:
    # Headers in, one byte of a hundred: the handler must not wait for the rest forever.
    head = await _head(
        slow_portal,
        f"POST {path} HTTP/1.1\r\nHost: {GATEWAY}\r\nContent-Type: {content_type}\r\n"
        "Content-Length: 100\r\n\r\n{".encode(),
    )
    assert head.startswith(b"HTTP/1.1 408 "), head
    assert b"\r\nConnection: close\r\n" in head, head
    assert controller.submitted == [] and controller.rescans == 0
    _assert_no_traceback(no_tracebacks)


async def test_a_phone_leaving_mid_body_is_no_traceback(
    controller: RecordingController, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    # Served as on a device: aiohttp's test server cancels a handler whose client left, the
    # device's runner lets it run on into the error.
    port = free_port()
    app = create_app(make_config(gateway=LOOPBACK, listening_port=port), controller)
    async with serve_portal(app, LOOPBACK, port):
        # Out of range, or the page closed, while the handler waits for the rest of the body.
        _, writer = await asyncio.open_connection(str(LOOPBACK), port)
        writer.write(
            f"POST /connect HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Type: {JSON}\r\n"
            'Content-Length: 100\r\n\r\n{"ssid'.encode()
        )
        await writer.drain()
        await eventually(lambda: controller.requests == 1)
        writer.close()
        await eventually(
            lambda: any("left before" in r.getMessage() for r in no_tracebacks.records),
            what="the portal noticed the phone left",
        )
    assert controller.submitted == []
    _assert_no_traceback(no_tracebacks)


async def _post(portal: Client, path: str, body: bytes, **headers: str) -> ClientResponse:
    return await portal.post(path, data=body, headers=headers, allow_redirects=False)


async def _assert_json_error(response: ClientResponse, status: int) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error", "field"} and body["field"] is None, body
    assert isinstance(body["error"], str) and body["error"]


async def _assert_page(response: ClientResponse, status: int) -> None:
    assert response.status == status, await response.text()
    assert response.content_type == "text/html"
    assert "Traceback" not in await response.text()


async def test_json_nested_past_the_parsers_depth_is_400(
    portal: Client, controller: RecordingController, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    response = await _post(portal, "/connect", b"[" * 3000, **{"Content-Type": JSON})
    await _assert_json_error(response, 400)
    response = await _post(portal, "/connect", b"[" * 2000 + b"]" * 2000, **{"Content-Type": JSON})
    await _assert_json_error(response, 400)
    assert controller.submitted == []
    _assert_no_traceback(no_tracebacks)


@pytest.mark.parametrize("charset", ["nope", "latin-1", "utf-16", "\u202e\x9b2J"])
async def test_json_is_utf8_whatever_charset_it_names(
    portal: Client, controller: RecordingController, charset: str
) -> None:
    # JSON is UTF-8 (RFC 8259): a charset parameter neither breaks nor changes the reading.
    response = await _post(
        portal,
        "/connect",
        '{"ssid": "Caf\u00e9 raw", "passphrase": "raw pass 1"}'.encode(),
        **{"Content-Type": f"{JSON}; charset={charset}"},
    )
    assert response.status == 200, await response.text()
    response = await _post(
        portal, "/connect", b'{"ssid": "Library"}', **{"Content-Type": f"{JSON}; charset={charset}"}
    )
    assert response.status == 200, await response.text()
    # The name read as UTF-8 is the listed network's (its SSID is Latin-1 on the air).
    assert [c.ssid for c in controller.submitted] == [b"Caf\xe9 raw", b"Library"]


@pytest.mark.parametrize("path", ["/connect", "/rescan"])
async def test_a_form_in_an_unknown_charset_is_415(
    portal: Client,
    controller: RecordingController,
    no_tracebacks: pytest.LogCaptureFixture,
    path: str,
) -> None:
    response = await _post(
        portal, path, b"ssid=Library", **{"Content-Type": f"{FORM}; charset=nope"}
    )
    await _assert_page(response, 415)
    assert controller.submitted == [] and controller.rescans == 0
    _assert_no_traceback(no_tracebacks)


@pytest.mark.parametrize(
    ("part_headers", "status", "text"),
    [
        (b"Content-Type: text/plain; charset=nope\r\n", 415, "a character set"),
        (b"X-Bad: a\x01b\r\n", 400, "The form could not be read."),
    ],
)
async def test_a_multipart_part_the_portal_cannot_read_is_a_4xx_page(
    portal: Client,
    controller: RecordingController,
    no_tracebacks: pytest.LogCaptureFixture,
    part_headers: bytes,
    status: int,
    text: str,
) -> None:
    response = await _post(
        portal,
        "/connect",
        multipart(part_headers, b"Library"),
        **{"Content-Type": "multipart/form-data; boundary=b"},
    )
    await _assert_page(response, status)
    assert text in await response.text()
    assert controller.submitted == []
    _assert_no_traceback(no_tracebacks)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_does_not_follow_its_content_encoding_is_400(
    portal: Client,
    controller: RecordingController,
    no_tracebacks: pytest.LogCaptureFixture,
    encoding: str,
) -> None:
    as_json = await _post(
        portal,
        "/connect",
        b'{"ssid": "Library"}',
        **{"Content-Type": JSON, "Content-Encoding": encoding},
    )
    await _assert_json_error(as_json, 400)
    as_form = await _post(
        portal, "/connect", b"ssid=Library", **{"Content-Type": FORM, "Content-Encoding": encoding}
    )
    await _assert_page(as_form, 400)
    assert controller.submitted == []
    _assert_no_traceback(no_tracebacks)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://{GATEWAY}.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": f"http://{GATEWAY}", "Sec-Fetch-Site": "cross-site"},
    ],
)
@pytest.mark.parametrize("path", ["/rescan", "/connect"])
async def test_a_bodyless_post_from_another_site_is_403(
    portal: Client, controller: RecordingController, path: str, headers: dict[str, str]
) -> None:
    # What a no-cors fetch on any page sends: no preflight, no token, the browser names the site.
    response = await portal.post(path, headers=headers)
    await _assert_json_error(response, 403)
    assert controller.rescans == 0 and controller.submitted == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": f"http://{GATEWAY}"},
        {"Origin": f"http://{GATEWAY}:80"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
    ],
)
async def test_a_bodyless_rescan_from_the_portal_itself_is_taken(
    portal: Client, controller: RecordingController, headers: dict[str, str]
) -> None:
    response = await portal.post("/rescan", headers=headers)
    assert response.status == 200, await response.text()
    assert controller.rescans == 1


async def test_rescan_is_rate_limited_per_client(
    portal: Client, controller: RecordingController, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.portal.views")
    assert portal.app is not None
    limit = portal.app[PORTAL].rescan_limit.limit
    statuses = [(await portal.post("/rescan")).status for _ in range(limit + 20)]
    assert statuses == [200] * limit + [429] * 20
    assert controller.rescans == limit
    response = await portal.post("/rescan")
    await _assert_json_error(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # A form gets the page, with the same Retry-After.
    response = await portal.post("/rescan", data={"x": "1"})
    await _assert_page(response, 429)
    assert "Retry-After" in response.headers
    # One warning per flood; the rest at debug level.
    warnings = [r for r in caplog.records if "Too many rescan requests" in r.getMessage()]
    assert [r.levelno for r in warnings].count(logging.WARNING) == 1
    assert controller.rescans == limit


async def test_connecting_page_shows_a_links_hidden_characters_escaped(portal: Client) -> None:
    response = await portal.get("/connecting", params={"ssid": "Home\u202e\x1b[2J\x9b\u200b"})
    html = await response.text()
    assert response.status == 200
    assert "Home\\u{202E}\\u{1B}[2J\\u{9B}\\u{200B}" in html
    assert raw_forbidden(html) == []


_ENCODED_POST = (
    b"POST /connect HTTP/1.1\r\nHost: x\r\nContent-Encoding: %s\r\nContent-Length: 3\r\n\r\nabc"
)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
        _ENCODED_POST % b"br",
        _ENCODED_POST % b"zstd",
        b"GET /\x1b[2J HTTP/1.1\r\nHost: \xe2\x80\xae\r\n\r\n",
    ],
    ids=["method", "content-length", "brotli", "zstd", "escape-in-line"],
)
async def test_a_request_aiohttp_cannot_parse_is_400_and_one_quiet_line(
    controller: RecordingController, no_tracebacks: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    """Served as on a device: 400, and a DEBUG line without a traceback, never an ERROR."""
    # The app's own loggers too: an earlier test's logging set-up may have left them at INFO.
    no_tracebacks.set_level(logging.DEBUG, logger="app.portal.http")
    port = free_port()
    app = create_app(make_config(gateway=LOOPBACK, listening_port=port), controller)
    async with serve_portal(app, LOOPBACK, port):
        reader, writer = await asyncio.open_connection(str(LOOPBACK), port)
        writer.write(request_bytes)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
    assert status_line.startswith(b"HTTP/1.") and b" 400 " in status_line, status_line
    records = [r for r in no_tracebacks.records if r.name.startswith(("aiohttp", "app.portal"))]
    assert [r for r in records if r.levelno > logging.DEBUG] == []
    assert [r.getMessage() for r in records if "Error handling request" in r.getMessage()]
    _assert_no_traceback(no_tracebacks)
    assert all(raw_forbidden(r.getMessage()) == [] for r in records)
