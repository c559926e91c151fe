"""Configuration: flags win over environment variables, which win over defaults; validated once."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import app
from app import rules, whereto
from app.errors import ConfigError, ValidationError

_T = TypeVar("_T")

DEFAULT_SSID = "WiFi Connect"
DEFAULT_GATEWAY = IPv4Address("192.168.42.1")
DEFAULT_DHCP_RANGE = (IPv4Address("192.168.42.2"), IPv4Address("192.168.42.254"))
# White text on this blue has a contrast ratio of 6.7:1, above WCAG AA's 4.5:1 for body text.
DEFAULT_BRAND_COLOR = "#0b5cad"
DEFAULT_CHECK_HTTPS = "https://api.balena-cloud.com"
DEFAULT_CHECK_NTP = "pool.ntp.org"

LOGO_EXTENSIONS = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
# The QR code file's kinds, by extension (app.qr writes each).
QR_FILE_EXTENSIONS = (".svg", ".png")
# A passphrase file holds one line; anything longer than this is not one.
SECRET_FILE_LIMIT = 4096
LOG_LEVELS = ("debug", "info", "warning", "error")

# Bounds timeouts so a value always converts to the float seconds the event loop works in.
_MAX_SECONDS = 10**9

_PACKAGE_DIR = Path(app.__file__).parent

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")
# Digit counts are capped so int() and float() never see a number too long to convert.
_DIGITS = re.compile(r"[0-9]{1,10}")
_DECIMAL = re.compile(r"[0-9]{1,10}(\.[0-9]{1,9})?")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_URL_SEPARATORS = re.compile(r"[\s,]+")
_SWITCH_ON = ("true", "yes", "on", "1")
_SWITCH_OFF = ("false", "no", "off", "0")


class InvalidValue(ValueError):
    """A raw value broke a rule; the message says which, the caller adds where it came from."""


@dataclass(frozen=True)
class Setting:
    """One configurable value: its env var, its flags if it has any, and how --help describes it."""

    env: str
    help: str
    default: str
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    # A switch's flag takes no value: given, it reads as "true" (see parse_switch).
    switch: bool = False

    @property
    def dest(self) -> str:
        """The argparse attribute that holds the flag's raw text."""
        return self.flags[-1].removeprefix("--").replace("-", "_")

    @property
    def label(self) -> str:
        """How an error names the value: the long flag and the env var, or just the env var."""
        return f"{self.flags[-1]} / {self.env}" if self.flags else self.env

    @property
    def flag_help(self) -> str:
        """The --help text of the flag, naming its env var and default."""
        return f"{self.help} [env {self.env}; default: {self.default}]"


