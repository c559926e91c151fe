"""Run by the system Python (python3-gi): libnm's own reading of keyfiles, next to ours.

Reads JSON from stdin: a list of {"path", "settings"}, where settings are the importer's, each
value as [D-Bus signature, value] (bytes as {"$bytes": base64}). For each file, libnm builds a
connection from those settings and one from the file with its own keyfile reader
(nm_keyfile_read), normalizes both, and prints both as JSON ({"ours", "libnm"} per file).
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import gi

gi.require_version("NM", "1.0")
from gi.repository import NM, GLib  # noqa: E402


def _variant(signature: str, value: Any) -> GLib.Variant:
    if signature == "aa{sv}":
        return GLib.Variant(
            signature, [{k: _variant(*item) for k, item in entry.items()} for entry in value]
        )
    if signature == "ay":
        return GLib.Variant(signature, base64.b64decode(value["$bytes"]))
    if signature == "aay":
        return GLib.Variant(signature, [base64.b64decode(item["$bytes"]) for item in value])
    return GLib.Variant(signature, value)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _dbus(connection: NM.Connection) -> Any:
    connection.normalize()
    return _plain(connection.to_dbus(NM.ConnectionSerializationFlags.ALL).unpack())


def _ours(settings: dict[str, dict[str, Any]]) -> Any:
    wire = {s: {k: _variant(*item) for k, item in keys.items()} for s, keys in settings.items()}
    return _dbus(NM.SimpleConnection.new_from_dbus(GLib.Variant("a{sa{sv}}", wire)))


def _libnm(path: str, settings: dict[str, dict[str, Any]]) -> Any:
    keyfile = GLib.KeyFile()
    keyfile.load_from_file(path, GLib.KeyFileFlags.NONE)
    # The daemon derives a missing id and uuid from the file's path; take the importer's.
    for key in ("id", "uuid"):
        try:
            keyfile.get_string("connection", key)
        except GLib.Error:
            keyfile.set_string("connection", key, settings["connection"][key][1])
    flags = NM.KeyfileHandlerFlags.NONE
    return _dbus(NM.keyfile_read(keyfile, "/nonexistent", flags, None, None))


def main() -> None:
    files = json.load(sys.stdin)
    json.dump(
        [{"ours": _ours(f["settings"]), "libnm": _libnm(f["path"], f["settings"])} for f in files],
        sys.stdout,
    )


if __name__ == "__main__":
    main()
