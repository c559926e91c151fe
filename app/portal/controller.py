"""What the portal needs of the provisioning flow, so it can be served with or without one."""

from __future__ import annotations

from typing import Protocol

from app.flow.state import FlowStatus
from app.nm.models import WifiNetwork
from app.wifi import Credentials


class PortalController(Protocol):
    """The flow as the portal sees it; app.flow.provision.Provisioner is one, tests have others."""

    async def networks(self) -> list[WifiNetwork]:
        """The networks to offer, strongest first (the list scanned before the hotspot)."""
        ...

    async def rescan(self) -> list[WifiNetwork]:
        """Scan again if the radio can (a single radio in AP mode cannot) and return the list."""
        ...

    async def submit(self, credentials: Credentials, requester: str | None = None) -> None:
        """Accept validated credentials; the flow connects after the phone got its answer.

        `requester` names the phone (its address), for taking turns (app.flow.turns).
        """
        ...

    def status(self) -> FlowStatus:
        """The flow's state and the outcome of the last attempt."""
        ...

    def note_request(self, requester: str | None = None) -> None:
        """A phone (`requester`, its address) used the portal: the activity timeout restarts."""
        ...
