"""Command line: parse flags and environment into a Command and a Config, then dispatch."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence

from app import __version__, commands
from app.config import (
    ENV_SETTINGS,
    Config,
    StrictArgumentParser,
    add_config_arguments,
    add_run_arguments,
    argument_type,
    parse_directory,
    parse_port,
    parse_readable_file,
)
from app.errors import ConfigError, NetworkManagerUnavailable, NoWifiDevice, WifiConnectError
from app.exitcodes import EXIT_STATUS_HELP, ExitStatus

PROG = "wifi-connect"
# The epilog is wrapped by hand (argparse would reflow its table), to this width.
_HELP_WIDTH = 79


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, then run the command; returns the exit status."""
    try:
        command, config = parse_command_line(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as err:
        # One line whatever the message holds, so a supervisor's log shows one record.
        message = str(err).replace("\n", "\\n")
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return ExitStatus.BAD_CONFIG
    except SystemExit as done:
        # --help and --version print, then end the way argparse does.
        return done.code if isinstance(done.code, int) else ExitStatus.OK
    _setup_logging(config.log_level)
    try:
        return asyncio.run(commands.execute(command, config))
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except WifiConnectError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return _status_for(err)


def _status_for(error: WifiConnectError) -> ExitStatus:
    """The documented exit status for an error that ended a command."""
    if isinstance(error, NetworkManagerUnavailable):
        return ExitStatus.NM_UNAVAILABLE
    if isinstance(error, NoWifiDevice):
        return ExitStatus.NO_WIFI_DEVICE
    return ExitStatus.FAILED


def parse_command_line(
    argv: Sequence[str], environ: Mapping[str, str]
) -> tuple[commands.Command, Config]:
    """The command and the validated Config; raises ConfigError on any bad value."""
    args = build_parser().parse_args(list(argv))
    return _command(args), Config.from_args(args, environ)


def build_parser() -> argparse.ArgumentParser:
    """The wifi-connect argument parser; its errors raise ConfigError."""
    parser = StrictArgumentParser(
        prog=PROG,
        description="Captive-portal WiFi provisioning through NetworkManager.\n"
        "With no command, 'run' is meant. The flags below go before the command\n"
        "(or after 'run').",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_config_arguments(parser)
    add_run_arguments(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = subparsers.add_parser(
        "run", help="open the portal unless online, and provision (the default)"
    )
    add_config_arguments(run, suppress_defaults=True)
    add_run_arguments(run, suppress_defaults=True)

    scan = subparsers.add_parser("scan", help="list the WiFi networks in range")
    scan.add_argument("--json", action="store_true", help="print JSON instead of a table")

    add = subparsers.add_parser("add", help="save credentials for a network, without the portal")
    add.add_argument("--ssid", required=True, help="name of the network")
    add.add_argument("--passphrase", help="password or WEP key; omit for an open network")
    add.add_argument("--identity", help="user name, for an enterprise (802.1X) network")
    add.add_argument("--hidden", action="store_true", help="the network does not broadcast")
    add.add_argument(
        "--no-activate",
        dest="activate",
        action="store_false",
        help="only save the profile; do not connect now",
    )

    forget = subparsers.add_parser("forget", help="delete the saved profiles of a network")
    forget.add_argument("ssid", metavar="SSID", help="name of the network")

    check = subparsers.add_parser("check", help="report whether the API endpoints are reachable")
    check.add_argument("--json", action="store_true", help="print JSON instead of text")

    import_ = subparsers.add_parser(
        "import", help="add NetworkManager keyfiles, e.g. a boot partition's system-connections/"
    )
    import_.add_argument(
        "directory", metavar="DIR", type=argument_type(parse_directory), help="keyfile directory"
    )

    simulate = subparsers.add_parser(
        "simulate", help="serve the portal on 127.0.0.1 over a simulated radio"
    )
    simulate.add_argument(
        "--scenario",
        metavar="FILE",
        type=argument_type(parse_readable_file),
        help="scenario JSON: access points, working passwords, failures [default: built-in]",
    )
    simulate.add_argument(
        "--port",
        metavar="N",
        type=argument_type(parse_port),
        help="TCP port of the portal on 127.0.0.1 [default: 8080]",
    )
    return parser


def _command(args: argparse.Namespace) -> commands.Command:
    """The Command the parsed arguments ask for; no command means run."""
    match args.command:
        case "scan":
            return commands.Scan(json=args.json)
        case "add":
            return commands.Add(
                ssid=args.ssid,
                passphrase=args.passphrase,
                identity=args.identity,
                hidden=args.hidden,
                activate=args.activate,
            )
        case "forget":
            return commands.Forget(ssid=args.ssid)
        case "check":
            return commands.Check(json=args.json)
        case "import":
            return commands.Import(directory=args.directory)
        case "simulate":
            return commands.Simulate(scenario=args.scenario, port=args.port)
        case _:
            return commands.Run()


def _epilog() -> str:
    """The --help text after the flags: env-only variables, precedence, exit statuses."""
    variables = [
        (setting.env, f"{setting.help} [default: {setting.default}]") for setting in ENV_SETTINGS
    ]
    variables.append(
        (
            "DBUS_SYSTEM_BUS_ADDRESS",
            "the system bus NetworkManager is on [default: the standard system bus socket]",
        )
    )
    indent = " " * (2 + max(len(name) for name, _ in variables) + 2)
    lines = ["environment variables without a flag:"]
    lines += [
        textwrap.fill(
            text,
            _HELP_WIDTH,
            initial_indent=f"  {name}".ljust(len(indent)),
            subsequent_indent=indent,
        )
        for name, text in variables
    ]
    lines += [
        "",
        "A flag wins over its environment variable; an empty variable counts as unset.",
        "",
        "exit status:",
    ]
    lines += [f"  {int(status):<5}{text}" for status, text in EXIT_STATUS_HELP]
    return "\n".join(lines)


def _setup_logging(level: int) -> None:
    """Log to stderr, plain: the container runtime or journald adds the timestamps."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Only our own loggers follow -v / LOG_LEVEL: at debug level aiohttp and asyncio would
    # drown out what an installer needs to read.
    logging.getLogger("app").setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
