"""One small error hierarchy; each error's str() is the message a user reads."""

from __future__ import annotations


class WifiConnectError(Exception):
    """Base of every error this app raises on purpose."""


class ConfigError(WifiConnectError):
    """A flag or env var has a bad value; the message names both."""


class ValidationError(WifiConnectError):
    """Input from outside broke a rule; `field` names the input, the message says which rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class FlowBusy(WifiConnectError):
    """The flow cannot take a submission now (starting, or busy with another attempt)."""


class NotYourTurn(FlowBusy):
    """This phone's attempt came last and another phone waits: it goes first for a while."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NetworkManagerUnavailable(WifiConnectError):
    """NetworkManager is not on the bus, or went away while we were talking to it."""


class NetworkManagerNoAnswer(NetworkManagerUnavailable):
    """NetworkManager is on the bus but did not answer a call within its bound (it hangs)."""


class NoWifiDevice(WifiConnectError):
    """No WiFi device NetworkManager manages (or not the one asked for)."""


class NetworkManagerError(WifiConnectError):
    """NetworkManager answered a call with a D-Bus error; `name` is the error name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"NetworkManager refused: {message} ({name})")
        self.name = name
        self.message = message


class MalformedReply(NetworkManagerError, ValueError):
    """NetworkManager answered with a value of the wrong type: a bad reply, not a refusal."""

    def __init__(self, message: str) -> None:
        WifiConnectError.__init__(self, f"NetworkManager sent a malformed reply: {message}")
        self.name = "MalformedReply"
        self.message = message


class LinkUnusable(WifiConnectError):
    """A new link cannot carry its checks: it went down, or sockets may not be bound to it."""
