"""Where the page comes from: the bundled templates/static, or an operator's UI_DIRECTORY."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.config import bundled_static_dir, bundled_templates_dir
from app.errors import ConfigError
from app.portal.i18n import LOCALE_DIR


class UiMode(enum.Enum):
    """How the page is made."""

    # Jinja templates rendered by the portal (the bundled UI, or an override of it).
    TEMPLATES = "templates"
    # A prebuilt single-page UI (as wifi-connect's are): index.html and its files, served as is.
    STATIC = "static"


@dataclass(frozen=True)
class UiLayout:
    """The directories the portal serves from, earlier ones winning."""

    mode: UiMode
    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]
    locale_dirs: tuple[Path, ...]
    # STATIC mode: the directory whose index.html is served at / and whose files are served below.
    site_dir: Path | None = None


def ui_layout(ui_directory: Path | None) -> UiLayout:
    """Decide how to serve the page from the configured UI directory (None: the bundled one)."""
    templates, static = bundled_templates_dir(), bundled_static_dir()
    if ui_directory is None:
        return UiLayout(UiMode.TEMPLATES, (templates,), (static,), (LOCALE_DIR,))
    if (ui_directory / "templates").is_dir():
        # An override of the bundled UI: any file it lacks comes from the bundled one.
        return UiLayout(
            UiMode.TEMPLATES,
            (ui_directory / "templates", templates),
            (ui_directory / "static", static),
            (ui_directory / "locale", LOCALE_DIR),
        )
    if (ui_directory / "index.html").is_file():
        # The bundled templates still render the portal's own error pages.
        return UiLayout(UiMode.STATIC, (templates,), (), (LOCALE_DIR,), site_dir=ui_directory)
    raise ConfigError(
        f"UI_DIRECTORY {ui_directory} holds neither a templates/ directory nor an index.html"
    )


def resolve_file(roots: Sequence[Path], relative: str) -> Path | None:
    """The regular file at `relative` under the first root that has it, never outside a root."""
    parts = PurePosixPath(relative).parts
    # Hidden files (.git, .env) are never served, and ".." can never climb out.
    if not parts or any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    for root in roots:
        base = root.resolve()
        candidate = base.joinpath(*parts).resolve()
        if candidate.is_relative_to(base) and candidate.is_file():
            return candidate
    return None