INTERFACE = Setting(
    "PORTAL_INTERFACE",
    "WiFi interface for the portal's access point",
    "the first WiFi device NetworkManager manages",
    ("-i", "--portal-interface"),
    "IFACE",
)
SSID = Setting(
    "PORTAL_SSID",
    "name (SSID) of the portal's access point, 1 to 32 bytes",
    DEFAULT_SSID,
    ("-s", "--portal-ssid"),
    "SSID",
)
PASSPHRASE = Setting(
    "PORTAL_PASSPHRASE",
    "WPA2 passphrase of the portal's access point, 8 to 63 printable ASCII characters",
    "none, an open access point",
    ("-p", "--portal-passphrase"),
    "PASSPHRASE",
)
GATEWAY = Setting(
    "PORTAL_GATEWAY",
    "the device's address on the portal network, a /24",
    str(DEFAULT_GATEWAY),
    ("-g", "--portal-gateway"),
    "ADDRESS",
)
DHCP_RANGE = Setting(
    "PORTAL_DHCP_RANGE",
    "first and last address lent to phones, inside the gateway's /24 and not including it",
    "the larger side of the gateway's /24 (192.168.42.2,192.168.42.254 for the default gateway)",
    ("-d", "--portal-dhcp-range"),
    "START,END",
)
BAND = Setting(
    "PORTAL_BAND",
    "band of the portal's access point: bg (2.4 GHz) or a (5 GHz)",
    "bg, or the band of --portal-channel",
    ("--portal-band",),
    "BAND",
)
CHANNEL = Setting(
    "PORTAL_CHANNEL",
    "channel of the portal's access point: 1 to 14 on bg, a 5 GHz channel (36 to 165) on a",
    "any, the driver picks",
    ("--portal-channel",),
    "CHANNEL",
)
COUNTRY = Setting(
    "PORTAL_COUNTRY",
    "the country the device is in, an ISO 3166-1 alpha-2 code such as DE: wpa_supplicant gets it "
    "before the first scan, so the radio sees the channels that country allows",
    "none, the radio's own (often only channels 1 to 11)",
    ("--country",),
    "CC",
)
LISTENING_PORT = Setting(
    "PORTAL_LISTENING_PORT",
    "TCP port of the portal's web server",
    "80",
    ("-o", "--portal-listening-port"),
    "PORT",
)
ACTIVITY_TIMEOUT = Setting(
    "ACTIVITY_TIMEOUT",
    "give up after this many seconds without a portal request; 0 waits forever",
    "0",
    ("-a", "--activity-timeout"),
    "SECONDS",
)
UI_DIRECTORY = Setting(
    "UI_DIRECTORY",
    "directory whose portal UI replaces the bundled templates and static files",
    "the bundled UI",
    ("-u", "--ui-directory"),
    "DIR",
)
QR_FILE = Setting(
    "PORTAL_QR_FILE",
    "SVG or PNG file (by its extension) that gets the QR code joining the hotspot whenever "
    "the hotspot comes up, for a kiosk screen or a sticker",
    "none",
    ("--qr-file",),
    "PATH",
)
NEXT_URL = Setting(
    "PORTAL_NEXT_URL",
    "http:// or https:// URL the page after a submission links to, where the device is found "
    "once online; {hostname} and {ssid} are filled in",
    "none",
    ("--portal-next-url",),
    "URL",
)
IDENTIFY_COMMAND = Setting(
    "IDENTIFY_COMMAND",
    "command the portal's Identify button and the identify command run (blink an LED, beep): "
    "split as a shell would, run without one",
    "none, no button",
    ("--identify-command",),
    "COMMAND",
)
BRAND_NAME = Setting("PORTAL_BRAND_NAME", "name shown on the portal page", DEFAULT_SSID)
BRAND_LOGO = Setting(
    "PORTAL_BRAND_LOGO", "image shown on the portal page: png, svg, jpg, gif or webp", "none"
)
BRAND_COLOR = Setting(
    "PORTAL_BRAND_COLOR", "accent colour of the portal page, #rrggbb", DEFAULT_BRAND_COLOR
)
LANGUAGE = Setting(
    "PORTAL_LANGUAGE",
    "page language when the phone's Accept-Language matches none we have, e.g. de or pt-BR",
    "en",
)
CHECK_HTTPS = Setting(
    "CHECK_HTTPS",
    "https:// URLs that must complete a TLS handshake once connected, space or comma separated",
    f"$BALENA_API_URL, else {DEFAULT_CHECK_HTTPS}",
)
BALENA_API_URL = Setting("BALENA_API_URL", "set by balenaOS; the default of CHECK_HTTPS", "unset")
CHECK_NTP = Setting("CHECK_NTP", "NTP server that must answer once connected", DEFAULT_CHECK_NTP)
CHECK_TIMEOUT = Setting("CHECK_TIMEOUT", "seconds each reachability check may take", "10")
LOG_LEVEL = Setting(
    "LOG_LEVEL",
    "least important log lines shown: debug, info, warning or error",
    "info",
    ("--log-level",),
    "LEVEL",
)
LOG_JSON = Setting(
    "LOG_JSON",
    "log one JSON object a line (time, level, logger, message, the flow's state); "
    "the variable takes true or false",
    "false, plain lines",
    ("--log-json",),
    switch=True,
)

