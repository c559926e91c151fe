"""What a run killed half-way leaves in NetworkManager, settled in one step at start.

A killed run may leave its hotspot profile (still up, perhaps) and the pending profile of an
attempt (saved with autoconnect off and marked, see app.nm.profiles.pending_profile). Before
anything uses the radio, `run`, the portal's flow and `add` bring both to a true state: no
hotspot profile, and each pending profile either proven now and made ordinary, or gone.
"""

from __future__ import annotations

import logging

from app.errors import LinkUnusable
from app.flow.attempt import ReachabilityCheck, finish_proven
from app.flow.state import blocked_services
from app.nm.client import NetworkManagerClient
from app.nm.const import HOTSPOT_ID_PREFIX
from app.nm.models import SavedConnection

_LOGGER = logging.getLogger(__name__)


async def settle_leftovers(
    nm: NetworkManagerClient, checks: ReachabilityCheck | None, *, release_timeout: float
) -> None:
    """Remove stale hotspots; finish each pending profile that is up and proven, delete the rest."""
    saved = await nm.saved_connections()
    hotspots = [profile for profile in saved if profile.id.startswith(HOTSPOT_ID_PREFIX)]
    # Only a hotspot still up keeps its radio busy: the others' devices may carry a client.
    busy = {h.interface_name for h in hotspots if await nm.activated_path(h) is not None}
    for hotspot in hotspots:
        _LOGGER.info("Removing hotspot profile '%s' left by an earlier run", hotspot.id)
        await nm.delete_connection(hotspot.path)
    for pending in (profile for profile in saved if profile.pending):
        if await _proven(nm, pending, checks):
            _LOGGER.info("'%s', left unfinished by an earlier run, works: keeping it", pending.id)
            await finish_proven(nm, pending)
        else:
            _LOGGER.info("Removing '%s', left unproven by an earlier run", pending.id)
            await nm.delete_connection(pending.path)
    # A radio still leaving AP mode cannot scan yet: what comes next waits for it.
    for device in await nm.devices() if busy else []:
        if device.interface in busy:
            await nm.wait_device_released(device, timeout=release_timeout)


async def _proven(
    nm: NetworkManagerClient, pending: SavedConnection, checks: ReachabilityCheck | None
) -> bool:
    """Whether a pending profile is up now and passes the checks; if up but not, it goes down."""
    active = await nm.activated_path(pending)
    if active is None:
        return False
    if checks is None:
        return True
    try:
        blocked = blocked_services(await checks(await nm.active_link(active)))
    except LinkUnusable as err:
        _LOGGER.warning("'%s' cannot be checked: %s", pending.id, err)
        return False
    if not blocked:
        return True
    _LOGGER.warning("'%s' is up but blocked: %s", pending.id, ", ".join(blocked))
    await nm.deactivate(active)
    return False
