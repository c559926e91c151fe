"""One attempt to join a network, as the portal and `wifi-connect add` both make it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from app.errors import WifiConnectError
from app.flow.state import AttemptOutcome, CheckResult, blocked_services
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink, Device, FailureKind, SavedConnection
from app.nm.profiles import Settings, client_profile, pending_profile
from app.rules import display_ssid
from app.wifi import Credentials

_LOGGER = logging.getLogger(__name__)

# Checks the new link must pass, over that link only; returns every result.
ReachabilityCheck = Callable[[ActiveLink], Awaitable[tuple[CheckResult, ...]]]


async def connect_network(
    nm: NetworkManagerClient,
    device: Device,
    credentials: Credentials,
    *,
    activation_timeout: float,
    check_reachability: ReachabilityCheck | None = None,
    on_checking: Callable[[], None] | None = None,
) -> AttemptOutcome:
    """Save, activate and check one network; undo what fails, never losing a saved profile.

    The rules every attempt follows: the new profile is saved pending (autoconnect off, marked)
    and becomes ordinary only once proven; a failed activation or a failed check deletes only
    the new profile; only success removes the older profiles of that SSID. A run killed
    half-way leaves a marked profile, which the next start settles (app.flow.leftovers).
    """
    name = display_ssid(credentials.ssid)
    built = client_profile(credentials)
    saved = await nm.add_connection(pending_profile(built))
    checks = None
    if check_reachability is not None:
        checks = _over_stated_dns(check_reachability, credentials)
    try:
        outcome = await _activate_and_check(
            nm, device, saved, name, activation_timeout, checks, on_checking
        )
    except BaseException:
        # Stopped half-way (a signal, NM gone): an unproven profile must not stay behind.
        with contextlib.suppress(WifiConnectError):
            await asyncio.shield(nm.delete_connection(saved.path))
        raise
    if outcome.ok:
        # Proven: from here on nothing rolls it back. Stopped while finishing, it stays
        # pending and up, and the next start finishes it (app.flow.leftovers).
        await finish_proven(nm, saved, built)
        _LOGGER.info("Connected to '%s'", name)
    return outcome


def stated_dns(link: ActiveLink, credentials: Credentials) -> ActiveLink:
    """The link as the checks see it: a static set-up's DNS servers are the ones asked.

    NetworkManager may report more than the profile's (a global DNS configuration): what the
    installer typed is what must work.
    """
    if credentials.ipv4 is None:
        return link
    return dataclasses.replace(link, resolvers=tuple(str(dns) for dns in credentials.ipv4.dns))


def _over_stated_dns(check: ReachabilityCheck, credentials: Credentials) -> ReachabilityCheck:
    """`check` asking the DNS servers the credentials state, when they state any."""

    async def checked(link: ActiveLink) -> tuple[CheckResult, ...]:
        return await check(stated_dns(link, credentials))

    return checked


async def _activate_and_check(
    nm: NetworkManagerClient,
    device: Device,
    saved: SavedConnection,
    name: str,
    activation_timeout: float,
    check_reachability: ReachabilityCheck | None,
    on_checking: Callable[[], None] | None,
) -> AttemptOutcome:
    """Activate a just-saved profile and check the link; roll back what fails, keep it pending."""
    result = await nm.activate(saved, device, timeout=activation_timeout)
    if not result.ok:
        await nm.delete_connection(saved.path)
        _LOGGER.warning(
            "Could not connect to '%s' (%s); its new profile is removed", name, result.failure
        )
        return AttemptOutcome(
            name, result.failure or FailureKind.OTHER, nm_reason=int(result.reason)
        )
    checks: tuple[CheckResult, ...] = ()
    if check_reachability is not None:
        if on_checking is not None:
            on_checking()
        checks = await check_reachability(await nm.active_link(result.active_path or ""))
        blocked = blocked_services(checks)
        if blocked:
            _LOGGER.warning(
                "Connected to '%s' but blocked: %s; its new profile is removed",
                name,
                ", ".join(blocked),
            )
            await nm.deactivate(result.active_path or "")
            await nm.delete_connection(saved.path)
            return AttemptOutcome(name, None, blocked=blocked, checks=checks)
    if checks:
        _LOGGER.info(
            "Reachability proven: %s",
            ", ".join(f"{c.service} {c.target} {c.latency_ms or 0:.0f} ms" for c in checks),
        )
    return AttemptOutcome(name, None, checks=checks)


async def finish_proven(
    nm: NetworkManagerClient, saved: SavedConnection, built: Settings | None = None
) -> None:
    """A proven pending profile becomes ordinary first, then the older ones of its SSID go.

    In that order: a run killed in between leaves two working profiles, never none.
    """
    await nm.finish_pending(saved, built)
    await _forget_older_profiles(nm, saved)


async def _forget_older_profiles(nm: NetworkManagerClient, kept: SavedConnection) -> None:
    """Only once the new profile works, remove the older ones for the same SSID."""
    for old in await nm.wifi_connections():
        if old.ssid == kept.ssid and old.uuid != kept.uuid:
            _LOGGER.info("Removing older profile '%s' for the same network", old.id)
            try:
                await nm.delete_connection(old.path)
            except WifiConnectError as err:
                # The new one works already: an old one left over costs nothing but a listing.
                _LOGGER.warning("Could not remove older profile '%s': %s", old.id, err)
