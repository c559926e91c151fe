"""A POST /connect submission (JSON or form) turned into Credentials for a network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.errors import ValidationError
from app.flow.messages import Translator, field_error_text
from app.flow.networks import find_network
from app.nm.models import WifiNetwork
from app.rules import (
    IPV4_ADDRESS,
    IPV4_DNS,
    IPV4_GATEWAY,
    check_credentials,
    parse_static_ipv4,
    ssid_from_text,
)
from app.wifi import Credentials, SecurityKind, infer_security, stated_security

_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"", "0", "false", "off", "no"})


@dataclass(frozen=True)
class Submission:
    """The fields of a connect request; empty strings already turned into None."""

    ssid: str | None
    passphrase: str | None = None
    identity: str | None = None
    hidden: bool = False
    security: SecurityKind | None = None
    # A static set-up as typed under "Advanced"; all None for DHCP.
    ipv4_address: str | None = None
    ipv4_gateway: str | None = None
    ipv4_dns: str | None = None

    def __repr__(self) -> str:
        """Everything but the passphrase, which must never reach a log."""
        return (
            f"Submission(ssid={self.ssid!r}, identity={self.identity!r}, "
            f"hidden={self.hidden}, security={self.security}, "
            f"ipv4_address={self.ipv4_address!r}, ipv4_gateway={self.ipv4_gateway!r}, "
            f"ipv4_dns={self.ipv4_dns!r})"
        )


def _text(t: Translator, fields: Mapping[str, object], name: str) -> str | None:
    """A text field; absent and empty are the same (wifi-connect's UI always sends all three)."""
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(name, t.gettext("This field must be text."))
    return value


def _hidden(t: Translator, fields: Mapping[str, object]) -> bool:
    """The `hidden` flag, as a JSON boolean or the strings a form or script may send."""
    value = fields.get("hidden")
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError("hidden", t.gettext("This field must be true or false."))


def parse_submission(t: Translator, fields: Mapping[str, object]) -> Submission:
    """Read a submission's fields; raises ValidationError naming the first bad one."""
    stated = _text(t, fields, "security")
    security = None
    if stated is not None:
        security = stated_security(stated)
        if security is None:
            raise ValidationError("security", t.gettext("Choose the network's security."))
    return Submission(
        ssid=_text(t, fields, "ssid"),
        passphrase=_text(t, fields, "passphrase"),
        identity=_text(t, fields, "identity"),
        hidden=_hidden(t, fields),
        security=security,
        ipv4_address=_text(t, fields, IPV4_ADDRESS),
        ipv4_gateway=_text(t, fields, IPV4_GATEWAY),
        ipv4_dns=_text(t, fields, IPV4_DNS),
    )


def credentials_for(
    t: Translator, submission: Submission, networks: Sequence[WifiNetwork], *, english: bool
) -> Credentials:
    """The credentials a submission asks for; raises ValidationError naming the field at fault.

    A name from the scan takes its raw bytes and security from the scan. A name marked hidden, or
    one the scan did not show, is joined as a hidden network with the security the client states,
    else with the one its credentials suggest (app.wifi.infer_security).
    """
    if submission.ssid is None:
        raise ValidationError("ssid", t.gettext("Choose a network or type its name."))
    network = find_network(networks, submission.ssid)
    security = submission.security or (network.security if network is not None else None)
    if security is None:
        # wifi-connect's API has no security field: a hidden network's is read off what the
        # user typed (a user name: enterprise; a password: WPA; nothing: open).
        security = infer_security(submission.passphrase, submission.identity)
    if network is not None and not submission.hidden:
        security = network.security
    try:
        credentials = check_credentials(
            Credentials(
                ssid=network.ssid if network is not None else ssid_from_text(submission.ssid),
                security=security,
                # Fields the network's security does not use are dropped, not refused: a form
                # that cannot hide them (no JavaScript, no CSS :has) may still send them.
                passphrase=submission.passphrase if security.needs_passphrase else None,
                identity=submission.identity if security.needs_identity else None,
                hidden=network is None or submission.hidden,
                ipv4=parse_static_ipv4(
                    submission.ipv4_address, submission.ipv4_gateway, submission.ipv4_dns
                ),
            )
        )
    except ValidationError as error:
        # The rules (and their English wording) live in app.rules.
        text = field_error_text(t, error.field, error.message, security, english=english)
        raise ValidationError(error.field, text) from None
    return credentials
