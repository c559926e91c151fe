"""Safety: headers, CSRF on forms, the body cap, the rate limit, secrets kept out of logs."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientResponse, FormData

from app.portal.app import create_app
from app.portal.csrf import CsrfTokens
from app.portal.middlewares import MAX_BODY, SIGN_IN_PAGE_PATHS
from app.portal.ratelimit import RateLimiter
from app.portal.state import PORTAL
from app.portal.style import inline_style as inline_style_of
from app.portal.ui import resolve_file
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    inline_style,
    make_config,
)

STRICT_CSP = {
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
}

SIGN_IN_PAGE_CSP = {
    "default-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
}


def assert_protective_headers(response: ClientResponse) -> None:
    """The headers every portal response carries."""
    headers = response.headers
    policy = {part.strip() for part in headers["Content-Security-Policy"].split(";")}
    if response.url.path in SIGN_IN_PAGE_PATHS:
        # The page Android's probe gets loads nothing at all, styles included: stricter still.
        assert policy >= SIGN_IN_PAGE_CSP
        assert not [part for part in policy if part.startswith("style-src ")]
    else:
        assert policy >= STRICT_CSP
        # Files of the portal, and the one inline stylesheet of its pages, by its hash.
        assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/]{43}='", style_sources(policy))
    assert not any("unsafe" in part for part in policy)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    # The bundled UI's files (not versioned) may be kept if revalidated; nothing else is kept.
    files = response.url.path.startswith("/static/") or response.url.path == "/logo"
    expected = "no-cache" if files and response.status == 200 else "no-store"
    assert headers["Cache-Control"] == expected
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def style_sources(policy: set[str]) -> str:
    """What a policy's style-src directive allows."""
    [style] = [part for part in policy if part.startswith("style-src ")]
    return style.removeprefix("style-src ")


