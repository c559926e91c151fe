"""Languages: Accept-Language with q-values, the default language, and the gettext catalogs."""

from __future__ import annotations

import gettext
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from app.flow.state import AttemptOutcome, FlowState, FlowStatus
from app.nm.models import FailureKind
from app.portal.app import create_app
from app.portal.i18n import DOMAIN, LOCALE_DIR, load_catalogs, parse_accept_language
from app.portal.pages import LIST_LIMIT
from app.wifi import SecurityKind
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
    network,
)

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ("de", "fr", "es", "pt")
# Each language's heading, and how it says that Cafe's password was refused.
HEADINGS = {
    "en": ("Choose a WiFi network", "The password for 'Cafe' was not accepted."),
    "de": ("WLAN auswählen", "Das Passwort für „Cafe“ wurde nicht akzeptiert."),
    "fr": (
        "Choisissez un réseau Wi-Fi",
        "Le mot de passe de «\u00a0Cafe\u00a0» n\u2019a pas été accepté.",
    ),
    "es": ("Elige una red WiFi", "No se aceptó la contraseña de «Cafe»."),
    "pt": ("Escolha uma rede Wi-Fi", "A senha de “Cafe” não foi aceita."),
}


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        (None, []),
        ("", []),
        ("de", ["de"]),
        ("de-DE,de;q=0.9,en;q=0.8", ["de-de", "de", "en"]),
        ("en;q=0.5, fr;q=0.9, es", ["es", "fr", "en"]),
        ("fr;q=0, de", ["de"]),
        ("pt_BR;q=0.7, *;q=0.1", ["pt-br", "*"]),
        ("de;q=oops, fr", ["fr"]),
        ("es;q=0.8, pt;q=0.8", ["es", "pt"]),
        (" , ;q=1", []),
    ],
)
def test_accept_language_is_ordered_by_quality(header: str | None, tags: list[str]) -> None:
    assert parse_accept_language(header) == tags


@pytest.mark.parametrize(
    ("header", "default", "chosen"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "en", "de"),
        ("en;q=0.5, fr;q=0.9", "en", "fr"),
        ("pt-BR", "en", "pt"),
        ("zh-CN, ja;q=0.8", "en", "en"),
        ("zh-CN, ja;q=0.8", "es", "es"),
        ("zh, *;q=0.1", "fr", "fr"),
        ("en;q=0, de;q=0.1", "fr", "de"),
        ("it, es;q=0.2, en;q=0.1", "de", "es"),
        (None, "pt", "pt"),
        (None, "pt-BR", "pt"),
        (None, "xx", "en"),
    ],
)
def test_negotiation_falls_back_to_the_default(
    header: str | None, default: str, chosen: str
) -> None:
    catalogs = load_catalogs([LOCALE_DIR], default)
    assert catalogs.negotiate(header) == chosen


def test_bundled_languages() -> None:
    assert set(load_catalogs([LOCALE_DIR], "en").translations) == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
async def test_page_in_each_language(
    portal: Client, controller: RecordingController, language: str
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", FailureKind.WRONG_PASSWORD)
    )
    response = await portal.get("/", headers={"Accept-Language": f"{language};q=0.9, xx"})
    html = unescape(await response.text())
    heading, reason = HEADINGS[language]
    assert f'<html lang="{language}">' in html
    assert response.headers["Content-Language"] == language
    assert heading in html
    assert reason in html


async def test_status_reasons_follow_the_language(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", FailureKind.WRONG_PASSWORD)
    )
    response = await portal.get("/status", headers={"Accept-Language": "es"})
    assert (await response.json())["last_attempt"]["reasons"] == [HEADINGS["es"][1]]


