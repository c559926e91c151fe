"""The QR code joining the hotspot: its WIFI: text, read back by a real decoder from every form."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import qr
from tests.qr_decode import (
    decode_matrix,
    decode_png,
    decode_svg,
    parse_wifi,
    terminal_matrix,
)

# (SSID, passphrase) pairs with every character the format gives a meaning, and then some.
HOSTILE = [
    ("WiFi Connect", "correct horse battery"),
    ('a;b,c:d\\e"f', 'p;a,s:s\\w"rd'),
    (";;", "\\\\\\\\;;;;"),
    ("ends with \\", "ends with \\"),
    ('"quoted"', '"12345678"'),
    ("WIFI:T:WPA;S:x;;", "P:nope;;  "),
    ("Café ☕ 0042", "printable ~`!@#$%^&*()_+-={}[]|'<>?/"),
    (" ", "        "),
]


@pytest.mark.parametrize(
    ("ssid", "passphrase", "text"),
    [
        ("Home", "secret-pw", "WIFI:T:WPA;S:Home;P:secret-pw;;"),
        ("Home", None, "WIFI:T:nopass;S:Home;;"),
        ("a;b", "c,d:e", "WIFI:T:WPA;S:a\\;b;P:c\\,d\\:e;;"),
        ('q"\\', None, 'WIFI:T:nopass;S:q\\"\\\\;;'),
    ],
)
def test_wifi_text_is_the_standard_form_escaped(
    ssid: str, passphrase: str | None, text: str
) -> None:
    assert qr.wifi_text(ssid, passphrase) == text


@pytest.mark.parametrize("character", ["\\", ";", ",", ":", '"'])
def test_each_special_character_is_backslash_escaped(character: str) -> None:
    assert qr.escape(f"x{character}y") == f"x\\{character}y"


@pytest.mark.parametrize(("ssid", "passphrase"), HOSTILE)
def test_the_code_decodes_to_the_ssid_and_passphrase(ssid: str, passphrase: str) -> None:
    fields = parse_wifi(decode_matrix(qr.modules(qr.wifi_text(ssid, passphrase))))
    assert fields == {"T": "WPA", "S": ssid, "P": passphrase}


@pytest.mark.parametrize("ssid", [ssid for ssid, _ in HOSTILE])
def test_an_open_hotspots_code_has_no_passphrase(ssid: str) -> None:
    fields = parse_wifi(decode_matrix(qr.modules(qr.wifi_text(ssid, None))))
    assert fields == {"T": "nopass", "S": ssid}


@pytest.mark.parametrize("ansi", [True, False])
@pytest.mark.parametrize(("ssid", "passphrase"), HOSTILE[:3])
def test_the_terminal_drawing_decodes_to_the_same_network(
    ssid: str, passphrase: str, ansi: bool
) -> None:
    drawing = qr.terminal_text(qr.wifi_text(ssid, passphrase), ansi=ansi)
    assert ("\x1b[" in drawing) is ansi
    fields = parse_wifi(decode_matrix(terminal_matrix(drawing.splitlines())))
    assert fields == {"T": "WPA", "S": ssid, "P": passphrase}


@pytest.mark.parametrize("ansi", [True, False])
def test_without_block_characters_the_drawing_is_ascii_and_decodes(ansi: bool) -> None:
    ssid, passphrase = HOSTILE[1]
    drawing = qr.terminal_text(qr.wifi_text(ssid, passphrase), ansi=ansi, blocks=False)
    assert drawing.isascii()
    fields = parse_wifi(decode_matrix(terminal_matrix(drawing.splitlines())))
    assert fields == {"T": "WPA", "S": ssid, "P": passphrase}


@pytest.mark.parametrize(
    ("encoding", "blocks"),
    [("utf-8", True), ("UTF8", True), ("ascii", False), ("latin-1", False), (None, False)],
)
def test_block_characters_only_where_the_encoding_has_them(
    encoding: str | None, blocks: bool
) -> None:
    assert qr.encodes_blocks(encoding) is blocks


def test_the_terminal_drawing_keeps_every_module_and_the_quiet_zone() -> None:
    matrix = qr.modules(qr.wifi_text("Home", "secret-pw"))
    drawn = terminal_matrix(qr.terminal_lines(matrix, ansi=True))
    # An odd number of rows: the last line's lower half is light, more quiet zone.
    assert len(matrix) % 2 == 1
    assert drawn[: len(matrix)] == matrix
    assert drawn[len(matrix) :] == [[False] * len(matrix[0])]
    # A version-1 code is 21 modules, plus 4 of quiet zone each side.
    assert len(matrix[0]) >= 21 + 2 * qr.QUIET_ZONE
    border = [row[: qr.QUIET_ZONE] + row[-qr.QUIET_ZONE :] for row in matrix]
    assert not any(any(row) for row in border + matrix[: qr.QUIET_ZONE] + matrix[-qr.QUIET_ZONE :])


@pytest.mark.parametrize(("ssid", "passphrase"), HOSTILE)
def test_png_and_svg_files_decode_to_the_network(ssid: str, passphrase: str) -> None:
    text = qr.wifi_text(ssid, passphrase)
    png = qr.file_bytes(text, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert parse_wifi(decode_png(png)) == {"T": "WPA", "S": ssid, "P": passphrase}
    svg = qr.file_bytes(text, "svg")
    assert parse_wifi(decode_svg(svg)) == {"T": "WPA", "S": ssid, "P": passphrase}


@pytest.mark.parametrize("name", ["join.svg", "JOIN.SVG", "join.png", "join.Png"])
def test_write_file_puts_the_code_in_place_whole_and_readable(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"the code of another hotspot")
    qr.write_file(path, qr.wifi_text("Kiosk", "printed-on-the-label"))
    data = path.read_bytes()
    decode = decode_png if name.lower().endswith(".png") else decode_svg
    assert parse_wifi(decode(data)) == {"T": "WPA", "S": "Kiosk", "P": "printed-on-the-label"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # Nothing of the temporary file is left beside it.
    assert os.listdir(tmp_path) == [name]


def test_write_file_refuses_another_kind_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"neither an \.svg nor a \.png file"):
        qr.write_file(tmp_path / "join.jpg", "WIFI:T:nopass;S:x;;")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    # A directory in the file's place: the rename fails after the bytes were written.
    path = tmp_path / "join.svg"
    path.mkdir()
    (path / "keep").write_text("kept")
    with pytest.raises(OSError):
        qr.write_file(path, "WIFI:T:nopass;S:x;;")
    assert sorted(os.listdir(tmp_path)) == ["join.svg"]
    assert (path / "keep").read_text() == "kept"


def _wifi_connect(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGV` from the checkout: its output, which must end with status 0."""
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=60,
        check=True,
    )


