"""One wifi-connect at a time per NetworkManager: a run or an `add` owns the radio it settles."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.errors import WifiConnectError

_LOGGER = logging.getLogger(__name__)

# Where lock files belong; a machine without it (a container, a test) uses its temp folder.
LOCK_DIR = Path("/run/lock")
DEFAULT_BUS = "unix:path=/run/dbus/system_bus_socket"


class AlreadyRunning(WifiConnectError):
    """Another wifi-connect manages this NetworkManager now."""


def lock_path(bus_address: str | None, lock_dir: Path | None = None) -> Path:
    """The lock file of the NetworkManager at `bus_address` (None: the system bus)."""
    folder = lock_dir or (LOCK_DIR if os.access(LOCK_DIR, os.W_OK) else Path(tempfile.gettempdir()))
    # One lock per bus: a test's private bus and the device's own never share one.
    digest = hashlib.sha256((bus_address or DEFAULT_BUS).encode()).hexdigest()[:16]
    return folder / f"wifi-connect-{digest}.lock"


@contextlib.contextmanager
def one_instance(bus_address: str | None, lock_dir: Path | None = None) -> Iterator[None]:
    """Hold this NetworkManager's lock for the block, or raise AlreadyRunning at once.

    The kernel drops the lock when the process dies, SIGKILL included: a killed run never
    blocks the next start, whose clean-up then only meets what that run left.
    """
    path = lock_path(bus_address, lock_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise WifiConnectError(f"cannot lock {path}: {err.strerror}") from err
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another wifi-connect (pid {holder}) is managing this device's WiFi; "
                "stop it first (e.g. systemctl stop wifi-connect)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _LOGGER.debug("Holding %s", path)
        yield
    finally:
        os.close(fd)  # releases the lock
