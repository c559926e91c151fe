"""Captive redirects, the body cap, friendly errors and the headers every response carries."""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from app.portal.pages import client_of, language_of, message_page, sign_in_page
from app.portal.state import PORTAL
from app.rules import inert_text

_LOGGER = logging.getLogger(__name__)

# What phones and laptops fetch to learn whether they are online (see the reference facts and
# README's "Captive probes"): anything but the expected answer opens their sign-in sheet, so each
# gets the portal, on a foreign host and on the gateway's own address alike.
PROBE_PATHS = frozenset(
    {
        "/hotspot-detect.html",  # Apple
        "/library/test/success.html",  # Apple, older
        "/generate_204",  # Android and its vendors (Samsung, Xiaomi, Huawei, vivo), Chrome
        "/gen_204",  # Chrome, ChromeOS
        "/connecttest.txt",  # Windows
        "/ncsi.txt",  # Windows, older
        "/redirect",  # Windows opens this one in the browser
        "/success.txt",  # Firefox
        "/canonical.html",  # Firefox
        "/kindle-wifi/wifistub.html",  # Kindle
    }
)
# Android's probes get a page (200) that leads to the portal instead of a redirect: Samsung's
# phones show no sign-in sheet for a 302, while a 200 with a body is a portal to every Android
# (only a 204, or a 200 with an empty body, means online) and to Chrome.
SIGN_IN_PAGE_PATHS = frozenset({"/generate_204", "/gen_204"})
# The largest request body the portal reads: a connect form is a few hundred bytes.
MAX_BODY = 4096


def page_csp(style_source: str) -> str:
    """The portal's policy: nothing from elsewhere, no inline script, one inline style.

    `style_source` is the hash of the page's own <style> (app.portal.style); files from the
    portal ('self') stay allowed, for a UI_DIRECTORY's templates that link stylesheets.
    """
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self' {style_source}; "
        "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'; frame-ancestors 'none'"
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# The portal is a moment in a device's life: nothing of it may be served from a cache later,
# unless a handler says otherwise (the UI's files, app.portal.assets).
DEFAULT_CACHE_CONTROL = "no-store"
# Requests of a phone that opened the portal: such a phone may be waiting for its turn
# (app.flow.turns). A status poll, a probe or the device's own health check says nothing of that.
_TURN_ROUTES = frozenset({"index", "networks", "connect", "rescan"})
# Answered as JSON when they fail; everything else a browser may be looking at.
_API_PATHS = frozenset({"/networks", "/status"})


@web.middleware
async def captive_redirect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send every probe, and every request for another host, to the portal's own URL."""
    portal = request.app[PORTAL]
    route = request.match_info.route.name
    portal.controller.note_request(client_of(request) if route in _TURN_ROUTES else None)
    host = request.headers.get(hdrs.HOST, "").strip().lower()
    path = request.path.lower()
    if host not in portal.hosts or path in PROBE_PATHS:
        # Both come from the client: a control byte in them must not reach the log raw.
        _LOGGER.debug("Captive redirect of http://%s%s", inert_text(host), inert_text(request.path))
        if path in SIGN_IN_PAGE_PATHS:
            return sign_in_page(request)
        raise web.HTTPFound(portal.config.portal_url)
    return await handler(request)


@web.middleware
async def body_cap(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared body above MAX_BODY before reading any of it."""
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=length)
    return await handler(request)


def wants_json(request: web.Request) -> bool:
    """True when the client reads JSON (an API path, or a JSON request), not a page."""
    if request.path in _API_PATHS or request.content_type == "application/json":
        return True
    accept = request.headers.get(hdrs.ACCEPT, "")
    return "application/json" in accept and "text/html" not in accept


@web.middleware
async def friendly_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn a raised 4xx/5xx into JSON or a short page in the user's language."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        t = language_of(request).translations
        titles = {
            404: t.gettext("Page not found"),
            405: t.gettext("Not possible here"),
            413: t.gettext("Too much data"),
        }
        texts = {
            404: t.gettext("There is nothing at this address."),
            405: t.gettext("This address does not take that kind of request."),
            413: t.gettext("The request was too large."),
        }
        text = texts.get(error.status, error.reason)
        title = titles.get(error.status, t.gettext("Something went wrong"))
        # Allow (405) and Retry-After must survive the rewrite; the rest is the new body's.
        headers = {
            str(name): error.headers[name]
            for name in (hdrs.ALLOW, hdrs.RETRY_AFTER)
            if name in error.headers
        }
        if wants_json(request):
            return web.json_response(
                {"error": text, "field": None}, status=error.status, headers=headers
            )
        return message_page(request, status=error.status, title=title, text=text, headers=headers)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the same protective headers on every response, errors included."""
    response.headers.setdefault("Content-Security-Policy", request.app[PORTAL].csp)
    response.headers.setdefault(hdrs.CACHE_CONTROL, DEFAULT_CACHE_CONTROL)
    response.headers.update(SECURITY_HEADERS)
