"""Log lines for the journal: plain text or one JSON object a line, never a control byte raw."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO, TypeAlias

from app.rules import inert_text

# The LogRecord attribute holding a line's own values (see `fields`), which JSON lines carry.
FIELDS = "fields"
PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"

FieldValue: TypeAlias = str | int | float | bool
_ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


def fields(**values: FieldValue | None) -> dict[str, dict[str, FieldValue]]:
    """`extra=` of a log call: values a JSON line carries as its own keys; None is left out."""
    return {FIELDS: {key: value for key, value in values.items() if value is not None}}


class InertFormatter(logging.Formatter):
    """Log lines with no control byte, ANSI escape or bidi override raw: SSIDs are hostile."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line as logging formats it, its hidden characters escaped as names show them."""
        return inert_text(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line, then its traceback and stack, all inert."""
        # logging caches a traceback's text on the record, and another handler's formatter may
        # have made it raw: it is made again here, and the cache left as it was found.
        cached = record.exc_text
        record.exc_text = _inert_lines(cached) if cached and not record.exc_info else None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: _ExcInfo | tuple[None, None, None]) -> str:
        """A traceback, each of its lines inert: an exception's message may quote an SSID."""
        return _inert_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        """A stack, each of its lines inert."""
        return _inert_lines(super().formatStack(stack_info))


class JsonFormatter(InertFormatter):
    """One JSON object a line: time, level, logger, message and the line's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON; its texts inert as in plain lines, so names match."""
        entry: dict[str, FieldValue] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": inert_text(record.getMessage()),
        }
        for key, value in getattr(record, FIELDS, {}).items():
            # A field never replaces one of the four every line has.
            entry.setdefault(key, inert_text(value) if isinstance(value, str) else value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json escapes the newlines a traceback keeps; ensure_ascii=False keeps names readable.
        return json.dumps(entry, ensure_ascii=False)


def stream_handler(stream: TextIO, *, json_lines: bool) -> logging.Handler:
    """A handler writing inert lines to `stream`: JSON objects, or plain text."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else InertFormatter(PLAIN_FORMAT))
    return handler


def setup(level: int, *, json_lines: bool) -> None:
    """Log to stderr: the container runtime or journald adds the timestamps of plain lines."""
    logging.basicConfig(handlers=[stream_handler(sys.stderr, json_lines=json_lines)])
    # Only our own loggers follow --log-level: at debug level aiohttp and asyncio would drown
    # out what an installer needs to read.
    logging.getLogger("app").setLevel(level)


def _inert_lines(text: str) -> str:
    """Multi-line text with each line made inert and the line breaks kept."""
    return "\n".join(inert_text(line) for line in text.split("\n"))
