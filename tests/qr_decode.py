"""Reading the hotspot's QR code back, as a phone's camera would, with a real decoder (zxing-cpp).

Every step here is independent of app.qr: the WIFI: text is parsed by its own rules, a terminal
drawing is read back character by character, a PNG through Pillow, an SVG by its path.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

import zxingcpp
from PIL import Image

# Pixels a module gets in the image handed to the decoder.
_PIXELS = 4
_HALVES = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def decode_matrix(matrix: Sequence[Sequence[bool]]) -> str:
    """The text of a QR code given as modules (dark True, quiet zone included)."""
    width, height = len(matrix[0]) * _PIXELS, len(matrix) * _PIXELS
    pixels = bytearray()
    for row in matrix:
        line = b"".join(b"\x00" * _PIXELS if dark else b"\xff" * _PIXELS for dark in row)
        pixels += line * _PIXELS
    return _only_text(zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (height, width))))


def decode_png(data: bytes) -> str:
    """The text of a QR code in a PNG file."""
    return _only_text(zxingcpp.read_barcodes(Image.open(io.BytesIO(data)).convert("L")))


def decode_svg(data: bytes) -> str:
    """The text of a QR code in an SVG file of horizontal module runs (segno's path)."""
    root = ET.fromstring(data)
    (path,) = root.iter("{http://www.w3.org/2000/svg}path")
    assert path.get("transform", "") in ("", "scale(10)")
    scale = 10 if path.get("transform") else 1
    size = int(float(root.get("width", "0"))) // scale
    matrix = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, first, second in re.findall(
        r"([MmHhVv])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path.get("d", "")
    ):
        if command in "Mm":
            dx, dy = float(first), float(second)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            for column in range(int(x), int(x + float(first))):
                matrix[int(y)][column] = True
            x += float(first)
        else:
            raise AssertionError(f"unexpected path command {command}")
    return decode_matrix(matrix)


def terminal_matrix(lines: Iterable[str]) -> list[list[bool]]:
    """The modules a terminal drawing shows: half blocks two rows a line, or `##` one row a
    line; colours dropped."""
    plain = [_ANSI.sub("", line) for line in lines]
    matrix: list[list[bool]] = []
    if any("#" in line for line in plain):
        for line in plain:
            pairs = [line[column : column + 2] for column in range(0, len(line), 2)]
            assert set(pairs) <= {"##", "  "}, line
            matrix.append([pair == "##" for pair in pairs])
        return matrix
    for line in plain:
        halves = [_HALVES[char] for char in line]
        matrix.append([upper for upper, _ in halves])
        matrix.append([lower for _, lower in halves])
    return matrix


def parse_wifi(text: str) -> dict[str, str]:
    """The fields of a WIFI: text, each value unescaped; raises on anything malformed."""
    assert text.startswith("WIFI:") and text.endswith(";;"), text
    fields: dict[str, str] = {}
    rest = text.removeprefix("WIFI:")
    while rest != ";":
        key, colon, rest = rest.partition(":")
        assert colon and key in ("T", "S", "P", "H") and key not in fields, text
        value = []
        index = 0
        while rest[index] != ";":
            if rest[index] == "\\":
                index += 1
            value.append(rest[index])
            index += 1
        fields[key] = "".join(value)
        rest = rest[index + 1 :]
    return fields


def _only_text(barcodes: Sequence[zxingcpp.Barcode]) -> str:
    """The one QR code's text among what the decoder found."""
    assert len(barcodes) == 1, barcodes
    (barcode,) = barcodes
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return str(barcode.text)
