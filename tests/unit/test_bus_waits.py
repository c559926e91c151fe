"""A wait for a signal ends when cancelled, even as the signal comes in the same moment."""

from __future__ import annotations

import asyncio

import pytest

from app.nm.bus import Signal, SignalSubscription


async def test_a_wait_cancelled_as_its_signal_comes_stays_cancelled() -> None:
    subscription = SignalSubscription()
    waiting = asyncio.create_task(subscription.next(10.0))
    await asyncio.sleep(0)  # it waits on the queue now
    subscription._put(Signal("/", "org.example", "Changed", ()))
    waiting.cancel()
    # A cancellation dropped here would leave a flow being stopped running on for ever.
    with pytest.raises(asyncio.CancelledError):
        await waiting
