"""Property tests of the configuration: any text in any flag or variable is a Config or one error.

The only outcomes allowed are a Config whose values obey the rules, or a ConfigError of one line
that names the flag and the variable (or the variable) it came from. Never another exception.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.__main__ import parse_command_line
from app.config import ENV_SETTINGS, FLAG_SETTINGS, Config, Setting
from app.errors import ConfigError
from app.rules import has_control_character

SETTINGS = FLAG_SETTINGS + ENV_SETTINGS
VALUE_FLAG_SETTINGS = tuple(setting for setting in FLAG_SETTINGS if not setting.switch)
SWITCH_SETTINGS = tuple(setting for setting in FLAG_SETTINGS if setting.switch)
# Text as an environment or a command line carries it: any code point, with the lone
# surrogates os.fsdecode makes of bytes that are not UTF-8; NUL cannot be in either.
RAW_TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=80)
# Near-misses of the valid forms, so the rules past the first check are reached too.
PLAUSIBLE = st.one_of(
    RAW_TEXT,
    st.from_regex(r"\A[0-9]{1,6}\Z"),
    st.from_regex(r"\A 1?[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(,[0-9.]{7,15})?\Z"),
    st.from_regex(r"\A#[0-9a-fA-F]{3,7}\Z"),
    st.from_regex(r"\Ahttps?://[a-z0-9.:\[\]-]{0,30}(/[^\x00]{0,10})?\Z"),
    st.sampled_from(["debug", "INFO", " warning ", "1e3", "0.0", "-1", "65536", "NaN", "inf"]),
)


def _names_its_setting(error: ConfigError, setting: Setting) -> bool:
    message = str(error)
    return setting.env in message and all(flag in message for flag in setting.flags[-1:])


@given(setting=st.sampled_from(SETTINGS), text=PLAUSIBLE)
def test_any_variable_gives_a_config_or_an_error_naming_it(setting: Setting, text: str) -> None:
    """One variable set to anything: a valid Config, or a one-line error naming that variable."""
    try:
        config = Config.from_env({setting.env: text})
    except ConfigError as error:
        assert _names_its_setting(error, setting), str(error)
        assert "\n" not in str(error).replace(repr(text), "")
        return
    assert isinstance(config, Config)
    assert not has_control_character(config.ssid)
    assert not has_control_character(config.brand_name)
    assert 1 <= config.listening_port <= 65535
    assert config.check_timeout > 0


@given(setting=st.sampled_from(VALUE_FLAG_SETTINGS), text=PLAUSIBLE)
def test_any_flag_gives_a_config_or_an_error_naming_it(setting: Setting, text: str) -> None:
    """A flag's value, in its `--flag=value` form so any text is a value, never another flag."""
    try:
        Config.from_env({}, [f"{setting.flags[-1]}={text}"])
    except ConfigError as error:
        assert _names_its_setting(error, setting), str(error)


@given(setting=st.sampled_from(SWITCH_SETTINGS), text=PLAUSIBLE)
def test_any_value_given_to_a_switch_is_an_error_naming_it(setting: Setting, text: str) -> None:
    """A switch takes no value: `--log-json=x` is a one-line error naming the switch."""
    try:
        Config.from_env({}, [f"{setting.flags[-1]}={text}"])
    except ConfigError as error:
        assert setting.flags[-1] in str(error)
    else:
        raise AssertionError(f"{setting.flags[-1]}={text!r} was taken")


ARGUMENT = st.one_of(
    st.sampled_from(
        [
            "run",
            "scan",
            "add",
            "forget",
            "check",
            "import",
            "simulate",
            "--json",
            "--ssid",
            "--passphrase",
            "--security",
            "--hidden",
            "--force",
            "--watch",
            "-v",
            "--port",
            "-s",
            "-o",
            "--scenario",
            "--",
            "-",
            "--no-activate",
            "--identity",
        ]
    ),
    RAW_TEXT,
)


@given(argv=st.lists(ARGUMENT, max_size=6))
def test_any_command_line_gives_a_command_or_a_config_error(argv: list[str]) -> None:
    """Any words on the command line: a command and a Config, or one ConfigError."""
    try:
        parse_command_line(argv, {})
    except ConfigError as error:
        assert str(error)
    except SystemExit as done:
        # Only --help and --version end the parse (argparse reads -hv as -h -v), with status 0.
        assert done.code == 0
        assert any(word.startswith("-h") or word in ("--help", "--version") for word in argv)
