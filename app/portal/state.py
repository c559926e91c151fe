"""What the portal's handlers share, kept on the application under typed keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

import jinja2
from aiohttp import web

from app.config import Config
from app.identify import Identifier
from app.portal.assets import GzipCache
from app.portal.controller import PortalController
from app.portal.csrf import CsrfTokens
from app.portal.i18n import Catalogs
from app.portal.ratelimit import RateLimiter
from app.portal.server import BODY_TIMEOUT
from app.portal.style import PageStyle
from app.portal.ui import UiLayout

# Names a request may carry in Host and still be "the portal itself"; loopback names count so
# the portal also works when it is served on 127.0.0.1 (`wifi-connect simulate`, tests).
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def accepted_hosts(gateway: IPv4Address, port: int) -> frozenset[str]:
    """Every Host header value that means the portal, lower case, with and without the port."""
    hosts: set[str] = set()
    for name in (str(gateway), *_LOOPBACK_HOSTS):
        hosts.update((name, f"{name}:{port}"))
    return frozenset(hosts)


# POST /connect per client address: a phone retrying a typo is fine, a flood gets 429s.
CONNECT_LIMIT = 5
CONNECT_WINDOW = 60.0
# POST /rescan per client address: a phone's "scan again" now and then; a loop gets 429s.
RESCAN_LIMIT = 10
RESCAN_WINDOW = 60.0
# POST /identify per client address, and from all phones together: a press now and then, while
# a crowd cannot keep the device blinking (or beeping) all day.
IDENTIFY_LIMIT = 6
IDENTIFY_TOTAL_LIMIT = 20
IDENTIFY_WINDOW = 60.0
# The key of the limit all phones share.
EVERYONE = "everyone"


@dataclass(frozen=True)
class Portal:
    """Everything a handler needs; built once by create_app."""

    config: Config
    controller: PortalController
    layout: UiLayout
    templates: jinja2.Environment
    catalogs: Catalogs
    hosts: frozenset[str]
    theme_css: str
    # The stylesheet every page carries inline, and the Content-Security-Policy that allows it.
    style: PageStyle
    csp: str
    csrf: CsrfTokens = field(default_factory=CsrfTokens)
    connect_limit: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=CONNECT_LIMIT, window=CONNECT_WINDOW)
    )
    rescan_limit: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=RESCAN_LIMIT, window=RESCAN_WINDOW)
    )
    # IDENTIFY_COMMAND's runner; None when it is not set (no button, POST /identify is 404).
    identifier: Identifier | None = None
    identify_limit: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=IDENTIFY_LIMIT, window=IDENTIFY_WINDOW)
    )
    identify_total_limit: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=IDENTIFY_TOTAL_LIMIT, window=IDENTIFY_WINDOW)
    )
    # The UI files' gzip bodies, made once each.
    gzip_cache: GzipCache = field(default_factory=GzipCache)
    # Seconds a handler waits for a body (tests make it short).
    body_timeout: float = BODY_TIMEOUT


PORTAL = web.AppKey("portal", Portal)
