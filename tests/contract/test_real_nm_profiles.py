"""Every profile the app builds is accepted by real NetworkManager and reads back as sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from app.errors import NetworkManagerError
from app.nm.client import NetworkManagerClient
from app.nm.profiles import Settings, client_profile, hotspot_profile
from app.wifi import Credentials, SecurityKind
from tests.contract.artifacts import ArtifactLog
from tests.contract.readback import read_back
from tests.contract.realnm import NM_VETH, RealNetworkManager
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root

PASSPHRASE = "correct horse; battery #1"
HEX_PSK = "0123456789abcdef" * 4
WEP_HEX_26 = "0123456789abcdef0123456789"
GATEWAY = IPv4Address("192.168.42.1")
# Latin-1 bytes, as old routers broadcast them: an SSID is bytes, not text.
NOT_UTF8 = b"ct caf\xe9\xff"


@dataclass(frozen=True)
class Kind:
    """One kind of profile the app builds, and lines its keyfile must hold."""

    name: str
    build: Callable[[], Settings]
    keyfile_lines: tuple[str, ...]
    # A keyfile section that must not be there, e.g. no security at all for an open network.
    no_section: str | None = None

    @property
    def hotspot(self) -> bool:
        """True for the portal's own access-point profile."""
        return self.name.startswith("hotspot")


def client(
    ssid: bytes, security: SecurityKind, passphrase: str | None = None, **more: Any
) -> Callable[[], Settings]:
    """A builder of the client profile for these credentials."""
    return lambda: client_profile(Credentials(ssid, security, passphrase, **more))


def hotspot(
    passphrase: str | None, band: str = "bg", channel: int | None = None
) -> Callable[[], Settings]:
    """A builder of the hotspot profile on the veth (AddConnection needs no WiFi device)."""
    return lambda: hotspot_profile(
        ssid="ct portal",
        interface=NM_VETH,
        gateway=GATEWAY,
        passphrase=passphrase,
        band=band,
        channel=channel,
    )


def keyfile_ssid(ssid: bytes) -> str:
    """The ssid= value of a keyfile: NetworkManager writes bytes that are not text as numbers."""
    return "".join(f"{byte};" for byte in ssid)


def wep(name: str, key: str, key_type: int) -> Kind:
    """A WEP profile; key-type 1 is a key (5/13 characters, 10/26 hex digits), 2 a passphrase."""
    return Kind(
        name,
        client(f"ct {name}".encode(), SecurityKind.WEP, key),
        ("key-mgmt=none", f"wep-key0={key}", f"wep-key-type={key_type}"),
    )


# What every hotspot keyfile (on its default band), and every WPA-Enterprise one, holds.
HOTSPOT_RADIO_LINES = ("ssid=ct portal", "mode=ap", "autoconnect=false", "address1=192.168.42.1/24")
HOTSPOT_LINES = (*HOTSPOT_RADIO_LINES, "band=bg")
EAP_LINES = ("key-mgmt=wpa-eap", f"password={PASSPHRASE}", "phase2-auth=mschapv2")

