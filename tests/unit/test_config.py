"""Config: flags beat env vars, env vars beat defaults; a bad value is one line naming both."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from app.config import Config, find_bundled
from app.errors import ConfigError
from app.rules import default_dhcp_range


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A current directory holding the files and directories the path settings point at."""
    (tmp_path / "ui-flag" / "templates").mkdir(parents=True)
    (tmp_path / "ui-env").mkdir()
    (tmp_path / "ui-env" / "index.html").write_text("<!doctype html>")
    (tmp_path / "ui-empty").mkdir()
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "logo.txt").write_text("not an image")
    (tmp_path / "logodir.png").mkdir()
    (tmp_path / "file.txt").write_text("not a directory")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


GW = IPv4Address

# field, long flag, env var, flag text, env text, value from the flag, value from env, default
PRECEDENCE = [
    ("interface", "--portal-interface", "PORTAL_INTERFACE", "wlan1", "wlan0", "wlan1", "wlan0",
     None),
    ("ssid", "--portal-ssid", "PORTAL_SSID", "Flag", "Env", "Flag", "Env", "WiFi Connect"),
    ("passphrase", "--portal-passphrase", "PORTAL_PASSPHRASE", "flagpass1", "env pass 2",
     "flagpass1", "env pass 2", None),
    ("gateway", "--portal-gateway", "PORTAL_GATEWAY", "10.0.0.1", "172.16.5.1",
     GW("10.0.0.1"), GW("172.16.5.1"), GW("192.168.42.1")),
    ("dhcp_range", "--portal-dhcp-range", "PORTAL_DHCP_RANGE",
     "192.168.42.10,192.168.42.20", " 192.168.42.100 , 192.168.42.200 ",
     (GW("192.168.42.10"), GW("192.168.42.20")), (GW("192.168.42.100"), GW("192.168.42.200")),
     (GW("192.168.42.2"), GW("192.168.42.254"))),
    ("listening_port", "--portal-listening-port", "PORTAL_LISTENING_PORT", "8080", "8081",
     8080, 8081, 80),
    ("activity_timeout", "--activity-timeout", "ACTIVITY_TIMEOUT", "30", "600", 30, 600, 0),
    ("ui_directory", "--ui-directory", "UI_DIRECTORY", "ui-flag", "ui-env",
     Path("ui-flag"), Path("ui-env"), None),
    ("log_level", "--log-level", "LOG_LEVEL", "warning", "DEBUG", logging.WARNING, logging.DEBUG,
     logging.INFO),
    ("qr_file", "--qr-file", "PORTAL_QR_FILE", "ui-flag/join.PNG", "join.svg",
     Path("ui-flag/join.PNG"), Path("join.svg"), None),
]  # fmt: skip

SHORT_FLAGS = {
    "--portal-interface": "-i",
    "--portal-ssid": "-s",
    "--portal-passphrase": "-p",
    "--portal-gateway": "-g",
    "--portal-dhcp-range": "-d",
    "--portal-listening-port": "-o",
    "--activity-timeout": "-a",
    "--ui-directory": "-u",
}

