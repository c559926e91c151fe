"""The command line: parsing into a Command and a Config, one-line errors, --help, dispatch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__, commands
from app.__main__ import main, parse_command_line
from app.config import ENV_SETTINGS, FLAG_SETTINGS, Config
from app.exitcodes import EXIT_STATUS_HELP, ExitStatus
from app.wifi import SecurityKind

REPO = Path(__file__).resolve().parents[2]

EVERY_ENV_VAR = [setting.env for setting in (*FLAG_SETTINGS, *ENV_SETTINGS)] + [
    "DBUS_SYSTEM_BUS_ADDRESS"
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the environment the tests run in."""
    for name in EVERY_ENV_VAR:
        if name != "DBUS_SYSTEM_BUS_ADDRESS":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[commands.Command, Config]]:
    """Record what main dispatches instead of running it; the list stays empty if nothing ran."""
    calls: list[tuple[commands.Command, Config]] = []

    async def record(command: commands.Command, config: Config, timings: object = None) -> int:
        calls.append((command, config))
        return 42

    monkeypatch.setattr(commands, "execute", record)
    return calls


def _stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line main wrote to stderr (and nothing on stdout)."""
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], commands.Run()),
        (["-s", "Foo"], commands.Run()),
        (["run"], commands.Run()),
        (["run", "--force", "--watch"], commands.Run()),
        (["scan"], commands.Scan(json=False)),
        (["-i", "wlan1", "scan", "--json"], commands.Scan(json=True)),
        (["add", "--ssid", "Open Cafe"], commands.Add(ssid="Open Cafe")),
        (
            [
                "add", "--ssid", "Corp", "--passphrase", "s3cret-pw", "--identity", "alice",
                "--hidden", "--no-activate",
            ],
            commands.Add(
                ssid="Corp", passphrase="s3cret-pw", identity="alice", hidden=True, activate=False
            ),
        ),
        (["forget", "Home Net"], commands.Forget(ssid="Home Net")),
        (["check"], commands.Check(json=False)),
        (["check", "--json"], commands.Check(json=True)),
        (["qr"], commands.Qr()),
        (["--qr-file", "join.svg", "qr"], commands.Qr()),
        (["simulate"], commands.Simulate()),
        (["simulate", "--port", "8080"], commands.Simulate(port=8080)),
    ],
)  # fmt: skip
def test_parse_command(argv: list[str], command: commands.Command) -> None:
    """Each subcommand and its arguments become the matching frozen Command."""
    parsed, _ = parse_command_line(argv, {})
    assert parsed == command


@pytest.mark.parametrize("content", [b"s3cret pw\n", b"s3cret pw", b"s3cret pw\r\n"])
def test_add_reads_the_passphrase_from_a_file(tmp_path: Path, content: bytes) -> None:
    """--passphrase-file: the file's one line, so the password is never in a command line."""
    secret = tmp_path / "secret"
    secret.write_bytes(content)
    parsed, _ = parse_command_line(["add", "--ssid", "Home", "--passphrase-file", str(secret)], {})
    assert parsed == commands.Add(ssid="Home", passphrase="s3cret pw")


def test_add_reads_the_passphrase_from_standard_input() -> None:
    """--passphrase-file -: piped in, as `pass show home | wifi-connect add ...` would."""
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_ADD, "--passphrase-file", "-"],
        input=b"piped pw\n",
        capture_output=True,
        check=True,
        cwd=REPO,
    )
    assert result.stdout.decode().strip() == "piped pw"


_PRINT_ADD = (
    "import sys; from app.__main__ import parse_command_line; "
    "print(parse_command_line(['add', '--ssid', 'Home', *sys.argv[1:]], {})[0].passphrase)"
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (b"one\ntwo\n", "holds more than one line"),
        (b"\xff\xfe pw", "is not UTF-8 text"),
        (b"x" * 5000, "is larger than 4096 bytes"),
    ],
)
def test_a_bad_passphrase_file_is_named_and_never_quoted(
    tmp_path: Path,
    content: bytes,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    executed: list[tuple[commands.Command, Config]],
) -> None:
    """One line naming the flag and the file, exit 2, and not a byte of the file in it."""
    secret = tmp_path / "secret"
    secret.write_bytes(content)
    assert main(["add", "--ssid", "Home", "--passphrase-file", str(secret)]) == 2
    line = _stderr_line(capsys)
    assert f"argument --passphrase-file: '{secret}' {expected}" in line
    assert "two" not in line and "xxxx" not in line
    assert executed == []


def test_passphrase_and_passphrase_file_exclude_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    argv = ["add", "--ssid", "H", "--passphrase", "a", "--passphrase-file", str(secret)]
    assert main(argv) == 2
    assert "not allowed with argument --passphrase" in _stderr_line(capsys)


