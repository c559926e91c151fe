"""Fresh Debian roots for the package tests: minbase bookworm and trixie, cached under .cache.

Each root is debootstrap's minbase of its release, with systemd as on any device, plus what any
chroot needs to install packages quietly (a policy-rc.d that starts no service), with the
package's dependencies already in apt's download cache, so a test's `apt-get install
./wifi-connect_*.deb` resolves them exactly as on a device but reads them from disk. Tests never
change a cached root: each run mounts an overlay on it (tests/install/test_deb.py). Built under a
temporary name and renamed when complete, as the NetworkManager roots are.
`python -m tests.install.debroots` builds the missing ones (as root); scripts/test runs it in the
background.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.contract.nmroots import bootstrap, build_missing

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "deb-roots"
SUITES = ("bookworm", "trixie")
# Written last into a finished root; its presence is what "complete" means.
COMPLETE = ".deb-root-complete"
# What the test's chroot commands see: no prompts, no locale warnings, a sane PATH.
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C.UTF-8",
    "HOME": "/root",
}
# A device runs systemd, and `systemd-analyze verify` needs its units; trixie's NetworkManager
# does not pull it in.
INCLUDE = ("systemd",)
# How the tests install the package: its Depends alone must be enough to run it, so Recommends
# (which a device's plain `apt-get install` also brings) are left out; they also triple the time.
APT_INSTALL = ("apt-get", "install", "-y", "-q", "--no-install-recommends")
# invoke-rc.d asks this before starting a service; 101 means "not allowed", as in any chroot.
POLICY_RC_D = "#!/bin/sh\n# No service starts inside a test root.\nexit 101\n"
# dpkg syncs every file it unpacks; a throw-away root need not survive a power cut, and without
# this the install takes minutes instead of seconds (what Debian's container images do too).
UNSAFE_IO = "force-unsafe-io\n"


def root_of(suite: str) -> Path:
    """Where the cached root of a release lives."""
    return CACHE / suite


def is_complete(root: Path) -> bool:
    """True when a build of this root finished."""
    return (root / COMPLETE).is_file()


def build_package(output: Path) -> Path:
    """Run scripts/build-deb into `output`; the .deb's path."""
    done = subprocess.run(
        [str(REPO / "scripts" / "build-deb"), str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/build-deb failed ({done.returncode}):\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1]).resolve()


def chroot(root: Path, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command inside a root; its output is captured, a failure raises with it."""
    done = subprocess.run(
        ["chroot", str(root), *argv],
        env=CHROOT_ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"in {root.name}: {' '.join(argv)} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


class ProcMount:
    """`with ProcMount(root):` /proc mounted inside the root (maintainer scripts read it)."""

    def __init__(self, root: Path) -> None:
        self._target = root / "proc"

    def __enter__(self) -> None:
        subprocess.run(["mount", "-t", "proc", "proc", str(self._target)], check=True)

    def __exit__(self, *_: object) -> None:
        subprocess.run(["umount", "-l", str(self._target)], check=False)


def build(suite: str, mirror: str) -> float:
    """debootstrap the release, fill apt's cache with the package's dependencies; the seconds."""
    root = root_of(suite)
    started = time.monotonic()
    partial = bootstrap(CACHE, suite, INCLUDE, mirror)
    policy = partial / "usr" / "sbin" / "policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    (partial / "etc" / "dpkg" / "dpkg.cfg.d" / "unsafe-io").write_text(UNSAFE_IO)
    # The package of this checkout tells apt what to download; it is not installed.
    with tempfile.TemporaryDirectory(dir=partial / "tmp") as scratch:
        deb = build_package(Path(scratch))
        with ProcMount(partial):
            chroot(partial, *APT_INSTALL, "--download-only", f"/{deb.relative_to(partial)}")
    (partial / COMPLETE).write_text(f"{suite} minbase, dependencies of {deb.name} downloaded\n")
    partial.rename(root)
    return time.monotonic() - started


def main() -> int:
    """Build every missing root, side by side; print what each took."""
    missing = [suite for suite in SUITES if not is_complete(root_of(suite))]
    return build_missing("package test root", missing, build)


if __name__ == "__main__":
    sys.exit(main())
