"""Request handlers: the page, the wifi-connect API and the files the page needs."""

from __future__ import annotations

import asyncio
import gettext
import json
import logging
from collections.abc import Mapping
from enum import Enum
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from markupsafe import Markup

from app.errors import FlowBusy, NotYourTurn, ValidationError, WifiConnectError
from app.flow.networks import find_network
from app.flow.report import networks_json, status_json
from app.portal import csrf
from app.portal.assets import file_response
from app.portal.forms import Submission, credentials_for, parse_submission
from app.portal.openapi import openapi_document
from app.portal.pages import (
    IPV4_FIELDS,
    OTHER,
    FormState,
    Language,
    client_of,
    device_whereabouts,
    index_context,
    language_of,
    message_page,
    render,
)
from app.portal.ratelimit import RateLimiter
from app.portal.state import EVERYONE, PORTAL, Portal
from app.portal.ui import resolve_file
from app.rules import display_ssid, inert_text

_LOGGER = logging.getLogger(__name__)

# Operator-built single-page UIs (wifi-connect's own among them) ship an inline script loader and
# inject styles, so their pages get this policy; it still allows nothing from another origin.
SITE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'; frame-ancestors 'none'"
)


class BodyKind(Enum):
    """How a POST body is encoded."""

    JSON = "json"
    FORM = "form"
    NONE = "none"
    OTHER = "other"


def body_kind(request: web.Request) -> BodyKind:
    """What a POST carries; a form is what a cross-site page can send without a preflight."""
    if request.content_type == "application/json":
        return BodyKind.JSON
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return BodyKind.FORM
    if not request.can_read_body:
        return BodyKind.NONE
    return BodyKind.OTHER


def _json_error(status: int, error: str, field: str | None = None, **headers: str) -> web.Response:
    """The API's error answer."""
    return web.json_response({"error": error, "field": field}, status=status, headers=headers)


class BodyRefused(Exception):
    """A body the portal will not read: the status to answer and what the client is told."""

    def __init__(self, status: int, text: str, *, close: bool = False) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        # What is left of the body cannot be read: the connection ends with the answer.
        self.close = close


async def read_fields(request: web.Request, kind: BodyKind) -> dict[str, object]:
    """A JSON object's or a form's fields (first value of each), read within the body timeout.

    Every handler that reads a body reads it here. aiohttp's keep-alive timer stops while a
    handler runs, so without the bound a body that never arrives would hold the connection
    forever. Uploads stay non-text, so validation refuses them.
    """
    t = language_of(request).translations
    try:
        async with asyncio.timeout(request.app[PORTAL].body_timeout):
            if kind is BodyKind.JSON:
                return _json_object(await request.read(), t)
            posted = await request.post()
    except TimeoutError:
        _LOGGER.info("Gave up on the body of a request from %s", client_of(request))
        text = t.gettext("The request took too long to arrive.")
        raise BodyRefused(408, text, close=True) from None
    except ConnectionError:
        # The phone left (out of range, page closed) before its body was in: an answer nobody
        # reads, and no traceback for what clients do every day.
        _LOGGER.info("A client at %s left before its request's body arrived", client_of(request))
        raise BodyRefused(400, _malformed(t, kind), close=True) from None
    except LookupError:
        # A charset Python does not know, on a form or on one of its parts.
        _LOGGER.info("Refused a body in an unknown character set from %s", client_of(request))
        text = t.gettext("The request names a character set the portal does not read.")
        raise BodyRefused(415, text) from None
    except (ValueError, RecursionError, HttpProcessingError, web.RequestPayloadError):
        # A broken body: JSON nested past the parser's depth, a form without a boundary or with
        # a bad part header, bytes that do not follow their Content-Encoding. The client's
        # fault, a 400, never a 500.
        _LOGGER.info("Refused a malformed body from %s", client_of(request))
        broken = request.content.exception() is not None
        if broken:
            # The stream itself failed (its decoding): no more of it will come, and aiohttp
            # must not read on after the answer, which would log the same failure as a crash.
            request.content.feed_eof()
        raise BodyRefused(400, _malformed(t, kind), close=broken) from None
    return {key: posted.getone(key) for key in posted}


def _malformed(t: gettext.NullTranslations, kind: BodyKind) -> str:
    """What a client whose body could not be read is told."""
    if kind is BodyKind.JSON:
        return t.gettext("The request body is not valid JSON.")
    return t.gettext("The form could not be read.")


def _json_object(raw: bytes, t: gettext.NullTranslations) -> dict[str, object]:
    """A JSON body's object; JSON is UTF-8 (RFC 8259), whatever charset the request names."""
    body = json.loads(raw.decode("utf-8"))
    if not isinstance(body, dict):
        raise BodyRefused(400, t.gettext("The request body must be a JSON object."))
    return body


