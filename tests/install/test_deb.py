"""The Debian package, installed by apt into fresh bookworm and trixie roots as on a device.

Each run mounts an overlay on a cached minbase root (tests/install/debroots.py), so it starts
from a clean system and leaves the cache as it was. In a chroot loopback is the host's, so the
portal that `wifi-connect simulate` serves inside is probed from here.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import app
from app import config
from tests.install.debroots import (
    APT_INSTALL,
    CHROOT_ENV,
    SUITES,
    ProcMount,
    build_package,
    chroot,
    is_complete,
    root_of,
)
from tests.support import free_port

pytestmark = pytest.mark.root

# apt's and dpkg's own records and caches change with every operation; they are not the
# package's files. /var/lib/dpkg/info (maintainer scripts, file lists) is compared.
_VOLATILE = (
    "proc",
    "dev",
    "tmp",
    "run",
    "var/log",
    "var/cache",
    "var/lib/apt",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status-old",
    "var/lib/dpkg/available",
    "var/lib/dpkg/lock",
    "var/lib/dpkg/lock-frontend",
    "var/lib/dpkg/triggers",
    "var/lib/dpkg/updates",
)
UNIT = "usr/lib/systemd/system/wifi-connect.service"
SETTINGS = "etc/default/wifi-connect"
ENABLED_LINK = "etc/systemd/system/multi-user.target.wants/wifi-connect.service"
PROFILE = "etc/NetworkManager/system-connections/Home.nmconnection"
PROFILE_TEXT = "[connection]\nid=Home\ntype=wifi\n[wifi]\nssid=Home\n"
# The README's step, as a script run in the root's /tmp, where the .deb is.
README_INSTALL = f"cd /tmp && {' '.join(APT_INSTALL)} ./wifi-connect_*.deb"


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package, built from this checkout by scripts/build-deb."""
    if os.geteuid() != 0:
        pytest.skip("the package tests need root: they chroot into Debian roots")
    return build_package(tmp_path_factory.mktemp("deb"))


@pytest.fixture(params=SUITES)
def fresh_root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A writable overlay on the cached root of one release, with /proc; gone afterwards."""
    cached = root_of(request.param)
    if not is_complete(cached):
        # A skip outside CI; under CI=true the suite's conftest turns it into a failure.
        pytest.skip(f"no cached {request.param} root: run `python -m tests.install.debroots`")
    # The writable layer lives in memory: a few hundred MB, gone at once when unmounted.
    layer, merged = tmp_path / "layer", tmp_path / "merged"
    layer.mkdir()
    merged.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2g", "layer", str(layer)], check=True)
    try:
        upper, work = layer / "upper", layer / "work"
        upper.mkdir()
        work.mkdir()
        options = f"lowerdir={cached},upperdir={upper},workdir={work}"
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)], check=True
        )
        try:
            with ProcMount(merged):
                yield merged
        finally:
            subprocess.run(["umount", str(merged)], check=True)
    finally:
        subprocess.run(["umount", str(layer)], check=True)


def files_of(root: Path) -> set[str]:
    """Every path in the root but apt's and dpkg's changing records, relative to it."""
    found: set[str] = set()
    for directory, subdirs, files in os.walk(root):
        relative = Path(directory).relative_to(root)
        kept = [name for name in subdirs if str(relative / name) not in _VOLATILE]
        subdirs[:] = kept
        found.update(str(relative / name) for name in kept)
        found.update(
            str(relative / name) for name in files if str(relative / name) not in _VOLATILE
        )
    return found


def timed(root: Path, *argv: str) -> float:
    """Run a command in the root; the seconds it took."""
    started = time.monotonic()
    chroot(root, *argv)
    return time.monotonic() - started


def read_announcement(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The portal URL `simulate` prints once it serves; fails if it ends or stays silent."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            found = re.search(rb"open (http://\S+)", seen)
            if found:
                return found.group(1).decode()
    raise AssertionError(f"simulate did not announce its portal; it printed {seen!r}")


def serve_and_probe(root: Path, log: Path) -> str:
    """Run `wifi-connect simulate` in the root, GET its portal, stop it; the page's HTML."""
    port = free_port()
    with log.open("wb") as errors:
        process = subprocess.Popen(
            ["chroot", str(root), "wifi-connect", "simulate", "--port", str(port)],
            env=CHROOT_ENV,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    try:
        url = read_announcement(process, timeout=60)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            page: str = response.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=30)
    # The demo's normal end: stopped by a signal after tearing everything down.
    assert status == 0, f"simulate exited {status}:\n{log.read_text(errors='replace')}"
    return page


