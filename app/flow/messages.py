"""What the portal and the CLI tell a user in words: security kinds and an attempt's outcome."""

from __future__ import annotations

from typing import Protocol

from app.flow.state import AttemptOutcome, Service
from app.nm.models import FailureKind
from app.rules import IPV4_ADDRESS, IPV4_DNS, IPV4_GATEWAY, PASSWORD_MAX_CHARS
from app.wifi import SecurityKind


class Translator(Protocol):
    """The part of a gettext catalog the portal uses."""

    def gettext(self, message: str, /) -> str:
        """The translation of `message`, or `message` itself."""
        ...


def security_words(t: Translator, security: SecurityKind) -> str:
    """The security kind as a user reads it next to a network's name."""
    return _security_names(t)[security][0]


def security_choice(t: Translator, security: SecurityKind) -> str:
    """A security kind as phones name it in their own "add network" screens."""
    return _security_names(t)[security][1]


def _security_names(t: Translator) -> dict[SecurityKind, tuple[str, str]]:
    """Each kind's words beside a network's name, and its name in a phone's own screens."""
    return {
        SecurityKind.OPEN: (t.gettext("Open"), t.gettext("None (open)")),
        SecurityKind.OWE: (t.gettext("Enhanced Open"), t.gettext("Enhanced Open (OWE)")),
        SecurityKind.OWE_TRANSITION: (
            t.gettext("Enhanced Open"),
            t.gettext("Enhanced Open (OWE)"),
        ),
        SecurityKind.WEP: (t.gettext("WEP password (outdated)"), t.gettext("WEP")),
        SecurityKind.WPA_PSK: (t.gettext("WPA2 password"), t.gettext("WPA/WPA2 Personal")),
        SecurityKind.SAE: (t.gettext("WPA3 password"), t.gettext("WPA3 Personal")),
        SecurityKind.WPA_PSK_SAE: (
            t.gettext("WPA2/WPA3 password"),
            t.gettext("WPA2/WPA3 Personal"),
        ),
        SecurityKind.WPA_EAP: (
            t.gettext("Enterprise: user name and password"),
            t.gettext("WPA2/WPA3 Enterprise"),
        ),
    }


# What a user may state for a network the scan did not show ("Other network…"), in the order the
# page offers them: the common case first. Transition kinds need no choice of their own.
STATED_SECURITY = (
    SecurityKind.WPA_PSK,
    SecurityKind.SAE,
    SecurityKind.WPA_EAP,
    SecurityKind.OPEN,
    SecurityKind.OWE,
    SecurityKind.WEP,
)


def passphrase_hint(t: Translator, security: SecurityKind) -> str:
    """The rule a password field follows, shown under it."""
    if security is SecurityKind.WEP:
        return t.gettext("5 or 13 characters, 10 or 26 hexadecimal digits, or a WEP passphrase")
    if security is SecurityKind.WPA_EAP:
        return t.gettext("The password that goes with your user name")
    if security is SecurityKind.SAE:
        return t.gettext("Up to %(count)s characters") % {"count": PASSWORD_MAX_CHARS}
    return t.gettext("8 to 63 characters, or 64 hexadecimal digits")


def failure_text(t: Translator, failure: FailureKind, ssid: str) -> str:
    """Why the device could not join `ssid`, in plain words."""
    texts = {
        FailureKind.WRONG_PASSWORD: t.gettext("The password for '%(ssid)s' was not accepted."),
        FailureKind.NOT_FOUND: t.gettext("'%(ssid)s' was not found. Is it in range?"),
        FailureKind.NO_ADDRESS: t.gettext("'%(ssid)s' gave the device no address."),
        FailureKind.TIMEOUT: t.gettext("Joining '%(ssid)s' took too long."),
        FailureKind.OTHER: t.gettext("The device could not join '%(ssid)s'."),
    }
    return texts[failure] % {"ssid": ssid}


def blocked_text(t: Translator, service: Service, ssid: str) -> str:
    """Why a network the device joined is still not good enough for it."""
    texts = {
        Service.HTTPS: t.gettext(
            "Connected to '%(ssid)s', but secure web connections (TCP 443) are blocked. "
            "Does the network need a sign-in page?"
        ),
        Service.NTP: t.gettext("Connected to '%(ssid)s', but time servers (UDP 123) are blocked."),
        Service.DNS: t.gettext("Connected to '%(ssid)s', but name lookups (UDP 53) are blocked."),
    }
    return texts[service] % {"ssid": ssid}


def attempt_texts(t: Translator, outcome: AttemptOutcome) -> list[str]:
    """Every reason the last attempt failed, one sentence each; empty when it succeeded."""
    if outcome.failure is not None:
        return [failure_text(t, outcome.failure, outcome.ssid)]
    return [blocked_text(t, service, outcome.ssid) for service in outcome.blocked]


def field_error_text(
    t: Translator, field: str, message: str, security: SecurityKind | None, *, english: bool
) -> str:
    """A validation message in the page's language: its translation, else a hint for the field."""
    translated = t.gettext(message)
    if english or translated != message:
        return translated
    # The rules' exact wording has no translation yet: say what the field needs instead.
    if field == "passphrase":
        rule = passphrase_hint(t, security or SecurityKind.WPA_PSK)
        return t.gettext("Check the password: %(rule)s.") % {"rule": rule}
    if field == "identity":
        return t.gettext("Check the user name.")
    if field == "ssid":
        return t.gettext("Check the network name: at most 32 bytes.")
    if field == IPV4_ADDRESS:
        return t.gettext(
            "Check the IPv4 address: an address and its prefix, e.g. 192.168.1.127/24."
        )
    if field == IPV4_GATEWAY:
        return t.gettext("Check the gateway: the router's address, in the same network.")
    if field == IPV4_DNS:
        return t.gettext("Check the DNS servers: 1 to 3 IPv4 addresses, separated by commas.")
    return t.gettext("Check this field.")
