"""The portal's URL map; handlers find each other's addresses by these names (url_for)."""

from __future__ import annotations

from aiohttp import web

from app.portal import views
from app.portal.ui import UiLayout, UiMode


def setup_routes(app: web.Application, layout: UiLayout) -> None:
    """Register the API, then the page: the bundled one, or a static UI's files."""
    # The wifi-connect API is the same whichever UI is served.
    app.router.add_get("/networks", views.networks, name="networks")
    app.router.add_post("/connect", views.connect, name="connect")
    app.router.add_get("/status", views.status, name="status")
    app.router.add_post("/rescan", views.rescan, name="rescan")
    app.router.add_post("/identify", views.identify, name="identify")
    app.router.add_get("/logo", views.logo, name="logo")
    app.router.add_get("/theme.css", views.theme, name="theme")
    # Where a form submission lands, whichever UI sent it.
    app.router.add_get("/connecting", views.connecting, name="connecting")
    app.router.add_get("/openapi.json", views.openapi, name="openapi")
    if layout.mode is UiMode.STATIC:
        app.router.add_get("/", views.site_file, name="index")
        # Registered last, so it never shadows a route above.
        app.router.add_get("/{path:.+}", views.site_file, name="site_file")
        return
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/favicon.ico", views.favicon, name="favicon")
    app.router.add_get("/static/{path:.+}", views.static_file, name="static")
