"""Settings validation: every expected error below is what a real NetworkManager 1.42.4 answered
to AddConnection with the same settings (private bus, recorded while writing the simulator)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dbus_next.signature import Variant

from app.simulator.settings import (
    CONNECTION_FAILED,
    INVALID_PROPERTY,
    INVALID_SETTING,
    MISSING_PROPERTY,
    MISSING_SETTING,
    NO_SECRETS,
    SETTING_NOT_FOUND,
    SettingsError,
    check_settings,
    plain,
    psk_valid,
    secrets_of,
    without_secrets,
)

Wire = dict[str, dict[str, Variant]]


def V(signature: str, value: Any) -> Variant:
    return Variant(signature, value)


def wifi(ssid: bytes = b"Home", **settings: dict[str, Variant]) -> Wire:
    base: Wire = {
        "connection": {
            "type": V("s", "802-11-wireless"),
            "id": V("s", "t"),
            "uuid": V("s", str(uuid.uuid4())),
        },
        "802-11-wireless": {"ssid": V("ay", ssid), "mode": V("s", "infrastructure")},
        "ipv4": {"method": V("s", "auto")},
        "ipv6": {"method": V("s", "auto")},
    }
    for name, values in settings.items():
        base[name.replace("_", "-")] = values
    return base


def security(**values: Variant) -> dict[str, Variant]:
    return {key.replace("_", "-"): value for key, value in values.items()}


def secured(**values: Variant) -> Wire:
    """A client profile with these 802-11-wireless-security keys."""
    return wifi(**{"802-11-wireless-security": security(**values)})


def psk(key: str, key_mgmt: str = "wpa-psk", **more: Variant) -> Wire:
    return secured(key_mgmt=V("s", key_mgmt), psk=V("s", key), **more)


def wep(key: str, key_type: int | None) -> Wire:
    values = security(key_mgmt=V("s", "none"), wep_key0=V("s", key))
    if key_type is not None:
        values["wep-key-type"] = V("u", key_type)
    return wifi(**{"802-11-wireless-security": values})


def eap(**values: Variant) -> Wire:
    return wifi(
        **{
            "802-11-wireless-security": security(key_mgmt=V("s", "wpa-eap")),
            "802-1x": security(**values),
        }
    )


def edit(settings: Wire, setting: str, key: str, new: Variant | None) -> Wire:
    if new is None:
        del settings[setting][key]
    else:
        settings[setting][key] = new
    return settings


def without(settings: Wire, setting: str) -> Wire:
    return {name: values for name, values in settings.items() if name != setting}


def ap(**ipv4: Variant) -> Wire:
    settings = wifi()
    settings["802-11-wireless"]["mode"] = V("s", "ap")
    settings["ipv4"] = {"method": V("s", "manual"), **ipv4}
    return settings


def address(text: str, prefix: int) -> Variant:
    return V("aa{sv}", [{"address": V("s", text), "prefix": V("u", prefix)}])


PEAP = {"eap": V("as", ["peap"]), "identity": V("s", "bob"), "password": V("s", "pw")}
MSCHAPV2 = {"phase2_auth": V("s", "mschapv2")}

ACCEPTED: dict[str, Wire] = {
    "wpa-psk": psk("password1"),
    "psk 64 hex digits": psk("a" * 63 + "b"),
    "psk counted in bytes": psk("ääää"),
    "psk with a tab": psk("pass\tword1"),
    "user data with a namespaced key": wifi(
        user={"data": V("a{ss}", {"wifi-connect.pending": "unproven", "a.b": "x" * 8192})}
    ),
    "psk absent (asked for later)": secured(key_mgmt=V("s", "wpa-psk")),
    "sae takes any length": psk("a", key_mgmt="sae"),
    "sae empty": psk("", key_mgmt="sae"),
    "owe": secured(key_mgmt=V("s", "owe")),
    "wep ascii 5": wep("abcde", 1),
    "wep hex 26": wep("0123456789abcdef0123456789", 1),
    "wep passphrase": wep("anything goes", 2),
    "wep unknown type, passphrase-like": wep("abcdef", None),
    "peap": eap(**PEAP, **MSCHAPV2),
    "ttls": eap(**{**PEAP, "eap": V("as", ["ttls"])}, **MSCHAPV2),
    "peap without password (asked for later)": eap(
        eap=V("as", ["peap"]), identity=V("s", "bob"), **MSCHAPV2
    ),
    "hidden": edit(wifi(), "802-11-wireless", "hidden", V("b", True)),
    "no ipv4/ipv6 settings": {k: v for k, v in wifi().items() if not k.startswith("ipv")},
    "no type (inferred)": edit(wifi(), "connection", "type", None),
    "no uuid (generated)": edit(wifi(), "connection", "uuid", None),
    "integer given for a boolean": edit(wifi(), "connection", "autoconnect", V("u", 1)),
    "hotspot": ap(**{"address-data": address("192.168.42.1", 24)}),
    "ap with ipv4 auto": edit(ap(), "ipv4", "method", V("s", "auto")),
}


def invalid(key: str, what: str = "property is invalid") -> tuple[str, str]:
    """NetworkManager's answer to a property it cannot take: the error name and message."""
    return INVALID_PROPERTY, f"{key}: {what}"


