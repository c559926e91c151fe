"""`python -m build` gives an sdist and a wheel with full metadata; the wheel runs from a venv.

The wheel is built from the sdist (what `python -m build` does), so the sdist is proved to hold
everything the build needs; a wheel built straight from the tree must hold the same files.
"""

from __future__ import annotations

import asyncio
import email
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import trove_classifiers
from packaging.metadata import Metadata

import app
from app.exitcodes import ExitStatus
from tests.install.source import REPO, copy_source
from tests.support import free_port

_PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@dataclass(frozen=True)
class Dists:
    """What one `python -m build` made, and what it printed."""

    wheel: Path
    sdist: Path
    output: str
    source: Path


def _build(source: Path, out: Path, *flags: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "build", *flags, "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist, and the wheel built from it."""
    tmp = tmp_path_factory.mktemp("dists")
    source = copy_source(tmp / "source")
    output = _build(source, tmp / "dist")
    (wheel,) = (tmp / "dist").glob("*.whl")
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    return Dists(wheel, sdist, output, source)


def _wheel_metadata(wheel: Path) -> tuple[str, str]:
    """METADATA and entry_points.txt of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        (info,) = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" in name}
        read = archive.read
        return read(f"{info}/METADATA").decode(), read(f"{info}/entry_points.txt").decode()


def test_the_build_warns_of_nothing(dists: Dists) -> None:
    """No deprecated license table, no data directory taken for a namespace package."""
    for warning in ("Deprecat", "BuildBackendWarning", "is absent from the `packages`"):
        assert warning not in dists.output, dists.output


def test_the_wheel_metadata_is_complete(dists: Dists) -> None:
    text, entry_points = _wheel_metadata(dists.wheel)
    # validate=True raises on any field that breaks the core metadata specification.
    metadata = Metadata.from_email(text, validate=True)
    assert metadata.name == "wifi-connect-py"
    assert str(metadata.version) == app.__version__
    assert metadata.summary == _PYPROJECT["description"]
    assert metadata.description == (REPO / "README.md").read_text()
    assert metadata.description_content_type == "text/markdown"
    assert str(metadata.license_expression) == "Apache-2.0"
    assert str(metadata.requires_python) == ">=3.11"
    extras = _PYPROJECT["optional-dependencies"]
    assert sorted(map(str, metadata.requires_dist or [])) == sorted(
        [
            *_PYPROJECT["dependencies"],
            *(f'{d}; extra == "{extra}"' for extra in extras for d in _extra(extra)),
        ]
    )
    assert sorted(metadata.provides_extra or []) == sorted(extras)
    classifiers = metadata.classifiers or []
    assert [c for c in classifiers if c not in trove_classifiers.classifiers] == []
    assert [c for c in classifiers if c in trove_classifiers.deprecated_classifiers] == []
    assert "Operating System :: POSIX :: Linux" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "the SPDX field says it"
    assert "wifi-connect = app.__main__:main" in entry_points
    # The sdist carries the same core metadata.
    with tarfile.open(dists.sdist) as archive:
        member = archive.extractfile(f"{dists.sdist.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert member is not None
        pkg_info = email.message_from_bytes(member.read())
    assert pkg_info["Version"] == app.__version__
    assert pkg_info["License-Expression"] == "Apache-2.0"


def _extra(name: str) -> list[str]:
    """An extra's requirements ([test], [bench]), with pip's spelling of markers."""
    return [re.sub(r"\s+", "", d) for d in _PYPROJECT["optional-dependencies"][name]]


def test_the_sdist_is_the_whole_source_release(dists: Dists) -> None:
    """Every file git tracks is in the sdist, but for CI's own entry and .gitignore."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    wanted = {
        name
        for name in tracked
        if name and not name.startswith(".ci/") and name != ".gitignore" and (REPO / name).exists()
    }
    prefix = dists.sdist.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(dists.sdist) as archive:
        shipped = {m.name.removeprefix(prefix) for m in archive.getmembers() if m.isfile()}
    assert wanted - shipped == set()
    assert not [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")]


def test_a_wheel_from_the_tree_holds_what_the_one_from_the_sdist_does(
    dists: Dists, tmp_path: Path
) -> None:
    _build(dists.source, tmp_path, "--wheel")
    (direct,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(direct) as tree, zipfile.ZipFile(dists.wheel) as from_sdist:
        assert sorted(tree.namelist()) == sorted(from_sdist.namelist())
        for name in tree.namelist():
            if not name.endswith("RECORD"):
                assert tree.read(name) == from_sdist.read(name), name


@asynccontextmanager
async def _simulated(command: Path, port: int, log: Path) -> AsyncIterator[str]:
    """`wifi-connect simulate` from the venv: the portal's URL once it serves; stopped after."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(command),
            "simulate",
            "--port",
            str(port),
            cwd=log.parent,
            env=_outside_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            while not (line := (await process.stdout.readline()).decode()).startswith("Portal "):
                assert line, await asyncio.to_thread(log.read_text)
        yield line.split("open ", 1)[1].strip()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.wait()
    # It tore down and ended by itself (a demo's stop is no failure), not killed by the signal.
    assert process.returncode in (ExitStatus.OK, ExitStatus.INTERRUPTED), await asyncio.to_thread(
        log.read_text
    )


def _outside_env() -> dict[str, str]:
    """This environment without anything that could import the checkout instead of the venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `pipx install` does: a venv of its own, the wheel and its dependencies in it."""
    venv = tmp_path_factory.mktemp("pipx-style") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", str(dists.wheel)],
        check=True,
        capture_output=True,
        timeout=600,
        env=_outside_env(),
    )
    return venv / "bin" / "wifi-connect"


def test_the_installed_command_tells_its_version_and_help(
    installed: Path, dists: Dists, tmp_path: Path
) -> None:
    def run(*argv: str) -> str:
        done = subprocess.run(
            [str(installed), *argv],
            cwd=tmp_path,
            env=_outside_env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    metadata = Metadata.from_email(_wheel_metadata(dists.wheel)[0], validate=False)
    assert run("--version").split() == ["wifi-connect", str(metadata.version)]
    assert run("--help").startswith("usage: wifi-connect")


async def test_the_installed_simulate_serves_the_portal_with_its_files(
    installed: Path, tmp_path: Path
) -> None:
    """The page from the installed templates, its stylesheet and a translation (.mo)."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus); simulate needs it")
    async with (
        _simulated(installed, free_port(), tmp_path / "simulate.log") as url,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(url, headers={"Accept-Language": "de"}) as page:
            assert page.status == 200
            html = await page.text()
        # The German catalog was installed: the page is in German.
        assert '<html lang="de">' in html
        async with session.get(url.rstrip("/") + "/static/portal.css") as css:
            assert css.status == 200
            served = await css.read()
    assert served == (REPO / "static" / "portal.css").read_bytes()
    # The page carries the installed stylesheet inline, too.
    assert f"<style>{served.decode()}" in html
