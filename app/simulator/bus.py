"""A private D-Bus daemon of the system-bus type, owned by one async context manager."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


def bus_config(socket: Path) -> str:
    """A system-type dbus-daemon config listening on `socket`, letting everyone do anything."""
    return _CONFIG.format(socket=socket)


class PrivateBusError(RuntimeError):
    """dbus-daemon could not be started."""


class PrivateBus:
    """`async with PrivateBus() as bus:` runs dbus-daemon; `bus.address` is its address.

    The daemon and its temporary directory are removed on leaving the block, whatever happens.
    """

    def __init__(self, *, daemon: str = "dbus-daemon", start_timeout: float = 10.0) -> None:
        self._daemon = daemon
        self._start_timeout = start_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._directory: Path | None = None
        self._address: str | None = None

    @property
    def address(self) -> str:
        """The bus address, e.g. unix:path=/tmp/sim-bus-x/bus,guid=..."""
        if self._address is None:
            raise PrivateBusError("the private bus is not running")
        return self._address

    @property
    def pid(self) -> int | None:
        """dbus-daemon's process id while it runs."""
        return self._process.pid if self._process else None

    async def __aenter__(self) -> PrivateBus:
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.close()

    async def _start(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="sim-bus-"))
        config = self._directory / "bus.conf"
        config.write_text(bus_config(self._directory / "bus"), encoding="utf-8")
        await self._launch()

    async def restart(self) -> None:
        """Kill the daemon and start a new one on the same socket, as a crashed system bus.

        SIGKILL: every connection just drops, with no last signal (NameOwnerChanged) from the
        old daemon. Whoever connects again to the same address finds a bus on which nobody owns
        a name yet.
        """
        await self._stop(timeout=0.0)
        await self._launch()

    async def _launch(self) -> None:
        """Run dbus-daemon with the directory's config and wait until it prints its address."""
        assert self._directory is not None
        config = self._directory / "bus.conf"
        # A file, not a pipe, for the daemon's complaints: nobody reads a pipe after start-up.
        log = self._directory / "daemon.log"
        try:
            with log.open("wb") as log_file:
                self._process = await asyncio.create_subprocess_exec(
                    self._daemon,
                    f"--config-file={config}",
                    "--nofork",
                    "--print-address=1",
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log_file,
                    # Its own session: a Ctrl-C at the terminal reaches only us, and we stop
                    # the daemon after everything that talks over it has disconnected.
                    start_new_session=True,
                )
        except OSError as err:
            raise PrivateBusError(f"cannot run {self._daemon}: {err.strerror}") from err
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), self._start_timeout)
        except TimeoutError:
            raise PrivateBusError(
                f"{self._daemon} printed no address within {self._start_timeout:g} s"
            ) from None
        if not line.strip():
            await self._process.wait()
            errors = log.read_text(errors="replace").strip() or "no output"
            raise PrivateBusError(f"{self._daemon} exited: {errors}")
        self._address = line.decode().strip()
        _LOGGER.debug("Private bus at %s (pid %d)", self._address, self._process.pid)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop the daemon (terminate, wait, kill) and remove its directory; safe to repeat."""
        await self._stop(timeout)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def _stop(self, timeout: float = 5.0) -> None:
        """Stop the daemon: terminate, wait `timeout` s, kill (at once when it is 0)."""
        process, self._process = self._process, None
        self._address = None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                if timeout > 0:
                    process.terminate()
                else:
                    process.kill()
            try:
                await asyncio.wait_for(process.wait(), timeout or None)
            except TimeoutError:
                _LOGGER.warning("dbus-daemon %d ignored SIGTERM; killing it", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
