"""The portal application factory."""

from __future__ import annotations

import logging
import os

import jinja2
from aiohttp import web

from app.config import Config
from app.identify import Identifier, identify_environment
from app.portal.controller import PortalController
from app.portal.i18n import load_catalogs
from app.portal.middlewares import (
    MAX_BODY,
    body_cap,
    captive_redirect,
    friendly_errors,
    page_csp,
    security_headers,
)
from app.portal.pages import theme_css
from app.portal.routes import setup_routes
from app.portal.state import PORTAL, Portal, accepted_hosts
from app.portal.style import page_style
from app.portal.ui import UiLayout, ui_layout

_LOGGER = logging.getLogger(__name__)


def template_environment(layout: UiLayout) -> jinja2.Environment:
    """Jinja with autoescaping always on (SSIDs are attacker-controlled) and gettext."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layout.template_dirs),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Each render passes its language's gettext in the context; these only make a template
    # rendered without one fall back to English instead of failing.
    environment.install_null_translations()  # type: ignore[attr-defined]
    return environment


def create_app(config: Config, controller: PortalController) -> web.Application:
    """The captive portal for `config`, talking to the flow through `controller`."""
    layout = ui_layout(config.ui_directory)
    theme = theme_css(config.brand_color)
    # Read and hashed once: what every page inlines is what the policy allows.
    style = page_style(layout, theme)
    portal = Portal(
        config=config,
        controller=controller,
        layout=layout,
        templates=template_environment(layout),
        catalogs=load_catalogs(layout.locale_dirs, config.language),
        hosts=accepted_hosts(config.gateway, config.listening_port),
        theme_css=theme,
        style=style,
        csp=page_csp(style.csp_source),
        identifier=_identifier(config),
    )
    # client_max_size stops a chunked body (no Content-Length) at the same cap.
    app = web.Application(
        middlewares=[captive_redirect, friendly_errors, body_cap], client_max_size=MAX_BODY
    )
    app[PORTAL] = portal
    app.on_response_prepare.append(security_headers)
    app.on_cleanup.append(_close_identifier)
    setup_routes(app, layout)
    _LOGGER.debug("Portal at %s serving the %s UI", config.portal_url, layout.mode.value)
    return app


def _identifier(config: Config) -> Identifier | None:
    """IDENTIFY_COMMAND's runner, when it is set."""
    if config.identify_command is None:
        return None
    return Identifier(config.identify_command, identify_environment(os.environ, config.ssid))


async def _close_identifier(app: web.Application) -> None:
    """on_cleanup: the portal owns its identify command; none outlives the server."""
    identifier = app[PORTAL].identifier
    if identifier is not None:
        await identifier.close()
