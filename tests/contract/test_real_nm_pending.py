"""A pending profile's mark (`user.data`) round-trips through real NetworkManager and goes again.

The `user` setting exists since NetworkManager 1.8 (libnm's NMSettingUser), below every
version the app supports (1.10 on), so no version needs another way to mark a profile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.errors import NetworkManagerError
from app.nm.client import NetworkManagerClient
from app.nm.models import SavedConnection
from app.nm.profiles import (
    PENDING_KEY,
    PENDING_VALUE,
    client_profile,
    finished_profile,
    pending_profile,
)
from app.wifi import Credentials, SecurityKind
from tests.contract.readback import read_back
from tests.contract.test_real_nm_profiles import KINDS, Kind
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

CLIENT_KINDS = [kind for kind in KINDS if not kind.hotspot]


async def _keyfile(client: NetworkManagerClient, saved: SavedConnection) -> list[str]:
    (listed,) = [c for c in await client.saved_connections() if c.path == saved.path]
    assert listed.filename is not None
    return (await asyncio.to_thread(Path(listed.filename).read_text)).splitlines()


@pytest.mark.parametrize("kind", CLIENT_KINDS, ids=lambda kind: kind.name)
async def test_the_mark_round_trips_and_finishing_from_what_nm_holds_removes_it(
    client: NetworkManagerClient, probe: NMProbe, kind: Kind
) -> None:
    built = kind.build()
    pending = pending_profile(built)

    saved = await client.add_connection(pending)

    assert await read_back(probe, saved.path, pending) == []
    stored = await probe.connection_settings(saved.path)
    assert stored["user"]["data"] == {PENDING_KEY: PENDING_VALUE}
    (listed,) = [c for c in await client.saved_connections() if c.uuid == saved.uuid]
    assert listed.pending
    lines = await _keyfile(client, saved)
    assert "[user]" in lines and f"{PENDING_KEY}={PENDING_VALUE}" in lines
    assert "autoconnect=false" in lines

    # What a start after a killed run does: settings and secrets read back from NM, sent back.
    await client.finish_pending(listed)

    assert await read_back(probe, saved.path, finished_profile(built)) == []
    assert "user" not in await probe.connection_settings(saved.path)
    (finished,) = [c for c in await client.saved_connections() if c.uuid == saved.uuid]
    assert not finished.pending and finished.path == saved.path
    lines = await _keyfile(client, saved)
    assert "[user]" not in lines and "autoconnect=false" not in lines


async def test_finishing_with_the_built_settings_keeps_the_secret(
    client: NetworkManagerClient, probe: NMProbe
) -> None:
    built = client_profile(Credentials(b"ct built", SecurityKind.WPA_PSK, "a passphrase"))
    saved = await client.add_connection(pending_profile(built))

    await client.finish_pending(saved, built)

    assert await read_back(probe, saved.path, built) == []


async def test_nm_refuses_a_user_key_without_a_namespace(client: NetworkManagerClient) -> None:
    # Why the mark's key has a dot: NM's rule for user.data keys.
    unmarked = client_profile(Credentials(b"ct no-dot", SecurityKind.OPEN))
    unmarked["user"] = {"data": {"pending": "unproven"}}
    with pytest.raises(NetworkManagerError, match=r"user\.data"):
        await client.add_connection(unmarked)