# field, env var, env text, value, default
ENV_SETTINGS = [
    ("brand_name", "PORTAL_BRAND_NAME", "Acme Sensors", "Acme Sensors", "WiFi Connect"),
    ("brand_logo", "PORTAL_BRAND_LOGO", "logo.png", Path("logo.png"), None),
    ("brand_color", "PORTAL_BRAND_COLOR", "#FFAA00", "#ffaa00", "#0b5cad"),
    ("language", "PORTAL_LANGUAGE", "pt-BR", "pt-BR", "en"),
    (
        "check_https", "CHECK_HTTPS", "https://a.example, https://b.example:8443/x\nhttps://a.example",
        ("https://a.example", "https://b.example:8443/x"), ("https://api.balena-cloud.com",),
    ),
    ("check_ntp", "CHECK_NTP", "time.example.org", "time.example.org", "pool.ntp.org"),
    ("check_ntp", "CHECK_NTP", "192.0.2.123", "192.0.2.123", "pool.ntp.org"),
    ("check_timeout", "CHECK_TIMEOUT", "2.5", 2.5, 10.0),
]  # fmt: skip


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize(
    ("name", "flag", "env", "flag_text", "env_text", "from_flag", "from_env", "default"),
    PRECEDENCE,
)
def test_flag_beats_env_beats_default(
    name: str,
    flag: str,
    env: str,
    flag_text: str,
    env_text: str,
    from_flag: object,
    from_env: object,
    default: object,
) -> None:
    """Each flagged setting: flag over env, env over default, long and short flag alike."""
    assert getattr(Config.from_env({}, []), name) == default
    assert getattr(Config.from_env({env: env_text}, []), name) == from_env
    assert getattr(Config.from_env({env: env_text}, [flag, flag_text]), name) == from_flag
    assert getattr(Config.from_env({env: env_text}, [f"{flag}={flag_text}"]), name) == from_flag
    short = SHORT_FLAGS.get(flag, flag)
    assert getattr(Config.from_env({}, [short, flag_text]), name) == from_flag


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize(("name", "env", "text", "value", "default"), ENV_SETTINGS)
def test_env_only_settings(name: str, env: str, text: str, value: object, default: object) -> None:
    """Each env-only setting: the variable's value, else the default."""
    assert getattr(Config.from_env({env: text}, []), name) == value
    assert getattr(Config.from_env({}, []), name) == default


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
@pytest.mark.parametrize(
    "env",
    [setting[2] for setting in PRECEDENCE] + [setting[1] for setting in ENV_SETTINGS],
)
def test_empty_env_var_counts_as_unset(env: str, blank: str) -> None:
    """A container env file's `KEY=` line leaves the default in place."""
    assert Config.from_env({env: blank}, []) == Config()


def test_defaults_are_the_dataclass_defaults() -> None:
    """Nothing set gives exactly Config()."""
    config = Config.from_env({}, [])
    assert config == Config()
    assert config.portal_url == "http://192.168.42.1/"
    assert (config.force, config.watch) == (False, False)


def test_balena_api_url_is_the_https_default_unless_check_https_is_set() -> None:
    """balenaOS sets BALENA_API_URL; CHECK_HTTPS still wins over it."""
    balena = {"BALENA_API_URL": "https://api.balena.example"}
    assert Config.from_env(balena, []).check_https == ("https://api.balena.example",)
    both = balena | {"CHECK_HTTPS": "https://mine.example"}
    assert Config.from_env(both, []).check_https == ("https://mine.example",)
    # A bad BALENA_API_URL does not matter once CHECK_HTTPS replaces it.
    assert Config.from_env({"BALENA_API_URL": "junk", "CHECK_HTTPS": "https://mine.example"}, [])


@pytest.mark.parametrize(
    ("argv", "environ", "log_json"),
    [
        ([], {}, False),
        ([], {"LOG_JSON": "true"}, True),
        ([], {"LOG_JSON": " Yes "}, True),
        ([], {"LOG_JSON": "1"}, True),
        ([], {"LOG_JSON": "off"}, False),
        (["--log-json"], {"LOG_JSON": "false"}, True),
        (["--log-json"], {}, True),
    ],
)
def test_log_json_is_a_switch_its_variable_true_or_false(
    argv: list[str], environ: dict[str, str], log_json: bool
) -> None:
    """--log-json takes no value and wins over LOG_JSON, which says true or false."""
    assert Config.from_env(environ, argv).log_json is log_json


def test_a_bad_log_json_value_names_flag_and_env() -> None:
    """LOG_JSON is neither true nor false: one line naming both, as for every flagged setting."""
    message = _config_error({"LOG_JSON": "maybe"}, [])
    assert message == "--log-json / LOG_JSON: 'maybe' is neither true nor false"


