"""Branding (name, logo, colour) and UI_DIRECTORY: templates/static overrides or a static UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import bundled_static_dir
from app.errors import ConfigError
from app.portal.app import create_app
from app.portal.pages import contrast, theme_css
from app.portal.ui import UiMode, ui_layout
from app.portal.views import SITE_CSP
from app.wifi import Credentials, SecurityKind
from tests.portal.helpers import (
    CONNECTING,
    GATEWAY,
    ClientFactory,
    RecordingController,
    inline_style,
    make_config,
)

# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5b0000000049454e44ae426082"
)


async def test_brand_name_titles_the_page_and_is_escaped(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    config = make_config(brand_name="Acme <Sensors> & Co")
    client = await aiohttp_client(create_app(config, controller), headers={"Host": GATEWAY})
    html = await (await client.get("/")).text()
    assert "<title>Acme &lt;Sensors&gt; &amp; Co</title>" in html
    assert '<span class="brand">Acme &lt;Sensors&gt; &amp; Co</span>' in html
    html = await (await client.get("/connecting?ssid=Cafe")).text()
    assert "Acme &lt;Sensors&gt; &amp; Co" in html


async def test_default_logo_is_bundled_svg(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    client = await aiohttp_client(create_app(make_config(), controller), headers={"Host": GATEWAY})
    response = await client.get("/logo")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert (await response.read()).startswith(b"<svg")


async def test_brand_logo_is_served_from_its_route(
    aiohttp_client: ClientFactory, controller: RecordingController, tmp_path: Path
) -> None:
    logo = tmp_path / "acme.png"
    logo.write_bytes(PNG)
    client = await aiohttp_client(
        create_app(make_config(brand_logo=logo), controller), headers={"Host": GATEWAY}
    )
    response = await client.get("/logo")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert await response.read() == PNG
    assert '<img class="logo" src="/logo" alt="">' in await (await client.get("/")).text()


async def test_brand_color_sets_the_accent(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    client = await aiohttp_client(
        create_app(make_config(brand_color="#7a1fa2"), controller), headers={"Host": GATEWAY}
    )
    css = await (await client.get("/theme.css")).text()
    assert "--accent:#7a1fa2" in css
    assert "--on-accent:#ffffff" in css
    assert "--accent-text:#7a1fa2" in css
    # The page carries the same rules inline, after the stylesheet's.
    style = inline_style(await (await client.get("/")).text())
    assert style.endswith(css)
    assert style.startswith((bundled_static_dir() / "portal.css").read_text())


def _variable(css: str, name: str) -> str:
    match = re.search(rf"--{name}:(#[0-9a-f]{{6}})", css)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    "color",
    ["#ffcc00", "#e0f0ff", "#00ff00", "#0b5cad", "#000000", "#777777", "#8a8a8a", "#ff0000"],
)
def test_any_brand_color_keeps_text_readable(color: str) -> None:
    css = theme_css(color)
    accent, on_accent = _variable(css, "accent"), _variable(css, "on-accent")
    assert accent == color
    # Button text on the accent, and accent-coloured text on white, both meet WCAG AA: black or
    # white always reaches 4.5:1 on any colour, so picking the better one is enough.
    assert contrast(accent, on_accent) >= 4.5
    assert contrast(_variable(css, "accent-text"), "#ffffff") >= 4.5


def test_light_accent_gets_dark_button_text() -> None:
    css = theme_css("#ffcc00")
    assert _variable(css, "on-accent") == "#000000"
    assert _variable(css, "accent-text") != "#ffcc00"


async def test_ui_directory_templates_override_the_bundled_ones(
    aiohttp_client: ClientFactory, controller: RecordingController, tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "index.html").write_text(
        '{% extends "base.html" %}{% block main %}<p id="custom">Custom {{ networks|length }}'
        "</p>{% endblock %}"
    )
    (tmp_path / "static" / "portal.css").write_text("body{background:#123456}")
    client = await aiohttp_client(
        create_app(make_config(ui_directory=tmp_path), controller), headers={"Host": GATEWAY}
    )
    html = await (await client.get("/")).text()
    assert '<p id="custom">Custom 10</p>' in html
    # What the override lacks comes from the bundled UI.
    assert '<span class="brand">WiFi Connect</span>' in html
    assert await (await client.get("/static/portal.css")).text() == "body{background:#123456}"
    # The override's stylesheet is the one the page inlines.
    assert inline_style(html).startswith("body{background:#123456}:root{--accent:")
    assert (await client.get("/static/portal.js")).status == 200
    assert (await client.get("/connecting")).status == 200
    # The API does not change.
    assert (await (await client.get("/networks")).json())[0]["ssid"] == "Cafe"


STATIC_INDEX = """<!doctype html><html><head><title>My UI</title>
<script>window.booted = true</script><script src="/static/js/main.js"></script>
</head><body><div id="root"></div></body></html>"""


async def test_ui_directory_with_a_static_index_is_served_at_root(
    aiohttp_client: ClientFactory, controller: RecordingController, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text(STATIC_INDEX)
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "main.js").write_text("fetch('/networks')")
    client = await aiohttp_client(
        create_app(make_config(ui_directory=tmp_path), controller), headers={"Host": GATEWAY}
    )
    response = await client.get("/")
    assert response.status == 200
    assert await response.text() == STATIC_INDEX
    assert response.headers["Content-Type"].startswith("text/html")
    # A prebuilt UI's inline loader may run, but nothing may come from another origin.
    assert response.headers["Content-Security-Policy"] == SITE_CSP
    assert "default-src 'self'" in SITE_CSP
    assert "frame-ancestors 'none'" in SITE_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    script = await client.get("/static/js/main.js")
    assert await script.text() == "fetch('/networks')"
    assert (await client.get("/index.html")).status == 200
    assert (await client.get("/missing.js")).status == 404
    # A form posted from such a UI lands on the bundled "connecting" page.
    assert (await client.get("/connecting")).status == 200

    # wifi-connect's API, unchanged.
    networks = await (await client.get("/networks")).json()
    assert networks[0] == {
        "ssid": "Cafe",
        "security": "wpa",
        "strength": 82,
        "frequency": 2437,
        "auth": "wpa-psk",
    }
    answer = await client.post(
        "/connect", json={"ssid": "Cafe", "identity": "", "passphrase": "password1"}
    )
    assert (answer.status, await answer.json()) == (200, CONNECTING)
    assert controller.submitted == [
        Credentials(ssid=b"Cafe", security=SecurityKind.WPA_PSK, passphrase="password1")
    ]
    assert (await client.get("/status")).status == 200
    assert (await client.post("/rescan")).status == 200
    # The API keeps the strict policy; probes are still redirected.
    assert "unsafe" not in (await client.get("/networks")).headers["Content-Security-Policy"]
    probe = await client.get(
        "/hotspot-detect.html", headers={"Host": "captive.apple.com"}, allow_redirects=False
    )
    assert probe.status == 302


def test_ui_directory_with_neither_templates_nor_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"neither a templates/ directory nor an index\.html"):
        ui_layout(tmp_path)


def test_layouts() -> None:
    assert ui_layout(None).mode is UiMode.TEMPLATES
