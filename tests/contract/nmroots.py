"""The Debian releases whose NetworkManager the contract tier runs, and their cached roots.

The host's own release runs the host's NetworkManager; every other release runs from a root made
by debootstrap under .cache/nm-roots/<suite> (git-ignored), built once. A root is built under a
temporary name and renamed only when complete, so a killed build never passes for a finished one.
`python -m tests.contract.nmroots` builds the missing roots (as root); scripts/test runs it.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "nm-roots"
# Written last into a finished root; its presence is what "complete" means.
COMPLETE = ".nm-root-complete"
# libpam-systemd: without it bullseye leaves policykit-1 and network-manager unconfigured.
# network-manager-dev: NetworkManager's D-Bus introspection XML, for the version-table test.
PACKAGES = ("network-manager", "network-manager-dev", "dbus", "iproute2", "libpam-systemd")
APT_SOURCES = Path("/etc/apt")


@dataclass(frozen=True)
class Release:
    """One Debian release in the matrix and the NetworkManager version it ships."""

    suite: str
    nm_version: tuple[int, int]

    @property
    def id(self) -> str:
        """The test id, e.g. nm1.42."""
        return "nm{}.{}".format(*self.nm_version)

    @property
    def root(self) -> Path | None:
        """Where its NetworkManager lives: None for the host's own release, else a cached root."""
        return None if self.suite == host_suite() else CACHE / self.suite


RELEASES = (
    Release("bullseye", (1, 30)),
    Release("bookworm", (1, 42)),
    Release("trixie", (1, 52)),
)


def host_suite(os_release: Path = Path("/etc/os-release")) -> str:
    """The host's Debian codename (VERSION_CODENAME), or "" when it has none."""
    try:
        text = os_release.read_text()
    except FileNotFoundError:
        return ""
    found = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", text, re.MULTILINE)
    return found.group(1) if found else ""


def is_complete(root: Path) -> bool:
    """True when a build of this root finished."""
    return (root / COMPLETE).is_file()


def mirror_from_sources(texts: Iterable[str]) -> str | None:
    """The first Debian archive (not its security archive) in apt source files' text.

    Reads deb822 `URIs:` fields and one-line `deb URI suite ...` entries; comments are skipped.
    """
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("URIs:"):
                uris = line.removeprefix("URIs:").split()
            elif line.startswith("deb "):
                uris = [word for word in line.split()[1:] if "://" in word][:1]
            else:
                continue
            for uri in uris:
                if re.fullmatch(r"https?://\S+/debian/?", uri):
                    return uri
    return None


def machine_mirror(apt: Path = APT_SOURCES) -> str:
    """The Debian mirror this machine's apt uses; never a name written into the project."""
    files = [*sorted((apt / "sources.list.d").glob("*.sources")), apt / "sources.list"]
    texts = [path.read_text() for path in files if path.is_file()]
    mirror = mirror_from_sources(texts)
    if mirror is None:
        raise RuntimeError(f"no Debian archive found in the apt sources under {apt}")
    return mirror


def _unmount_under(path: Path) -> None:
    """Undo mounts a killed debootstrap left inside a partial root (deepest first)."""
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    inside = [m.split()[1] for m in mounts if m.split()[1].startswith(f"{path}/")]
    for target in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


def remove_root(path: Path) -> None:
    """Delete a stale or partial root."""
    _unmount_under(path)
    # --one-file-system: never reach through a mount that could not be undone.
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def bootstrap(cache: Path, suite: str, packages: Sequence[str], mirror: str) -> Path:
    """debootstrap a minbase root with these packages into <cache>/<suite>.partial; that path.

    Stale or partial roots of the suite go first; the caller finishes the root and renames it.
    """
    partial = cache / f"{suite}.partial"
    for stale in (partial, cache / suite):
        if stale.exists():
            remove_root(stale)
    cache.mkdir(parents=True, exist_ok=True)
    log = cache / f"{suite}.log"
    with log.open("w") as out:
        result = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                suite,
                str(partial),
                mirror,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"debootstrap {suite} failed ({result.returncode}):\n{tail}")
    return partial


def build(release: Release, mirror: str) -> float:
    """debootstrap the release's root into a temporary name, then rename; the seconds it took."""
    root = CACHE / release.suite
    started = time.monotonic()
    partial = bootstrap(CACHE, release.suite, PACKAGES, mirror)
    version = subprocess.run(
        ["chroot", str(partial), "NetworkManager", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (partial / COMPLETE).write_text(f"{release.suite} NetworkManager {version}\n")
    partial.rename(root)
    return time.monotonic() - started


def missing_releases() -> list[Release]:
    """The releases whose root is needed but not (completely) built."""
    return [r for r in RELEASES if r.root is not None and not is_complete(r.root)]


def build_missing(what: str, missing: Sequence[str], build: Callable[[str, str], float]) -> int:
    """Build the missing roots side by side by build(suite, mirror); print what each took.

    The exit status: 0 when none was missing or built without root (said, not failed), else 1
    if any build failed.
    """
    if not missing:
        print(f"{what}s: all present")
        return 0
    if os.geteuid() != 0:
        print(f"{what}s need root to build: " + " ".join(missing))
        return 0
    if shutil.which("debootstrap") is None:
        print("debootstrap is not installed", file=sys.stderr)
        return 1
    try:
        mirror = machine_mirror()
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(len(missing)) as pool:
        jobs = {suite: pool.submit(build, suite, mirror) for suite in missing}
        for suite, job in jobs.items():
            try:
                print(f"{what} {suite}: built in {job.result():.0f} s")
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                failed += 1
                print(f"{what} {suite}: {error}", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    """Build every missing root, side by side; print what each took."""
    releases = {release.suite: release for release in missing_releases()}
    return build_missing(
        "NetworkManager root", list(releases), lambda suite, mirror: build(releases[suite], mirror)
    )


if __name__ == "__main__":
    sys.exit(main())