@pytest.mark.parametrize(
    ("argv", "environ", "force", "watch", "log_level"),
    [
        ([], {}, False, False, logging.INFO),
        (["--force"], {}, True, False, logging.INFO),
        (["--watch", "--force"], {}, True, True, logging.INFO),
        (["-v"], {"LOG_LEVEL": "error"}, False, False, logging.DEBUG),
        (["-v", "--log-level", "error"], {}, False, False, logging.DEBUG),
        (["--log-level", "error", "-v"], {}, False, False, logging.DEBUG),
        (["--verbose"], {}, False, False, logging.DEBUG),
        ([], {"LOG_LEVEL": "warning"}, False, False, logging.WARNING),
    ],
)
def test_run_flags_and_log_level(
    argv: list[str], environ: dict[str, str], force: bool, watch: bool, log_level: int
) -> None:
    """--force/--watch come from flags only; -v beats --log-level and LOG_LEVEL."""
    config = Config.from_env(environ, argv)
    assert (config.force, config.watch, config.log_level) == (force, watch, log_level)


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ("192.168.42.1", (GW("192.168.42.2"), GW("192.168.42.254"))),
        ("10.1.2.100", (GW("10.1.2.101"), GW("10.1.2.254"))),
        ("10.1.2.200", (GW("10.1.2.1"), GW("10.1.2.199"))),
        ("10.1.2.254", (GW("10.1.2.1"), GW("10.1.2.253"))),
    ],
)
def test_dhcp_range_follows_a_moved_gateway(
    gateway: str, expected: tuple[IPv4Address, IPv4Address]
) -> None:
    """With only the gateway set, the default range is the larger side of its /24."""
    assert default_dhcp_range(GW(gateway)) == expected
    assert Config.from_env({"PORTAL_GATEWAY": gateway}, []).dhcp_range == expected


@pytest.mark.parametrize(
    ("gateway", "port", "url"),
    [
        ("192.168.42.1", 80, "http://192.168.42.1/"),
        ("192.168.42.1", 8080, "http://192.168.42.1:8080/"),
        ("10.0.0.1", 443, "http://10.0.0.1:443/"),
    ],
)
def test_portal_url_keeps_a_non_default_port(gateway: str, port: int, url: str) -> None:
    """Captive probes are redirected to this URL, so a port other than 80 must stay in it."""
    assert Config(gateway=GW(gateway), listening_port=port).portal_url == url


# (long flag, env var), then each bad text with what the message must say about it
FLAG_ERROR_TABLE = (
    (("--portal-interface", "PORTAL_INTERFACE"), (
        ("wlan-name-too-long", "'wlan-name-too-long' is not a network interface name"),
        ("wl/an0", "is not a network interface name"),
        ("wl:0", "is not a network interface name"),
    )),
    (("--portal-ssid", "PORTAL_SSID"), (
        ("x" * 33, "The network name is too long: WiFi allows at most 32 bytes"),
        ("é" * 17, "at most 32 bytes"),
        ("Office\r", "holds a control character"),
        ("\udcff", "bytes that are not UTF-8"),
    )),
    (("--portal-passphrase", "PORTAL_PASSPHRASE"), (
        ("seven77", "The password is too short: a WPA password has 8 to 63 characters"),
        ("k" * 65, "The password is too long"),
        ("pässwörter", "can only use the letters A-Z"),
        ("tab\there12", "can only use the letters A-Z"),
    )),
    (("--portal-gateway", "PORTAL_GATEWAY"), (
        ("300.1.1.1", "'300.1.1.1' is not an IPv4 address"),
        ("192.168.042.1", "is not an IPv4 address"),
        ("fe80::1", "is not an IPv4 address"),
        ("192.168.42.0", "is the network address of 192.168.42.0/24"),
        ("192.168.42.255", "is the broadcast address of 192.168.42.0/24"),
        ("127.0.0.1", "is a loopback address"),
        ("224.0.0.1", "is a multicast address"),
        ("0.0.0.0", "is the unspecified address"),
        ("240.0.0.1", "is a reserved address"),
    )),
    (("--portal-dhcp-range", "PORTAL_DHCP_RANGE"), (
        ("192.168.42.2", "is not START,END"),
        ("192.168.42.2-192.168.42.9", "is not START,END"),
        ("192.168.42.2,nine", "'nine' is not an IPv4 address"),
        ("10.0.0.2,10.0.0.9", "10.0.0.2 is outside the gateway's network 192.168.42.0/24"),
        ("192.168.42.2,192.168.43.9", "192.168.43.9 is outside"),
        ("192.168.42.9,192.168.42.2", "the start 192.168.42.9 comes after the end 192.168.42.2"),
        ("192.168.42.0,192.168.42.9", "192.168.42.0 is the network address"),
        ("192.168.42.2,192.168.42.255", "192.168.42.255 is the broadcast address"),
        ("192.168.42.1,192.168.42.9", "includes the gateway 192.168.42.1"),
        ("192.168.42.1,192.168.42.1", "includes the gateway"),
    )),
    (("--portal-listening-port", "PORTAL_LISTENING_PORT"), (
        ("0", "'0' is not a port number (1 to 65535)"),
        ("65536", "is not a port number"),
        ("http", "is not a port number"),
        ("-1", "is not a port number"),
        ("80.0", "is not a port number"),
    )),
    (("--activity-timeout", "ACTIVITY_TIMEOUT"), (
        ("-5", "is not a whole number of seconds"),
        ("1.5", "is not a whole number of seconds"),
        ("soon", "is not a whole number of seconds"),
        ("9" * 5000, "is not a whole number of seconds"),
    )),
    (("--log-level", "LOG_LEVEL"), (
        ("loud", "'loud' is not a log level (debug, info, warning, error)"),
        ("5", "is not a log level"),
    )),
    (("--ui-directory", "UI_DIRECTORY"), (
        ("missing", "'missing' does not exist"),
        ("file.txt", "'file.txt' is not a directory"),
        ("ui-empty", "'ui-empty' holds neither a templates/ directory nor an index.html"),
    )),
    (("--qr-file", "PORTAL_QR_FILE"), (
        ("join.jpg", "'join.jpg' is not an .svg or .png file"),
        ("join", "is not an .svg or .png file"),
        ("missing/join.svg", "'missing/join.svg' is not in an existing directory"),
        ("file.txt/join.svg", "is not in an existing directory"),
        ("logodir.png", "'logodir.png' is a directory"),
    )),
)  # fmt: skip
FLAG_ERRORS = [
    (flag, env, text, reason) for (flag, env), cases in FLAG_ERROR_TABLE for text, reason in cases
]