def test_path_arguments_are_checked_and_kept(tmp_path: Path) -> None:
    """import DIR must exist; simulate --scenario FILE is read and checked before it runs."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text('{"networks": [{"ssid": "Only"}]}')
    assert parse_command_line(["import", str(tmp_path)], {})[0] == commands.Import(tmp_path)
    command, _ = parse_command_line(["simulate", "--scenario", str(scenario)], {})
    assert isinstance(command, commands.Simulate) and command.scenario is not None
    assert [network.ssid for network in command.scenario.networks] == [b"Only"]


@pytest.mark.parametrize(
    ("argv", "environ", "ssid", "force", "watch"),
    [
        ([], {}, "WiFi Connect", False, False),
        (["-s", "Flag"], {"PORTAL_SSID": "Env"}, "Flag", False, False),
        ([], {"PORTAL_SSID": "Env"}, "Env", False, False),
        (["-s", "Before", "run", "--force"], {}, "Before", True, False),
        (["run", "--watch", "-s", "After"], {}, "After", False, True),
        # Given on both sides of `run`, the later one wins, as with any repeated flag.
        (["-s", "Before", "run", "-s", "After"], {}, "After", False, False),
    ],
)
def test_parse_config(
    argv: list[str], environ: dict[str, str], ssid: str, force: bool, watch: bool
) -> None:
    """Portal flags go before the command or after run; flags beat env vars."""
    _, config = parse_command_line(argv, environ)
    assert (config.ssid, config.force, config.watch) == (ssid, force, watch)


@pytest.mark.parametrize(
    "argv",
    [
        ["-i", "wlan1", "-o", "8080", "scan"],
        ["scan", "-i", "wlan1", "-o", "8080"],
        ["-i", "wlan1", "scan", "--portal-listening-port", "8080"],
    ],
)
def test_portal_flags_go_before_or_after_any_command(argv: list[str]) -> None:
    """`wifi-connect -i wlan1 scan -o 8080` configures the scan, whichever side a flag is on."""
    command, config = parse_command_line(argv, {})
    assert command == commands.Scan()
    assert (config.interface, config.listening_port) == ("wlan1", 8080)


def test_simulate_takes_the_portal_flags_after_its_own(tmp_path: Path) -> None:
    """`wifi-connect simulate --port 8080 --portal-ssid Shop --ui-directory DIR` works."""
    (tmp_path / "templates").mkdir()
    argv = ["simulate", "--port", "8080", "--portal-ssid", "Shop", "--ui-directory", str(tmp_path)]
    command, config = parse_command_line(argv, {})
    assert command == commands.Simulate(port=8080)
    assert (config.ssid, config.ui_directory) == ("Shop", tmp_path)


@pytest.mark.parametrize(
    ("argv", "security"),
    [
        (["add", "--ssid", "X", "--security", "wep"], SecurityKind.WEP),
        (["add", "--ssid", "X", "--security", "WPA"], SecurityKind.WPA_PSK),
        (["add", "--ssid", "X", "--security", "enterprise"], SecurityKind.WPA_EAP),
        (["add", "--ssid", "X"], None),
    ],
)
def test_add_takes_the_security_by_any_name_the_api_takes(
    argv: list[str], security: SecurityKind | None
) -> None:
    command, _ = parse_command_line(argv, {})
    assert isinstance(command, commands.Add) and command.security is security


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["--portal-gateway", "300.1.1.1"], {}, "--portal-gateway / PORTAL_GATEWAY: '300.1.1.1'"),
        (["-o", "http"], {}, "--portal-listening-port / PORTAL_LISTENING_PORT: 'http'"),
        ([], {"PORTAL_LISTENING_PORT": "99999"}, "--portal-listening-port / PORTAL_LISTENING_PORT"),
        ([], {"PORTAL_BRAND_COLOR": "blue"}, "PORTAL_BRAND_COLOR: 'blue' is not a #rrggbb colour"),
        (["run", "-g", "10.0.0.0"], {}, "--portal-gateway / PORTAL_GATEWAY: '10.0.0.0' is the"),
        (["--bogus"], {}, "unrecognized arguments: --bogus"),
        (["bogus"], {}, "invalid choice: 'bogus'"),
        (["add"], {}, "the following arguments are required: --ssid"),
        (["forget"], {}, "the following arguments are required: SSID"),
        (["scan", "--watch"], {}, "unrecognized arguments: --watch"),
        (["add", "--ssid", "X", "--security", "wpa9"], {}, "argument --security: 'wpa9' is not"),
        (["simulate", "-u", "/nonexistent"], {}, "--ui-directory / UI_DIRECTORY: '/nonexistent'"),
        (["simulate", "--port", "0"], {}, "argument --port: '0' is not a port number"),
        (["import", "/nonexistent/dir"], {}, "argument DIR: '/nonexistent/dir' does not exist"),
        (["simulate", "--scenario", "/nonexistent.json"], {}, "argument --scenario: '/nonexist"),
        (["simulate", "--scenario", str(REPO / "README.md")], {}, "README.md: not JSON"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(
    argv: list[str],
    environ: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    executed: list[tuple[commands.Command, Config]],
) -> None:
    """A bad value or usage: one stderr line, no usage dump, exit 2, no command started."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == ExitStatus.BAD_CONFIG
    line = _stderr_line(capsys)
    assert line.startswith("wifi-connect: error: ")
    assert expected in line
    assert executed == []