def test_package_installs_serves_and_purges_clean(
    deb: Path, fresh_root: Path, tmp_path: Path
) -> None:
    root = fresh_root
    suite = root_of_suite(root)
    before = files_of(root)
    shutil.copy(deb, root / "tmp" / deb.name)
    installed_in = timed(root, "sh", "-c", README_INSTALL)
    version = chroot(root, "wifi-connect", "--version").stdout.strip()
    assert version == f"wifi-connect {app.__version__}"
    owned = chroot(root, "dpkg", "-L", "wifi-connect").stdout.split()
    check_settings_file(root)
    assert f"/{UNIT}" in owned and "/usr/bin/wifi-connect" in owned
    # A profile NetworkManager holds: no step of the package may touch it.
    profile = root / PROFILE
    profile.write_text(PROFILE_TEXT)
    profile.chmod(0o600)
    purged_in = timed(root, "apt-get", "purge", "-y", "-q", "wifi-connect")

    after_purge = files_of(root)
    # Directories the package shared with others (/usr/bin, /etc/default) stay; its files go.
    files = [path.lstrip("/") for path in owned]
    left = [path for path in files if path in after_purge and not (root / path).is_dir()]
    assert left == [], f"purge left files of the package: {left}"
    named = [path for path in after_purge - before if re.search(r"wifi.connect", path)]
    assert named == [], f"purge left these behind: {named}"
    assert not (root / "opt" / "wifi-connect").exists()
    assert not (root / SETTINGS).exists()
    # dpkg forgets a purged package (exit 1), or keeps it as not-installed; never config-files.
    status = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-f", "${db:Status-Status}", "-W", "wifi-connect"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode == 1 or status.stdout == "not-installed", status.stdout

    # Installed again where its dependencies already are: every check, then a purge that leaves
    # exactly the system it found, the bytecode the app and postinst wrote included.
    reinstalled_in = timed(root, "sh", "-c", README_INSTALL)
    assert "simulate" in chroot(root, "wifi-connect", "--help").stdout
    python_tag = chroot(root, "python3", "-c", "import sys; print(sys.implementation.cache_tag)")
    bytecode = list((root / "opt" / "wifi-connect" / "lib" / "app").glob("__pycache__/*.pyc"))
    assert any(python_tag.stdout.strip() in path.name for path in bytecode), (
        "postinst compiled nothing"
    )
    page = serve_and_probe(root, tmp_path / "simulate.log")
    assert "Home WiFi" in page, page[:2000]
    verify_unit(root)
    chroot(root, "systemctl", "enable", "wifi-connect")
    assert (root / ENABLED_LINK).is_symlink()
    timed(root, "apt-get", "purge", "-y", "-q", "wifi-connect")
    after_second = files_of(root)
    assert sorted(after_second - after_purge) == [], "install, run and purge left these"
    assert sorted(after_purge - after_second) == [], "install, run and purge removed these"
    assert profile.read_text() == PROFILE_TEXT
    assert profile.stat().st_mode & 0o777 == 0o600
    print(
        f"\n{suite}: {deb.name} {deb.stat().st_size} bytes; install {installed_in:.1f} s "
        f"(again {reinstalled_in:.1f} s), purge {purged_in:.1f} s"
    )


def check_settings_file(root: Path) -> None:
    """/etc/default/wifi-connect is a conffile naming every setting, each commented out."""
    conffiles = chroot(root, "dpkg-query", "-W", "-f", "${Conffiles}", "wifi-connect").stdout
    assert f"/{SETTINGS}" in conffiles.split()
    listed = re.findall(r"^#([A-Z_]+)=$", (root / SETTINGS).read_text(), re.MULTILINE)
    assert listed == [setting.env for setting in (*config.FLAG_SETTINGS, *config.ENV_SETTINGS)]
    assert not re.search(r"^[A-Z]", (root / SETTINGS).read_text(), re.MULTILINE)


def root_of_suite(merged: Path) -> str:
    """The release codename of a root (its os-release)."""
    text = (merged / "etc" / "os-release").read_text()
    found = re.search(r"^VERSION_CODENAME=(\w+)$", text, re.MULTILINE)
    return found.group(1) if found else "?"


def verify_unit(root: Path) -> None:
    """systemd-analyze verify accepts the installed unit, with its ExecStart in the root."""
    unit = (root / UNIT).read_text()
    assert "ExecStart=/usr/bin/wifi-connect run --watch" in unit
    assert "EnvironmentFile=-/etc/default/wifi-connect" in unit
    # verify exits 0 on a line it ignores (a bad Type=): any warning at all is a failure here.
    warnings = chroot(root, "systemd-analyze", "verify", f"/{UNIT}").stderr
    assert warnings == "", warnings