VERBOSE_HELP = "log debug lines too, the same as --log-level debug"

FLAG_SETTINGS = (
    INTERFACE,
    SSID,
    PASSPHRASE,
    GATEWAY,
    DHCP_RANGE,
    BAND,
    CHANNEL,
    COUNTRY,
    LISTENING_PORT,
    ACTIVITY_TIMEOUT,
    UI_DIRECTORY,
    LOG_LEVEL,
    LOG_JSON,
    QR_FILE,
    NEXT_URL,
    IDENTIFY_COMMAND,
)
ENV_SETTINGS = (
    BRAND_NAME,
    BRAND_LOGO,
    BRAND_COLOR,
    LANGUAGE,
    CHECK_HTTPS,
    BALENA_API_URL,
    CHECK_NTP,
    CHECK_TIMEOUT,
)


@dataclass(frozen=True)
class Config:
    """Everything the app is told from outside, already validated; build it with from_env."""

    interface: str | None = None
    ssid: str = DEFAULT_SSID
    passphrase: str | None = field(default=None, repr=False)
    gateway: IPv4Address = DEFAULT_GATEWAY
    dhcp_range: tuple[IPv4Address, IPv4Address] = DEFAULT_DHCP_RANGE
    band: str = "bg"
    channel: int | None = None
    country: str | None = None
    listening_port: int = 80
    activity_timeout: int = 0
    ui_directory: Path | None = None
    brand_name: str = DEFAULT_SSID
    brand_logo: Path | None = None
    brand_color: str = DEFAULT_BRAND_COLOR
    language: str = "en"
    check_https: tuple[str, ...] = (DEFAULT_CHECK_HTTPS,)
    check_ntp: str = DEFAULT_CHECK_NTP
    check_timeout: float = 10.0
    force: bool = False
    watch: bool = False
    log_level: int = logging.INFO
    log_json: bool = False
    qr_file: Path | None = None
    # PORTAL_NEXT_URL, checked: an http(s) URL with only the placeholders of app.whereto.
    next_url: str | None = None
    # The program (resolved to its path) and its arguments; None: no Identify button.
    identify_command: tuple[str, ...] | None = None

    @property
    def portal_url(self) -> str:
        """Where every captive probe is redirected: the port is kept unless it is HTTP's own."""
        if self.listening_port == 80:
            return f"http://{self.gateway}/"
        return f"http://{self.gateway}:{self.listening_port}/"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], argv: Sequence[str] = ()) -> Config:
        """Build from the environment and the config flags (e.g. ["-s", "Foo", "--force"])."""
        parser = StrictArgumentParser(prog="wifi-connect", add_help=False)
        add_config_arguments(parser)
        add_run_arguments(parser)
        return cls.from_args(parser.parse_args(list(argv)), environ)

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
        """Build from parsed flags (see add_config_arguments) and the environment."""
        # A switch given reads as "true"; one left out is None, as is a flag without its value.
        flags = {
            setting.dest: "true" if given is True else given
            for setting in FLAG_SETTINGS
            if isinstance(given := getattr(args, setting.dest, None), str) or given is True
        }

        def value(setting: Setting, parse: Callable[[str], _T], default: _T) -> _T:
            text = _raw_value(setting, flags, environ)
            return default if text is None else _parse(setting, parse, text)

        def optional(setting: Setting, parse: Callable[[str], _T]) -> _T | None:
            text = _raw_value(setting, flags, environ)
            return None if text is None else _parse(setting, parse, text)

        gateway = value(GATEWAY, parse_gateway, DEFAULT_GATEWAY)
        # BALENA_API_URL is only the default of CHECK_HTTPS, so it is only read (and checked)
        # when CHECK_HTTPS is unset.
        check_https = (
            optional(CHECK_HTTPS, parse_https_urls)
            or optional(BALENA_API_URL, parse_https_urls)
            or (DEFAULT_CHECK_HTTPS,)
        )
        band, channel = _hotspot_radio(optional(BAND, parse_band), optional(CHANNEL, parse_channel))
        # -v is short for --log-level debug, and wins over it: it is the quicker thing to type.
        verbose = bool(getattr(args, "verbose", 0))
        log_level = logging.DEBUG if verbose else value(LOG_LEVEL, parse_log_level, logging.INFO)
        return cls(
            interface=optional(INTERFACE, parse_interface),
            ssid=value(SSID, parse_ssid, DEFAULT_SSID),
            passphrase=optional(PASSPHRASE, parse_passphrase),
            gateway=gateway,
            dhcp_range=value(
                DHCP_RANGE,
                lambda text: parse_dhcp_range(text, gateway),
                rules.default_dhcp_range(gateway),
            ),
            band=band,
            channel=channel,
            country=optional(COUNTRY, parse_country),
            listening_port=value(LISTENING_PORT, parse_port, 80),
            activity_timeout=value(ACTIVITY_TIMEOUT, parse_activity_timeout, 0),
            ui_directory=optional(UI_DIRECTORY, parse_ui_directory),
            brand_name=value(BRAND_NAME, parse_brand_name, DEFAULT_SSID),
            brand_logo=optional(BRAND_LOGO, parse_logo),
            brand_color=value(BRAND_COLOR, parse_color, DEFAULT_BRAND_COLOR),
            language=value(LANGUAGE, parse_language, "en"),
            check_https=check_https,
            check_ntp=value(CHECK_NTP, parse_host, DEFAULT_CHECK_NTP),
            check_timeout=value(CHECK_TIMEOUT, parse_check_timeout, 10.0),
            force=bool(getattr(args, "force", False)),
            watch=bool(getattr(args, "watch", False)),
            log_level=log_level,
            log_json=value(LOG_JSON, parse_switch, False),
            qr_file=optional(QR_FILE, parse_qr_file),
            next_url=optional(NEXT_URL, parse_next_url),
            identify_command=optional(
                IDENTIFY_COMMAND,
                lambda text: parse_identify_command(text, environ.get("PATH", os.defpath)),
            ),
        )