def missing(key: str, what: str = "property is missing") -> tuple[str, str]:
    """NetworkManager's answer to a property it needs and did not get."""
    return MISSING_PROPERTY, f"{key}: {what}"


def cannot_set(expected: str, sent: str) -> str:
    return f"can't set property of type '{expected}' from value of type '{sent}'"


def wrong_type(key: str, expected: str, sent: str) -> tuple[str, str]:
    """The answer to a property sent with another D-Bus type."""
    return invalid(key, f"failed to set property: {key}: {cannot_set(expected, sent)}")


# The answers several rows share.
SSID_LENGTH = invalid("802-11-wireless.ssid", "SSID length is out of range <1-32> bytes")
NO_WIRELESS = (
    MISSING_SETTING,
    "802-11-wireless: setting required for connection of type '802-11-wireless'",
)
PSK_INVALID = invalid("802-11-wireless-security.psk")
WEP_KEY_INVALID = invalid("802-11-wireless-security.wep-key0")
KEY_MGMT_MISSING = missing("802-11-wireless-security.key-mgmt")
EAP_MISSING = missing("802-1x.eap")
IDENTITY_MISSING = missing("802-1x.identity")
PHASE2_MISSING = missing(
    "802-1x.phase2-auth, 802-1x.phase2-autheap", "exactly one property must be set"
)
NO_ADDRESS = missing("ipv4.addresses", "this property cannot be empty for 'method=manual'")
IPV4_METHOD_INVALID = invalid("ipv4.method")


def key_mgmt_invalid(value: str) -> tuple[str, str]:
    return invalid(
        "802-11-wireless-security.key-mgmt", f"'{value}' is not a valid value for the property"
    )


def on_band(band: str | None = "bg") -> Wire:
    """A WiFi profile on `band`, or without a band."""
    settings = wifi()
    if band is not None:
        settings["802-11-wireless"]["band"] = V("s", band)
    return settings


