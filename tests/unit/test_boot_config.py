"""The balena-style config.json beside system-connections/: where it is and its country."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.boot_config import (
    MAX_BOOT_CONFIG_BYTES,
    BootConfigError,
    boot_config_path,
    country_of,
    read_country,
)


def test_config_json_is_in_the_parent_of_the_keyfile_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert boot_config_path(Path("/boot/system-connections")) == Path("/boot/config.json")
    assert boot_config_path(Path("/boot/system-connections/")) == Path("/boot/config.json")
    monkeypatch.chdir(tmp_path)
    assert boot_config_path(Path(".")) == tmp_path.parent / "config.json"


@pytest.mark.parametrize(
    ("data", "country"),
    [
        (b'{"country": "DE"}', "DE"),
        (b'{"country": "gb", "deviceType": "raspberrypi4-64"}', "GB"),
        (b'{"deviceType": "raspberrypi4-64"}', None),
        (b'{"country": null}', None),
        ('{"country": "FR", "note": "été"}'.encode(), "FR"),
    ],
)
def test_the_country_of_a_config_json(data: bytes, country: str | None) -> None:
    assert country_of(data) == country


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"country": "UK"}', "country: 'UK' is not an ISO 3166-1 alpha-2 country code"),
        (b'{"country": "Germany"}', "country: 'Germany' is not an ISO 3166-1"),
        (b'{"country": ["DE"]}', 'country: ["DE"] is not a string'),
        (b'{"country": true}', "country: true is not a string"),
        (b'{"country": "DE",}', "is not JSON: "),
        (b"\xff\xfe", "is not JSON: "),
        (b'"DE"', "is not a JSON object"),
    ],
)
def test_a_bad_config_json_names_the_field(data: bytes, message: str) -> None:
    with pytest.raises(BootConfigError) as caught:
        country_of(data)
    assert str(caught.value).startswith(message)


def test_reading_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    assert read_country(path) is None, "no file, no country"
    path.write_bytes(b'{"country": "JP"}')
    assert read_country(path) == "JP"
    path.write_bytes(b" " * (MAX_BOOT_CONFIG_BYTES + 1))
    with pytest.raises(BootConfigError, match="is larger than 1024 KiB"):
        read_country(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(BootConfigError, match="cannot be read"):
        read_country(path)
