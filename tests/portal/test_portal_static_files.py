"""A UI_DIRECTORY's files on the wire: gzip when accepted, cacheable when hashed, pages never."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import pytest

from app.portal.app import create_app
from app.portal.assets import (
    IMMUTABLE,
    NO_STORE,
    REVALIDATE,
    GzipCache,
    accepts_gzip,
    cache_control,
)
from app.portal.state import PORTAL
from tests.portal.bundle import minified_bundle
from tests.portal.helpers import GATEWAY, Client, ClientFactory, RecordingController, make_config

# The size of a React single-page UI's bundle, as wifi-connect's own UI ships one.
BUNDLE_SIZE = 1_900_000
BUNDLE = "static/js/main.js"
HASHED = "assets/index-BfX2k9aQ.js"
INDEX = (
    '<!doctype html><html><body><div id="root"></div>'
    '<script src="/static/js/main.js"></script></body></html>'
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5b0000000049454e44ae426082"
)
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def ui(tmp_path: Path) -> Path:
    """A prebuilt UI: its page, a large bundle, a hashed asset and an image."""
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / BUNDLE).write_bytes(minified_bundle(BUNDLE_SIZE))
    (tmp_path / "assets").mkdir()
    (tmp_path / HASHED).write_bytes(minified_bundle(50_000, seed=2))
    # Large enough to be compressed were it text; an image never is.
    (tmp_path / "assets" / "photo.png").write_bytes(PNG + bytes(8000))
    return tmp_path


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, controller: RecordingController, ui: Path
) -> Client:
    app = create_app(make_config(ui_directory=ui), controller)
    # auto_decompress off: the test sees the bytes that crossed the wire.
    return await aiohttp_client(app, headers={"Host": GATEWAY}, auto_decompress=False)


async def test_bundle_goes_out_gzipped_when_accepted(client: Client, ui: Path) -> None:
    response = await client.get("/" + BUNDLE, headers=GZIP)
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Type"] == "text/javascript"
    body = await response.read()
    assert int(response.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == (ui / BUNDLE).read_bytes()
    # Compressed once, kept: a second phone costs no compression.
    again = await client.get("/" + BUNDLE, headers=GZIP)
    assert await again.read() == body
    assert client.app[PORTAL].gzip_cache.compressions == 1


async def test_bundle_bytes_on_the_wire_shrink_to_under_a_third(client: Client) -> None:
    sent = len(await (await client.get("/" + BUNDLE, headers=GZIP)).read())
    assert sent < BUNDLE_SIZE / 3


async def test_bundle_goes_out_as_is_when_gzip_is_not_accepted(client: Client, ui: Path) -> None:
    for headers in (IDENTITY, {"Accept-Encoding": "gzip;q=0, br"}):
        response = await client.get("/" + BUNDLE, headers=headers)
        assert response.status == 200
        assert "Content-Encoding" not in response.headers
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Content-Type"] == "text/javascript"
        assert await response.read() == (ui / BUNDLE).read_bytes()
    assert client.app[PORTAL].gzip_cache.compressions == 0


async def test_a_fresh_precompressed_file_is_sent_instead(client: Client, ui: Path) -> None:
    # Marked so that only the precompressed file could have produced this body.
    marked = b"/* built with the precompressed bundle */"
    (ui / f"{BUNDLE}.gz").write_bytes(gzip.compress(marked))
    response = await client.get("/" + BUNDLE, headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.read()) == marked


async def test_a_stale_precompressed_file_is_ignored(client: Client, ui: Path) -> None:
    stale = ui / f"{BUNDLE}.gz"
    stale.write_bytes(gzip.compress(b"/* an older build */"))
    bundle = os.stat(ui / BUNDLE)
    os.utime(stale, ns=(bundle.st_atime_ns, bundle.st_mtime_ns - 10**9))
    response = await client.get("/" + BUNDLE, headers=GZIP)
    assert gzip.decompress(await response.read()) == (ui / BUNDLE).read_bytes()


async def test_a_changed_file_is_compressed_again(client: Client, ui: Path) -> None:
    await (await client.get("/" + HASHED, headers=GZIP)).read()
    changed = minified_bundle(60_000, seed=3)
    (ui / HASHED).write_bytes(changed)
    response = await client.get("/" + HASHED, headers=GZIP)
    assert gzip.decompress(await response.read()) == changed
    cache = client.app[PORTAL].gzip_cache
    assert cache.compressions == 2
    # The older version's body is dropped, not kept beside the new one.
    assert cache.size == len(gzip.compress(changed, compresslevel=6, mtime=0))


async def test_hashed_assets_are_kept_a_year_others_revalidated_pages_never(
    client: Client,
) -> None:
    hashed = await client.get("/" + HASHED, headers=GZIP)
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = await client.get("/" + BUNDLE, headers=GZIP)
    assert plain.headers["Cache-Control"] == "no-cache"
    for page in ("/", "/index.html"):
        assert (await client.get(page, headers=GZIP)).headers["Cache-Control"] == "no-store"
    # The API and the portal's own pages are never kept either.
    for dynamic in ("/networks", "/status", "/connecting"):
        assert (await client.get(dynamic)).headers["Cache-Control"] == "no-store"


async def test_revalidation_answers_not_modified(client: Client) -> None:
    for headers in (GZIP, IDENTITY):
        first = await client.get("/" + BUNDLE, headers=headers)
        etag = first.headers["ETag"]
        again = await client.get("/" + BUNDLE, headers={**headers, "If-None-Match": etag})
        assert again.status == 304
        assert await again.read() == b""
    # The gzip body and the file's own bytes are different representations: different tags.
    tags = {(await client.get("/" + BUNDLE, headers=h)).headers["ETag"] for h in (GZIP, IDENTITY)}
    assert len(tags) == 2


async def test_an_image_is_never_compressed(client: Client, ui: Path) -> None:
    response = await client.get("/assets/photo.png", headers=GZIP)
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert "Content-Encoding" not in response.headers
    assert "Vary" not in response.headers
    assert await response.read() == (ui / "assets" / "photo.png").read_bytes()


async def test_head_sends_the_headers_without_the_body(client: Client) -> None:
    gzipped = len(await (await client.get("/" + BUNDLE, headers=GZIP)).read())
    head = await client.head("/" + BUNDLE, headers=GZIP)
    assert head.status == 200
    assert head.headers["Content-Encoding"] == "gzip"
    assert int(head.headers["Content-Length"]) == gzipped
    assert await head.read() == b""
    plain = await client.head("/" + BUNDLE, headers=IDENTITY)
    assert int(plain.headers["Content-Length"]) == BUNDLE_SIZE


async def test_a_range_gets_the_files_bytes_or_the_whole_gzip_body(
    client: Client, ui: Path
) -> None:
    # Without gzip, a range is served from the file as is.
    partial = await client.get("/" + BUNDLE, headers={**IDENTITY, "Range": "bytes=100-199"})
    assert partial.status == 206
    assert partial.headers["Content-Range"] == f"bytes 100-199/{BUNDLE_SIZE}"
    assert await partial.read() == (ui / BUNDLE).read_bytes()[100:200]
    # With gzip, the range is ignored (as HTTP allows): the whole, smaller body comes instead.
    whole = await client.get("/" + BUNDLE, headers={**GZIP, "Range": "bytes=100-199"})
    assert whole.status == 200
    assert "Content-Range" not in whole.headers
    assert gzip.decompress(await whole.read()) == (ui / BUNDLE).read_bytes()


@pytest.mark.parametrize(
    "path",
    ["/../secret.js", "/static/../../secret.js", "/%2e%2e/secret.js", "/.hidden.js", "/link.js"],
)
async def test_nothing_outside_the_directory_is_served_gzipped_or_not(
    client: Client, ui: Path, path: str
) -> None:
    (ui.parent / "secret.js").write_text("secret" * 1000)
    (ui / ".hidden.js").write_text("hidden" * 1000)
    (ui / "link.js").symlink_to(ui.parent / "secret.js")
    response = await client.get(path, headers=GZIP)
    assert response.status == 404
    assert b"secret" not in await response.read()


async def test_the_bundled_uis_files_are_revalidated_and_gzipped(
    aiohttp_client: ClientFactory, controller: RecordingController
) -> None:
    client = await aiohttp_client(
        create_app(make_config(), controller), headers={"Host": GATEWAY}, auto_decompress=False
    )
    for path in ("/static/portal.css", "/static/portal.js", "/logo"):
        response = await client.get(path, headers=GZIP)
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Vary"] == "Accept-Encoding"
    assert (await client.get("/", headers=GZIP)).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("main.3f2a9c1b.js", IMMUTABLE),
        ("main.3f2a9c1b.chunk.js", IMMUTABLE),
        ("787.a1b2c3d4.chunk.css", IMMUTABLE),
        ("index-BfX2k9aQ.js", IMMUTABLE),
        ("main.3f2a9c1b.js.map", IMMUTABLE),
        ("vendor.0123456789abcdef0123.js", IMMUTABLE),
        ("main.js", REVALIDATE),
        ("jquery-compatibility.js", REVALIDATE),  # a word, not a hash
        ("report-20240101.css", REVALIDATE),  # a date, not a hash
        ("3f2a9c1b.js", REVALIDATE),  # the whole name: could be anything
        ("logo.png", REVALIDATE),
        ("index.html", NO_STORE),
        ("about.3f2a9c1b.html", NO_STORE),  # a page is never kept, hashed or not
    ],
)
def test_cache_policy_by_name(name: str, policy: str) -> None:
    assert cache_control(Path("/ui") / name) == policy


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("*", True),
        ("x-gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accepts_gzip(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


async def test_the_cache_stays_under_its_byte_cap(tmp_path: Path) -> None:
    cache = GzipCache(capacity=30_000)
    files = []
    for seed in range(4):
        path = tmp_path / f"chunk{seed}.js"
        path.write_bytes(minified_bundle(40_000, seed=seed))
        files.append(path)
        body = await cache.body(path, path.stat())
        assert gzip.decompress(body) == path.read_bytes()
        assert cache.size <= cache.capacity
    # The oldest were evicted to make room: asking again compresses again.
    await cache.body(files[0], files[0].stat())
    assert cache.compressions == 5
    # A body larger than the whole cap is served but never kept.
    huge = tmp_path / "huge.js"
    huge.write_bytes(minified_bundle(200_000, seed=9))
    before = cache.size
    assert gzip.decompress(await cache.body(huge, huge.stat())) == huge.read_bytes()
    assert cache.size == before


async def test_phones_asking_at_once_cost_one_compression(tmp_path: Path) -> None:
    cache = GzipCache()
    path = tmp_path / "main.js"
    path.write_bytes(minified_bundle(200_000))
    bodies = await asyncio.gather(*(cache.body(path, path.stat()) for _ in range(3)))
    assert len(set(bodies)) == 1
    assert cache.compressions == 1


async def test_a_file_too_large_to_keep_compressed_goes_out_as_is(client: Client, ui: Path) -> None:
    cache = client.app[PORTAL].gzip_cache
    # Half the cap is the largest file gzipped: a larger body might not fit, and would then
    # be compressed again for every phone.
    cache.capacity = BUNDLE_SIZE
    response = await client.get("/" + BUNDLE, headers=GZIP)
    assert "Content-Encoding" not in response.headers
    assert await response.read() == (ui / BUNDLE).read_bytes()
    assert cache.compressions == 0
