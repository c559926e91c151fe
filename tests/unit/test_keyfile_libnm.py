"""Every keyfile the importer takes, libnm's own keyfile reader reads to the same connection."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.nm.keyfile import import_directory, parse_keyfile
from app.nm.variants import to_dbus

HERE = Path(__file__).resolve().parent
KEYFILES = HERE.parent / "data" / "keyfiles"
SYSTEM_PYTHON = Path("/usr/bin/python3")
# Keys beyond the example files: routes, an access point on 5 GHz, 802.1X certificates.
EXTRA = {
    "routes-and-ap.nmconnection": (
        "[connection]\nid=AP\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a11\ntype=wifi\n"
        "[wifi]\nssid=AP\nmode=ap\nband=a\nchannel=36\ncloned-mac-address=random\n"
        "[wifi-security]\nkey-mgmt=wpa-psk\npsk=12345678\npsk-flags=4\npmf=1\n"
        "[ipv4]\nmethod=shared\naddress1=10.42.0.1/24\n"
        "route1=10.9.0.0/16,10.42.0.254,50\nroute2=192.0.2.0/24\n"
        "[ipv6]\nmethod=manual\naddress1=2001:db8::2/64,2001:db8::1\nroute1=2001:db8:1::/48\n"
    ),
    "ttls-certificates.nmconnection": (
        "[connection]\nid=TTLS\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a12\ntype=wifi\n"
        "[wifi]\nssid=TTLS\n[wifi-security]\nkey-mgmt=wpa-eap\n"
        "[802-1x]\neap=ttls;\nidentity=me\npassword=pw\nphase2-auth=pap\n"
        "ca-cert=/etc/ssl/ca.pem\ndomain-suffix-match=example.org\n"
    ),
    # One key per entry of a string dictionary, and a kind of security app.rules has no rule for.
    "dictionaries.nmconnection": (
        "[connection]\nid=Dicts\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a13\ntype=ethernet\n"
        "[ethernet]\n[ethernet-s390-options]\nportname=P1\nlayer2=1\n"
        "[user]\nmy\\2Dnote.x=a\\sb\nwifi-connect.pending=unproven\n"
        "[ipv4]\nmethod=auto\nroute1=10.9.0.0/16\n"
        "route1_options=table=100,lock-mtu=yes,mtu=1400,scope=253,tos=16\n"
        "[ipv6]\nmethod=ignore\ndns=\n"
    ),
    "ovs.nmconnection": (
        "[connection]\nid=OVS\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a14\ntype=ovs-bridge\n"
        "interface-name=br0\n[ovs-bridge]\n[ovs-external-ids]\ndata.owner=factory\n"
        "[ovs-other-config]\ndata.stp-priority=1\n"
    ),
    "bond.nmconnection": (
        "[connection]\nid=Bond\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a15\ntype=bond\n"
        "[bond]\nmode=balance-rr\nmiimon=100\ninterface-name=bond3\n"
    ),
    "vpn.nmconnection": (
        "[connection]\nid=VPN\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a16\ntype=vpn\n"
        "[vpn]\nservice-type=org.freedesktop.NetworkManager.openvpn\nuser-name=me\n"
        "remote=vpn.example.com\n[vpn-secrets]\npassword=pw\n"
    ),
    "dynamic-wep.nmconnection": (
        "[connection]\nid=DWEP\nuuid=0b5c1a55-3f0e-4c1e-9d43-2a8f0f5e7a17\ntype=wifi\n"
        "[wifi]\nssid=DWEP\n[wifi-security]\nkey-mgmt=ieee8021x\n"
        "[802-1x]\neap=peap;ttls;\nidentity=me\npassword=pw\nphase2-auth=mschapv2\n"
    ),
}


def _files(extra_dir: Path) -> dict[str, Path]:
    for name, text in EXTRA.items():
        (extra_dir / name).write_text(text)
    return {
        **{name: KEYFILES / name for name in sorted(GOOD)},
        **{name: extra_dir / name for name in EXTRA},
    }


GOOD = {result.filename: result.settings for result in import_directory(KEYFILES) if result.ok}


def _json(value: Any) -> Any:
    """A dbus_next value as JSON: bytes tagged, each variant as [signature, value]."""
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if hasattr(value, "signature"):
        return [value.signature, _json(value.value)]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value


def _read_by_libnm(files: dict[str, Path]) -> dict[str, Any]:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('NM', '1.0')"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no libnm introspection data (python3-gi, gir1.2-nm-1.0): {probe.stderr}")
    sent = [
        {
            "path": str(path),
            "settings": _json(to_dbus(parse_keyfile(path.read_text(), filename=name))),
        }
        for name, path in files.items()
    ]
    done = subprocess.run(
        [SYSTEM_PYTHON, HERE / "libnm_keyfile.py"],
        input=json.dumps(sent),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(zip(files, json.loads(done.stdout), strict=True))


@pytest.fixture(scope="module")
def by_libnm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _read_by_libnm(_files(tmp_path_factory.mktemp("keyfiles")))


@pytest.mark.parametrize("name", [*sorted(GOOD), *EXTRA])
def test_libnm_reads_the_file_as_the_importer_does(by_libnm: dict[str, Any], name: str) -> None:
    ours, libnm = by_libnm[name]["ours"], by_libnm[name]["libnm"]
    # The importer leaves NetworkManager's record of the last activation to NetworkManager.
    libnm["connection"].pop("timestamp", None)
    # Left out, a WiFi mode means infrastructure; the importer states it.
    if "802-11-wireless" in libnm:
        libnm["802-11-wireless"].setdefault("mode", "infrastructure")
    assert ours == libnm
