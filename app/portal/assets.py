"""The UI's files on the wire: gzip when the phone takes it, and how long a browser keeps them."""

from __future__ import annotations

import asyncio
import gzip
import logging
import mimetypes
import os
import re
from collections import OrderedDict
from pathlib import Path

from aiohttp import hdrs, web

_LOGGER = logging.getLogger(__name__)

# Formats that shrink well: text, and fonts and icons stored raw. Images, WOFF fonts and archives
# are compressed already.
COMPRESSIBLE_SUFFIXES = frozenset(
    {".js", ".mjs", ".css", ".html", ".htm", ".json", ".svg", ".txt", ".map", ".xml", ".wasm"}
    | {".ico", ".ttf", ".otf"}
)
# A content hash in a file name, as bundlers write it: "main.3f2a9c1b.js", "index-BfX2k9aQ.js".
# A segment after a dot or dash, before the extension, of 8+ letters/digits/underscores that
# mixes letters and digits (so a word such as "-compatibility" or a date never counts).
_HASH_SEGMENT = re.compile(
    r"[.-](?=[A-Za-z0-9_]*[0-9])(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}(?=\.)"
)
# A hashed name changes whenever its content does, so a browser may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# Any other file may be kept, but asked about again (ETag / Last-Modified) before each use.
REVALIDATE = "no-cache"
# Pages (and everything dynamic) are a moment in the device's life: never kept.
NO_STORE = "no-store"
# Compressed bodies kept in memory at most, all files together; the least recently used go first.
GZIP_CACHE_BYTES = 16 * 1024 * 1024
# zlib's default: nearly the ratio of level 9, in a fraction of the time on a slow core.
GZIP_LEVEL = 6


def cache_control(path: Path) -> str:
    """How long a browser may keep a UI file: pages never, hashed names a year, others checked."""
    if path.suffix.lower() in {".html", ".htm"}:
        return NO_STORE
    return IMMUTABLE if _HASH_SEGMENT.search(path.name) else REVALIDATE


def accepts_gzip(accept_encoding: str) -> bool:
    """True when an Accept-Encoding value allows gzip (by name or "*"), honouring q=0."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[name.strip()] = quality > 0
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def _fresh_precompressed(path: Path, source: os.stat_result) -> Path | None:
    """`path`.gz beside the file when it is a regular file (no symlink) at least as new."""
    sibling = path.with_name(path.name + ".gz")
    try:
        st = sibling.lstat()
    except OSError:
        return None
    if st.st_mode & 0o170000 != 0o100000 or st.st_mtime_ns < source.st_mtime_ns:
        return None
    return sibling


def _gzip_body(path: Path, source: os.stat_result) -> bytes:
    """The gzip body for `path`: its fresh .gz sibling's bytes, else the file compressed now."""
    sibling = _fresh_precompressed(path, source)
    if sibling is not None:
        return sibling.read_bytes()
    # mtime=0: the same file always compresses to the same bytes.
    return gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)


class GzipCache:
    """Each file's gzip body, made once per version of the file and kept under a byte cap."""

    def __init__(self, capacity: int = GZIP_CACHE_BYTES) -> None:
        self.capacity = capacity
        self._bodies: OrderedDict[tuple[Path, int, int], bytes] = OrderedDict()
        self._size = 0
        # One compression at a time: two phones asking at once cost one compression, not two.
        self._lock = asyncio.Lock()
        self.compressions = 0

    @property
    def source_limit(self) -> int:
        """A larger file is sent as is: its body could not be kept, so would be made each time."""
        return self.capacity // 2

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._size

    async def body(self, path: Path, source: os.stat_result) -> bytes:
        """The gzip body for this version of `path` (same path, mtime and size)."""
        key = (path, source.st_mtime_ns, source.st_size)
        if (cached := self._lookup(key)) is not None:
            return cached
        async with self._lock:
            if (cached := self._lookup(key)) is not None:
                return cached
            body = await asyncio.get_running_loop().run_in_executor(None, _gzip_body, path, source)
            self.compressions += 1
            _LOGGER.debug("Gzipped %s: %d bytes to %d", path, source.st_size, len(body))
            self._store(key, body)
            return body

    def _lookup(self, key: tuple[Path, int, int]) -> bytes | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def _store(self, key: tuple[Path, int, int], body: bytes) -> None:
        # An older version of the same file is dead weight now.
        for old in [k for k in self._bodies if k[0] == key[0]]:
            self._size -= len(self._bodies.pop(old))
        if len(body) > self.capacity:
            return
        while self._size + len(body) > self.capacity:
            _, evicted = self._bodies.popitem(last=False)
            self._size -= len(evicted)
        self._bodies[key] = body
        self._size += len(body)


def _etag_matches(request: web.Request, etag: str) -> bool:
    """True when If-None-Match names this ETag (or "*")."""
    tags = request.if_none_match
    return tags is not None and any(tag.value in (etag, "*") for tag in tags)


async def file_response(
    request: web.Request, path: Path, cache: GzipCache, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """Serve a resolved UI file: gzipped when accepted and compressible, with its caching policy."""
    extra = {**(headers or {}), hdrs.CACHE_CONTROL: cache_control(path)}
    if path.suffix.lower() not in COMPRESSIBLE_SUFFIXES:
        return _plain(path, extra)
    # Whether gzip is sent depends on Accept-Encoding, so shared caches must key on it; both
    # forms name the same type.
    extra[hdrs.VARY] = hdrs.ACCEPT_ENCODING
    extra[hdrs.CONTENT_TYPE] = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        return _plain(path, extra)
    try:
        source = await asyncio.to_thread(path.stat)
    except OSError:
        raise web.HTTPNotFound() from None
    if source.st_size > cache.source_limit:
        return _plain(path, extra)
    body = await cache.body(path, source)
    # Another representation than the file's own bytes, so another tag than FileResponse's.
    etag = f"{source.st_mtime_ns:x}-{source.st_size:x}-gzip"
    if _etag_matches(request, etag):
        response = web.Response(status=304, headers=extra)
        response.etag = etag
        return response
    # A Range names bytes of the file, not of this body: it is ignored (RFC 9110 allows it) and
    # the whole compressed body is sent.
    response = web.Response(body=body, headers=extra)
    response.headers[hdrs.CONTENT_ENCODING] = "gzip"
    response.etag = etag
    response.last_modified = source.st_mtime
    return response


def _plain(path: Path, headers: dict[str, str]) -> web.FileResponse:
    """The file's own bytes; FileResponse adds ETag, Last-Modified, ranges and HEAD.

    Only for what this module does not gzip (a phone that takes no gzip, an image, a file over
    the size limit): aiohttp's own choice of a `.br` or `.gz` beside it applies, as it always did.
    """
    return web.FileResponse(path, headers=headers)