def test_the_qr_command_prints_the_code_and_writes_the_file(tmp_path: Path) -> None:
    ssid, passphrase = HOSTILE[1]
    env = {**os.environ, "PORTAL_SSID": ssid, "PORTAL_PASSPHRASE": passphrase}
    done = _wifi_connect(["qr", "--qr-file", str(tmp_path / "join.png")], env)
    heading, *drawing, written = done.stdout.splitlines()
    assert heading == f"Scan to join the hotspot '{ssid}' (WPA2, its passphrase in the code):"
    # Not a terminal: plain blocks, no colours.
    assert "\x1b" not in done.stdout
    assert passphrase not in done.stdout
    fields = parse_wifi(decode_matrix(terminal_matrix(drawing)))
    assert fields == {"T": "WPA", "S": ssid, "P": passphrase}
    assert written == f"Written to {tmp_path / 'join.png'}."
    assert parse_wifi(decode_png((tmp_path / "join.png").read_bytes())) == fields
    assert done.stderr == ""


def test_the_qr_command_in_an_ascii_locale_draws_with_hashes() -> None:
    env = {**os.environ, "PORTAL_SSID": "Lab", "PYTHONIOENCODING": "ascii"}
    env.pop("PORTAL_PASSPHRASE", None)
    done = _wifi_connect(["qr"], env)
    heading, *drawing = done.stdout.splitlines()
    assert heading == "Scan to join the hotspot 'Lab' (open):"
    assert done.stdout.isascii()
    assert parse_wifi(decode_matrix(terminal_matrix(drawing))) == {"T": "nopass", "S": "Lab"}


def test_the_qr_command_for_an_open_hotspot() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PORTAL_PASSPHRASE"}
    done = _wifi_connect(["-s", "Open: sesame", "qr"], env)
    heading, *drawing = done.stdout.splitlines()
    assert heading == "Scan to join the hotspot 'Open: sesame' (open):"
    fields = parse_wifi(decode_matrix(terminal_matrix(drawing)))
    assert fields == {"T": "nopass", "S": "Open: sesame"}
