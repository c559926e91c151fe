"""The contract tier's Debian roots: which mirror apt uses, which release the host runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.nmroots import RELEASES, host_suite, machine_mirror, mirror_from_sources

# Example host names only: the project never writes a real registry's name into itself.
DEB822 = """Types: deb
# URIs: http://commented.example/debian
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
"""


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([DEB822], "http://mirror.example/debian"),
        # The security archive alone is no Debian mirror to debootstrap from.
        ([DEB822.split("\n\n")[1]], None),
        (["# deb http://old.example/debian bookworm main\n"], None),
        (
            ["deb [arch=amd64] https://one.example/debian/ bookworm main\n"],
            "https://one.example/debian/",
        ),
        (["", "deb http://second.example/debian bookworm main\n"], "http://second.example/debian"),
        (["URIs: http://a.example/ubuntu http://b.example/debian\n"], "http://b.example/debian"),
    ],
    ids=[
        "deb822",
        "security-only",
        "commented",
        "one-line-with-options",
        "second-file",
        "second-uri",
    ],
)
def test_the_first_debian_archive_is_the_mirror(texts: list[str], expected: str | None) -> None:
    assert mirror_from_sources(texts) == expected


def test_the_mirror_is_read_from_the_apt_directory(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)

    assert machine_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_mirror_is_an_error_naming_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=str(tmp_path)):
        machine_mirror(tmp_path)


@pytest.mark.parametrize(
    ("text", "suite"),
    [
        ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n', "bookworm"),
        ('VERSION_CODENAME="trixie"\n', "trixie"),
        ("ID=alpine\n", ""),
    ],
)
def test_host_suite_is_the_version_codename(tmp_path: Path, text: str, suite: str) -> None:
    (tmp_path / "os-release").write_text(text)

    assert host_suite(tmp_path / "os-release") == suite


def test_the_matrix_is_three_releases_with_their_network_manager() -> None:
    assert [(r.suite, r.id) for r in RELEASES] == [
        ("bullseye", "nm1.30"),
        ("bookworm", "nm1.42"),
        ("trixie", "nm1.52"),
    ]
