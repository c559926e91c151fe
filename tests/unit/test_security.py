"""Access point flags to security kind, for every combination a real network advertises."""

from __future__ import annotations

import pytest

from app.nm.security import classify
from app.wifi import SecurityKind

PRIVACY = 0x1
WPS = 0x2 | 0x4
TKIP = 0x4 | 0x40  # pairwise + group
CCMP = 0x8 | 0x80  # pairwise + group
PSK = 0x100
EAP = 0x200
SAE = 0x400
OWE = 0x800
OWE_TM = 0x1000
SUITE_B = 0x2000

# (flags, wpa_flags, rsn_flags, expected)
CASES: dict[str, tuple[int, int, int, SecurityKind]] = {
    "open": (0, 0, 0, SecurityKind.OPEN),
    "open with WPS": (WPS, 0, 0, SecurityKind.OPEN),
    "wep": (PRIVACY, 0, 0, SecurityKind.WEP),
    "wep with WPS": (PRIVACY | WPS, 0, 0, SecurityKind.WEP),
    "wpa1 psk": (PRIVACY, TKIP | PSK, 0, SecurityKind.WPA_PSK),
    "wpa2 psk": (PRIVACY, 0, CCMP | PSK, SecurityKind.WPA_PSK),
    "wpa1+wpa2 psk": (PRIVACY, TKIP | PSK, CCMP | PSK, SecurityKind.WPA_PSK),
    "wpa3 sae only": (PRIVACY, 0, CCMP | SAE, SecurityKind.SAE),
    "wpa2/wpa3 transition": (PRIVACY, 0, CCMP | PSK | SAE, SecurityKind.WPA_PSK_SAE),
    "psk in wpa1, sae in rsn": (PRIVACY, TKIP | PSK, CCMP | SAE, SecurityKind.WPA_PSK_SAE),
    "wpa2 enterprise": (PRIVACY, 0, CCMP | EAP, SecurityKind.WPA_EAP),
    "wpa1 enterprise": (PRIVACY, TKIP | EAP, 0, SecurityKind.WPA_EAP),
    "wpa3 enterprise suite-b": (PRIVACY, 0, CCMP | SUITE_B, SecurityKind.WPA_EAP),
    "enterprise with suite-b": (PRIVACY, 0, CCMP | EAP | SUITE_B, SecurityKind.WPA_EAP),
    "802.1x with psk joins by psk": (PRIVACY, 0, CCMP | EAP | PSK, SecurityKind.WPA_PSK),
    "802.1x with sae joins by sae": (PRIVACY, 0, CCMP | EAP | SAE, SecurityKind.SAE),
    "802.1x with psk and sae": (PRIVACY, 0, CCMP | EAP | PSK | SAE, SecurityKind.WPA_PSK_SAE),
    "802.1x with owe": (PRIVACY, 0, CCMP | EAP | OWE, SecurityKind.WPA_EAP),
    "owe": (PRIVACY, 0, CCMP | OWE, SecurityKind.OWE),
    "owe bss of a transition pair": (PRIVACY, 0, CCMP | OWE | OWE_TM, SecurityKind.OWE),
    "open bss of a transition pair": (0, 0, OWE_TM, SecurityKind.OWE_TRANSITION),
    "owe_tm beside the privacy bit is wep": (PRIVACY, 0, OWE_TM, SecurityKind.WEP),
    "ciphers with no known key management": (PRIVACY, 0, CCMP, SecurityKind.WPA_PSK),
    "unknown ap flag bits": (0xFFFF_FFFE, 0, 0, SecurityKind.OPEN),
    "unknown ap flag bits beside privacy": (0xFFFF_FFFF, 0, 0, SecurityKind.WEP),
    "unknown rsn bits on an open bss": (0, 0, 0x1_0000, SecurityKind.OPEN),
    "unknown wpa bits on a wep bss": (PRIVACY, 0xFFFF_0000, 0, SecurityKind.WEP),
    "unknown bits beside psk": (PRIVACY, 0, 0x8000_0000 | CCMP | PSK, SecurityKind.WPA_PSK),
    "unknown bits beside owe_tm": (0, 0, 0x7FFF_0000 | OWE_TM, SecurityKind.OWE_TRANSITION),
}


@pytest.mark.parametrize(("flags", "wpa_flags", "rsn_flags", "expected"), CASES.values(), ids=CASES)
def test_classify(flags: int, wpa_flags: int, rsn_flags: int, expected: SecurityKind) -> None:
    assert classify(flags, wpa_flags, rsn_flags) is expected


@pytest.mark.parametrize(("flags", "wpa_flags", "rsn_flags", "expected"), CASES.values(), ids=CASES)
def test_classify_treats_wpa_and_rsn_alike(
    flags: int, wpa_flags: int, rsn_flags: int, expected: SecurityKind
) -> None:
    assert classify(flags, rsn_flags, wpa_flags) is expected