REJECTED: dict[str, tuple[Wire, str, str]] = {
    "no ssid": (
        edit(wifi(), "802-11-wireless", "ssid", None),
        *missing("802-11-wireless.ssid"),
    ),
    "no wireless setting": (without(wifi(), "802-11-wireless"), *NO_WIRELESS),
    "empty ssid": (wifi(b""), *SSID_LENGTH),
    "ssid of 33 bytes": (wifi(b"x" * 33), *SSID_LENGTH),
    "ssid sent as a string": (
        edit(wifi(), "802-11-wireless", "ssid", V("s", "Home")),
        *wrong_type("802-11-wireless.ssid", "ay", "s"),
    ),
    "psk too short": (psk("short"), *PSK_INVALID),
    "psk of 7": (psk("1234567"), *PSK_INVALID),
    "psk empty": (psk(""), *PSK_INVALID),
    "psk of 65": (psk("a" * 65), *PSK_INVALID),
    "psk of 64 non-hex": (psk("g" * 64), *PSK_INVALID),
    "psk of 64 bytes non-hex": (psk("ä" * 32), *PSK_INVALID),
    "key-mgmt unknown": (psk("password1", key_mgmt="wpa2"), *key_mgmt_invalid("wpa2")),
    "key-mgmt missing": (secured(psk=V("s", "password1")), *KEY_MGMT_MISSING),
    "security setting empty": (secured(), *KEY_MGMT_MISSING),
    "key-mgmt checked before psk": (psk("x", key_mgmt="zz"), *key_mgmt_invalid("zz")),
    "wep key of 6": (wep("abcdef", 1), *WEP_KEY_INVALID),
    "wep hex with a z": (wep("012345678z", 1), *WEP_KEY_INVALID),
    "wep passphrase of 65": (wep("a" * 65, 2), *WEP_KEY_INVALID),
    "wep passphrase empty": (wep("", 2), *WEP_KEY_INVALID),
    "wep key type 3": (
        wep("abcde", 3),
        INVALID_PROPERTY,
        "802-11-wireless-security.wep-key-type: failed to set property: "
        "802-11-wireless-security.wep-key-type: can not set property: value "
        "\"((NMWepKeyType) 3)\" of type 'NMWepKeyType' is invalid or out of range for "
        "property 'wep-key-type' of type 'NMWepKeyType'",
    ),
    "wep key type as a string": (
        edit(wep("abcde", 1), "802-11-wireless-security", "wep-key-type", V("s", "1")),
        *wrong_type("802-11-wireless-security.wep-key-type", "u", "s"),
    ),
    "wpa-eap without 802-1x": (
        secured(key_mgmt=V("s", "wpa-eap")),
        MISSING_SETTING,
        "802-1x: 'wpa-eap' security requires '802-1x' setting presence",
    ),
    "802-1x without eap": (eap(identity=V("s", "bob"), password=V("s", "pw")), *EAP_MISSING),
    "802-1x with an empty eap list": (eap(eap=V("as", []), identity=V("s", "bob")), *EAP_MISSING),
    "unknown eap method": (
        eap(**{**PEAP, "eap": V("as", ["peap", "bogus"])}, **MSCHAPV2),
        *invalid("802-1x.eap"),
    ),
    "eap sent as a string": (
        eap(**{**PEAP, "eap": V("s", "peap")}, **MSCHAPV2),
        *wrong_type("802-1x.eap", "as", "s"),
    ),
    "peap without identity": (
        eap(eap=V("as", ["peap"]), password=V("s", "pw"), **MSCHAPV2),
        *IDENTITY_MISSING,
    ),
    "peap with an empty identity": (
        eap(**{**PEAP, "identity": V("s", "")}, **MSCHAPV2),
        *invalid("802-1x.identity", "property is empty"),
    ),
    "identity checked before phase2": (
        eap(eap=V("as", ["peap"]), password=V("s", "pw"), phase2_auth=V("s", "bogus")),
        *IDENTITY_MISSING,
    ),
    "peap without phase2": (eap(**PEAP), *PHASE2_MISSING),
    "unknown phase2": (
        eap(**PEAP, phase2_auth=V("s", "bogus")),
        *invalid("802-1x.phase2-auth", "'bogus' is not a valid value for the property"),
    ),
    "tls without a certificate": (
        eap(eap=V("as", ["tls"]), identity=V("s", "bob")),
        *missing("802-1x.client-cert"),
    ),
    "802-1x checked even with wpa-psk": (
        {**psk("password1"), "802-1x": security(eap=V("as", ["peap"]), identity=V("s", "bob"))},
        *PHASE2_MISSING,
    ),
    "unknown setting": (
        wifi(**{"bogus-setting": {"a": V("s", "b")}}),
        INVALID_SETTING,
        "bogus-setting: unknown setting name",
    ),
    "unknown setting before a bad uuid": (
        edit(wifi(**{"bogus": {}}), "connection", "uuid", V("s", "bad")),
        INVALID_SETTING,
        "bogus: unknown setting name",
    ),
    "unknown property": (
        psk("password1", bogus=V("s", "x")),
        *invalid("802-11-wireless-security.bogus", "unknown property"),
    ),
    "bad proto": (
        psk("password1", proto=V("as", ["bogus"])),
        *invalid("802-11-wireless-security.proto"),
    ),
    "bad pairwise": (
        psk("password1", pairwise=V("as", ["bogus"])),
        *invalid("802-11-wireless-security.pairwise"),
    ),
    "bad mode": (
        edit(wifi(), "802-11-wireless", "mode", V("s", "bogus")),
        *invalid("802-11-wireless.mode", "'bogus' is not a valid Wi-Fi mode"),
    ),
    "bad band": (
        edit(wifi(), "802-11-wireless", "band", V("s", "zz")),
        *invalid("802-11-wireless.band", "'zz' is not a valid band"),
    ),
    "channel outside the band": (
        edit(on_band(), "802-11-wireless", "channel", V("u", 36)),
        *invalid("802-11-wireless.channel", "'36' is not a valid channel"),
    ),
    "channel without a band": (
        edit(on_band(band=None), "802-11-wireless", "channel", V("u", 6)),
        *missing("802-11-wireless.band", "'channel' requires setting 'band' property"),
    ),
    "hidden as a string": (
        edit(wifi(), "802-11-wireless", "hidden", V("s", "yes")),
        *wrong_type("802-11-wireless.hidden", "b", "s"),
    ),
    "ap, manual, no address": (ap(), *NO_ADDRESS),
    "ap, manual, invalid address": (
        ap(**{"address-data": address("192.168.42.999", 24)}),
        *NO_ADDRESS,
    ),
    "ap, manual, prefix 33": (ap(**{"address-data": address("192.168.42.1", 33)}), *NO_ADDRESS),
    "address-data of the wrong type": (
        ap(**{"address-data": V("as", ["192.168.1.1/24"])}),
        *invalid("ipv4.address-data", cannot_set("aa{sv}", "as")),
    ),
    "bad gateway": (
        ap(**{"address-data": address("192.168.42.1", 24), "gateway": V("s", "bogus")}),
        *invalid("ipv4.gateway", "gateway is invalid"),
    ),
    "bad ipv4 method": (edit(wifi(), "ipv4", "method", V("s", "bogus")), *IPV4_METHOD_INVALID),
    "bad ipv6 method": (edit(wifi(), "ipv6", "method", V("s", "bogus")), *invalid("ipv6.method")),
    "ipv4 checked before the psk": (
        edit(psk("x"), "ipv4", "method", V("s", "bogus")),
        *IPV4_METHOD_INVALID,
    ),
    "ssid checked before ipv4": (edit(wifi(b""), "ipv4", "method", V("s", "bogus")), *SSID_LENGTH),
    "uuid checked first": (
        edit(psk("x"), "connection", "uuid", V("s", "bad")),
        *invalid("connection.uuid", "'bad' is not a valid UUID"),
    ),
    "no id": (
        edit(wifi(), "connection", "id", None),
        *missing("connection.id"),
    ),
    "empty id": (
        edit(wifi(), "connection", "id", V("s", "")),
        *invalid("connection.id", "property is empty"),
    ),
    "bad uuid": (
        edit(wifi(), "connection", "uuid", V("s", "not-a-uuid")),
        *invalid("connection.uuid", "'not-a-uuid' is not a valid UUID"),
    ),
    "no connection setting": (
        without(wifi(), "connection"),
        MISSING_SETTING,
        "connection: setting not found",
    ),
    "unknown type": (
        edit(wifi(), "connection", "type", V("s", "bogus")),
        *invalid("connection.type", "connection type 'bogus' is not valid"),
    ),
    "interface name with a slash": (
        edit(wifi(), "connection", "interface-name", V("s", "ct/0")),
        *invalid(
            "connection.interface-name", "'ct/0': interface name contains an invalid character"
        ),
    ),
    "interface name empty": (
        edit(wifi(), "connection", "interface-name", V("s", "")),
        *invalid("connection.interface-name", "'': interface name must not be empty"),
    ),
    "interface name reserved": (
        edit(wifi(), "connection", "interface-name", V("s", "..")),
        *invalid("connection.interface-name", "'..': interface name is reserved"),
    ),
    "missing base setting before a bad interface name": (
        edit(without(wifi(), "802-11-wireless"), "connection", "interface-name", V("s", "a b")),
        *NO_WIRELESS,
    ),
    **{
        f"user.data key {key!r}": (
            wifi(user={"data": V("a{ss}", {key: "x"})}),
            CONNECTION_FAILED,
            f'user.data: invalid key "{key}": {problem}',
        )
        for key, problem in (
            ("pending", "key requires a '.' for a namespace"),
            (".a.b", "key contains invalid characters"),
            ("a.b.", "key contains invalid characters"),
            ("a b.c", "key contains invalid characters"),
            ("a..b", 'key cannot contain ".."'),
            ("", "missing key"),
        )
    },
    "user.data value too large": (
        wifi(user={"data": V("a{ss}", {"a.b": "x" * 9000})}),
        CONNECTION_FAILED,
        'user.data: invalid value for "a.b": value is too large',
    ),
    "interface name too long": (
        edit(wifi(), "connection", "interface-name", V("s", "x" * 20)),
        *invalid(
            "connection.interface-name",
            "'xxxxxxxxxxxxxxxxxxxx': interface name is longer than 15 characters",
        ),
    ),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_real_nm_accepts(name: str) -> None:
    settings = check_settings(ACCEPTED[name])
    assert settings["connection"]["type"].value == "802-11-wireless"
    assert settings["connection"]["uuid"].value


@pytest.mark.parametrize("name", list(REJECTED))
def test_real_nm_rejects_with_the_same_error(name: str) -> None:
    settings, error_name, message = REJECTED[name]
    with pytest.raises(SettingsError) as caught:
        check_settings(settings)
    assert (caught.value.name, caught.value.message) == (error_name, message)


def test_normalizing_fills_in_what_nm_fills_in() -> None:
    received = edit(edit(psk("password1"), "connection", "type", None), "connection", "uuid", None)
    del received["ipv4"], received["ipv6"]
    settings = plain(check_settings(received))
    assert settings["connection"]["type"] == "802-11-wireless"
    assert str(uuid.UUID(settings["connection"]["uuid"])) == settings["connection"]["uuid"]
    assert settings["ipv4"] == {"method": "auto"}
    assert settings["ipv6"] == {"method": "auto"}
    assert settings["802-11-wireless"]["security"] == "802-11-wireless-security"
    # The input itself is left alone.
    assert "ipv4" not in received and "type" not in received["connection"]


def test_a_hotspot_without_ipv4_gets_shared_like_nm() -> None:
    received = ap()
    del received["ipv4"]
    assert plain(check_settings(received))["ipv4"] == {"method": "shared"}


def test_secrets_are_kept_apart() -> None:
    settings = check_settings(eap(**PEAP, **MSCHAPV2))
    visible = plain(without_secrets(settings))
    assert "password" not in visible["802-1x"]
    assert visible["802-1x"]["identity"] == "bob"
    secrets = plain(secrets_of(settings, "802-1x"))
    assert secrets["802-1x"] == {"password": "pw"}
    assert secrets["connection"] == {} and secrets["802-11-wireless"] == {}


def test_secrets_errors_match_nm() -> None:
    settings = check_settings(psk("password1"))
    with pytest.raises(SettingsError) as missing:
        secrets_of(settings, "802-1x")
    assert (missing.value.name, missing.value.message) == (
        SETTING_NOT_FOUND,
        "Connection didn't have requested setting '802-1x'.",
    )
    with pytest.raises(SettingsError) as none:
        secrets_of(settings, "802-11-wireless")
    assert (none.value.name, none.value.message) == (
        NO_SECRETS,
        "No agents were available for this request.",
    )


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("password", True),
        ("1234567", False),
        ("a" * 63, True),
        ("A1" * 32, True),
        ("z" * 64, False),
        ("ü" * 4, True),
    ],
)
def test_psk_rule(candidate: str, valid: bool) -> None:
    assert psk_valid(candidate) is valid
