"""IDENTIFY_COMMAND's pure parts: parsing and checking it, its environment, how a run ended."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from app.config import Config, InvalidValue, parse_identify_command
from app.errors import ConfigError
from app.identify import SSID_VARIABLE, IdentifyOutcome, identify_environment


@pytest.fixture
def program(tmp_path: Path) -> Path:
    """An executable file in a directory of its own, which serves as PATH."""
    path = tmp_path / "blink"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_words_are_split_as_a_shell_would_and_nothing_is_interpreted(program: Path) -> None:
    """Quotes and backslashes group words; `;`, `$VAR`, `$(...)`, `|` stay literal words."""
    argv = parse_identify_command(
        """blink 'two words' "a;b" $(touch\\ x) $HOME '|' tail\\ end""", str(program.parent)
    )
    assert argv == (
        str(program),
        "two words",
        "a;b",
        "$(touch x)",
        "$HOME",
        "|",
        "tail end",
    )


def test_the_program_is_resolved_once_through_the_path_given(program: Path) -> None:
    """A bare name is looked up in the search path given (the app's PATH), and kept absolute."""
    assert parse_identify_command("blink 3", f"/nonexistent:{program.parent}") == (
        str(program),
        "3",
    )
    assert parse_identify_command(str(program), "/nonexistent") == (str(program),)


def test_a_relative_path_is_made_absolute(program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A later change of directory cannot change which program runs."""
    monkeypatch.chdir(program.parent)
    assert parse_identify_command("./blink", "") == (str(program),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'unclosed", "is not a command line: No closing quotation"),
        ("''", "holds no command"),
        ("  ", "holds no command"),
        ("no-such-program --fast", "'no-such-program' is not an executable program (not found"),
        ("/nonexistent/blink", "'/nonexistent/blink' is not an executable program"),
    ],
)
def test_bad_command_lines_are_refused_by_what_is_wrong(
    text: str, message: str, program: Path
) -> None:
    with pytest.raises(InvalidValue, match=message.replace("(", r"\(")):
        parse_identify_command(text, str(program.parent))


def test_a_file_that_is_not_executable_or_a_directory_is_refused(program: Path) -> None:
    program.chmod(0o644)
    with pytest.raises(InvalidValue, match="is not an executable program"):
        parse_identify_command(str(program), "")
    with pytest.raises(InvalidValue, match="is not an executable program"):
        parse_identify_command(str(program.parent), "")


def test_the_variable_and_the_flag_are_named_in_the_error(program: Path) -> None:
    """A bad value is a start-up error (exit 2) naming where it came from."""
    environ = {"PATH": str(program.parent), "IDENTIFY_COMMAND": "blinky"}
    with pytest.raises(ConfigError, match=r"^--identify-command / IDENTIFY_COMMAND: 'blinky'"):
        Config.from_env(environ)


def test_the_flag_wins_and_an_empty_variable_is_unset(program: Path) -> None:
    path = str(program.parent)
    assert Config.from_env({"PATH": path, "IDENTIFY_COMMAND": " "}).identify_command is None
    assert Config.from_env({"PATH": path}).identify_command is None
    config = Config.from_env(
        {"PATH": path, "IDENTIFY_COMMAND": "blinky"}, ["--identify-command", "blink 1"]
    )
    assert config.identify_command == (str(program), "1")


def test_the_environment_is_path_and_the_hotspot_name_only() -> None:
    """Nothing else of ours: the app's environment may hold PORTAL_PASSPHRASE."""
    parent = {"PATH": "/usr/bin:/bin", "PORTAL_PASSPHRASE": "secret pass", "HOME": "/root"}
    assert identify_environment(parent, "Box 7") == {
        "PATH": "/usr/bin:/bin",
        SSID_VARIABLE: "Box 7",
    }
    assert identify_environment({}, "Box 7")["PATH"] == os.defpath


@pytest.mark.parametrize(
    ("outcome", "words", "ok"),
    [
        (IdentifyOutcome(0, 0.25), "exited with status 0 after 0.2 s", True),
        (IdentifyOutcome(3, 1.0), "exited with status 3 after 1.0 s", False),
        (
            IdentifyOutcome(-signal.SIGSEGV, 2.0),
            "was killed by SIGSEGV after 2.0 s",
            False,
        ),
        (
            IdentifyOutcome(-signal.SIGTERM, 10.0, timed_out=True),
            "was still running after 10 s and was killed",
            False,
        ),
        (
            IdentifyOutcome(None, 0.0, error="Permission denied"),
            "could not be started: Permission denied",
            False,
        ),
    ],
)
def test_how_a_run_ended_in_words(outcome: IdentifyOutcome, words: str, ok: bool) -> None:
    assert outcome.describe() == words
    assert outcome.ok is ok
