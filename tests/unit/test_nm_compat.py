"""Settings for an older NetworkManager: same meaning, values it knows."""

from __future__ import annotations

import pytest

from app.nm.compat import for_version, parse_nm_version
from app.nm.profiles import Settings


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("1.30.6", (1, 30)),
        ("1.42.4", (1, 42)),
        ("1.52.1", (1, 52)),
        ("1.10", (1, 10)),
        ("1.47.90-dev", (1, 47)),
        ("1.46.0+git1", (1, 46)),
        ("", None),
        ("one.two", None),
        ("1", None),
        (142, None),
        (None, None),
    ],
)
def test_version_is_parsed_or_refused(text: object, version: tuple[int, int] | None) -> None:
    assert parse_nm_version(text) == version


def _ipv6(mode: int) -> Settings:
    return {"connection": {"id": "x"}, "ipv6": {"method": "auto", "addr-gen-mode": mode}}


@pytest.mark.parametrize(("mode", "older"), [(0, 0), (1, 1), (2, 0), (3, 1)])
def test_addr_gen_modes_of_1_40_mean_the_same_before_it(mode: int, older: int) -> None:
    settings = _ipv6(mode)

    assert for_version(settings, (1, 30))["ipv6"]["addr-gen-mode"] == older
    assert settings == _ipv6(mode)  # the caller's settings stay as they were


@pytest.mark.parametrize("version", [(1, 40), (1, 42), (1, 52), None])
def test_a_newer_or_unknown_version_gets_the_settings_unchanged(
    version: tuple[int, int] | None,
) -> None:
    for mode in range(4):
        assert for_version(_ipv6(mode), version) == _ipv6(mode)


def test_settings_without_ipv6_are_unchanged() -> None:
    settings: Settings = {"connection": {"id": "x"}, "ipv4": {"method": "auto"}}

    assert for_version(settings, (1, 10)) is settings
