"""The page's stylesheet inside the page, allowed by its hash in the Content-Security-Policy.

A stylesheet in its own file blocks the first paint until it has come, one more round trip
after the HTML: 0.5 s on a phone's slow hotspot link (bench figure 7). Inlined, the page paints
as soon as its HTML is in; the CSP names the exact text by its SHA-256, so no other inline style
is allowed.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from app.errors import ConfigError
from app.portal.ui import UiLayout, resolve_file

# The bundled page's stylesheet, or an override's (UI_DIRECTORY/static/portal.css).
STYLESHEET = "portal.css"


@dataclass(frozen=True)
class PageStyle:
    """The text between <style> and </style>, exactly as a browser hashes it."""

    css: str

    @property
    def csp_source(self) -> str:
        """The CSP source expression that allows this text, and only it."""
        digest = hashlib.sha256(self.css.encode("utf-8")).digest()
        return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_style(css: str) -> PageStyle:
    """`css` as it can stand inside a <style> element and be hashed as the browser will."""
    # The HTML parser turns CR LF and CR into LF before anything sees the text.
    text = css.replace("\r\n", "\n").replace("\r", "\n")
    # "</style" would end the element early; to CSS, "\/" is "/" (in a string) or nothing that
    # could stand there otherwise, so the rules stay the same.
    return PageStyle(text.replace("</", "<\\/"))


def page_style(layout: UiLayout, theme: str) -> PageStyle:
    """The UI's stylesheet, then the brand colour's rules (`theme`), as the page inlines them."""
    path = resolve_file(layout.static_dirs, STYLESHEET)
    css = ""
    if path is not None:
        try:
            css = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"the page's stylesheet {path} is not UTF-8 text: {error}") from None
    return inline_style(css + theme)
