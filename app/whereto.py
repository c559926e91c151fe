"""Where the device will be once online: its mDNS address and the operator's PORTAL_NEXT_URL.

Pure functions: the template is checked once at start (app.config) and filled per page.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# The placeholders PORTAL_NEXT_URL may hold, as ESPHome's next_url holds its own.
NEXT_URL_PLACEHOLDERS = ("hostname", "ssid")
_SCHEMES = ("http", "https")
# A sample filling: the template must make a valid URL with any name in it.
_SAMPLE = {"hostname": "host", "ssid": "name"}


class BadTemplate(ValueError):
    """PORTAL_NEXT_URL breaks a rule; the message says which."""


@dataclass(frozen=True)
class Whereabouts:
    """What the page after a submission says about finding the device once it is online."""

    # http://HOSTNAME.local/ when Avahi announced the device, else None.
    local_url: str | None
    # PORTAL_NEXT_URL filled in, else None.
    next_url: str | None


def check_next_url(template: str) -> str:
    """The template, stripped, if it is an http(s) URL whose only fields are the placeholders."""
    text = template.strip()
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
    except ValueError as err:
        raise BadTemplate(
            f"{template!r} is not a template ({err}); write a literal {{ or }} twice"
        ) from None
    for name, spec, conv in fields:
        if name is None:
            continue
        if name not in NEXT_URL_PLACEHOLDERS:
            allowed = ", ".join(f"{{{known}}}" for known in NEXT_URL_PLACEHOLDERS)
            raise BadTemplate(f"{template!r} has {{{name}}}; only {allowed} are filled in")
        if spec or conv:
            raise BadTemplate(f"{template!r}: write {{{name}}} without a format or conversion")
    sample = text.format(**_SAMPLE)
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in sample):
        raise BadTemplate(f"{template!r} contains a space or control character")
    try:
        parts = urlsplit(sample)
        _ = parts.port  # a port that is not a number, or out of range
    except ValueError:
        raise BadTemplate(f"{template!r} is not a URL") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise BadTemplate(f"{template!r} is not an http:// or https:// URL with a host")
    return text


def fill_next_url(template: str, *, hostname: str, ssid: str) -> str:
    """The template with each placeholder replaced by its value, URL-quoted (UTF-8)."""
    # Quoted whole (no "/" kept): a name cannot add a path, a query or a host to the URL.
    return template.format(hostname=quote(hostname, safe=""), ssid=quote(ssid, safe=""))


def local_url(fqdn: str) -> str:
    """The address a phone on the device's network opens: http://HOSTNAME.local/."""
    return f"http://{fqdn}/"


def whereabouts(
    *, fqdn: str | None, host_name: str, next_url: str | None, ssid: str
) -> Whereabouts:
    """Where the device will be: `fqdn` is Avahi's (None when not announced)."""
    filled = (
        fill_next_url(next_url, hostname=host_name, ssid=ssid) if next_url is not None else None
    )
    return Whereabouts(local_url(fqdn) if fqdn is not None else None, filled)