def _refused(
    request: web.Request, kind: BodyKind, language: Language, refusal: BodyRefused
) -> web.Response:
    """A refused body's answer: a page after a form, else the API's error."""
    if kind is BodyKind.FORM:
        title = language.translations.gettext("Something went wrong")
        response = message_page(request, status=refusal.status, title=title, text=refusal.text)
    else:
        response = _json_error(refusal.status, refusal.text)
    if refusal.close:
        response.force_close()
    return response


def _csrf_refused(request: web.Request, language: Language) -> web.Response:
    """403 for a form without this client's token: a friendly page, never a bare error."""
    _LOGGER.warning("Refused a form from %s without a valid CSRF token", client_of(request))
    t = language.translations
    return message_page(
        request,
        status=403,
        title=t.gettext("This page has expired"),
        text=t.gettext("Please open the list of networks again and repeat your choice."),
    )


async def index(request: web.Request) -> web.Response:
    """GET /: the network list, with the last attempt's outcome when it failed."""
    portal = request.app[PORTAL]
    language = language_of(request)
    networks = await portal.controller.networks()
    show_all = "all" in request.query
    context = index_context(
        language,
        networks,
        portal.controller.status(),
        show_all=show_all,
        identify=portal.identifier is not None,
        identifying=IDENTIFYING in request.query,
    )
    return render(request, "index.html", context)


async def connecting(request: web.Request) -> web.Response:
    """GET /connecting: what happens next, after a form submission."""
    # Any text a link carries, not only a name the portal showed: hidden characters escaped.
    name = inert_text(request.query.get("ssid", ""))
    # Isolated, so a name in a right-to-left script cannot reorder the sentence around it.
    shown = Markup("<bdi>%s</bdi>") % name if name else ""
    where = device_whereabouts(request, name)
    context = {"ssid": shown, "local_url": where.local_url, "next_url": where.next_url}
    return render(request, "connecting.html", context)


async def networks(request: web.Request) -> web.Response:
    """GET /networks."""
    found = await request.app[PORTAL].controller.networks()
    return web.json_response(networks_json(found))


async def status(request: web.Request) -> web.Response:
    """GET /status."""
    t = language_of(request).translations
    body = status_json(request.app[PORTAL].controller.status(), t)
    return web.json_response(body)


async def rescan(request: web.Request) -> web.Response:
    """POST /rescan: a form goes back to the list; a script gets the new list as JSON."""
    portal = request.app[PORTAL]
    kind = body_kind(request)
    language = language_of(request)
    t = language.translations
    refused = await _refused_action(request, kind, language, portal.rescan_limit, "rescan")
    if refused is not None:
        return refused
    try:
        found = await portal.controller.rescan()
    except WifiConnectError as error:
        busy = isinstance(error, FlowBusy)
        _LOGGER.log(logging.INFO if busy else logging.WARNING, "Rescan failed: %s", error)
        status = 409 if busy else 503
        if kind is BodyKind.FORM:
            # Said, not hidden behind the old list: the phone would wait for a scan that failed.
            title = t.gettext("Please try again") if busy else t.gettext("Could not scan")
            return message_page(request, status=status, title=title, text=str(error))
        return _json_error(status, str(error))
    if kind is BodyKind.FORM:
        raise web.HTTPSeeOther(_url(request, "index"))
    return web.json_response(networks_json(found))


async def _refused_action(
    request: web.Request, kind: BodyKind, language: Language, limit: RateLimiter, what: str
) -> web.Response | None:
    """The refusal of an action's POST (no body, JSON or the page's form), else None.

    415 for another body, 403 for a body-less one another site sent or a form without this
    phone's token, 429 past `limit`; a form is read here, the rest of a body never is.
    """
    portal = request.app[PORTAL]
    if kind is BodyKind.OTHER:
        return _json_error(415, language.translations.gettext("Send JSON, a form or no body."))
    if kind is BodyKind.NONE and _cross_site(request, portal):
        return _cross_site_refused(request, language)
    limited = _rate_limited(request, kind, language, limit, what)
    if limited is not None:
        return limited
    if kind is BodyKind.FORM:
        try:
            fields = await read_fields(request, kind)
        except BodyRefused as refusal:
            return _refused(request, kind, language, refusal)
        if not portal.csrf.valid(client_of(request), _token(fields)):
            return _csrf_refused(request, language)
    return None


