"""Activation through the adapter on real NetworkManager: a static profile on the veth."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from dbus_next.aio import MessageBus

from app.nm.client import NetworkManagerClient
from app.nm.const import ACTIVE_IFACE, DEVICE_IFACE, ActiveConnectionState, DeviceState
from app.nm.models import ActivationResult, ActiveLink
from tests.contract.realnm import NM_ADDRESS, RealNetworkManager
from tests.nm.helpers import NMProbe
from tests.simulator.rawclient import Client, Seen

pytestmark = pytest.mark.root

# Seconds a signal may take to reach the observer's own connection.
WAIT = 5.0


def _device_states(recorder: Client, path: str) -> list[tuple[int, int]]:
    """(new, old) of each StateChanged of one device, in order."""
    return [(s.body[0], s.body[1]) for s in recorder.named(DEVICE_IFACE, "StateChanged", path)]


def _state_changed(interface: str, path: str, *body: int) -> Callable[[Seen], bool]:
    """A StateChanged of this object whose arguments start with `body`."""
    return lambda s: (
        s.path == path
        and s.interface == interface
        and s.member == "StateChanged"
        and s.body[: len(body)] == body
    )


async def test_ethernet_profile_activates_and_deactivates_with_state_signals(
    client: NetworkManagerClient, probe: NMProbe, raw_bus: MessageBus, real_nm: RealNetworkManager
) -> None:
    # An observer of its own: the adapter's signals must match what everybody else sees.
    recorder = Client(raw_bus)
    await recorder.watch()
    saved = await client.add_connection(real_nm.ethernet_profile())
    device = await probe.device(real_nm.interface)
    assert device.managed
    assert device.state is DeviceState.DISCONNECTED

    started = time.monotonic()
    result = await client.activate(saved, device, timeout=10.0)
    took = time.monotonic() - started

    assert result.ok, f"{result}\n{real_nm.log_tail()}"
    assert result.state is ActiveConnectionState.ACTIVATED
    assert result.failure is None
    assert result.active_path is not None
    active = result.active_path
    # This bus may see a signal after the adapter's.
    await recorder.wait_for(_state_changed(DEVICE_IFACE, device.path, 100, 90), WAIT)
    await recorder.wait_for(
        _state_changed(ACTIVE_IFACE, active, ActiveConnectionState.ACTIVATED), WAIT
    )
    moves = _device_states(recorder, device.path)
    # Each signal leaves the state the previous one entered: nothing was missed in between.
    for (_, old), (new_before, _) in zip(moves[1:], moves, strict=False):
        assert old == new_before
    assert moves[0][1] == DeviceState.DISCONNECTED
    assert DeviceState.IP_CONFIG in [new for new, _ in moves]
    assert (await probe.device(real_nm.interface)).state is DeviceState.ACTIVATED
    # NetworkManager 1.42 also shows lo as active, so only our entry is checked.
    assert active in await probe.active_connection_paths()
    # The kernel really has the address NetworkManager was told to configure.
    assert f"{NM_ADDRESS}/24" in real_nm.veth_addresses()
    print(f"\nactivation took {took * 1000:.0f} ms; device moves {moves}")

    await client.deactivate(active)

    await recorder.wait_for(
        _state_changed(ACTIVE_IFACE, active, ActiveConnectionState.DEACTIVATED), WAIT
    )
    await recorder.wait_for(
        _state_changed(
            DEVICE_IFACE, device.path, DeviceState.DISCONNECTED, DeviceState.DEACTIVATING
        ),
        WAIT,
    )
    assert _device_states(recorder, device.path)[-1][0] == DeviceState.DISCONNECTED
    assert (await probe.device(real_nm.interface)).state is DeviceState.DISCONNECTED
    assert active not in await probe.active_connection_paths()
    assert real_nm.veth_addresses() == []
    await client.delete_connection(saved.path)


async def test_the_active_link_names_the_interface_the_checks_bind_to(
    client: NetworkManagerClient, real_nm: RealNetworkManager, ethernet_up: ActivationResult
) -> None:
    # Device.IpInterface of the activated veth; its static profile gives no DNS server.
    assert ethernet_up.active_path is not None
    link = await client.active_link(ethernet_up.active_path)
    assert link == ActiveLink(real_nm.interface, ())
