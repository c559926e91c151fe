"""Pure adjustments of settings for an older NetworkManager, which refuses newer values."""

from __future__ import annotations

import copy
import re
from typing import Final

from app.nm.profiles import Settings

NMVersion = tuple[int, int]

# ipv6.addr-gen-mode 2 (default-or-eui64) and 3 (default) came with NetworkManager 1.40, which
# also brought the global default they defer to; an older NM refuses them as invalid. Without a
# global default they mean eui64 (0) and stable-privacy (1), which every older NM has.
ADDR_GEN_MODES_SINCE: Final[NMVersion] = (1, 40)
_ADDR_GEN_MODE_BEFORE_1_40: Final = {2: 0, 3: 1}

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)*(?:[-~+].*)?")


def parse_nm_version(text: object) -> NMVersion | None:
    """(major, minor) of NetworkManager's Version property ("1.30.6"), None when malformed."""
    if not isinstance(text, str):
        return None
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    return int(match[1]), int(match[2])


def for_version(settings: Settings, version: NMVersion | None) -> Settings:
    """The settings as `version` takes them with the same meaning; unknown version: unchanged."""
    if version is None or version >= ADDR_GEN_MODES_SINCE:
        return settings
    mode = settings.get("ipv6", {}).get("addr-gen-mode")
    if mode not in _ADDR_GEN_MODE_BEFORE_1_40:
        return settings
    adjusted = copy.deepcopy(settings)
    adjusted["ipv6"]["addr-gen-mode"] = _ADDR_GEN_MODE_BEFORE_1_40[mode]
    return adjusted