KINDS = (
    Kind(
        "open",
        client(b"ct open", SecurityKind.OPEN),
        ("ssid=ct open", "mode=infrastructure"),
        no_section="[wifi-security]",
    ),
    Kind(
        "open-ssid-not-utf8",
        client(NOT_UTF8, SecurityKind.OPEN),
        ("ssid=" + keyfile_ssid(NOT_UTF8),),
        no_section="[wifi-security]",
    ),
    Kind("owe", client(b"ct owe", SecurityKind.OWE), ("ssid=ct owe", "key-mgmt=owe")),
    Kind(
        # Built as open: the open half of the pair takes every client.
        "owe-transition",
        client(b"ct owe-tm", SecurityKind.OWE_TRANSITION),
        ("ssid=ct owe-tm",),
        no_section="[wifi-security]",
    ),
    wep("wep-ascii-5", "abcde", 1),
    wep("wep-ascii-13", "abcdefghijklm", 1),
    wep("wep-hex-10", "0123456789", 1),
    wep("wep-hex-26", WEP_HEX_26, 1),
    wep("wep-passphrase", "a passphrase", 2),
    Kind(
        "wpa-psk-ascii",
        client(b"ct wpa", SecurityKind.WPA_PSK, PASSPHRASE),
        ("ssid=ct wpa", "key-mgmt=wpa-psk", f"psk={PASSPHRASE}"),
    ),
    Kind(
        "wpa-psk-hex64",
        client(b"ct wpa-hex", SecurityKind.WPA_PSK, HEX_PSK),
        ("key-mgmt=wpa-psk", f"psk={HEX_PSK}"),
    ),
    Kind(
        "sae",
        client(b"ct sae", SecurityKind.SAE, PASSPHRASE),
        ("key-mgmt=sae", f"psk={PASSPHRASE}"),
    ),
    Kind(
        "wpa-psk+sae",
        client(b"ct transition", SecurityKind.WPA_PSK_SAE, PASSPHRASE),
        ("key-mgmt=wpa-psk", f"psk={PASSPHRASE}"),
    ),
    Kind(
        "wpa-eap-peap",
        client(b"ct peap", SecurityKind.WPA_EAP, PASSPHRASE, identity="alice@example.org"),
        (*EAP_LINES, "[802-1x]", "eap=peap;", "identity=alice@example.org"),
    ),
    Kind(
        "wpa-eap-ttls",
        client(b"ct ttls", SecurityKind.WPA_EAP, PASSPHRASE, identity="bob", eap_method="ttls"),
        (*EAP_LINES, "eap=ttls;", "identity=bob"),
    ),
    Kind(
        "hidden-wpa-psk",
        client(b"ct hidden", SecurityKind.WPA_PSK, PASSPHRASE, hidden=True),
        ("ssid=ct hidden", "hidden=true", "key-mgmt=wpa-psk"),
    ),
    Kind(
        "hidden-open",
        client(b"ct hidden-open", SecurityKind.OPEN, hidden=True),
        ("hidden=true",),
        no_section="[wifi-security]",
    ),
    Kind(
        "hotspot-open",
        hotspot(None),
        (*HOTSPOT_LINES, f"interface-name={NM_VETH}", "method=manual", "method=ignore"),
        no_section="[wifi-security]",
    ),
    Kind(
        "hotspot-wpa2",
        hotspot("portal-pass"),
        (
            *HOTSPOT_LINES,
            "key-mgmt=wpa-psk",
            "psk=portal-pass",
            "proto=rsn;",
            "pairwise=ccmp;",
            "group=ccmp;",
        ),
    ),
    # --portal-band / --portal-channel: NetworkManager keeps both as sent.
    Kind("hotspot-bg-channel-13", hotspot(None, "bg", 13), (*HOTSPOT_LINES, "channel=13")),
    Kind("hotspot-a", hotspot(None, "a"), (*HOTSPOT_RADIO_LINES, "band=a")),
    Kind(
        "hotspot-a-channel-149",
        hotspot("portal-pass", "a", 149),
        (*HOTSPOT_RADIO_LINES, "band=a", "channel=149", "key-mgmt=wpa-psk"),
    ),
)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
async def test_profile_is_accepted_written_read_back_and_deleted(
    client: NetworkManagerClient,
    probe: NMProbe,
    real_nm: RealNetworkManager,
    keyfile_log: ArtifactLog,
    kind: Kind,
) -> None:
    sent = kind.build()

    saved = await client.add_connection(sent)

    assert saved.uuid == sent["connection"]["uuid"]
    assert saved.id == sent["connection"]["id"]
    listed = {c.path: c.filename for c in await client.saved_connections()}
    filename = listed.get(saved.path)
    assert filename is not None, f"{saved.path} is not listed with a file: {listed}"
    keyfile = Path(filename)
    assert keyfile.parent == real_nm.keyfile_dir
    text = await asyncio.to_thread(keyfile.read_text)
    keyfile_log.record(kind.name, text)
    lines = text.splitlines()
    missing = [line for line in kind.keyfile_lines if line not in lines]
    assert not missing, f"lines missing from the keyfile: {missing}\n{text}"
    if kind.no_section is not None:
        assert kind.no_section not in lines

    assert await read_back(probe, saved.path, sent) == []
    hotspots = [c.path for c in await client.hotspot_connections()]
    wifi = {c.path: c for c in await client.wifi_connections()}
    if kind.hotspot:
        assert saved.path in hotspots and saved.path not in wifi
    else:
        assert saved.path in wifi and saved.path not in hotspots
        assert wifi[saved.path].ssid == sent["802-11-wireless"]["ssid"]

    await client.delete_connection(saved.path)

    assert not await asyncio.to_thread(keyfile.exists)
    assert saved.path not in [c.path for c in await client.saved_connections()]
    with pytest.raises(NetworkManagerError):
        await probe.connection_settings(saved.path)
