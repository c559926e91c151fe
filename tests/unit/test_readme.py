"""The README an installer follows says what the code does: its tables are held to the code.

The configuration table equals the settings in app/config.py and `wifi-connect --help` (every
flag of --help is a row and every row a flag or a variable, with the same env var, default and
meaning), the exit statuses equal app/exitcodes.py, and each JSON example of the HTTP API is
valid against the portal's own OpenAPI description.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs  # schemathesis' validator, so a test dependency already
import pytest

from app import __version__
from app.__main__ import main
from app.config import ENV_SETTINGS, FLAG_SETTINGS, VERBOSE_HELP
from app.exitcodes import EXIT_STATUS_HELP
from app.portal.openapi import openapi_document

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")

# A row of the configuration table: its flags, env var, default and meaning ("" for none).
Row = tuple[tuple[str, ...], str, str, str]

_HELP_SUFFIX = re.compile(r"^(?P<meaning>.*?) \[env (?P<env>\S+); default: (?P<default>.*)\]$")
_DEFAULT_SUFFIX = re.compile(r"^(?P<meaning>.*?) \[default: (?P<default>.*)\]$")


def section(title: str) -> str:
    """The README's text under `## title`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match is not None, f"README has no '## {title}' section"
    return match.group(1)


def table(text: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header row is `header`, without the header."""
    lines = text.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def _plain(cell: str) -> str:
    """A cell's text without Markdown code marks."""
    return cell.replace("`", "")


def readme_rows() -> list[Row]:
    rows = table(section("Configuration"), "| flag | env | default | meaning |")
    return [
        (tuple(re.findall(r"`(-[^`\s]+)`", flags)), _plain(env), _plain(default), meaning)
        for flags, env, default, meaning in rows
    ]


def help_rows(capsys: pytest.CaptureFixture[str]) -> list[Row]:
    """The rows `wifi-connect --help` gives: its options, then its variables without a flag."""
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    options = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    variables = text.split("\nenvironment variables without a flag:\n", 1)[1].split("\n\n", 1)[0]
    rows: list[Row] = []
    for entry in re.split(r"\n(?=  -)", options):
        invocation, _, rest = entry.strip().partition("  ")
        flags = tuple(part.split()[0] for part in invocation.split(", "))
        described = " ".join(rest.split())
        match = _HELP_SUFFIX.match(described)
        if match:
            rows.append((flags, match["env"], match["default"], match["meaning"]))
        else:
            rows.append((flags, "", "", described))
    for entry in re.split(r"\n(?=  \S)", variables):
        name, described = entry.split(maxsplit=1)
        match = _DEFAULT_SUFFIX.match(" ".join(described.split()))
        assert match is not None, entry
        rows.append(((), name, match["default"], match["meaning"]))
    return rows


def test_the_configuration_table_is_what_help_says(capsys: pytest.CaptureFixture[str]) -> None:
    """Every flag and variable of --help is a row, with its env var, default and meaning."""
    assert readme_rows() == help_rows(capsys)


def test_the_configuration_table_is_the_config_code() -> None:
    """Each setting of app/config.py has its row: its flags, variable, default and meaning."""
    rows = {env: row for row in readme_rows() if (env := row[1])}
    for setting in (*FLAG_SETTINGS, *ENV_SETTINGS):
        assert rows[setting.env] == (setting.flags, setting.env, setting.default, setting.help)
    assert (("-v", "--verbose"), "", "", VERBOSE_HELP) in readme_rows()


def test_the_exit_status_table_is_the_code() -> None:
    rows = table(section("Exit statuses"), "| status | meaning |")
    assert [(int(_plain(status)), meaning) for status, meaning in rows] == [
        (int(status), text) for status, text in EXIT_STATUS_HELP
    ]


# ```json METHOD PATH STATUS|request|form: an example answer, or a request body.
_EXAMPLE = re.compile(r"^```json (GET|POST) (/\S*) (\d{3}|request)\n(.*?)^```$", re.M | re.S)


def _resolved(schema: Any, document: dict[str, Any]) -> Any:
    """`schema` with every local $ref replaced by what it names."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target: Any = document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolved(target, document)
        return {key: _resolved(value, document) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolved(item, document) for item in schema]
    return schema


def _examples() -> list[tuple[str, str, str, Any]]:
    return [
        (method, path, what, json.loads(body))
        for method, path, what, body in _EXAMPLE.findall(section("HTTP API"))
    ]


def test_the_api_section_shows_every_json_route() -> None:
    shown = {(method, path, what) for method, path, what, _ in _examples()}
    assert shown >= {
        ("GET", "/networks", "200"),
        ("GET", "/status", "200"),
        ("POST", "/connect", "request"),
        ("POST", "/connect", "200"),
        ("POST", "/connect", "400"),
        ("POST", "/connect", "409"),
    }


@pytest.mark.parametrize(
    ("method", "path", "what", "body"),
    _examples(),
    ids=[f"{m} {p} {w}" for m, p, w, _ in _examples()],
)
def test_each_api_example_is_valid_against_the_openapi_description(
    method: str, path: str, what: str, body: Any
) -> None:
    document = openapi_document()
    operation = document["paths"][path][method.lower()]
    if what == "request":
        content = operation["requestBody"]["content"]["application/json"]
    else:
        content = operation["responses"][what]["content"]["application/json"]
    schema = _resolved(content["schema"], document)
    jsonschema_rs.Draft202012Validator(schema).validate(body)


def test_the_changelog_has_an_entry_for_this_version() -> None:
    """`wifi-connect --version` names a version the changelog tells, with its date."""
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(
        rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M
    )
