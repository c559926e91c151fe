"""app.logs: plain and JSON log lines with hostile text in the message, the fields, a traceback."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from app import logs
from app.rules import display_ssid, inert_text
from tests.hostile import HOSTILE_BYTES, HOSTILE_IDS, raw_forbidden

each_name = pytest.mark.parametrize("ssid", HOSTILE_BYTES, ids=HOSTILE_IDS)


class Journal:
    """A logger of its own writing to a plain and a JSON handler at once."""

    def __init__(self) -> None:
        self.plain, self.json = io.StringIO(), io.StringIO()
        self.logger = logging.getLogger("app.test_logs")

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.json.getvalue().splitlines()]


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal()
    handlers = [
        logs.stream_handler(journal.plain, json_lines=False),
        logs.stream_handler(journal.json, json_lines=True),
    ]
    for handler in handlers:
        journal.logger.addHandler(handler)
    journal.logger.propagate = False
    journal.logger.setLevel(logging.DEBUG)
    try:
        yield journal
    finally:
        for handler in handlers:
            journal.logger.removeHandler(handler)


@each_name
def test_a_hostile_name_is_inert_in_both_formats_and_reads_the_same(
    journal: Journal, ssid: bytes
) -> None:
    """Raw text in the message and a field: nothing raw in either line, the same words in both."""
    raw = ssid.decode("utf-8", errors="replace")
    journal.logger.info("joining '%s'", raw, extra=logs.fields(network=raw, strength=70))
    plain = journal.plain.getvalue()
    assert raw_forbidden(plain) == []
    assert plain.count("\n") == 1
    assert raw_forbidden(journal.json.getvalue()) == []
    (entry,) = journal.entries()
    message = f"joining '{inert_text(raw)}'"
    assert plain == f"INFO app.test_logs: {message}\n"
    assert entry["message"] == message
    assert entry["network"] == inert_text(raw) and entry["strength"] == 70
    # A name the app already shows (display_ssid) is logged unchanged.
    assert inert_text(display_ssid(ssid)) == display_ssid(ssid)


def test_a_json_line_has_time_level_logger_message_and_its_fields(journal: Journal) -> None:
    journal.logger.warning("state: %s", "portal", extra=logs.fields(state="portal", gone=None))
    (entry,) = journal.entries()
    assert list(entry) == ["time", "level", "logger", "message", "state"]
    assert entry["level"] == "WARNING" and entry["logger"] == "app.test_logs"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_a_field_never_replaces_what_every_line_has(journal: Journal) -> None:
    journal.logger.info("real", extra=logs.fields(message="forged", level="forged"))
    (entry,) = journal.entries()
    assert (entry["message"], entry["level"]) == ("real", "INFO")


@each_name
def test_a_traceback_quoting_a_name_is_inert_in_both_formats(journal: Journal, ssid: bytes) -> None:
    """An exception's message may hold a raw name: its traceback keeps lines, not control bytes."""
    raw = ssid.decode("utf-8", errors="replace")
    try:
        raise RuntimeError(f"could not join {raw}")
    except RuntimeError:
        journal.logger.exception("attempt failed")
    # A traceback is lines already: a line break in the message starts another of them.
    last = f"RuntimeError: could not join {raw}"
    shown = "\n".join(inert_text(line) for line in last.split("\n"))
    plain = journal.plain.getvalue()
    assert raw_forbidden(plain) == []
    assert plain.startswith("ERROR app.test_logs: attempt failed\nTraceback")
    assert plain.endswith(f"{shown}\n")
    assert raw_forbidden(journal.json.getvalue()) == []
    (entry,) = journal.entries()
    assert entry["exception"].startswith("Traceback")
    assert entry["exception"].endswith(shown)


def test_a_phones_header_in_a_traceback_and_a_stack_is_inert(journal: Journal) -> None:
    """aiohttp's charset lookup quotes a phone's Content-Type; stack_info shows as lines too."""
    try:
        raise LookupError("unknown encoding: \u202e\x9b2J")
    except LookupError:
        journal.logger.exception("Error handling request", stack_info=True)
    for text in (journal.plain.getvalue(), journal.json.getvalue()):
        assert raw_forbidden(text) == []
    lines = journal.plain.getvalue().splitlines()
    assert "LookupError: unknown encoding: \\u{202E}\\u{9B}2J" in lines
    assert "Stack (most recent call last):" in lines


def test_a_traceback_another_formatter_made_first_is_still_inert() -> None:
    """logging caches a traceback's text on the record: a raw one cached first is not reused."""
    try:
        raise LookupError("unknown encoding: \u202e\x9b2J")
    except LookupError:
        record = logging.getLogger("app.test_logs").makeRecord(
            "app.test_logs", logging.ERROR, __file__, 1, "Failed", (), sys.exc_info()
        )
    assert raw_forbidden(logging.Formatter().format(record)) != []
    shown = logs.InertFormatter(logs.PLAIN_FORMAT).format(record)
    assert raw_forbidden(shown) == []
    assert shown.endswith("LookupError: unknown encoding: \\u{202E}\\u{9B}2J")
    # The record's cache is left as the other formatter made it.
    assert record.exc_text is not None and raw_forbidden(record.exc_text) != []
