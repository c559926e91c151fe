"""Languages: gettext catalogs found on disk, one chosen per request from Accept-Language."""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

DOMAIN = "portal"
# The language the source strings are written in: it needs no catalog.
SOURCE_LANGUAGE = "en"
# The bundled catalogs; a translator adds LOCALE_DIR/<lang>/LC_MESSAGES/portal.mo.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def normalize_tag(tag: str) -> str:
    """A language tag in one comparable form: `pt-BR`, `pt_br` and `PT-br` all give `pt-br`."""
    return tag.strip().replace("_", "-").lower()


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first; q=0 means "not this one"."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        tag = normalize_tag(tag)
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            # Sorting on -quality then position keeps the header's order among equal weights.
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def available_languages(locale_dirs: Iterable[Path]) -> set[str]:
    """The languages that have a compiled catalog in any of `locale_dirs`, normalized."""
    found = {SOURCE_LANGUAGE}
    for directory in locale_dirs:
        for mo_file in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"):
            found.add(normalize_tag(mo_file.parent.parent.name))
    return found


def _load(locale_dirs: Iterable[Path], language: str) -> gettext.NullTranslations:
    """The catalog for `language`, earlier directories overriding later ones message by message."""
    chain: gettext.NullTranslations | None = None
    for directory in locale_dirs:
        for candidate in directory.iterdir() if directory.is_dir() else ():
            mo_file = candidate / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if normalize_tag(candidate.name) != language or not mo_file.is_file():
                continue
            with mo_file.open("rb") as stream:
                catalog = gettext.GNUTranslations(stream)
            if chain is None:
                chain = catalog
            else:
                chain.add_fallback(catalog)
    return chain if chain is not None else gettext.NullTranslations()


@dataclass(frozen=True)
class Catalogs:
    """Every language the portal speaks, and the one it falls back to."""

    translations: Mapping[str, gettext.NullTranslations]
    default: str

    def negotiate(self, accept_language: str | None) -> str:
        """The best language for a request: exact tag, then its primary subtag, else the default."""
        for tag in parse_accept_language(accept_language):
            if tag == "*":
                return self.default
            if tag in self.translations:
                return tag
            primary = tag.split("-", 1)[0]
            if primary in self.translations:
                return primary
        return self.default

    def get(self, language: str) -> gettext.NullTranslations:
        """The catalog of a language `negotiate` returned."""
        return self.translations[language]


def load_catalogs(locale_dirs: Iterable[Path], default: str) -> Catalogs:
    """Load every catalog once, at start-up; an unknown default falls back to English."""
    dirs = list(locale_dirs)
    languages = available_languages(dirs)
    translations = {language: _load(dirs, language) for language in sorted(languages)}
    default = normalize_tag(default)
    if default not in translations:
        primary = default.split("-", 1)[0]
        if primary in translations:
            default = primary
        else:
            _LOGGER.warning(
                "No catalog for the default language %r; using %r", default, SOURCE_LANGUAGE
            )
            default = SOURCE_LANGUAGE
    _LOGGER.debug("Portal languages: %s (default %s)", ", ".join(translations), default)
    return Catalogs(translations=translations, default=default)
