"""What real NetworkManager holds of a profile we sent, compared with what we sent, key by key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.nm import nm_settings
from app.nm.profiles import Settings
from tests.nm.helpers import NMProbe

# Keys NetworkManager returns only from GetSecrets, never from GetSettings: libnm's secrets.
SECRETS = nm_settings.SECRETS
# GetSettings leaves out a key that holds NetworkManager's default; these are those defaults.
NM_DEFAULTS: dict[tuple[str, str], Any] = {
    ("connection", "autoconnect"): True,
    ("802-11-wireless", "hidden"): False,
    # 0 is "default": the guide's hotspot states it.
    ("802-11-wireless", "mac-address-randomization"): 0,
}
# Before 1.40 (which added modes 2 and 3) ipv6.addr-gen-mode defaulted to stable-privacy (1), so
# 1.30 leaves a 1 out of GetSettings; 1.42 and 1.52 default to 3 and return a 1 as sent.
OLD_ADDR_GEN_MODE_DEFAULT = (1, 40)
_ABSENT = object()
# libnm's path scheme of an 802.1X certificate or key: file://PATH and a closing NUL byte.
_CERT_PATH = re.compile(rb"file://(/.+)\x00")


def _stored_blob(sent: Any, got: Any) -> Any:
    """What a certificate sent inline holds once saved: every version (1.30, 1.42, 1.52) writes
    an inline certificate to a file beside the keyfile and returns its path, whose content is
    then what was sent."""
    match = _CERT_PATH.fullmatch(got) if isinstance(got, bytes) else None
    if match is None or not isinstance(sent, bytes) or _CERT_PATH.fullmatch(sent):
        return got
    return Path(match[1].decode()).read_bytes()


def nm_defaults(version: tuple[int, int]) -> dict[tuple[str, str], Any]:
    """The defaults GetSettings leaves out, in NetworkManager `version`."""
    if version < OLD_ADDR_GEN_MODE_DEFAULT:
        return {**NM_DEFAULTS, ("ipv6", "addr-gen-mode"): 1}
    return NM_DEFAULTS


def differences(
    sent: Settings,
    settings: Settings,
    secrets: dict[str, Settings],
    defaults: dict[tuple[str, str], Any] = NM_DEFAULTS,
) -> list[str]:
    """Every key we sent whose read-back value differs; NM's own extra keys are not compared."""
    found = []
    for setting, values in sent.items():
        stored = settings.get(setting, {})
        for key, value in values.items():
            if key in SECRETS.get(setting, ()):
                if key in stored:
                    found.append(f"{setting}.{key}: a secret came back from GetSettings")
                got = secrets[setting].get(setting, {}).get(key, _ABSENT)
            else:
                got = _stored_blob(value, stored.get(key, defaults.get((setting, key), _ABSENT)))
            if got != value:
                shown = "nothing" if got is _ABSENT else repr(got)
                found.append(f"{setting}.{key}: sent {value!r}, NetworkManager has {shown}")
    return found


async def read_back(probe: NMProbe, path: str, sent: Settings) -> list[str]:
    """differences() between what was sent and what NetworkManager holds at `path`."""
    settings = await probe.connection_settings(path)
    # Asking for a setting that holds no secret is refused (NoSecrets): ask only where we sent one.
    secrets = {
        setting: await probe.connection_secrets(path, setting)
        for setting, keys in SECRETS.items()
        if keys & sent.get(setting, {}).keys()
    }
    return differences(sent, settings, secrets, nm_defaults(await probe.version()))
