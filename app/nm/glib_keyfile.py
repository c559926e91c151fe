"""GLib's key file syntax, as NetworkManager loads a keyfile: sections, keys, escapes, values.

Nothing here knows NetworkManager's settings: app/nm/keyfile.py gives each section its setting
and each value its type. Every error names its line, section or key, never a value (a value
may be a password).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Final

from app.errors import ValidationError
from app.rules import has_control_character

# GLib's key file escapes; `\;` is only meaningful inside lists (and NetworkManager's SSIDs).
_ESCAPES: Final = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
# g_ascii_isspace: what GLib trims around keys and values.
SPACE: Final = " \t\n\v\f\r"
_INTEGER: Final = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")


class KeyfileError(ValidationError):
    """A keyfile broke a rule; `field` is the place ("[wifi-security] psk", "line 3")."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(where, f"{where}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Value:
    """One key=value line as read: where it is, and its raw text (possibly a secret)."""

    section: str
    key: str
    # Never put into a message: it may be a password.
    raw: str = field(repr=False)

    @property
    def where(self) -> str:
        """The place as the file names it, e.g. [wifi-security] psk."""
        return f"[{self.section}] {self.key}"

    def error(self, reason: str) -> KeyfileError:
        """An error naming this key."""
        return KeyfileError(self.where, reason)


@dataclass(frozen=True)
class Section:
    """One [section] of the file: its spelling in the file and its keys in file order."""

    name: str
    values: dict[str, Value]

    def get(self, key: str) -> Value | None:
        """The value of `key`, or None when the file does not set it."""
        return self.values.get(key)

    def error(self, reason: str) -> KeyfileError:
        """An error naming this section."""
        return KeyfileError(f"[{self.name}]", reason)

    def place(self, key: str) -> str:
        """How a message names `key` of this section, set or not."""
        return f"[{self.name}] {key}"


# ---------------------------------------------------------------------------------------------
# The file: GLib's key file syntax, as NetworkManager loads it.


def read_sections(text: str, setting_of: Callable[[str], str]) -> dict[str, Section]:
    """The file's sections by `setting_of(section name)`; syntax errors name the line."""
    sections: dict[str, Section] = {}
    current: Section | None = None
    # GLib drops the \r of a \r\n line end, so a file saved on Windows reads the same.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r").lstrip(SPACE)
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = _start_section(line, number, sections, setting_of)
            continue
        key, equals, raw = line.partition("=")
        key = key.rstrip(SPACE)
        if not equals or not key:
            raise KeyfileError(f"line {number}", "is neither [section], key=value nor a # comment")
        if current is None:
            raise KeyfileError(f"line {number}", "a key=value line comes before any [section]")
        if "[" in key or "]" in key:
            raise KeyfileError(f"line {number}", "translated keys (key[locale]=) are not used")
        if key in current.values:
            # GLib would keep the last one silently; two psk lines are a mistake to point out.
            raise KeyfileError(current.place(key), "is set twice")
        # GLib trims the space after `=` but keeps trailing space, which a password may hold.
        current.values[key] = Value(current.name, key, raw.lstrip(SPACE))
    return sections


def _start_section(
    line: str, number: int, sections: dict[str, Section], setting_of: Callable[[str], str]
) -> Section:
    """Open the [section] of a header line, refusing repeated sections."""
    header = line.rstrip(" \t")
    name = header[1:-1]
    if not header.endswith("]") or not name or any(ch in "[]" for ch in name):
        raise KeyfileError(f"line {number}", "is not a valid [section] header")
    if has_control_character(name):
        raise KeyfileError(f"line {number}", "the section name holds a control character")
    setting = setting_of(name)
    if setting in sections:
        raise KeyfileError(
            f"[{name}]", f"the section appears twice (also as [{sections[setting].name}])"
        )
    section = Section(name, {})
    sections[setting] = section
    return section


def unescape(value: Value, *, in_list: bool, keep_semicolon: bool = False) -> list[str]:
    """GLib's reading of a value: escapes decoded, and a list split at each unescaped `;`."""
    items: list[str] = []
    current: list[str] = []
    raw = value.raw
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == ";" and in_list:
            items.append("".join(current))
            current = []
        elif char != "\\":
            current.append(char)
        elif index + 1 == len(raw):
            raise value.error("the value ends in a lone backslash (write \\\\ for one)")
        else:
            index += 1
            escaped = raw[index]
            if escaped in _ESCAPES:
                current.append(_ESCAPES[escaped])
            elif escaped == ";" and in_list:
                current.append(";")
            elif escaped == ";" and keep_semicolon:
                # Kept for NetworkManager's own unescaping of bytes, done after its list test.
                current.append("\\;")
            else:
                # GLib refuses it and NetworkManager then drops the key: say so, at import.
                raise value.error(
                    "the value holds an escape sequence GLib does not know "
                    "(known: \\s \\n \\t \\r \\\\, and \\; in lists)"
                )
        index += 1
    # GLib's lists end with an optional `;`: "a;b;" and "a;b" are both [a, b].
    if current or not in_list:
        items.append("".join(current))
    return items


def secret_value(value: Value) -> str:
    """A secret string, unescaped; its rules are the credential rules of app.rules."""
    return unescape(value, in_list=False)[0]


def text_value(value: Value) -> str:
    """A plain string setting: unescaped, with no control characters."""
    text = unescape(value, in_list=False)[0]
    refuse_controls(value, text)
    return text


def list_value(value: Value) -> list[str]:
    """A `;`-separated list setting, unescaped, with no control characters."""
    items = unescape(value, in_list=True)
    for item in items:
        refuse_controls(value, item)
    return items


def refuse_controls(value: Value, text: str) -> None:
    """Refuse tabs, line breaks and other controls: in a setting they are a broken paste."""
    if has_control_character(text):
        raise value.error("holds a control character (such as \\t or \\n)")


def bool_value(value: Value) -> bool:
    """GLib's boolean: true or 1, false or 0 (trailing space ignored)."""
    word = value.raw.rstrip(SPACE)
    if word in ("true", "1"):
        return True
    if word in ("false", "0"):
        return False
    raise value.error("must be true or false")


def int_value(value: Value, low: int, high: int) -> int:
    """A decimal integer in [low, high]."""
    # NetworkManager reads numbers with strtol's base 0, where 010 means 8: refuse the doubt.
    word = value.raw.strip(SPACE)
    if not _INTEGER.fullmatch(word):
        raise value.error("must be a whole number in decimal, without leading zeros")
    number = int(word)
    if not low <= number <= high:
        raise value.error(f"must be between {low} and {high}")
    return number


def word_value(value: Value, choices: Collection[str]) -> str:
    """A value from a fixed set of words."""
    word = text_value(value)
    if word not in choices:
        # NetworkManager keeps trailing spaces too, and then refuses the word.
        hint = "; remove the spaces after it" if word.rstrip(SPACE) in choices else ""
        raise value.error(f"must be one of: {', '.join(choices)}{hint}")
    return word


def is_empty(value: Value) -> bool:
    """True for `key=` with nothing after it, which NetworkManager writes for empty values."""
    return not value.raw.strip(SPACE)