def _hotspot_radio(band: str | None, channel: int | None) -> tuple[str, int | None]:
    """The hotspot's band and channel: a channel alone brings its band, a pair must agree."""
    if channel is None:
        return band or "bg", None
    if band is None:
        return rules.band_of_channel(channel), channel
    problem = rules.channel_problem(band, channel)
    if problem is not None:
        raise ConfigError(f"{CHANNEL.label} and {BAND.label}: {problem}")
    return band, channel


def _raw_value(
    setting: Setting, flags: Mapping[str, str], environ: Mapping[str, str]
) -> str | None:
    """The flag's text if given, else the env var's, else None (meaning: use the default)."""
    if setting.flags and setting.dest in flags:
        return flags[setting.dest]
    text = environ.get(setting.env, "")
    # Container env files often carry `KEY=` lines for settings left at their default, so an
    # empty (or blank) variable means "not set", never "set to nothing".
    return text if text.strip() else None


def _parse(setting: Setting, parse: Callable[[str], _T], text: str) -> _T:
    """Parse one raw value; a broken rule becomes a one-line ConfigError naming flag and env var."""
    try:
        return parse(text)
    except InvalidValue as err:
        raise ConfigError(f"{setting.label}: {err}") from None
    except ValidationError as err:
        raise ConfigError(f"{setting.label}: {err.message}") from None


class StrictArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise a one-line ConfigError instead of printing usage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviated flags: a subcommand's --port would read as an ambiguous --portal-*,
        # and every flag added later would break abbreviations scripts came to rely on.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage and exiting: the caller prints one line."""
        raise ConfigError(message)


