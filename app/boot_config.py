"""A balena-style config.json beside the boot partition's system-connections/: its country.

balenaOS reads the regulatory domain from `country` in config.json on the boot partition;
`wifi-connect import DIR` reads the config.json beside DIR the same way, so a card prepared for
balena works here too. Only `country` is read; every other key is balena's business.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

from app.errors import ValidationError
from app.rules import check_country

BOOT_CONFIG_NAME: Final = "config.json"
# balena's config.json is a few KiB; anything this big is not one.
MAX_BOOT_CONFIG_BYTES: Final = 1024 * 1024


class BootConfigError(ValueError):
    """config.json is unreadable or its `country` is bad; the message names the field."""


def boot_config_path(keyfile_dir: Path) -> Path:
    """Where the config.json beside a system-connections directory is (in its parent)."""
    return Path(os.path.abspath(keyfile_dir)).parent / BOOT_CONFIG_NAME


def read_country(path: Path) -> str | None:
    """The validated `country` of a config.json; None when there is no file or no such key."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BOOT_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise BootConfigError(f"cannot be read: {err.strerror or err}") from None
    if len(data) > MAX_BOOT_CONFIG_BYTES:
        raise BootConfigError(f"is larger than {MAX_BOOT_CONFIG_BYTES // 1024} KiB")
    return country_of(data)


def country_of(data: bytes) -> str | None:
    """The validated `country` of config.json's bytes, or None when it has none."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as err:
        raise BootConfigError(f"is not JSON: {err}") from None
    if not isinstance(document, dict):
        raise BootConfigError("is not a JSON object")
    country = document.get("country")
    if country is None:
        return None
    if not isinstance(country, str):
        raise BootConfigError(f"country: {json.dumps(country)[:40]} is not a string")
    try:
        return check_country(country)
    except ValidationError as err:
        raise BootConfigError(f"country: {err.message}") from None
