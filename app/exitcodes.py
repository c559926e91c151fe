"""Process exit statuses: distinct numbers so scripts and supervisors can tell outcomes apart."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Why the process ended."""

    OK = 0
    # Finding an uplink already there is success, not an error: a container restarted on a
    # provisioned device must not be restarted again by a supervisor that sees non-zero as a crash.
    ALREADY_ONLINE = 0
    FAILED = 1
    BAD_CONFIG = 2
    TIMED_OUT = 3
    NM_UNAVAILABLE = 4
    NO_WIFI_DEVICE = 5
    # 128 + SIGINT, as a shell reports a process ended by Ctrl-C.
    INTERRUPTED = 130


EXIT_STATUS_HELP: tuple[tuple[ExitStatus, str], ...] = (
    (ExitStatus.OK, "provisioned, done, or already online (then nothing was touched)"),
    (ExitStatus.FAILED, "the command failed (e.g. a reachability check or a rejected profile)"),
    (ExitStatus.BAD_CONFIG, "bad flag, environment variable or argument; nothing was touched"),
    (ExitStatus.TIMED_OUT, "the activity timeout passed with nobody provisioning"),
    (ExitStatus.NM_UNAVAILABLE, "NetworkManager could not be reached on the system bus"),
    (ExitStatus.NO_WIFI_DEVICE, "no WiFi device (or not the one asked for) is managed"),
    (
        ExitStatus.INTERRUPTED,
        "stopped by Ctrl-C, SIGTERM or SIGHUP, after tearing down (simulate, whose normal end "
        "that is, exits 0)",
    ),
)
