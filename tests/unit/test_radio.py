"""The radio's settings: the hotspot's band and channel (rules, config, profile) and the country."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from app.config import Config
from app.countries import COUNTRY_CODES
from app.errors import ConfigError, ValidationError
from app.nm.profiles import hotspot_profile
from app.rules import (
    band_of_channel,
    channel_frequency,
    channel_problem,
    check_band,
    check_channel,
    check_country,
)

GATEWAY = IPv4Address("192.168.42.1")
A_CHANNELS = [36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136,
              140, 144, 149, 153, 157, 161, 165]  # fmt: skip


@pytest.mark.parametrize(("text", "band"), [("bg", "bg"), ("a", "a"), (" BG ", "bg"), ("A", "a")])
def test_band_accepts_bg_and_a(text: str, band: str) -> None:
    assert check_band(text) == band


@pytest.mark.parametrize("text", ["", "b", "g", "ac", "5", "2.4", "abg"])
def test_band_refuses_anything_else_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_band(text)
    assert caught.value.field == "band"


def test_every_channel_of_either_band_is_accepted_and_knows_its_band() -> None:
    for channel in range(1, 15):
        assert check_channel(str(channel)) == channel
        assert band_of_channel(channel) == "bg"
        assert channel_problem("bg", channel) is None
        assert channel_problem("a", channel) is not None
    for channel in A_CHANNELS:
        assert check_channel(str(channel)) == channel
        assert band_of_channel(channel) == "a"
        assert channel_problem("a", channel) is None
        assert channel_problem("bg", channel) is not None


@pytest.mark.parametrize(
    "text", ["0", "15", "35", "37", "166", "169", "-1", "1.5", "six", "", "٣", "0036", "1e2"]
)
def test_channel_refuses_numbers_of_no_band_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_channel(text)
    assert caught.value.field == "channel"


@pytest.mark.parametrize(
    ("band", "channel", "mhz"),
    [("bg", 1, 2412), ("bg", 6, 2437), ("bg", 13, 2472), ("bg", 14, 2484), ("a", 36, 5180),
     ("a", 165, 5825)],
)  # fmt: skip
def test_channel_frequency(band: str, channel: int, mhz: int) -> None:
    assert channel_frequency(band, channel) == mhz


def radio(profile: dict[str, dict[str, object]]) -> dict[str, object]:
    """The profile's 802-11-wireless setting without its SSID."""
    wireless = dict(profile["802-11-wireless"])
    del wireless["ssid"]
    return wireless


def build(band: str = "bg", channel: int | None = None) -> dict[str, dict[str, object]]:
    """A hotspot profile on this band and channel."""
    return hotspot_profile(
        ssid="Setup",
        interface="wlan0",
        gateway=GATEWAY,
        passphrase=None,
        band=band,
        channel=channel,
    )


def test_hotspot_profile_band_and_channel() -> None:
    assert radio(build()) == {"mode": "ap", "band": "bg"}
    assert radio(build(band="a")) == {"mode": "ap", "band": "a"}
    assert radio(build(band="bg", channel=11)) == {"mode": "ap", "band": "bg", "channel": 11}
    assert radio(build(band="a", channel=149)) == {"mode": "ap", "band": "a", "channel": 149}


def test_hotspot_profile_refuses_a_channel_outside_its_band() -> None:
    with pytest.raises(ValidationError) as caught:
        build(band="bg", channel=36)
    assert caught.value.field == "channel"
    assert "channel 36 is not in band bg" in caught.value.message


@pytest.mark.parametrize(
    ("environ", "argv", "band", "channel"),
    [
        ({}, [], "bg", None),
        ({"PORTAL_BAND": "a"}, [], "a", None),
        ({"PORTAL_CHANNEL": "6"}, [], "bg", 6),
        # A channel alone brings its band: the numbers of the two bands do not overlap.
        ({"PORTAL_CHANNEL": "44"}, [], "a", 44),
        ({}, ["--portal-channel", "13"], "bg", 13),
        ({"PORTAL_BAND": "bg"}, ["--portal-band", "a", "--portal-channel", "36"], "a", 36),
        ({"PORTAL_BAND": "a", "PORTAL_CHANNEL": "165"}, [], "a", 165),
    ],
)
def test_config_reads_band_and_channel(
    environ: dict[str, str], argv: list[str], band: str, channel: int | None
) -> None:
    config = Config.from_env(environ, argv)
    assert (config.band, config.channel) == (band, channel)


@pytest.mark.parametrize(
    ("environ", "argv"),
    [
        ({"PORTAL_BAND": "bg", "PORTAL_CHANNEL": "36"}, []),
        ({}, ["--portal-band", "bg", "--portal-channel", "36"]),
        ({"PORTAL_CHANNEL": "36"}, ["--portal-band", "bg"]),
    ],
)
def test_a_channel_outside_the_band_names_both(environ: dict[str, str], argv: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(environ, argv)
    message = str(caught.value)
    assert "--portal-channel / PORTAL_CHANNEL" in message
    assert "--portal-band / PORTAL_BAND" in message
    assert "channel 36 is not in band bg" in message


@pytest.mark.parametrize(
    ("environ", "label"),
    [
        ({"PORTAL_BAND": "ac"}, "--portal-band / PORTAL_BAND: 'ac' is not a band"),
        ({"PORTAL_CHANNEL": "15"}, "--portal-channel / PORTAL_CHANNEL: '15' is not a WiFi channel"),
    ],
)
def test_a_bad_band_or_channel_names_its_field(environ: dict[str, str], label: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(environ)
    assert str(caught.value).startswith(label)


def test_the_country_list_is_the_officially_assigned_codes() -> None:
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in COUNTRY_CODES)
    assert {"DE", "US", "GB", "JP", "FR", "NZ", "BQ", "SS", "AX"} <= COUNTRY_CODES
    # Reserved, user-assigned or withdrawn: no regulator stands behind them.
    assert not {"UK", "EU", "XK", "ZZ", "AA", "QM", "XA", "YU", "CS", "AN", "00"} & COUNTRY_CODES


@pytest.mark.parametrize(("text", "code"), [("DE", "DE"), ("de", "DE"), (" us ", "US")])
def test_country_accepts_a_code_in_any_case(text: str, code: str) -> None:
    assert check_country(text) == code


@pytest.mark.parametrize("text", ["", "D", "DEU", "UK", "EU", "00", "zz", "Germany", "D3"])
def test_country_refuses_anything_else_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_country(text)
    assert caught.value.field == "country"


def test_config_reads_the_country_naming_flag_and_env_when_bad() -> None:
    assert Config.from_env({}).country is None
    assert Config.from_env({"PORTAL_COUNTRY": "de"}).country == "DE"
    assert Config.from_env({"PORTAL_COUNTRY": "DE"}, ["--country", "fr"]).country == "FR"
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"PORTAL_COUNTRY": "UK"})
    assert str(caught.value).startswith("--country / PORTAL_COUNTRY: 'UK' is not an ISO 3166-1")
