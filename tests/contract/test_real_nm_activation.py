"""Activation through the adapter on real NetworkManager: a static profile on the veth."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest
from dbus_next import Message, MessageType
from dbus_next.aio import MessageBus

from app.nm.client import NetworkManagerClient
from app.nm.const import ACTIVE_IFACE, DEVICE_IFACE, ActiveConnectionState, DeviceState
from tests.contract.realnm import NM_ADDRESS, RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root


@dataclass(frozen=True)
class Seen:
    """One StateChanged signal as an independent observer received it."""

    path: str
    interface: str
    body: tuple[Any, ...]


class StateChangedRecorder:
    """Records every StateChanged NetworkManager emits, on a bus connection of its own."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self.seen: list[Seen] = []

    async def start(self) -> None:
        """Install the handler and the match rule; signals are recorded from the reply on."""
        self._bus.add_message_handler(self._on_message)
        reply = await self._bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=["type='signal',member='StateChanged'"],
            )
        )
        assert reply is not None and reply.message_type == MessageType.METHOD_RETURN

    def _on_message(self, message: Message) -> None:
        if message.message_type == MessageType.SIGNAL and message.member == "StateChanged":
            self.seen.append(Seen(message.path, message.interface, tuple(message.body)))

    def device_states(self, path: str) -> list[tuple[int, int]]:
        """(new, old) of each device StateChanged of one device, in order."""
        return [
            (s.body[0], s.body[1])
            for s in self.seen
            if s.path == path and s.interface == DEVICE_IFACE
        ]

    def active_states(self, path: str) -> list[int]:
        """The states of one active connection, in order."""
        return [s.body[0] for s in self.seen if s.path == path and s.interface == ACTIVE_IFACE]

    async def wait_for(self, found: Any, timeout: float = 5.0) -> None:
        """Wait (bounded) until `found()` holds: this bus may see a signal after the adapter's."""
        deadline = time.monotonic() + timeout
        while not found():
            assert time.monotonic() < deadline, f"signals seen so far: {self.seen}"
            await asyncio.sleep(0.01)


async def test_ethernet_profile_activates_and_deactivates_with_state_signals(
    client: NetworkManagerClient, probe: NMProbe, raw_bus: MessageBus, real_nm: RealNetworkManager
) -> None:
    recorder = StateChangedRecorder(raw_bus)
    await recorder.start()
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
    await recorder.wait_for(lambda: (100, 90) in recorder.device_states(device.path))
    await recorder.wait_for(
        lambda: ActiveConnectionState.ACTIVATED in recorder.active_states(active)
    )
    moves = recorder.device_states(device.path)
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
        lambda: ActiveConnectionState.DEACTIVATED in recorder.active_states(active)
    )
    await recorder.wait_for(
        lambda: recorder.device_states(device.path)[-1][0] == DeviceState.DISCONNECTED
    )
    assert (await probe.device(real_nm.interface)).state is DeviceState.DISCONNECTED
    assert active not in await probe.active_connection_paths()
    assert real_nm.veth_addresses() == []
    await client.delete_connection(saved.path)
