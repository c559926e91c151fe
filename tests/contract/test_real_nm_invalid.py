"""Real NetworkManager refuses every broken profile of the shared table, with the expected error."""

from __future__ import annotations

import pytest

from app.errors import NetworkManagerError
from app.nm.client import NetworkManagerClient
from tests.contract.artifacts import ArtifactLog
from tests.contract.invalid_profiles import INVALID_CASES, InvalidCase
from tests.contract.realnm import RealNetworkManager

pytestmark = pytest.mark.root


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
async def test_network_manager_refuses_the_broken_profile(
    client: NetworkManagerClient,
    real_nm: RealNetworkManager,
    refusal_log: ArtifactLog,
    case: InvalidCase,
) -> None:
    # The unbroken base is accepted, so the one broken key is what NetworkManager refuses.
    valid = await client.add_connection(case.base())
    await client.delete_connection(valid.path)
    keyfiles_before = sorted(real_nm.keyfile_dir.iterdir())
    saved_before = await client.saved_connections()

    with pytest.raises(NetworkManagerError) as refused:
        await client.add_connection(case.settings())

    refusal_log.record(case.id, f"{refused.value.name}\n{refused.value.message}")
    # Some versions answer otherwise: the case's table entry says which and how.
    error, blames = case.expected(real_nm.major_minor)
    assert refused.value.name == error
    assert refused.value.message.startswith((f"{blames}:", f"{blames},"))
    assert sorted(real_nm.keyfile_dir.iterdir()) == keyfiles_before
    assert await client.saved_connections() == saved_before
