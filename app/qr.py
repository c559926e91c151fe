"""The QR code that joins the hotspot: its WIFI: text, its modules, a terminal's and a file's form.

The text is the de facto standard phones' cameras read (ZXing's "WIFI:" barcode contents):
`WIFI:T:WPA;S:<ssid>;P:<passphrase>;;`, or `T:nopass` without the passphrase for an open
hotspot, with `\\ ; , : "` backslash-escaped in the SSID and the passphrase.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import segno

from app.config import QR_FILE_EXTENSIONS

# The characters the WIFI: format gives a meaning, so a name or passphrase holding them escapes
# them; the backslash first, so the escapes added are not escaped again.
_SPECIAL = ("\\", ";", ",", ":", '"')
# The light margin around the code that scanners need to find it, in modules (ISO 18004: 4).
QUIET_ZONE = 4
# A file's pixels (PNG) or units (SVG) per module: a typical hotspot's code is about 400 px,
# 3.5 cm printed at 300 dpi, or a kiosk screen's worth.
FILE_SCALE = 10
# The terminal: each character is one module wide and two high, upper and lower half.
_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
# Dark modules on a light ground whatever the terminal's colours: black on white, then reset.
_ANSI_ON, _ANSI_OFF = "\x1b[30;47m", "\x1b[0m"

Matrix = Sequence[Sequence[bool]]


def escape(text: str) -> str:
    """A WIFI: field's value with the format's special characters backslash-escaped."""
    for character in _SPECIAL:
        text = text.replace(character, "\\" + character)
    return text


def wifi_text(ssid: str, passphrase: str | None) -> str:
    """What the code holds: the hotspot's network, WPA with its passphrase, or open."""
    if passphrase is None:
        return f"WIFI:T:nopass;S:{escape(ssid)};;"
    return f"WIFI:T:WPA;S:{escape(ssid)};P:{escape(passphrase)};;"


def make_code(text: str) -> segno.QRCode:
    """The QR code of `text`, UTF-8 (what phones read an SSID as), medium error correction."""
    # A full QR code, never a Micro QR: phones' cameras do not read those.
    return segno.make_qr(text, error="m", encoding="utf-8")


def modules(text: str) -> list[list[bool]]:
    """The code's modules, dark True, with its quiet zone: what the terminal and files show."""
    code = make_code(text)
    return [[bool(module) for module in row] for row in code.matrix_iter(border=QUIET_ZONE)]


def terminal_lines(matrix: Matrix, *, ansi: bool, blocks: bool = True) -> list[str]:
    """The matrix as half blocks, two rows a line; `ansi` paints it black on white.

    Without `blocks` (a terminal whose encoding has no block characters) a module is two
    characters, `##` dark, one row a line: twice the height, but plain ASCII.
    """
    if not blocks:
        rows = ["".join("##" if dark else "  " for dark in row) for row in matrix]
        return [f"{_ANSI_ON}{row}{_ANSI_OFF}" if ansi else row for row in rows]
    lines = []
    for top in range(0, len(matrix), 2):
        upper = matrix[top]
        # An odd last row is paired with a light one: the quiet zone goes on below it.
        lower = matrix[top + 1] if top + 1 < len(matrix) else [False] * len(upper)
        row = "".join(_BLOCKS[pair] for pair in zip(upper, lower, strict=True))
        lines.append(f"{_ANSI_ON}{row}{_ANSI_OFF}" if ansi else row)
    return lines


def terminal_text(text: str, *, ansi: bool, blocks: bool = True) -> str:
    """The code of `text` for a terminal (a serial console, SSH), one string of lines."""
    return "\n".join(terminal_lines(modules(text), ansi=ansi, blocks=blocks))


def encodes_blocks(encoding: str | None) -> bool:
    """True when text in `encoding` can hold the half blocks (UTF-8 can; ASCII or Latin-1 not)."""
    try:
        "".join(_BLOCKS.values()).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def file_kind(path: Path) -> str | None:
    """The kind a QR file is written as, from its extension (svg or png); None for another."""
    suffix = path.suffix.lower()
    return suffix.removeprefix(".") if suffix in QR_FILE_EXTENSIONS else None


def file_bytes(text: str, kind: str) -> bytes:
    """The code of `text` as an SVG or PNG file's bytes."""
    out = io.BytesIO()
    make_code(text).save(out, kind=kind, scale=FILE_SCALE, border=QUIET_ZONE)
    return out.getvalue()


def write_file(path: Path, text: str) -> None:
    """Write the code of `text` to `path` (SVG or PNG, by its extension), all at once.

    A kiosk reading the file meanwhile sees the old code or the new one, never half of one:
    the bytes go to a temporary file beside it, which then takes its name.
    """
    kind = file_kind(path)
    if kind is None:
        raise ValueError(f"{path} is neither an .svg nor a .png file")
    _replace(path, file_bytes(text, kind))


def _replace(path: Path, data: bytes) -> None:
    """Put `data` at `path` atomically: a temporary file in the same directory, then rename."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # Shown on a screen or printed by another user's program: readable by all, as the
        # sticker is. It holds the hotspot's passphrase, which is what it is for.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
