"""Rendering: the request's language, what every page gets, and the network list as rows."""

from __future__ import annotations

import gettext
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from markupsafe import Markup

from app.flow.messages import (
    STATED_SECURITY,
    attempt_texts,
    passphrase_hint,
    security_choice,
    security_words,
)
from app.flow.networks import unique_networks
from app.flow.state import FlowStatus
from app.nm.models import WifiNetwork
from app.portal import csrf
from app.portal.i18n import SOURCE_LANGUAGE
from app.portal.state import PORTAL
from app.rules import (
    IDENTITY_MAX_BYTES,
    IPV4_ADDRESS,
    IPV4_DNS,
    IPV4_GATEWAY,
    PASSWORD_MAX_CHARS,
    PSK_HEX_CHARS,
    PSK_MAX_CHARS,
    PSK_MIN_CHARS,
    WEP_PASSPHRASE_MAX_CHARS,
)
from app.whereto import Whereabouts, whereabouts
from app.wifi import SecurityKind

# What the page a probe gets may load: its inline (empty) icon, nothing else.
_SIGN_IN_PAGE_CSP = (
    "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# WCAG AA for body text: what the accent must reach against white when it colours text.
_TEXT_CONTRAST = 4.5


@dataclass(frozen=True)
class Language:
    """The language a response is in, with its catalog."""

    code: str
    translations: gettext.NullTranslations

    @property
    def english(self) -> bool:
        """True when the page is in the language the source strings are written in."""
        return self.code == SOURCE_LANGUAGE


def language_of(request: web.Request) -> Language:
    """The best language for this request (Accept-Language, else the configured default)."""
    catalogs = request.app[PORTAL].catalogs
    code = catalogs.negotiate(request.headers.get(hdrs.ACCEPT_LANGUAGE))
    return Language(code, catalogs.get(code))


def client_of(request: web.Request) -> str:
    """The client's address: what CSRF tokens and the rate limit are bound to."""
    # No proxy sits between a phone and the hotspot, so the peer address is the client's own.
    return request.remote or "unknown"


def render(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """Render a template in the request's language, with what every page needs."""
    portal = request.app[PORTAL]
    language = language_of(request)
    page = {
        "lang": language.code,
        # The i18n extension's {% trans %} and _() look these up in the context.
        "gettext": language.translations.gettext,
        "ngettext": language.translations.ngettext,
        "brand": portal.config.brand_name,
        "hotspot": portal.config.ssid,
        "csrf_field": csrf.FIELD,
        "csrf_token": portal.csrf.token(client_of(request)),
        # Trusted (the UI's own file and the checked brand colour) and made safe for <style>.
        "page_style": Markup(portal.style.css),
        **context,
    }
    html = portal.templates.get_template(template).render(page)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers[hdrs.CONTENT_LANGUAGE] = language.code
    return response


def message_page(
    request: web.Request,
    *,
    status: int,
    title: str,
    text: str,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A short page that says what went wrong and leads back to the network list."""
    response = render(request, "message.html", {"title": title, "text": text}, status=status)
    response.headers.update(headers or {})
    return response


def sign_in_page(request: web.Request) -> web.Response:
    """A page (200) that sends a probe's sign-in sheet on to the portal (see middlewares)."""
    portal_url = request.app[PORTAL].config.portal_url
    response = render(request, "probe.html", {"portal_url": portal_url})
    # Nothing to load but the page itself; its icon is inline, or the browser would ask the
    # probe's host for one and be redirected to another origin.
    response.headers["Content-Security-Policy"] = _SIGN_IN_PAGE_CSP
    return response


def device_whereabouts(request: web.Request, ssid: str) -> Whereabouts:
    """Where the device will be once on `ssid`: its .local address, PORTAL_NEXT_URL filled in."""
    portal = request.app[PORTAL]
    mdns = portal.controller.status().mdns
    return whereabouts(
        fqdn=mdns.fqdn if mdns is not None else None,
        # Without Avahi, {hostname} is still the device's own name.
        host_name=mdns.host_name if mdns is not None else socket.gethostname(),
        next_url=portal.config.next_url,
        ssid=ssid,
    )


@dataclass(frozen=True)
class PasswordRules:
    """The page's copy of a password rule (the server checks it again with app.rules)."""

    minlength: int | None
    maxlength: int
    pattern: str | None


def password_rules(security: SecurityKind) -> PasswordRules:
    """The HTML constraints of a password field for `security`."""
    if security in (SecurityKind.WPA_PSK, SecurityKind.WPA_PSK_SAE):
        pattern = f"[ -~]{{{PSK_MIN_CHARS},{PSK_MAX_CHARS}}}|[0-9A-Fa-f]{{{PSK_HEX_CHARS}}}"
        return PasswordRules(PSK_MIN_CHARS, PSK_HEX_CHARS, pattern)
    if security is SecurityKind.WEP:
        pattern = f"[ -~]{{1,{WEP_PASSPHRASE_MAX_CHARS}}}"
        return PasswordRules(None, WEP_PASSPHRASE_MAX_CHARS, pattern)
    return PasswordRules(None, PASSWORD_MAX_CHARS, None)


def signal_bars(strength: int) -> int:
    """How many of four bars a signal strength (0-100) lights."""
    return 1 + sum(strength >= threshold for threshold in (25, 50, 75))


@dataclass(frozen=True)
class NetworkRow:
    """One network as the page lists it."""

    key: str
    ssid: str
    security: SecurityKind
    words: str
    strength: int
    bars: int
    hint: str
    rules: PasswordRules

    @property
    def locked(self) -> bool:
        """True when joining needs a secret."""
        return self.security.needs_passphrase


def network_rows(language: Language, networks: Iterable[WifiNetwork]) -> list[NetworkRow]:
    """The rows of the network list."""
    t = language.translations
    return [
        NetworkRow(
            key=str(index),
            ssid=network.display_ssid,
            security=network.security,
            words=security_words(t, network.security),
            strength=network.strength,
            bars=signal_bars(network.strength),
            hint=passphrase_hint(t, network.security),
            rules=password_rules(network.security),
        )
        for index, network in enumerate(unique_networks(networks), start=1)
    ]


@dataclass(frozen=True)
class SecurityOption:
    """A choice in the "Other network" security list."""

    value: str
    words: str
    fields: str
    hint: str
    rules: PasswordRules


def security_options(language: Language) -> list[SecurityOption]:
    """What a user may state for a hidden network, with the fields each needs."""
    t = language.translations
    options = []
    for security in STATED_SECURITY:
        fields = []
        if security.needs_identity:
            fields.append("identity")
        if security.needs_passphrase:
            fields.append("passphrase")
        options.append(
            SecurityOption(
                value=security.auth,
                words=security_choice(t, security),
                fields=" ".join(fields),
                hint=passphrase_hint(t, security),
                rules=password_rules(security),
            )
        )
    return options


OTHER = "other"
# The "Advanced" disclosure's fields, in the order the page shows them.
IPV4_FIELDS = (IPV4_ADDRESS, IPV4_GATEWAY, IPV4_DNS)
# The first page lists this many networks, strongest first, and links to the rest: a crowded
# street scans 50 or more, and the first load must stay small (and the far ones rarely work).
LIST_LIMIT = 15


@dataclass(frozen=True)
class FormState:
    """What the network list shows besides the networks: the open row, kept input, errors."""

    # The display name of the open row, OTHER for "Other network…", None for none.
    chosen: str | None = None
    ssid: str = ""
    identity: str = ""
    security: str = SecurityKind.WPA_PSK.auth
    errors: Mapping[str, str] = field(default_factory=dict)
    # The "Advanced" fields as typed (app.rules.IPV4_*): kept, unlike the password.
    ipv4: Mapping[str, str] = field(default_factory=dict)

    @property
    def advanced_open(self) -> bool:
        """True when the chosen row's "Advanced" disclosure shows: something typed or wrong."""
        return any(self.ipv4.values()) or any(name in self.errors for name in IPV4_FIELDS)


def index_context(
    language: Language,
    networks: Iterable[WifiNetwork],
    status: FlowStatus,
    form: FormState | None = None,
    *,
    show_all: bool = False,
    identify: bool = False,
    identifying: bool = False,
) -> dict[str, Any]:
    """What index.html needs; the chosen row is always listed, even beyond the limit."""
    attempt = status.last_attempt
    notice = attempt_texts(language.translations, attempt) if attempt is not None else []
    rows = network_rows(language, networks)
    chosen = form.chosen if form is not None else None
    shown = [
        row
        for position, row in enumerate(rows)
        if show_all or position < LIST_LIMIT or row.ssid == chosen
    ]
    return {
        "networks": shown,
        "hidden_count": len(rows) - len(shown),
        "options": security_options(language),
        "form": form or FormState(),
        "other": OTHER,
        "notice": notice,
        "identity_max": IDENTITY_MAX_BYTES,
        "wpa_hint": passphrase_hint(language.translations, SecurityKind.WPA_PSK),
        # The Identify button (IDENTIFY_COMMAND set), and whether it was just pressed.
        "identify": identify,
        "identifying": identifying,
    }


def _luminance(color: str) -> float:
    """WCAG relative luminance of #rrggbb."""

    def channel(value: int) -> float:
        srgb = value / 255
        return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _darken(color: str, factor: float) -> str:
    """`color` with each channel scaled by `factor`."""
    channels = (round(int(color[i : i + 2], 16) * factor) for i in (1, 3, 5))
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def theme_css(brand_color: str) -> str:
    """The rules that carry the brand colour: inlined after the UI's stylesheet, and /theme.css."""
    # The colour was checked once, in app.config: it is #rrggbb.
    accent = brand_color.lower()
    # Buttons take whichever of white or black text reads better on the accent.
    white_wins = contrast(accent, "#ffffff") >= contrast(accent, "#000000")
    on_accent = "#ffffff" if white_wins else "#000000"
    # Links and bars sit on white: a light brand colour is darkened until it is readable there.
    accent_text = accent
    while contrast(accent_text, "#ffffff") < _TEXT_CONTRAST:
        accent_text = _darken(accent_text, 0.9)
    return f":root{{--accent:{accent};--on-accent:{on_accent};--accent-text:{accent_text}}}\n"
