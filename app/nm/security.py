"""Classify an access point's advertised security into the kind of profile a client needs."""

from __future__ import annotations

from app.nm.const import ApFlags, ApSecurityFlags
from app.wifi import SecurityKind

_ENTERPRISE = ApSecurityFlags.KEY_MGMT_802_1X | ApSecurityFlags.KEY_MGMT_EAP_SUITE_B_192
_CIPHERS = (
    ApSecurityFlags.PAIR_WEP40
    | ApSecurityFlags.PAIR_WEP104
    | ApSecurityFlags.PAIR_TKIP
    | ApSecurityFlags.PAIR_CCMP
    | ApSecurityFlags.GROUP_WEP40
    | ApSecurityFlags.GROUP_WEP104
    | ApSecurityFlags.GROUP_TKIP
    | ApSecurityFlags.GROUP_CCMP
)


def classify(flags: int, wpa_flags: int, rsn_flags: int) -> SecurityKind:
    """The security kind of an access point from its Flags, WpaFlags and RsnFlags properties."""
    # Each test below looks at named bits only, so bits a later NetworkManager adds are ignored.
    # WPA (wpa_flags) and RSN (rsn_flags) are merged: a client profile does not pick between them.
    advertised = wpa_flags | rsn_flags
    has_psk = bool(advertised & ApSecurityFlags.KEY_MGMT_PSK)
    has_sae = bool(advertised & ApSecurityFlags.KEY_MGMT_SAE)

    # Password-based key management wins over 802.1X when an AP offers both: a `wpa-psk` or
    # `sae` profile joins through that AKM, and a phone user on a portal has the WiFi password
    # far more often than an enterprise account.
    if has_psk and has_sae:
        return SecurityKind.WPA_PSK_SAE
    if has_psk:
        return SecurityKind.WPA_PSK
    if has_sae:
        return SecurityKind.SAE
    if advertised & _ENTERPRISE:
        return SecurityKind.WPA_EAP
    if advertised & ApSecurityFlags.KEY_MGMT_OWE:
        return SecurityKind.OWE
    if advertised & _CIPHERS:
        # WPA/RSN ciphers but no key management NetworkManager can name: the AP encrypts, and a
        # password is both the likeliest requirement and the only thing a portal can ask for.
        return SecurityKind.WPA_PSK
    # OWE_TM only describes a twin BSS, so it does not change what this one asks: the privacy
    # bit with no WPA/RSN ciphers or key management means WEP, as it would without OWE_TM.
    if flags & ApFlags.PRIVACY:
        return SecurityKind.WEP
    # OWE_TM on a BSS that is itself unencrypted points at its hidden OWE twin: anyone can join.
    if advertised & ApSecurityFlags.KEY_MGMT_OWE_TM:
        return SecurityKind.OWE_TRANSITION
    return SecurityKind.OPEN
