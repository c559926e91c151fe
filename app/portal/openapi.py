"""The portal's OpenAPI 3.1 description, served at GET /openapi.json.

Built here, in one place, from the enums the answers are made of, so a new state or security
kind shows in the description without a second edit. A test checks it names exactly the routes
app/portal/routes.py registers (tests/portal/test_portal_openapi.py).
"""

from __future__ import annotations

import functools
from typing import Any

from app import __version__
from app.flow.state import FlowState, Service
from app.nm.models import FailureKind
from app.rules import IPV4_ADDRESS, IPV4_DNS, IPV4_DNS_MAX, IPV4_GATEWAY
from app.wifi import STATED_SECURITY, SecurityKind

_JSON = "application/json"
_HTML = "text/html"
_FORM = "application/x-www-form-urlencoded"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_HTML: {"schema": {"type": "string"}}}}


def _error(description: str) -> dict[str, Any]:
    """An error a script reads as JSON and a browser as a short page."""
    answer = _json(_ref("Error"), description)
    answer["content"][_HTML] = {"schema": {"type": "string"}}
    return answer


_SEE_OTHER = {
    "description": "A form was taken: the browser goes on to the next page",
    "headers": {"Location": {"schema": {"type": "string"}}},
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}

# Answers any route may give: a request too large for the cap, or a method the route lacks.
_COMMON = {
    "405": _error("The route does not take this method"),
    "413": _error("The request body is larger than the portal reads"),
}

# Answers any route that reads a body may give besides.
_BODY = {
    "408": _error("The body did not arrive in time; the connection is closed"),
}
_FORBIDDEN = _error(
    "A form without this client's CSRF token, or a body-less request another site's page sent"
)
_TOO_MANY = {**_error("Too many requests from this client"), "headers": _RETRY_AFTER}

_NETWORK = {
    "type": "object",
    "required": ["ssid", "security", "strength", "frequency", "auth"],
    "additionalProperties": False,
    "properties": {
        "ssid": {"type": "string", "description": "The name as shown; /connect takes it back"},
        "security": {"enum": sorted({kind.legacy for kind in SecurityKind})},
        "strength": {"type": "integer", "minimum": 0, "maximum": 100},
        "frequency": {"type": "integer", "minimum": 0},
        "auth": {"enum": sorted({kind.auth for kind in SecurityKind})},
    },
}
_CHECK = {
    "type": "object",
    "required": ["service", "target", "ok", "latency_ms", "reason"],
    "properties": {
        "service": {"enum": [service.value for service in Service]},
        "target": {"type": "string"},
        "ok": {"type": "boolean"},
        "latency_ms": {"type": ["number", "null"]},
        "reason": {"type": ["string", "null"]},
    },
}
_ATTEMPT = {
    "type": "object",
    "required": ["ssid", "ok", "failure", "nm_reason", "blocked", "reasons", "checks"],
    "properties": {
        "ssid": {"type": "string"},
        "ok": {"type": "boolean"},
        "failure": {"enum": [*(kind.value for kind in FailureKind), None]},
        "nm_reason": {"type": ["integer", "null"]},
        "blocked": {"type": "array", "items": {"enum": [service.value for service in Service]}},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "checks": {"type": "array", "items": _ref("Check")},
    },
}
_STATUS = {
    "type": "object",
    "required": ["state", "last_attempt"],
    "additionalProperties": False,
    "properties": {
        "state": {"enum": [state.value for state in FlowState]},
        "last_attempt": {"oneOf": [_ref("Attempt"), {"type": "null"}]},
        "trying": {
            "type": ["string", "null"],
            "description": "The network being joined while connecting or checking, else null",
        },
    },
}
_ERROR = {
    "type": "object",
    "required": ["error", "field"],
    "additionalProperties": False,
    "properties": {
        "error": {"type": "string", "minLength": 1},
        "field": {
            "description": "The request field at fault, or null for the request as a whole",
            "enum": [
                "ssid",
                "passphrase",
                "identity",
                "hidden",
                "security",
                IPV4_ADDRESS,
                IPV4_GATEWAY,
                IPV4_DNS,
                None,
            ],
        },
    },
}
_CONNECT_FIELDS = {
    "ssid": {"type": "string", "description": "A name from GET /networks, or a hidden one"},
    "passphrase": {"type": "string"},
    "identity": {"type": "string", "description": "The user name of an enterprise network"},
    "security": {"enum": sorted(STATED_SECURITY), "description": "For a hidden network"},
    IPV4_ADDRESS: {
        "type": "string",
        "description": "A static address with its prefix length, e.g. 192.168.1.127/24; "
        "absent or empty: DHCP",
        "examples": ["192.168.1.127/24"],
    },
    IPV4_GATEWAY: {
        "type": "string",
        "description": "The router's address, inside the address's network; with ipv4_address",
        "examples": ["192.168.1.1"],
    },
    IPV4_DNS: {
        "type": "string",
        "description": f"1 to {IPV4_DNS_MAX} DNS servers, comma-separated; with ipv4_address",
        "examples": ["192.168.1.1, 1.1.1.1"],
    },
}
_CONNECT = {
    "type": "object",
    "properties": {
        **_CONNECT_FIELDS,
        "hidden": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
    },
}
_CONNECT_FORM = {
    "type": "object",
    "required": ["csrf_token"],
    "properties": {
        **_CONNECT_FIELDS,
        "hidden": {"type": "string"},
        "csrf_token": {"type": "string", "description": "From the page's form"},
    },
}


