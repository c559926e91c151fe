"""Turn-taking at the portal: after one phone's failed attempt, a phone that waits goes first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Turns:
    """Who may submit next, so one phone resubmitting a hopeless network cannot hog the device.

    A phone whose attempt failed may try again at once, unless another phone used the portal
    since that phone submitted: then the other one has `window` seconds from the failure to
    submit first. A phone alone is never held back. Requesters are opaque names (the portal
    gives addresses); `now` comes from the flow's clock.
    """

    window: float
    _last: str | None = None
    _another_waits: bool = False
    _failed_at: float | None = None

    def seen(self, requester: str | None) -> None:
        """A phone used the portal."""
        if requester is not None and self._last is not None and requester != self._last:
            self._another_waits = True

    def submitted(self, requester: str | None) -> None:
        """`requester`'s submission was taken: its attempt starts."""
        self._last, self._another_waits, self._failed_at = requester, False, None

    def attempt_failed(self, now: float) -> None:
        """The attempt failed: the portal is on its way back."""
        self._failed_at = now

    def wait(self, requester: str | None, now: float) -> float | None:
        """How long `requester` must let another phone go first; None when it may submit."""
        if (
            requester is None
            or requester != self._last
            or not self._another_waits
            or self._failed_at is None
        ):
            return None
        remaining = self._failed_at + self.window - now
        return remaining if remaining > 0 else None