ENV_ERRORS = [
    ("PORTAL_BRAND_NAME", "Acme\nSensors", "contains a control character"),
    ("PORTAL_BRAND_LOGO", "missing.png", "'missing.png' does not exist"),
    ("PORTAL_BRAND_LOGO", "logo.txt", "is not a png, svg, jpg, jpeg, gif or webp file"),
    ("PORTAL_BRAND_LOGO", "logodir.png", "'logodir.png' is not a file"),
    ("PORTAL_BRAND_COLOR", "red", "'red' is not a #rrggbb colour"),
    ("PORTAL_BRAND_COLOR", "#fff", "is not a #rrggbb colour"),
    ("PORTAL_BRAND_COLOR", "#12345g", "is not a #rrggbb colour"),
    ("PORTAL_BRAND_COLOR", "0b5cad", "is not a #rrggbb colour"),
    ("PORTAL_LANGUAGE", "english", "is not a language tag"),
    ("PORTAL_LANGUAGE", "en_US", "is not a language tag"),
    ("PORTAL_LANGUAGE", "e", "is not a language tag"),
    ("CHECK_HTTPS", "http://api.example.com", "'http://api.example.com' is not an https:// URL"),
    ("CHECK_HTTPS", "api.example.com", "is not an https:// URL with a host"),
    ("CHECK_HTTPS", "https://", "is not an https:// URL with a host"),
    ("CHECK_HTTPS", "https://ok.example https://x.example:99999", "'https://x.example:99999' is"),
    ("CHECK_HTTPS", "https://bad_host.example", "does not name a valid host"),
    ("CHECK_HTTPS", " , ", "holds no URL"),
    ("BALENA_API_URL", "http://api.example.com", "is not an https:// URL"),
    ("CHECK_NTP", "not a host", "is not a host name or IP address"),
    ("CHECK_NTP", "-bad.example", "is not a host name or IP address"),
    ("CHECK_NTP", "a..b", "is not a host name or IP address"),
    ("CHECK_NTP", "300.1.1.1", "is not a host name or IP address"),
    ("CHECK_TIMEOUT", "0", "'0' is not a number of seconds above 0"),
    ("CHECK_TIMEOUT", "-1", "is not a number of seconds above 0"),
    ("CHECK_TIMEOUT", "soon", "is not a number of seconds above 0"),
    ("CHECK_TIMEOUT", "nan", "is not a number of seconds above 0"),
    ("CHECK_TIMEOUT", "inf", "is not a number of seconds above 0"),
]  # fmt: skip