def _get(summary: str, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {**answers, **_COMMON}, **extra}}


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole description; the same object each call, never changed after it is built."""
    networks = _json({"type": "array", "items": _ref("Network")}, "The networks in range")
    paths: dict[str, Any] = {
        "/networks": _get("The networks in range, strongest first", {"200": networks}),
        "/status": _get(
            "The flow's state and the last attempt's outcome",
            {"200": _json(_ref("Status"), "The state")},
        ),
        "/connect": {
            "post": {
                "summary": "Join a network (JSON from scripts, a form from the page)",
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {"schema": _ref("ConnectRequest")},
                        _FORM: {"schema": _ref("ConnectForm")},
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {
                                "status": {"const": "connecting"},
                                "local_url": {
                                    "type": ["string", "null"],
                                    "description": "http://HOSTNAME.local/ once online, when "
                                    "Avahi announced the device; else null",
                                },
                                "next_url": {
                                    "type": ["string", "null"],
                                    "description": "PORTAL_NEXT_URL with {hostname} and {ssid} "
                                    "filled in; null when unset",
                                },
                            },
                        },
                        "The device is joining the network",
                    ),
                    "303": _SEE_OTHER,
                    "400": _error("A field broke a rule (named in `field`), or the body did"),
                    "403": _FORBIDDEN,
                    "409": _error("The device is busy with an attempt, or still starting"),
                    "415": _error("The body is neither JSON nor a form, or in an unknown charset"),
                    "429": {
                        **_error(
                            "Too many attempts from this client, or another phone goes first "
                            "after this one's failed attempt"
                        ),
                        "headers": _RETRY_AFTER,
                    },
                    "503": _error("NetworkManager did not take the request"),
                    **_BODY,
                    **_COMMON,
                },
            }
        },
        "/rescan": {
            "post": {
                "summary": "Scan again (no body, JSON or the page's form)",
                "responses": {
                    "200": networks,
                    "303": _SEE_OTHER,
                    "400": _error("A form that could not be read"),
                    "403": _FORBIDDEN,
                    "409": _error("The device is still starting"),
                    "415": _error("The body is neither JSON nor a form, or in an unknown charset"),
                    "429": _TOO_MANY,
                    "503": _error("NetworkManager refused the scan"),
                    **_BODY,
                    **_COMMON,
                },
            }
        },
        "/identify": {
            "post": {
                "summary": "Run IDENTIFY_COMMAND (blink an LED, beep): no body, JSON or the "
                "page's form; nothing sent reaches the command",
                "requestBody": {
                    "required": False,
                    "content": {
                        # Never read: nothing a phone sends reaches the command.
                        _JSON: {"schema": {"description": "Any JSON, ignored"}},
                        _FORM: {
                            "schema": {
                                "type": "object",
                                "required": ["csrf_token"],
                                "properties": {
                                    "csrf_token": {
                                        "type": "string",
                                        "description": "From the page's form",
                                    }
                                },
                            }
                        },
                    },
                },
                "responses": {
                    "202": _json(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {"status": {"const": "identifying"}},
                        },
                        "The command started; its outcome goes to the log",
                    ),
                    "303": _SEE_OTHER,
                    "400": _error("A form that could not be read"),
                    "403": _FORBIDDEN,
                    "404": _error("IDENTIFY_COMMAND is not set"),
                    "409": _error("The command is running already (one at a time)"),
                    "415": _error("The body is neither JSON nor a form, or in an unknown charset"),
                    "429": {
                        **_error("Too many requests from this client, or from all together"),
                        "headers": _RETRY_AFTER,
                    },
                    **_BODY,
                    **_COMMON,
                },
            }
        },
        "/": _get(
            "The portal page",
            {"200": _page("The list of networks and the form")},
            parameters=[
                {"name": "all", "in": "query", "schema": {"type": "string"}},
                {"name": "identifying", "in": "query", "schema": {"type": "string"}},
            ],
        ),
        "/connecting": _get(
            "What happens next, after the form",
            {"200": _page("The next steps")},
            parameters=[{"name": "ssid", "in": "query", "schema": {"type": "string"}}],
        ),
        "/logo": _get(
            "The brand's logo",
            {"200": {"description": "The image"}, "404": _error("No logo")},
        ),
        "/theme.css": _get(
            "The brand colour as CSS",
            {
                "200": {
                    "description": "CSS",
                    "content": {"text/css": {"schema": {"type": "string"}}},
                }
            },
        ),
        "/favicon.ico": _get("Nothing: the page names no icon", {"204": {"description": "None"}}),
        "/static/{path}": _get(
            "The page's files",
            {"200": {"description": "The file"}, "404": _error("No such file")},
            parameters=[_path_parameter("path")],
        ),
        "/openapi.json": _get(
            "This description", {"200": _json({"type": "object"}, "OpenAPI 3.1")}
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wifi-connect portal",
            "version": __version__,
            "description": "balena wifi-connect's HTTP API, extended; see the README.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Network": _NETWORK,
                "Status": _STATUS,
                "Attempt": _ATTEMPT,
                "Check": _CHECK,
                "Error": _ERROR,
                "ConnectRequest": _CONNECT,
                "ConnectForm": _CONNECT_FORM,
            }
        },
    }