def _cross_site(request: web.Request, portal: Portal) -> bool:
    """True for a request a page of another site sent (the browser says so).

    A body-less POST needs no preflight and carries no CSRF token, so a page anywhere could
    make a phone's browser send one; browsers name the sending page's origin.
    """
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return False
    # "null" (a sandboxed or privacy-sensitive context) is not the portal either.
    return urlsplit(origin.strip()).netloc.lower() not in portal.hosts


def _cross_site_refused(request: web.Request, language: Language) -> web.Response:
    """403 for a body-less POST another site's page sent."""
    _LOGGER.warning("Refused a request from %s sent by another site", client_of(request))
    t = language.translations
    return _json_error(
        403, t.gettext("Please open the list of networks again and repeat your choice.")
    )


def _rate_limited(
    request: web.Request, kind: BodyKind, language: Language, limit: RateLimiter, what: str
) -> web.Response | None:
    """429 with Retry-After when this client went past `limit`, else None."""
    client = client_of(request)
    retry_after = limit.hit(client)
    if retry_after is None:
        return None
    # One line per flood, not one per request: a flooder must not fill the journal.
    level = logging.WARNING if limit.first_refusal(client) else logging.DEBUG
    _LOGGER.log(level, "Too many %s requests from %s", what, client)
    t = language.translations
    text = t.gettext("Too many attempts. Please wait %(seconds)s seconds and try again.") % {
        "seconds": retry_after
    }
    return _try_later(request, kind, language, text, retry_after)


def _try_later(
    request: web.Request, kind: BodyKind, language: Language, text: str, retry_after: int
) -> web.Response:
    """429 with Retry-After: a page after a form, else the API's error."""
    headers = {"Retry-After": str(retry_after)}
    if kind is BodyKind.FORM:
        title = language.translations.gettext("Please wait")
        return message_page(request, status=429, title=title, text=text, headers=headers)
    return _json_error(429, text, **headers)


def _token(fields: Mapping[str, object]) -> str | None:
    """The CSRF token a form sent, if it is text."""
    token = fields.get(csrf.FIELD)
    return token if isinstance(token, str) else None


async def connect(request: web.Request) -> web.Response:
    """POST /connect: JSON (wifi-connect's UI, scripts) or the page's form."""
    portal = request.app[PORTAL]
    language = language_of(request)
    t = language.translations
    kind = body_kind(request)
    if kind is BodyKind.NONE and _cross_site(request, portal):
        return _cross_site_refused(request, language)
    limited = _rate_limited(request, kind, language, portal.connect_limit, "connect")
    if limited is not None:
        return limited
    if kind not in (BodyKind.FORM, BodyKind.JSON):
        return _json_error(415, t.gettext("Send the fields as JSON or as a form."))
    try:
        fields = await read_fields(request, kind)
    except BodyRefused as refusal:
        return _refused(request, kind, language, refusal)
    if kind is BodyKind.FORM and not portal.csrf.valid(client_of(request), _token(fields)):
        return _csrf_refused(request, language)

    submission: Submission | None = None
    try:
        submission = parse_submission(t, fields)
        available = await portal.controller.networks()
        credentials = credentials_for(t, submission, available, english=language.english)
        static = credentials.ipv4
        _LOGGER.info(
            "Portal request to join '%s' (%s%s%s)",
            display_ssid(credentials.ssid),
            credentials.security,
            ", hidden" if credentials.hidden else "",
            f", static {static.address} via {static.gateway}" if static is not None else "",
        )
        await portal.controller.submit(credentials, client_of(request))
    except ValidationError as error:
        _LOGGER.info("Portal request refused: %s: %s", error.field, error.message)
        if kind is BodyKind.JSON:
            return _json_error(400, error.message, error.field)
        return await _form_again(request, language, fields, submission, error)
    except NotYourTurn as error:
        _LOGGER.info("The flow let another phone go first: %s", error)
        return _try_later(request, kind, language, str(error), error.retry_after)
    except WifiConnectError as error:
        # Busy or starting: the client asked at the wrong moment, not a fault of the device.
        busy = isinstance(error, FlowBusy)
        status = 409 if busy else 503
        _LOGGER.log(
            logging.INFO if busy else logging.ERROR, "The flow did not take the request: %s", error
        )
        if kind is BodyKind.JSON:
            return _json_error(status, str(error))
        return message_page(
            request, status=status, title=t.gettext("Please try again"), text=str(error)
        )
    if kind is BodyKind.JSON:
        where = device_whereabouts(request, display_ssid(credentials.ssid))
        return web.json_response(
            {"status": "connecting", "local_url": where.local_url, "next_url": where.next_url}
        )
    # Redirect after POST: a reload of the next page never sends the password again.
    connecting_url = request.app.router["connecting"].url_for()
    raise web.HTTPSeeOther(connecting_url.with_query(ssid=display_ssid(credentials.ssid)))


