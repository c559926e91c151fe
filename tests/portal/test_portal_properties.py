"""Property tests of POST /connect and /rescan: any body is a clean answer, never a 5xx.

JSON and forms with wrong types, missing fields, nesting past any parser's depth, huge values,
bytes that are not UTF-8, NUL bytes and duplicate keys, under charsets Python does not know and
Content-Encodings the bytes do not follow. Allowed: 200 with the credentials handed to the flow
whole and valid, a 303 for a form, or a 4xx naming the field; the flow is handed nothing else.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import example, given
from hypothesis import strategies as st

from app.portal.csrf import FIELD as CSRF_FIELD
from app.rules import check_credentials
from tests.portal.fuzz import fuzz_portal
from tests.portal.helpers import CONNECTING, NETWORKS, RecordingController, multipart

FIELDS = ["ssid", "passphrase", "identity", "hidden", "security"]
NAMES = [network.display_ssid for network in NETWORKS] + ["Attic", "Caf\xe9 raw", "x" * 33]
JSON_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from([*NAMES, "wpa", "wpa2", "wep", "none", "sae", "true", "off", "\x00", ""])
    | st.text(min_size=1000, max_size=5000).map(lambda text: text[:5000])
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
JSON_OBJECT = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSON_VALUE, max_size=6)
ANY_JSON = JSON_OBJECT | JSON_VALUE

# Field answers must name one of the fields, or none (a body-level error).
_NAMED = {None, *FIELDS}


_HEADER_FORBIDDEN = "".join(map(chr, [*range(0x09), *range(0x0A, 0x20), 0x7F]))
# Charset parameters: real, bogus, and hostile text a phone may put there.
CHARSETS = st.sampled_from(
    ["", "; charset=utf-8", "; charset=latin-1", "; charset=utf-16", "; charset=nope"]
) | st.text(
    # Anything but the C0 controls and DEL, which the client refuses to put in a header.
    st.characters(exclude_characters=_HEADER_FORBIDDEN, exclude_categories=["Cs"]),
    max_size=12,
).map(lambda name: f"; charset={name}")
# Content-Encoding values: ones aiohttp decodes (the bytes never follow them), and others.
ENCODINGS = st.sampled_from([None, "identity", "gzip", "deflate", "x-gzip", "br", "zstd", "a, b"])
# JSON nested deeper than any parser goes, whole or cut off, alone or inside an object.
DEEP = st.tuples(st.integers(1, 4000), st.booleans(), st.booleans()).map(
    lambda deep: (
        (b'{"ssid": ' if deep[2] else b"") + b"[" * deep[0] + (b"]" * deep[0] if deep[1] else b"")
    )
)


def _headers(content_type: str, encoding: str | None) -> dict[str, str]:
    headers = {"Content-Type": content_type}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return headers


def _json_bodies() -> st.SearchStrategy[bytes]:
    """Encoded JSON, and bytes that only claim to be: duplicate keys, NUL, not UTF-8, cut off."""
    encoded = ANY_JSON.map(lambda body: json.dumps(body).encode())
    duplicated = st.tuples(st.sampled_from(FIELDS), JSON_SCALAR, JSON_SCALAR).map(
        lambda k: f'{{"{k[0]}": {json.dumps(k[1])}, "{k[0]}": {json.dumps(k[2])}}}'.encode()
    )
    mangled = st.tuples(encoded, st.binary(max_size=8), st.integers(0, 64)).map(
        lambda parts: parts[0][: parts[2]] + parts[1]
    )
    return st.one_of(encoded, duplicated, mangled, DEEP, st.binary(max_size=200))


def _check_json_answer(
    controller: RecordingController, status: int, body: Any, before: int
) -> None:
    assert status < 500, body
    if status == 200:
        assert body == CONNECTING
        assert len(controller.submitted) == before + 1
        check_credentials(controller.submitted[-1])
        return
    assert 400 <= status < 500
    assert set(body) == {"error", "field"} and body["field"] in _NAMED, body
    assert isinstance(body["error"], str) and body["error"]
    assert len(controller.submitted) == before


def test_any_json_body_is_a_clean_answer() -> None:
    """POST /connect with any bytes as a JSON body, under any charset and Content-Encoding."""
    controller = RecordingController()
    with fuzz_portal(controller) as fuzz:

        async def post(body: bytes, charset: str, encoding: str | None) -> tuple[int, Any]:
            headers = _headers(f"application/json{charset}", encoding)
            response = await fuzz.client.post("/connect", data=body, headers=headers)
            if response.content_type != "application/json":
                # aiohttp's own answer to an encoding it cannot decode (or a stream cut short
                # in it), given by its parser before any handler runs.
                return response.status, await response.text()
            return response.status, await response.json()

        @given(body=_json_bodies(), charset=CHARSETS, encoding=ENCODINGS)
        # Found by review: each was a 500 with a traceback (RecursionError, LookupError in
        # aiohttp's text(), a gzip stream that is not one).
        @example(body=b"[" * 3000, charset="", encoding=None)
        @example(body=b'{"ssid": "Library"}', charset="; charset=nope", encoding=None)
        @example(body=b'{"ssid": "Library"}', charset="; charset=\u202e\x9b2J", encoding=None)
        @example(body=b'{"ssid": "Library"}', charset="", encoding="gzip")
        @example(body=b'{"ssid": "Library"}', charset="", encoding="deflate")
        def answers_cleanly(body: bytes, charset: str, encoding: str | None) -> None:
            before = len(controller.submitted)
            status, answer = fuzz.run(post(body, charset, encoding))
            if isinstance(answer, str):
                assert status == 400 and encoding not in (None, "identity"), (status, answer)
                return
            _check_json_answer(controller, status, answer, before)

        answers_cleanly()


FORM_KEY = st.sampled_from([*FIELDS, CSRF_FIELD]) | st.binary(max_size=6)
FORM_VALUE = st.binary(max_size=60) | st.sampled_from(NAMES).map(str.encode) | st.just(b"\x00")


@st.composite
def _form_bodies(draw: st.DrawFn) -> tuple[bytes, bool]:
    """An urlencoded body of any bytes, keys repeated at will; and whether it carries the token."""
    pairs = draw(st.lists(st.tuples(FORM_KEY, FORM_VALUE), max_size=8))
    with_token = draw(st.booleans())
    encoded = [
        f"{quote_from_bytes(key.encode() if isinstance(key, str) else key)}="
        f"{quote_from_bytes(value)}"
        for key, value in pairs
    ]
    raw = draw(st.sampled_from(["", "&%ff%fe=%00", "&=&&", "&ssid"]))
    return ("&".join(encoded) + raw).encode(), with_token


def test_any_form_is_a_clean_answer() -> None:
    """POST /connect and /rescan with any urlencoded form, with and without the CSRF token."""
    controller = RecordingController()
    with fuzz_portal(controller) as fuzz:

        async def post(
            path: str, body: bytes, charset: str, encoding: str | None
        ) -> tuple[int, str]:
            headers = _headers(f"application/x-www-form-urlencoded{charset}", encoding)
            response = await fuzz.client.post(
                path, data=body, headers=headers, allow_redirects=False
            )
            return response.status, await response.text(errors="replace")

        @given(form=_form_bodies(), charset=CHARSETS, encoding=ENCODINGS)
        # Found by this test: a token with a non-ASCII character crashed the CSRF check (500).
        @example(form=(f"{CSRF_FIELD}=%C3%A9".encode(), False), charset="", encoding=None)
        # Found by review: a 500 with a traceback each (LookupError; a gzip stream that is not).
        @example(form=(b"ssid=Library", True), charset="; charset=nope", encoding=None)
        @example(form=(b"ssid=Library", True), charset="", encoding="gzip")
        def answers_cleanly(form: tuple[bytes, bool], charset: str, encoding: str | None) -> None:
            body, with_token = form
            if with_token:
                body = f"{CSRF_FIELD}={fuzz.csrf_token()}&".encode() + body
            before = len(controller.submitted)
            status, page = fuzz.run(post("/connect", body, charset, encoding))
            assert status in (303, 400, 403, 413, 415), (status, page)
            assert "Traceback" not in page
            # Handed on whole and valid after a 303, else nothing at all.
            assert len(controller.submitted) == before + (status == 303)
            for credentials in controller.submitted[before:]:
                check_credentials(credentials)
            status, page = fuzz.run(post("/rescan", body, charset, encoding))
            assert status in (303, 400, 403, 415), (status, page)

        answers_cleanly()


CONTENT_TYPES = [
    "text/plain",
    "application/json; charset=latin-1",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "multipart/form-data; boundary=b; charset=nope",
    "application/x-www-form-urlencoded; charset=nope",
    "",
    "a/b",
]
# A multipart part's own headers: a charset, a header with a control byte, none, garbage.
PART_HEADERS = st.sampled_from(
    [
        b"",
        b"Content-Type: text/plain; charset=nope\r\n",
        b"Content-Type: text/plain; charset=utf-8\r\n",
        b"X-Bad: a\x01b\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"no colon\r\n",
    ]
) | st.binary(max_size=30)


def test_any_content_type_is_a_clean_answer() -> None:
    """Bodies under other or broken content types: a 4xx, never a 5xx, nothing handed on."""
    controller = RecordingController()
    with fuzz_portal(controller) as fuzz:

        async def post(content_type: str, body: bytes, encoding: str | None) -> int:
            response = await fuzz.client.post(
                "/connect",
                data=body,
                headers=_headers(content_type, encoding),
                allow_redirects=False,
            )
            await response.read()
            return response.status

        @given(
            content_type=st.sampled_from(CONTENT_TYPES),
            body=st.binary(max_size=100),
            encoding=ENCODINGS,
        )
        # Found by this test: a multipart form without a boundary was a 500.
        @example(content_type="multipart/form-data", body=b"ssid=x", encoding=None)
        def answers_cleanly(content_type: str, body: bytes, encoding: str | None) -> None:
            status = fuzz.run(post(content_type, body, encoding))
            assert 400 <= status < 500
            assert controller.submitted == []

        @given(part_headers=PART_HEADERS, value=st.binary(max_size=20), encoding=ENCODINGS)
        # Found by review: a 500 with a traceback each (LookupError, aiohttp's InvalidHeader).
        @example(
            part_headers=b"Content-Type: text/plain; charset=nope\r\n", value=b"x", encoding=None
        )
        @example(part_headers=b"X-Bad: a\x01b\r\n", value=b"x", encoding=None)
        def multipart_answers_cleanly(
            part_headers: bytes, value: bytes, encoding: str | None
        ) -> None:
            # Tokenless, so a form read whole is refused (403); nothing is ever handed on.
            body = multipart(part_headers, value)
            status = fuzz.run(post("multipart/form-data; boundary=b", body, encoding))
            assert status in (400, 403, 415), status
            assert controller.submitted == []

        answers_cleanly()
        multipart_answers_cleanly()
