"""The first load (HTML, CSS, JS, logo) stays within 30 KB uncompressed, even in a crowd."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from app.flow.state import AttemptOutcome, FlowState, FlowStatus
from app.nm.models import FailureKind
from app.portal.app import create_app
from app.portal.pages import LIST_LIMIT
from app.wifi import SecurityKind
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
    network,
)

BUDGET = 30_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Subresources(HTMLParser):
    """Everything a browser fetches to show the page: stylesheets, scripts, images, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "img") and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"] or "")


async def first_load(client: Client) -> dict[str, int]:
    """Bytes of the page and of each resource it pulls in, as transferred without compression."""
    response = await client.get("/", headers={"Accept-Encoding": "identity"})
    html = await response.read()
    sizes = {"/": len(html)}
    parser = Subresources()
    parser.feed(html.decode())
    # A browser without a <link rel=icon> asks for this too.
    for url in [*parser.urls, "/favicon.ico"]:
        sub = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert sub.status in (200, 204), url
        sizes[url] = len(await sub.read())
    return sizes


def crowded_scan() -> list[object]:
    """50 networks with 32-byte names in a realistic mix of kinds."""
    kinds = [SecurityKind.WPA_PSK] * 6 + [
        SecurityKind.WPA_PSK_SAE,
        SecurityKind.SAE,
        SecurityKind.OPEN,
        SecurityKind.WPA_EAP,
    ]
    return [
        network(f"Neighbourhood network number {i:02d}".encode()[:32], kinds[i % 10], 99 - i)
        for i in range(50)
    ]


async def test_first_load_fits_the_budget(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    controller.available = crowded_scan()  # type: ignore[assignment]
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Neighbourhood network number 00", FailureKind.NOT_FOUND)
    )
    client = await aiohttp_client(create_app(make_config(), controller), headers={"Host": GATEWAY})
    sizes = await first_load(client)
    total = sum(sizes.values())
    ARTIFACTS.mkdir(exist_ok=True)
    report = "\n".join(f"{size:>7} {url}" for url, size in sizes.items())
    (ARTIFACTS / "first-load.txt").write_text(
        f"{report}\n{total:>7} total for {LIST_LIMIT} listed networks of 50 (budget {BUDGET})\n"
    )
    assert set(sizes) == {
        "/",
        "/static/portal.js",
        "/logo",
        "/favicon.ico",
    }
    assert total <= BUDGET, report


async def test_first_load_with_a_typical_scan(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    client = await aiohttp_client(create_app(make_config(), controller), headers={"Host": GATEWAY})
    assert sum((await first_load(client)).values()) <= BUDGET