async def test_configured_default_language_without_a_header(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    app = create_app(make_config(language="de"), controller)
    client = await aiohttp_client(app, headers={"Host": GATEWAY})
    html = await (await client.get("/")).text()
    assert HEADINGS["de"][0] in html
    html = await (await client.get("/", headers={"Accept-Language": "en-GB"})).text()
    assert HEADINGS["en"][0] in html


async def test_validation_errors_are_in_the_page_language(portal: Client) -> None:
    response = await portal.post(
        "/connect",
        json={"ssid": "Cafe", "passphrase": "short"},
        headers={"Accept-Language": "de"},
    )
    assert response.status == 400
    body = await response.json()
    assert body["field"] == "passphrase"
    assert body["error"] == "Prüfen Sie das Passwort: 8 bis 63 Zeichen oder 64 Hexadezimalziffern."


async def test_error_pages_are_translated(portal: Client) -> None:
    response = await portal.get("/nope", headers={"Accept-Language": "fr"})
    assert response.status == 404
    assert "Page introuvable" in await response.text()


async def test_plural_forms(portal: Client, controller: RecordingController) -> None:
    controller.available = [
        network(f"N{i}".encode(), SecurityKind.OPEN, 100 - i) for i in range(LIST_LIMIT + 1)
    ]
    html = await (await portal.get("/", headers={"Accept-Language": "de"})).text()
    assert "1 weiteres Netzwerk anzeigen" in html
    controller.available.append(network(b"last", SecurityKind.OPEN, 1))
    html = await (await portal.get("/", headers={"Accept-Language": "de"})).text()
    assert "2 weitere Netzwerke anzeigen" in html


async def test_a_translator_adds_a_language_without_code_changes(
    aiohttp_client: ClientFactory, controller: RecordingController, tmp_path: Path
) -> None:
    babel_mofile = pytest.importorskip("babel.messages.mofile", reason="Babel compiles catalogs")
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="it", domain=DOMAIN)
    catalog.add("Choose a WiFi network", "Scegli una rete WiFi")
    (tmp_path / "templates").mkdir()
    target = tmp_path / "locale" / "it" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{DOMAIN}.mo").open("wb") as stream:
        babel_mofile.write_mo(stream, catalog)
    app = create_app(make_config(ui_directory=tmp_path), controller)
    client = await aiohttp_client(app, headers={"Host": GATEWAY})
    html = await (await client.get("/", headers={"Accept-Language": "it"})).text()
    assert '<html lang="it">' in html
    assert "Scegli una rete WiFi" in html
    # Untranslated messages fall back to the bundled English.
    assert "Other network…" in html
    html = await (await client.get("/", headers={"Accept-Language": "de"})).text()
    assert HEADINGS["de"][0] in html


# The catalogs themselves: complete, compiled, and in step with the source strings.

PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def _po_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def test_every_bundled_language_has_a_catalog() -> None:
    assert sorted(path.parent.parent.name for path in _po_files()) == sorted(LANGUAGES)


def test_template_lists_every_string_in_the_sources() -> None:
    pofile = pytest.importorskip("babel.messages.pofile", reason="Babel reads the catalogs")
    extract = pytest.importorskip("babel.messages.extract", reason="Babel extracts strings")
    frontend = pytest.importorskip("babel.messages.frontend", reason="Babel reads babel.cfg")
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = frontend.parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, _ in extract.extract_from_dir(REPO, method_map, options_map):
        found.add(message if isinstance(message, str) else tuple(message))
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as stream:
        template = pofile.read_po(stream)
    listed = {
        message.id if isinstance(message.id, str) else tuple(message.id)
        for message in template
        if message.id
    }
    assert found == listed, "run the pybabel extract/update steps in app/portal/locale/README.md"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_compiled(language: str) -> None:
    pofile = pytest.importorskip("babel.messages.pofile", reason="Babel reads the catalogs")
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as stream:
        template = pofile.read_po(stream)
    with po_path.open("rb") as stream:
        catalog = pofile.read_po(stream)
    with po_path.with_suffix(".mo").open("rb") as stream:
        compiled = gettext.GNUTranslations(stream)
    assert {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id} == {
        m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id
    }
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"{language}: untranslated {message.id!r}"
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(ids[-1])), (
                f"{language}: placeholders differ in {message.id!r}"
            )
        # The .mo shipped beside the .po says the same (pybabel compile after every edit).
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string
        else:
            assert compiled.ngettext(message.id[0], message.id[1], 1) == message.string[0]


def test_catalogs_load_from_a_copy_of_the_locale_directory(tmp_path: Path) -> None:
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    catalogs = load_catalogs([tmp_path / "locale"], "en")
    assert catalogs.get("de").gettext("Password") == "Passwort"