def add_config_arguments(
    parser: argparse.ArgumentParser, *, suppress_defaults: bool = False
) -> None:
    """Add the wifi-connect flags and -v; suppressed defaults keep a parent parser's values."""
    default = argparse.SUPPRESS if suppress_defaults else None
    for setting in FLAG_SETTINGS:
        if setting.switch:
            parser.add_argument(
                *setting.flags,
                dest=setting.dest,
                action="store_true",
                default=default,
                help=setting.flag_help,
            )
        else:
            parser.add_argument(
                *setting.flags,
                dest=setting.dest,
                metavar=setting.metavar,
                default=default,
                help=setting.flag_help,
            )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress_defaults else 0,
        help=VERBOSE_HELP,
    )


def add_run_arguments(parser: argparse.ArgumentParser, *, suppress_defaults: bool = False) -> None:
    """Add the flags of the provisioning run (before `run`, or after it)."""
    # After `run` a missing flag must not undo the same flag given before it.
    default: Any = argparse.SUPPRESS if suppress_defaults else False
    parser.add_argument(
        "--force",
        action="store_true",
        default=default,
        help="open the portal even when the device is already online",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        default=default,
        help="stay resident and reopen the portal whenever the uplink is lost",
    )


def argument_type(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """Adapt a parser here to argparse's `type=`, keeping its message for the one-line error."""

    def convert(text: str) -> _T:
        try:
            return parse(text)
        except InvalidValue as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        except ValidationError as err:
            raise argparse.ArgumentTypeError(err.message) from None

    return convert


def parse_interface(text: str) -> str:
    """A Linux network interface name."""
    return rules.check_interface_name(text.strip())


def parse_ssid(text: str) -> str:
    """The hotspot's SSID: 1 to 32 bytes of UTF-8 without control characters."""
    return rules.hotspot_ssid(text)


def parse_band(text: str) -> str:
    """The hotspot's band: bg or a."""
    return rules.check_band(text)


def parse_channel(text: str) -> int:
    """The hotspot's channel, a valid channel number of either band."""
    return rules.check_channel(text)


def parse_country(text: str) -> str:
    """An ISO 3166-1 alpha-2 country code."""
    return rules.check_country(text)


def parse_passphrase(text: str) -> str:
    """The hotspot's WPA2 passphrase; messages never repeat it."""
    return rules.check_psk(text)


def parse_gateway(text: str) -> IPv4Address:
    """A unicast IPv4 address that is neither the network nor the broadcast address of its /24."""
    return rules.check_gateway(_ipv4(text))


def parse_dhcp_range(text: str, gateway: IPv4Address) -> tuple[IPv4Address, IPv4Address]:
    """START,END: inside the gateway's /24, in order, without the gateway, .0 or .255."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InvalidValue(f"{text!r} is not START,END")
    start, end = (_ipv4(part) for part in parts)
    return rules.check_dhcp_range(start, end, gateway)


def parse_port(text: str) -> int:
    """A TCP port number, 1 to 65535."""
    digits = text.strip()
    if not _DIGITS.fullmatch(digits) or not 1 <= int(digits) <= 65535:
        raise InvalidValue(f"{text!r} is not a port number (1 to 65535)")
    return int(digits)


def parse_activity_timeout(text: str) -> int:
    """Whole seconds, 0 meaning no timeout."""
    digits = text.strip()
    if not _DIGITS.fullmatch(digits) or int(digits) > _MAX_SECONDS:
        raise InvalidValue(f"{text!r} is not a whole number of seconds (0 for none)")
    return int(digits)


def parse_check_timeout(text: str) -> float:
    """Seconds, more than 0, fractions allowed."""
    number = text.strip()
    if not _DECIMAL.fullmatch(number) or not 0 < float(number) <= _MAX_SECONDS:
        raise InvalidValue(f"{text!r} is not a number of seconds above 0")
    return float(number)


def parse_directory(text: str) -> Path:
    """An existing directory."""
    return _existing(text, Path.is_dir, "a directory")


def parse_ui_directory(text: str) -> Path:
    """A portal UI: a directory with templates/ (an override of the bundled UI) or index.html."""
    path = parse_directory(text)
    if not (path / "templates").is_dir() and not (path / "index.html").is_file():
        raise InvalidValue(f"{text!r} holds neither a templates/ directory nor an index.html")
    return path


def parse_readable_file(text: str) -> Path:
    """An existing regular file we can open."""
    path = _existing(text, Path.is_file, "a file")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise InvalidValue(f"{text!r} cannot be read: {err.strerror}") from None
    return path


def secret_from_bytes(data: bytes, source: str) -> str:
    """The secret a file holds: its one line without the line ending, as UTF-8 text."""
    # The file's content is never quoted in an error: it is someone's password.
    if len(data) > SECRET_FILE_LIMIT:
        raise InvalidValue(f"{source} is larger than {SECRET_FILE_LIMIT} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise InvalidValue(f"{source} is not UTF-8 text") from None
    line = text.removesuffix("\n").removesuffix("\r")
    if not line:
        raise InvalidValue(f"{source} is empty")
    if "\n" in line or "\r" in line:
        raise InvalidValue(f"{source} holds more than one line")
    return line


def parse_secret_file(text: str) -> str:
    """A passphrase read from a file, or from standard input for "-", so it is not in `ps`."""
    if text == "-":
        return secret_from_bytes(sys.stdin.buffer.read(SECRET_FILE_LIMIT + 1), "standard input")
    path = parse_readable_file(text)
    with path.open("rb") as file:
        return secret_from_bytes(file.read(SECRET_FILE_LIMIT + 1), repr(text))


def parse_logo(text: str) -> Path:
    """A readable image file a browser shows: png, svg, jpg/jpeg, gif or webp."""
    if Path(text).suffix.lower() not in LOGO_EXTENSIONS:
        raise InvalidValue(f"{text!r} is not a png, svg, jpg, jpeg, gif or webp file")
    return parse_readable_file(text)


def parse_qr_file(text: str) -> Path:
    """Where the hotspot's QR code goes: an .svg or .png file in an existing directory."""
    path = Path(text)
    if path.suffix.lower() not in QR_FILE_EXTENSIONS:
        raise InvalidValue(f"{text!r} is not an .svg or .png file")
    if path.is_dir():
        raise InvalidValue(f"{text!r} is a directory")
    if not path.parent.is_dir():
        raise InvalidValue(f"{text!r} is not in an existing directory")
    return path


def parse_next_url(text: str) -> str:
    """An http(s) URL template whose only placeholders are {hostname} and {ssid}."""
    try:
        return whereto.check_next_url(text)
    except whereto.BadTemplate as err:
        raise InvalidValue(str(err)) from None


def parse_identify_command(text: str, search_path: str) -> tuple[str, ...]:
    """A command line split as a shell would (quotes, backslashes), its program found now.

    The program is resolved here, through `search_path` when it names no directory, so a
    missing one is a start-up error rather than a silent button, and later PATH lookups play no
    part. Nothing else is interpreted: no variables, no `;`, no `$(...)`.
    """
    try:
        argv = shlex.split(text)
    except ValueError as err:
        raise InvalidValue(f"{text!r} is not a command line: {err}") from None
    if not argv or not argv[0]:
        raise InvalidValue(f"{text!r} holds no command")
    program = argv[0]
    found = shutil.which(program, path=search_path)
    if found is None or not os.path.isfile(found):
        where = "" if os.sep in program else " (not found on PATH)"
        raise InvalidValue(f"{program!r} is not an executable program{where}")
    return (os.path.abspath(found), *argv[1:])


def parse_brand_name(text: str) -> str:
    """A display name without control characters."""
    name = text.strip()
    if rules.has_control_character(name):
        raise InvalidValue(f"{text!r} contains a control character")
    return name


def parse_color(text: str) -> str:
    """A #rrggbb colour, lower-cased."""
    return rules.check_color(text)


def parse_language(text: str) -> str:
    """A simple language tag such as en, de or pt-BR."""
    tag = text.strip()
    if not _LANGUAGE.fullmatch(tag):
        raise InvalidValue(f"{text!r} is not a language tag such as en, de or pt-BR")
    return tag


def parse_https_urls(text: str) -> tuple[str, ...]:
    """One or more https:// URLs with a host, separated by spaces or commas; duplicates dropped."""
    urls = [url for url in _URL_SEPARATORS.split(text) if url]
    if not urls:
        raise InvalidValue(f"{text!r} holds no URL")
    for url in urls:
        _check_https_url(url)
    return tuple(dict.fromkeys(urls))


def parse_host(text: str) -> str:
    """A host name or an IP address."""
    host = text.strip()
    if not _is_host(host):
        raise InvalidValue(f"{text!r} is not a host name or IP address")
    return host


def parse_log_level(text: str) -> int:
    """A log level name, as the logging module's number."""
    name = text.strip().lower()
    if name not in LOG_LEVELS:
        raise InvalidValue(f"{text!r} is not a log level ({', '.join(LOG_LEVELS)})")
    return logging.getLevelNamesMapping()[name.upper()]


def parse_switch(text: str) -> bool:
    """On or off: true/false, yes/no, on/off or 1/0, in any case."""
    word = text.strip().lower()
    if word in _SWITCH_ON:
        return True
    if word in _SWITCH_OFF:
        return False
    raise InvalidValue(f"{text!r} is neither true nor false")


def bundled_templates_dir() -> Path:
    """The portal's bundled jinja2 templates."""
    return find_bundled("templates")


def bundled_static_dir() -> Path:
    """The portal's bundled static files."""
    return find_bundled("static")


def find_bundled(name: str, package_dir: Path = _PACKAGE_DIR) -> Path:
    """A bundled UI directory: inside the installed package first, else in the source checkout."""
    # A wheel installs templates/ and static/ as app/templates and app/static (pyproject's
    # package-dir); in a checkout or an editable install they stay at the repository's top level.
    candidates = (package_dir / name, package_dir.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled {name} not found in {candidates[0]} or {candidates[1]}")


def _existing(text: str, is_kind: Callable[[Path], bool], kind: str) -> Path:
    """A path that exists and is of the kind `is_kind` tells."""
    path = Path(text)
    if not path.exists():
        raise InvalidValue(f"{text!r} does not exist")
    if not is_kind(path):
        raise InvalidValue(f"{text!r} is not {kind}")
    return path


def _ipv4(text: str) -> IPv4Address:
    """An IPv4 address in dotted-quad form."""
    try:
        return IPv4Address(text.strip())
    except ValueError:
        raise InvalidValue(f"{text.strip()!r} is not an IPv4 address") from None


def _is_host(host: str) -> bool:
    """True for an IP address or a DNS name of valid labels whose last label is not all digits."""
    try:
        ip_address(host)
    except ValueError:
        pass
    else:
        return True
    name = host.removesuffix(".")
    labels = name.split(".")
    # An all-digit last label would let a mistyped address such as 300.1.1.1 pass as a name.
    return (
        0 < len(name) <= 253
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _check_https_url(url: str) -> None:
    """Raise InvalidValue unless the URL is https:// with a valid host (and port, if any)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise InvalidValue(f"{url!r} is not a URL") from None
    if parts.scheme.lower() != "https" or not host:
        raise InvalidValue(f"{url!r} is not an https:// URL with a host")
    if not _is_host(host):
        raise InvalidValue(f"{url!r} does not name a valid host")