def test_main_dispatches_the_parsed_command_and_returns_its_status(
    monkeypatch: pytest.MonkeyPatch, executed: list[tuple[commands.Command, Config]]
) -> None:
    """main hands the Command and the Config to commands.execute and exits with its result."""
    monkeypatch.setenv("PORTAL_SSID", "From Env")
    assert main(["forget", "Old Net"]) == 42
    ((command, config),) = executed
    assert command == commands.Forget(ssid="Old Net")
    assert config.ssid == "From Env"


def test_help_documents_every_flag_env_var_and_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--help names every flag, every env var, each default and each exit status."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    # argparse wraps help text at any space, so compare with the wrapping undone.
    text = " ".join(out.split())
    for setting in FLAG_SETTINGS:
        for flag in setting.flags:
            assert flag in out
        assert f"env {setting.env}; default: {setting.default}]" in text
    for name in EVERY_ENV_VAR:
        assert name in out
    for setting in ENV_SETTINGS:
        assert f"[default: {setting.default}]" in text
    for status in {int(status) for status in ExitStatus}:
        assert f"\n  {status} " in out
    for command in ("run", "scan", "add", "forget", "check", "import", "simulate"):
        assert f"\n    {command} " in out


def test_run_help_lists_force_and_watch(capsys: pytest.CaptureFixture[str]) -> None:
    """`run --help` shows its own flags and the portal flags."""
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--force", "--watch", "--portal-ssid", "PORTAL_SSID"):
        assert flag in out


def test_exit_statuses_are_distinct_and_documented() -> None:
    """Scripts tell outcomes apart by these numbers, so they are fixed and each is in --help."""
    assert {status.name: int(status) for status in ExitStatus} == {
        "OK": 0,
        "FAILED": 1,
        "BAD_CONFIG": 2,
        "TIMED_OUT": 3,
        "NM_UNAVAILABLE": 4,
        "NO_WIFI_DEVICE": 5,
        "INTERRUPTED": 130,
    }
    # Already online is success: a supervisor must not restart a provisioned device's app.
    assert ExitStatus["ALREADY_ONLINE"] is ExitStatus.OK
    assert {status for status, _ in EXIT_STATUS_HELP} == set(ExitStatus)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version to stdout and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"wifi-connect {__version__}\n"


def _run_module(args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m app` from the checkout with a clean set of settings."""
    env = {name: value for name, value in os.environ.items() if name not in EVERY_ENV_VAR}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=env | extra_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "extra_env", "expected", "secret"),
    [
        (
            ["--portal-gateway", "300.1.1.1"],
            {},
            "--portal-gateway / PORTAL_GATEWAY: '300.1.1.1' is not an IPv4 address",
            None,
        ),
        (
            [],
            {"PORTAL_PASSPHRASE": "short"},
            "--portal-passphrase / PORTAL_PASSPHRASE: The password is too short",
            "short",
        ),
    ],
)
def test_python_dash_m_app_rejects_bad_values(
    args: list[str], extra_env: dict[str, str], expected: str, secret: str | None
) -> None:
    """As a real process: exit 2, exactly one stderr line naming flag and env var, no traceback."""
    result = _run_module(args, extra_env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"wifi-connect: error: {expected}")
    if secret is not None:
        assert f"'{secret}'" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"), [(["--log-json"], {}), ([], {"LOG_JSON": "true"})], ids=["flag", "env"]
)
def test_with_json_logs_the_error_that_ends_a_command_is_a_json_line_too(
    args: list[str], env: dict[str, str]
) -> None:
    """A log shipper reads every stderr line as JSON: the last one, saying why, as well."""
    bus = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/wifi-connect-test-bus"}
    result = _run_module([*args, "scan"], env | bus)
    assert result.returncode == ExitStatus.NM_UNAVAILABLE
    *_, last = [json.loads(line) for line in result.stderr.splitlines()]
    assert (last["level"], last["logger"]) == ("ERROR", "app.__main__")
    assert last["message"].startswith("cannot connect to the system bus")


def test_python_dash_m_app_version() -> None:
    """The module entry point prints the version as the console script would."""
    result = _run_module(["--version"], {})
    assert (result.returncode, result.stdout) == (0, f"wifi-connect {__version__}\n")


def test_an_empty_ui_directory_stops_simulate_before_anything_starts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    executed: list[tuple[commands.Command, Config]],
) -> None:
    """`UI_DIRECTORY=/empty/dir wifi-connect simulate`: exit 2, and no simulator was started."""
    monkeypatch.setenv("UI_DIRECTORY", str(tmp_path))
    assert main(["simulate"]) == ExitStatus.BAD_CONFIG
    assert _stderr_line(capsys) == (
        f"wifi-connect: error: --ui-directory / UI_DIRECTORY: '{tmp_path}' holds neither a "
        "templates/ directory nor an index.html"
    )
    assert executed == []