# The query that makes the page say the device is identifying itself (after the form's POST).
IDENTIFYING = "identifying"


async def identify(request: web.Request) -> web.Response:
    """POST /identify: run IDENTIFY_COMMAND (no input of the phone's reaches it); 404 unset.

    At most one run at a time: JSON gets 202 when it started, 409 while one runs; the page's
    form goes back to the page saying the device identifies itself, which is true either way.
    """
    portal = request.app[PORTAL]
    identifier = portal.identifier
    if identifier is None:
        raise web.HTTPNotFound()
    kind = body_kind(request)
    language = language_of(request)
    t = language.translations
    refused = await _refused_action(request, kind, language, portal.identify_limit, "identify")
    if refused is not None:
        return refused
    # All phones together, counted only for requests that got this far.
    if (retry_after := portal.identify_total_limit.hit(EVERYONE)) is not None:
        if portal.identify_total_limit.first_refusal(EVERYONE):
            _LOGGER.warning("Too many identify requests from all phones together")
        text = t.gettext(
            "The device was asked to identify itself too often. Please wait %(seconds)s seconds."
        ) % {"seconds": retry_after}
        return _try_later(request, kind, language, text, retry_after)
    started = identifier.start()
    _LOGGER.info(
        "Identify requested by %s%s", client_of(request), "" if started else " (already running)"
    )
    if kind is BodyKind.FORM:
        index_url = request.app.router["index"].url_for()
        raise web.HTTPSeeOther(index_url.with_query({IDENTIFYING: "1"}))
    if not started:
        return _json_error(409, t.gettext("The device is already identifying itself."))
    return web.json_response({"status": "identifying"}, status=202)


def _url(request: web.Request, route: str) -> str:
    """The path of one of the portal's named routes."""
    return str(request.app.router[route].url_for())


async def _form_again(
    request: web.Request,
    language: Language,
    fields: Mapping[str, object],
    submission: Submission | None,
    error: ValidationError,
) -> web.Response:
    """The list again with the error next to its field; the password is never sent back."""
    portal = request.app[PORTAL]
    available = await portal.controller.networks()
    ssid, identity, security = (_text(fields, name) for name in ("ssid", "identity", "security"))
    ipv4 = {name: _text(fields, name) for name in IPV4_FIELDS}
    hidden = submission.hidden if submission is not None else _text(fields, "hidden") != ""
    listed = find_network(available, ssid) is not None
    form = FormState(
        chosen=ssid if listed and not hidden else OTHER,
        ssid=ssid,
        identity=identity,
        security=security or FormState.security,
        errors={error.field: error.message},
        ipv4=ipv4,
    )
    context = index_context(
        language,
        available,
        portal.controller.status(),
        form,
        identify=portal.identifier is not None,
    )
    return render(request, "index.html", context, status=400)


def _text(fields: Mapping[str, object], name: str) -> str:
    """A submitted field as text to put back in the form ("" when absent or not text)."""
    value = fields.get(name)
    return value if isinstance(value, str) else ""


async def openapi(request: web.Request) -> web.Response:
    """GET /openapi.json: the API's description."""
    return web.json_response(openapi_document())


async def theme(request: web.Request) -> web.Response:
    """GET /theme.css: the brand colour."""
    return web.Response(text=request.app[PORTAL].theme_css, content_type="text/css")


async def logo(request: web.Request) -> web.StreamResponse:
    """GET /logo: PORTAL_BRAND_LOGO, else the bundled logo."""
    portal = request.app[PORTAL]
    path = portal.config.brand_logo or resolve_file(portal.layout.static_dirs, "logo.svg")
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return await file_response(request, path, portal.gzip_cache)


async def favicon(request: web.Request) -> web.Response:
    """GET /favicon.ico: nothing, cheaply (the page names no icon; browsers ask anyway)."""
    return web.Response(status=204)


async def static_file(request: web.Request) -> web.StreamResponse:
    """GET /static/...: the UI's files, an override's first."""
    portal = request.app[PORTAL]
    path = resolve_file(portal.layout.static_dirs, request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    return await file_response(request, path, portal.gzip_cache)


async def site_file(request: web.Request) -> web.StreamResponse:
    """GET / and below in a static UI_DIRECTORY: its index.html and the files it loads."""
    portal = request.app[PORTAL]
    site = portal.layout.site_dir
    assert site is not None  # this route exists only for a static UI
    path = resolve_file((site,), request.match_info.get("path") or "index.html")
    if path is None:
        raise web.HTTPNotFound()
    return await file_response(
        request, path, portal.gzip_cache, headers={"Content-Security-Policy": SITE_CSP}
    )
