"""app/nm/nm_settings.py is what scripts/gen-nm-settings makes of the installed libnm."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.nm import nm_settings

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "gen-nm-settings"
# The generator runs on the system Python, which has python3-gi; the app's venv need not.
SYSTEM_PYTHON = Path("/usr/bin/python3")
# Where the generator reads the D-Bus-only key names and the keyfile aliases.
MAN_PAGES = tuple(
    Path("/usr/share/man/man5") / f"{name}.5.gz"
    for name in ("nm-settings-dbus", "nm-settings-keyfile")
)


def _generated() -> str:
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"{SYSTEM_PYTHON} is missing (scripts/test installs python3-gi)")
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('NM', '1.0')"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no libnm introspection data (python3-gi, gir1.2-nm-1.0): {probe.stderr}")
    for page in MAN_PAGES:
        if not page.exists():
            pytest.skip(f"{page} is missing (package network-manager)")
    done = subprocess.run(
        [SYSTEM_PYTHON, GENERATOR, "--stdout"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_committed_table_is_what_the_installed_libnm_gives() -> None:
    committed = (ROOT / "app" / "nm" / "nm_settings.py").read_text()
    assert committed == _generated(), "run: /usr/bin/python3 scripts/gen-nm-settings"


def test_table_holds_the_guides_settings_and_keyfile_aliases() -> None:
    assert nm_settings.ALIASES == {
        "ethernet": "802-3-ethernet",
        "wifi": "802-11-wireless",
        "wifi-security": "802-11-wireless-security",
    }
    assert nm_settings.SETTINGS["802-11-wireless"]["band"] == "s"
    assert nm_settings.SETTINGS["802-11-wireless"]["ssid"] == "ay"
    assert nm_settings.SETTINGS["802-11-wireless"]["mac-address-randomization"] == "u"
    assert nm_settings.SETTINGS["ipv4"]["dns"] == "au"
    assert nm_settings.SETTINGS["ipv6"]["dns"] == "aay"
    assert nm_settings.SETTINGS["ipv4"]["route-metric"] == "x"
    assert nm_settings.SETTINGS["ipv4"]["route-data"] == "aa{sv}"
    assert nm_settings.SETTINGS["serial"]["baud"] == "u"
    assert {"apn", "number", "username", "password"} <= nm_settings.SETTINGS["gsm"].keys()
    assert "password" in nm_settings.SECRETS["gsm"]
    assert "psk" in nm_settings.SECRETS["802-11-wireless-security"]
    assert "psk-flags" in nm_settings.SECRET_FLAGS["802-11-wireless-security"]
    assert nm_settings.RANGES[("connection", "autoconnect-priority")] == (-999, 999)
    assert nm_settings.INT_RANGES["u"] == (0, 2**32 - 1)
    assert nm_settings.INT_RANGES["x"] == (-(2**63), 2**63 - 1)


def test_words_are_libnms_constants_of_string_keys() -> None:
    """NM_SETTING_WIRELESS_MODE_AP is a word of 802-11-wireless.mode; ..._PSK_FLAGS is a key."""
    assert nm_settings.WORDS[("802-11-wireless", "mode")] == (
        "adhoc",
        "ap",
        "infrastructure",
        "mesh",
    )
    # ipv4 has a key named link-local too: the method of that name is still a word.
    assert "link-local" in nm_settings.WORDS[("ipv4", "method")]
    assert {"auto", "dhcp", "ignore"} <= set(nm_settings.WORDS[("ipv6", "method")])
    assert ("802-11-wireless-security", "psk") not in nm_settings.WORDS


def test_ethtool_options_and_route_attributes_are_typed_as_libnm_types_them() -> None:
    """A keyfile writes each ethtool option as a key of [ethtool]; a route's attributes in
    routeN_options, each of the one type libnm's check takes."""
    ethtool = nm_settings.SETTINGS["ethtool"]
    assert (ethtool["feature-tso"], ethtool["ring-rx"], ethtool["coalesce-rx-usecs"]) == (
        "b",
        "u",
        "u",
    )
    assert ethtool["pause-autoneg"] == "b"
    attributes = nm_settings.ROUTE_ATTRIBUTES
    assert (attributes["tos"], attributes["table"], attributes["onlink"]) == ("y", "u", "b")
    assert (attributes["src"], attributes["mtu"], attributes["lock-mtu"]) == ("s", "u", "b")
