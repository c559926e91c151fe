"""PORTAL_NEXT_URL: checked at start, filled per page; where the device will be, without a bus."""

from __future__ import annotations

import pytest

from app.config import Config
from app.errors import ConfigError
from app.whereto import (
    BadTemplate,
    Whereabouts,
    check_next_url,
    fill_next_url,
    whereabouts,
)

TEMPLATE = "https://fleet.example.com/devices/{hostname}?joined={ssid}"


@pytest.mark.parametrize(
    "template",
    [
        TEMPLATE,
        "http://{hostname}.local/setup",
        "http://192.168.1.10:8080/",
        "https://example.com/{{literal}}/{ssid}",
        "HTTPS://Example.com/",
    ],
)
def test_good_templates_pass(template: str) -> None:
    assert check_next_url(f"  {template}\n") == template


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("ftp://example.com/", "is not an http:// or https:// URL with a host"),
        ("javascript:alert(1)", "is not an http:// or https:// URL with a host"),
        ("//example.com/", "is not an http:// or https:// URL with a host"),
        ("https:///path", "is not an http:// or https:// URL with a host"),
        ("https://example.com:99999/", "is not a URL"),
        ("https://example.com/{ip}", "has {ip}; only {hostname}, {ssid} are filled in"),
        ("https://example.com/{}", "has {}; only"),
        ("https://example.com/{ssid.__class__}", "has {ssid.__class__}"),
        ("https://example.com/{ssid[0]}", "has {ssid[0]}"),
        ("https://example.com/{ssid!r}", "write {ssid} without a format or conversion"),
        ("https://example.com/{hostname:>20}", "write {hostname} without a format"),
        ("https://example.com/{ssid", "is not a template"),
        ("https://example.com/}", "is not a template"),
        ("https://exa mple.com/", "contains a space or control character"),
        ("https://example.com/\x1b[31m", "contains a space or control character"),
    ],
)
def test_bad_templates_are_refused_saying_why(template: str, reason: str) -> None:
    with pytest.raises(BadTemplate) as caught:
        check_next_url(template)
    assert reason in str(caught.value)


def test_the_host_may_be_the_placeholder() -> None:
    assert check_next_url("https://{hostname}/") == "https://{hostname}/"


@pytest.mark.parametrize(
    ("ssid", "quoted"),
    [
        ("Home WiFi", "Home%20WiFi"),
        ("Café", "Caf%C3%A9"),
        ("a/b?c=d&e#f", "a%2Fb%3Fc%3Dd%26e%23f"),
        ('"><script>', "%22%3E%3Cscript%3E"),
        ("{hostname}", "%7Bhostname%7D"),  # a name is never a placeholder itself
        ("100%", "100%25"),
    ],
)
def test_filling_quotes_the_network_name(ssid: str, quoted: str) -> None:
    filled = fill_next_url(TEMPLATE, hostname="sensor-7", ssid=ssid)
    assert filled == f"https://fleet.example.com/devices/sensor-7?joined={quoted}"


def test_whereabouts_show_local_only_when_announced() -> None:
    assert whereabouts(fqdn="sensor-7.local", host_name="sensor-7", next_url=None, ssid="x") == (
        Whereabouts("http://sensor-7.local/", None)
    )
    assert whereabouts(fqdn=None, host_name="box", next_url="http://{hostname}:8080/", ssid="") == (
        Whereabouts(None, "http://box:8080/")
    )
    assert whereabouts(fqdn=None, host_name="box", next_url=None, ssid="x") == Whereabouts(
        None, None
    )


def test_config_takes_the_flag_over_the_variable() -> None:
    assert Config.from_env({}).next_url is None
    assert Config.from_env({"PORTAL_NEXT_URL": TEMPLATE}).next_url == TEMPLATE
    flag = ["--portal-next-url", "http://{hostname}.local/"]
    assert Config.from_env({"PORTAL_NEXT_URL": TEMPLATE}, flag).next_url == flag[1]
    assert Config.from_env({"PORTAL_NEXT_URL": " "}).next_url is None


@pytest.mark.parametrize("source", ["flag", "env"])
def test_a_bad_next_url_names_the_flag_and_the_variable(source: str) -> None:
    bad = "https://example.com/{ip}"
    environ, argv = (
        ({}, [f"--portal-next-url={bad}"]) if source == "flag" else ({"PORTAL_NEXT_URL": bad}, [])
    )
    with pytest.raises(ConfigError) as caught:
        Config.from_env(environ, argv)
    message = str(caught.value)
    assert message.startswith("--portal-next-url / PORTAL_NEXT_URL: ")
    assert "{ip}" in message and "\n" not in message
