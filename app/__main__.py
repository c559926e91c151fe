"""Command line: parse flags and environment into a Command and a Config, then dispatch."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from app import __version__, logs
from app.config import (
    ENV_SETTINGS,
    Config,
    InvalidValue,
    StrictArgumentParser,
    add_config_arguments,
    add_run_arguments,
    argument_type,
    parse_directory,
    parse_port,
    parse_readable_file,
    parse_secret_file,
)
from app.errors import ConfigError, NetworkManagerUnavailable, NoWifiDevice, WifiConnectError
from app.exitcodes import EXIT_STATUS_HELP, ExitStatus
from app.rules import inert_text
from app.wifi import STATED_SECURITY, SecurityKind, stated_security

# The commands (and asyncio under them) are imported once the flags are parsed: --help, --version
# and a bad flag print and end without them.
if TYPE_CHECKING:
    from app import commands
    from app.flow.timing import Timings
    from app.simulator import Scenario

# Named, not __name__: under `python -m app` that is "__main__", outside the app's loggers.
_LOGGER = logging.getLogger("app.__main__")

PROG = "wifi-connect"
# The epilog is wrapped by hand (argparse would reflow its table), to this width.
_HELP_WIDTH = 79


def main(argv: Sequence[str] | None = None, timings: Timings | None = None) -> int:
    """The console script: parse, then run the command; returns the exit status."""
    try:
        command, config = parse_command_line(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as err:
        # One line whatever the message holds, so a supervisor's log shows one record.
        message = inert_text(str(err).replace("\n", "\\n"))
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return ExitStatus.BAD_CONFIG
    except SystemExit as done:
        # --help and --version print, then end the way argparse does.
        return done.code if isinstance(done.code, int) else ExitStatus.OK
    import asyncio

    from app import commands

    logs.setup(config.log_level, json_lines=config.log_json)
    try:
        return asyncio.run(commands.execute(command, config, timings))
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except WifiConnectError as err:
        if config.log_json:
            # A log shipper reads each line of stderr as JSON, the last one too.
            _LOGGER.error("%s", err)
        else:
            # dnsmasq's output, a port holder's name, NetworkManager's words: none raw.
            print(f"{PROG}: {inert_text(str(err))}", file=sys.stderr)
        return _status_for(err)


def _status_for(error: WifiConnectError) -> ExitStatus:
    """The documented exit status for an error that ended a command."""
    if isinstance(error, ConfigError):
        return ExitStatus.BAD_CONFIG
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
        "With no command, 'run' is meant. The flags below go before or after the command.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_config_arguments(parser)
    add_run_arguments(parser)
    # Every command takes the same flags after its name; a flag left out there keeps the value
    # given before the command (or the default).
    flags_after = StrictArgumentParser(add_help=False)
    add_config_arguments(flags_after, suppress_defaults=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, help=help_text, parents=[flags_after])

    run = command("run", "open the portal unless online, and provision (the default)")
    add_run_arguments(run, suppress_defaults=True)

    scan = command("scan", "list the WiFi networks in range")
    scan.add_argument("--json", action="store_true", help="print JSON instead of a table")

    add = command("add", "save credentials for a network, without the portal")
    add.add_argument("--ssid", required=True, help="name of the network")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument(
        "--passphrase", help="password or WEP key; omit for an open network (seen in ps)"
    )
    secret.add_argument(
        "--passphrase-file",
        metavar="FILE",
        type=argument_type(parse_secret_file),
        help="read the password from FILE's one line, or from standard input for -",
    )
    add.add_argument("--identity", help="user name, for an enterprise (802.1X) network")
    add.add_argument("--hidden", action="store_true", help="the network does not broadcast")
    add.add_argument(
        "--security",
        metavar="KIND",
        type=argument_type(_security),
        help="the network's security when the scan cannot tell (hidden or out of range): "
        f"{', '.join(STATED_SECURITY)} [default: the scan's, else read off the flags]",
    )
    add.add_argument(
        "--ipv4-address",
        metavar="CIDR",
        help="a static address with its prefix length, e.g. 192.168.1.127/24 [default: DHCP]",
    )
    add.add_argument(
        "--ipv4-gateway",
        metavar="ADDRESS",
        help="the router's address, inside the static address's network; with --ipv4-address",
    )
    add.add_argument(
        "--ipv4-dns",
        metavar="LIST",
        help="1 to 3 DNS servers, comma-separated; with --ipv4-address",
    )
    add.add_argument(
        "--no-activate",
        dest="activate",
        action="store_false",
        help="only save the profile; do not connect now",
    )

    forget = command("forget", "delete the saved profiles of a network")
    forget.add_argument("ssid", metavar="SSID", help="name of the network")

    check = command("check", "report whether the API endpoints are reachable")
    check.add_argument("--json", action="store_true", help="print JSON instead of text")

    import_ = command(
        "import", "add NetworkManager keyfiles, e.g. a boot partition's system-connections/"
    )
    import_.add_argument(
        "directory", metavar="DIR", type=argument_type(parse_directory), help="keyfile directory"
    )

    command(
        "qr",
        "print the QR code that joins the hotspot (PORTAL_SSID, PORTAL_PASSPHRASE); "
        "with --qr-file, write it there too",
    )

    command(
        "identify",
        "run IDENTIFY_COMMAND here, as the portal's Identify button does (try the LED from SSH)",
    )

    simulate = command("simulate", "serve the portal on 127.0.0.1 over a simulated radio")
    simulate.add_argument(
        "--scenario",
        metavar="FILE",
        type=argument_type(_scenario),
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
    from app import commands

    match args.command:
        case "scan":
            return commands.Scan(json=args.json)
        case "add":
            return commands.Add(
                ssid=args.ssid,
                passphrase=args.passphrase if args.passphrase is not None else args.passphrase_file,
                identity=args.identity,
                hidden=args.hidden,
                activate=args.activate,
                security=args.security,
                ipv4_address=args.ipv4_address,
                ipv4_gateway=args.ipv4_gateway,
                ipv4_dns=args.ipv4_dns,
            )
        case "forget":
            return commands.Forget(ssid=args.ssid)
        case "check":
            return commands.Check(json=args.json)
        case "import":
            return commands.Import(directory=args.directory)
        case "qr":
            return commands.Qr()
        case "identify":
            return commands.Identify()
        case "simulate":
            return commands.Simulate(scenario=args.scenario, port=args.port)
        case _:
            return commands.Run()


def _security(text: str) -> SecurityKind:
    """`add --security`: a security kind by any name the portal's API takes."""
    security = stated_security(text)
    if security is None:
        raise InvalidValue(f"{text!r} is not one of {', '.join(STATED_SECURITY)}")
    return security


def _scenario(text: str) -> Scenario:
    """`simulate --scenario`: read and checked here, so a bad file exits 2 before anything runs."""
    # Imported here: only `simulate` needs the simulator.
    from app.simulator import ScenarioError, load_scenario

    try:
        return load_scenario(parse_readable_file(text))
    except ScenarioError as err:
        raise InvalidValue(str(err)) from None


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


if __name__ == "__main__":
    sys.exit(main())