def sha256_source(text: str) -> str:
    """The CSP source expression for an inline element's text, computed as a browser does."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


@pytest.mark.parametrize("path", ["/", "/connecting?ssid=x", "/missing"])
async def test_the_pages_inline_style_is_allowed_by_its_hash(portal: Client, path: str) -> None:
    response = await portal.get(path)
    style = inline_style(await response.text())
    assert "--accent:" in style
    policy = {part.strip() for part in response.headers["Content-Security-Policy"].split(";")}
    assert style_sources(policy) == f"'self' {sha256_source(style)}"


async def test_a_change_of_the_css_changes_the_hash(
    aiohttp_client: ClientFactory, controller: RecordingController, tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "portal.css").write_text("body{color:red}")
    sources = set()
    for changes in ({}, {"brand_color": "#7a1fa2"}, {"ui_directory": tmp_path}):
        app = create_app(make_config(**changes), controller)
        response = await (await aiohttp_client(app, headers={"Host": GATEWAY})).get("/")
        style = inline_style(await response.text())
        assert sha256_source(style) in response.headers["Content-Security-Policy"]
        sources.add(sha256_source(style))
    assert len(sources) == 3


def test_inline_css_is_hashed_as_the_browser_reads_it() -> None:
    # The HTML parser makes CR LF a LF before the browser hashes the text.
    assert inline_style_of("a{}\r\nb{}\rc{}").css == "a{}\nb{}\nc{}"
    # "</style>" in a stylesheet cannot end the element early.
    assert inline_style_of('a::after{content:"</style>"}').css == 'a::after{content:"<\\/style>"}'
    style = inline_style_of("a{color:red}")
    assert style.csp_source == sha256_source("a{color:red}")
    assert style.csp_source != inline_style_of("a{color:blue}").csp_source


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/connecting?ssid=x", 200),
        ("GET", "/networks", 200),
        ("GET", "/status", 200),
        ("POST", "/rescan", 200),
        ("GET", "/static/portal.css", 200),
        ("GET", "/static/portal.js", 200),
        ("GET", "/theme.css", 200),
        ("GET", "/logo", 200),
        ("GET", "/favicon.ico", 204),
        ("GET", "/generate_204", 200),
        ("GET", "/hotspot-detect.html", 302),
        ("GET", "/missing", 404),
        ("GET", "/static/missing.css", 404),
        ("GET", "/connect", 405),
    ],
)
async def test_every_response_carries_the_protective_headers(
    portal: Client, method: str, path: str, status: int
) -> None:
    response = await portal.request(method, path, allow_redirects=False)
    assert response.status == status
    assert_protective_headers(response)


async def test_no_cors_even_when_asked(portal: Client) -> None:
    preflight = await portal.options(
        "/connect",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 405
    assert not [name for name in preflight.headers if name.lower().startswith("access-control-")]
    response = await portal.get("/networks", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/static/portal.css", "text/css"),
        ("/static/portal.js", "javascript"),
        ("/theme.css", "text/css"),
        ("/logo", "image/svg+xml"),
    ],
)
async def test_assets_have_their_content_types(portal: Client, path: str, kind: str) -> None:
    response = await portal.get(path)
    assert kind in response.headers["Content-Type"]


@pytest.mark.parametrize(
    "path", ["/static/../app/config.py", "/static/%2e%2e/pyproject.toml", "/static/.hidden"]
)
async def test_static_files_stay_inside_their_directory(portal: Client, path: str) -> None:
    response = await portal.get(path)
    assert response.status == 404


def test_resolve_file_never_leaves_its_roots(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "a.css").write_text("a")
    (root / ".env").write_text("secret")
    (tmp_path / "outside.txt").write_text("no")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert resolve_file([root], "css/a.css") == (root / "css" / "a.css").resolve()
    for relative in ("../outside.txt", "css/../../outside.txt", "/etc/passwd", ".env", "link.txt"):
        assert resolve_file([root], relative) is None, relative
    assert resolve_file([root], "css") is None
    assert resolve_file([root], "") is None


async def form_token(portal: Client) -> str:
    """The CSRF token of the page served to this client."""
    html = await (await portal.get("/")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("token", [None, "", "forged-token", "x" * 22])
async def test_form_post_without_a_valid_token_is_403_with_a_friendly_page(
    portal: Client, controller: RecordingController, token: str | None
) -> None:
    data = {"ssid": "Library"}
    if token is not None:
        data["csrf_token"] = token
    response = await portal.post("/connect", data=data)
    assert response.status == 403
    assert response.content_type == "text/html"
    html = await response.text()
    assert "This page has expired" in html
    assert 'href="/"' in html
    assert controller.submitted == []


async def test_form_rescan_without_a_token_is_403(
    portal: Client, controller: RecordingController
) -> None:
    response = await portal.post("/rescan", data={"x": "1"})
    assert response.status == 403
    assert controller.rescans == 0


async def test_multipart_form_needs_the_token_too(
    portal: Client, controller: RecordingController
) -> None:
    form = FormData()
    form.add_field("ssid", "Library")
    form.add_field("dummy", b"x", filename="x.bin")
    response = await portal.post("/connect", data=form)
    assert response.status == 403
    assert controller.submitted == []


async def test_form_post_with_the_pages_token_is_accepted(
    portal: Client, controller: RecordingController
) -> None:
    token = await form_token(portal)
    response = await portal.post(
        "/connect", data={"csrf_token": token, "ssid": "Library"}, allow_redirects=False
    )
    assert response.status == 303
    assert len(controller.submitted) == 1


def test_csrf_token_is_bound_to_the_client_and_the_portal() -> None:
    tokens = CsrfTokens(b"k" * 32)
    token = tokens.token("192.168.42.10")
    assert tokens.valid("192.168.42.10", token)
    assert not tokens.valid("192.168.42.11", token)
    assert not tokens.valid("192.168.42.10", None)
    assert not CsrfTokens(b"j" * 32).valid("192.168.42.10", token)
    # A fresh portal has its own secret.
    assert CsrfTokens().token("a") != CsrfTokens().token("a")


async def test_declared_body_over_the_cap_is_413(
    portal: Client, controller: RecordingController
) -> None:
    body = {"ssid": "Library", "padding": "x" * MAX_BODY}
    response = await portal.post("/connect", json=body)
    assert response.status == 413
    assert (await response.json())["error"] == "The request was too large."
    assert controller.submitted == []


async def test_chunked_body_over_the_cap_is_413(
    portal: Client, controller: RecordingController
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"ssid": "Library", "padding": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'"}'

    response = await portal.post(
        "/connect", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert controller.submitted == []


async def test_form_body_over_the_cap_is_a_413_page(portal: Client) -> None:
    response = await portal.post("/connect", data={"ssid": "x" * (MAX_BODY + 1)})
    assert response.status == 413
    assert response.content_type == "text/html"
    assert "too large" in await response.text()


async def test_body_just_under_the_cap_is_read(
    portal: Client, controller: RecordingController
) -> None:
    body = b'{"ssid": "Library", "pad": "' + b"x" * (MAX_BODY - 40) + b'"}'
    assert len(body) <= MAX_BODY
    response = await portal.post(
        "/connect", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200


async def test_connect_is_rate_limited_per_client(
    portal: Client, controller: RecordingController
) -> None:
    assert portal.app is not None
    limit = portal.app[PORTAL].connect_limit.limit
    for _ in range(limit):
        response = await portal.post("/connect", json={"ssid": "Library"})
        assert response.status == 200
    response = await portal.post("/connect", json={"ssid": "Library"})
    assert response.status == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert "Too many attempts" in (await response.json())["error"]
    assert len(controller.submitted) == limit
    # Other routes are not limited.
    assert (await portal.get("/networks")).status == 200


async def test_rate_limited_form_gets_a_page(portal: Client) -> None:
    token = await form_token(portal)
    statuses = []
    for _ in range(6):
        response = await portal.post(
            "/connect", data={"csrf_token": token, "ssid": "Library"}, allow_redirects=False
        )
        statuses.append(response.status)
    assert statuses == [303] * 5 + [429]
    assert "Retry-After" in response.headers
    assert "Please wait" in await response.text()


def test_rate_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    assert limiter.hit("a") is None
    now[0] += 10
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 50
    # Another client has its own budget.
    assert limiter.hit("b") is None
    now[0] += 50
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 10


def test_rate_limiter_reports_each_run_of_refusals_once() -> None:
    now = [1000.0]
    limiter = RateLimiter(limit=1, window=60, clock=lambda: now[0])
    assert limiter.hit("a") is None
    refusals = [limiter.hit("a") is not None and limiter.first_refusal("a") for _ in range(100)]
    assert refusals == [True] + [False] * 99
    # Allowed again once the window has passed; the next flood is reported again.
    now[0] += 60
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None and limiter.first_refusal("a")


async def test_a_flood_of_connects_is_one_warning(
    portal: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A phone sending connect after connect writes one warning to the journal, not one each."""
    caplog.set_level(logging.DEBUG, logger="app.portal.views")
    for _ in range(50):
        await portal.post("/connect", json={"ssid": "Library"})
    warnings = [r for r in caplog.records if "Too many connect requests" in r.getMessage()]
    assert [r.levelno for r in warnings].count(logging.WARNING) == 1
    assert len(warnings) == 45


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(limit=1, window=60, max_keys=3)
    for client in ("a", "b", "c", "d"):
        assert limiter.hit(client) is None
    # "a" was forgotten to make room, so it may go again.
    assert limiter.hit("a") is None
    assert limiter.hit("d") is not None


async def test_passphrase_never_reaches_the_log(
    portal: Client, controller: RecordingController, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = ["correct horse battery", "sh0rt", "enterprise-secret"]
    await portal.post("/connect", json={"ssid": "Cafe", "passphrase": secrets[0]})
    await portal.post("/connect", json={"ssid": "Cafe", "passphrase": secrets[1]})
    token = await form_token(portal)
    await portal.post(
        "/connect",
        data={"csrf_token": token, "ssid": "Campus", "passphrase": secrets[2]},
    )
    assert "Cafe" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