def _config_error(environ: dict[str, str], argv: list[str]) -> str:
    """The message of the ConfigError building this Config raises."""
    with pytest.raises(ConfigError) as caught:
        Config.from_env(environ, argv)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize("source", ["flag", "env"])
@pytest.mark.parametrize(("flag", "env", "text", "reason"), FLAG_ERRORS)
def test_bad_flag_value_names_flag_and_env(
    source: str, flag: str, env: str, text: str, reason: str
) -> None:
    """Through the flag or the env var, a bad value is one line: 'FLAG / ENV: reason'."""
    environ, argv = ({}, [f"{flag}={text}"]) if source == "flag" else ({env: text}, [])
    message = _config_error(environ, argv)
    assert message.startswith(f"{flag} / {env}: ")
    assert reason in message


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize(("env", "text", "reason"), ENV_ERRORS)
def test_bad_env_value_names_the_env_var(env: str, text: str, reason: str) -> None:
    """An env-only setting's bad value is one line: 'ENV: reason'."""
    message = _config_error({env: text}, [])
    assert message.startswith(f"{env}: ")
    assert reason in message


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("--portal-ssid", "cannot be empty"),
        ("--portal-passphrase", "too short"),
        ("--portal-interface", "is not a network interface name"),
        ("--portal-gateway", "is not an IPv4 address"),
    ],
)
def test_empty_flag_value_is_an_error_not_unset(flag: str, reason: str) -> None:
    """Only env vars may be empty: `-s ''` on a command line is a mistake worth reporting."""
    message = _config_error({}, [flag, ""])
    assert message.startswith(f"{flag} / ")
    assert reason in message


def test_dhcp_range_is_checked_against_the_gateway_from_another_source() -> None:
    """A flag's gateway and an env var's range must still agree."""
    message = _config_error({"PORTAL_DHCP_RANGE": "192.168.42.2,192.168.42.9"}, ["-g", "10.0.0.1"])
    assert message == (
        "--portal-dhcp-range / PORTAL_DHCP_RANGE: "
        "192.168.42.2 is outside the gateway's network 10.0.0.0/24"
    )


@pytest.mark.parametrize("secret", ["seven77", "p" * 64, "pässwörter"])
def test_passphrase_never_shows(secret: str) -> None:
    """Neither an error message nor repr(Config) may carry the passphrase."""
    assert secret not in _config_error({"PORTAL_PASSPHRASE": secret}, [])
    config = Config.from_env({"PORTAL_PASSPHRASE": "correct horse"}, [])
    assert config.passphrase == "correct horse"
    assert "correct horse" not in repr(config)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--portal-gate", "10.0.0.1"], "unrecognized arguments"),
        (["-s"], "argument -s/--portal-ssid: expected one argument"),
    ],
)
def test_bad_command_line_is_a_config_error(argv: list[str], reason: str) -> None:
    """Unknown or abbreviated flags fail as one line too."""
    assert reason in _config_error({}, argv)


def test_config_is_frozen() -> None:
    """Config is built once and never changes."""
    config = Config()
    with pytest.raises(AttributeError):
        config.ssid = "Other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["pkg/templates", "templates"], "pkg/templates"),
        (["templates"], "templates"),
        (["pkg/static"], "pkg/static"),
    ],
)
def test_bundled_dirs_prefer_the_installed_package(
    tmp_path: Path, present: list[str], expected: str
) -> None:
    """Installed: <package>/templates; source checkout: <package>/../templates."""
    (tmp_path / "pkg").mkdir()
    for directory in present:
        (tmp_path / directory).mkdir()
    name = Path(expected).name
    assert find_bundled(name, tmp_path / "pkg") == tmp_path / expected


def test_bundled_dir_missing_says_where_it_looked(tmp_path: Path) -> None:
    """With neither location present, the error names both."""
    (tmp_path / "pkg").mkdir()
    with pytest.raises(FileNotFoundError, match="pkg/static"):
        find_bundled("static", tmp_path / "pkg")
