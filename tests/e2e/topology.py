"""The e2e tier's three namespaces and two veths, and the removal of what a crashed run left.

    e2e-phone  e2eph0 (DHCP from the app) ---- e2eap0  e2e-dev  e2eup0 ---- e2ein0 10.99.0.1/24
               Chromium                       the app, dnsmasq,           e2e-inet: DNS, TLS 443,
                                              the simulator, dbus         SNTP 123

e2eap0 stands for the radio in AP mode (the simulator's ap_link: it gets the hotspot's gateway
address when the hotspot is up), e2eup0 for the radio as a client (uplink_link: it gets the
joined network's 10.99.0.2/24 and default route). Everything made here starts with "e2e", so
a crashed run's leftovers are found by name; the generic helpers come from tests/net.

A device with a wire as well (add_wire) has a third veth, e2ewd0 10.98.0.2/24 to e2ewi0
10.98.0.1/24 in e2e-inet, whose default route wins over the WiFi's. Its WiFi network is then
routed (10.97.0.2/24 via 10.97.0.1), so nothing reaches the servers on 10.99.0.1 by a link's
own subnet: only the routes, or a socket bound to a link, choose the way.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from tests.net import helpers

PREFIX = "e2e"
PHONE, DEV, INET = "e2e-phone", "e2e-dev", "e2e-inet"
AP_IFACE, PHONE_IFACE = "e2eap0", "e2eph0"
UPLINK_IFACE, INET_IFACE = "e2eup0", "e2ein0"

GATEWAY = IPv4Address("192.168.42.1")
INET_ADDRESS = IPv4Address("10.99.0.1")
DEVICE_ADDRESS = "10.99.0.2/24"
API_HOST = "api.e2e.test"
API_DOMAIN = "e2e.test"

WIRE_IFACE, INET_WIRE_IFACE = "e2ewd0", "e2ewi0"
WIRE_GATEWAY = IPv4Address("10.98.0.1")
WIRE_ADDRESS = "10.98.0.2/24"
# Below the WiFi's metric (100, the simulator's): the wire is the default route.
WIRE_METRIC = "50"
ROUTED_WIFI_GATEWAY = IPv4Address("10.97.0.1")
ROUTED_WIFI_ADDRESS = "10.97.0.2/24"

# `ip netns exec NS` bind-mounts every file of /etc/netns/NS over /etc: a resolv.conf per netns.
ETC_NETNS = Path("/etc/netns")
NFT_TABLE = "e2e"


@dataclass(frozen=True)
class Topology:
    """The namespaces are up; `workdir` is an e2e-* temp dir removed with them."""

    workdir: Path


def resolv_conf(netns: str, *nameservers: IPv4Address | str) -> None:
    """Give processes started later in `netns` these DNS servers (/etc/netns/NS/resolv.conf)."""
    folder = ETC_NETNS / netns
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(f"nameserver {server}\n" for server in nameservers)
    (folder / "resolv.conf").write_text(text)


def firewall(netns: str, rule: str) -> None:
    """One nftables rule on what arrives in the namespace, e.g. "udp dport 123 drop"."""
    helpers.nft(
        netns,
        f"table inet {NFT_TABLE} {{\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        f"    {rule}\n"
        "  }\n"
        "}\n",
    )


def drop_udp_port(netns: str, port: int) -> None:
    """Drop every UDP datagram to `port` arriving in the namespace, like a strict firewall."""
    firewall(netns, f"udp dport {port} drop")


def remove_nft_table(netns: str) -> None:
    """Remove what firewall loaded, if anything."""
    subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "delete", "table", "inet", NFT_TABLE],
        capture_output=True,
        check=False,
    )


def remove_leftovers() -> None:
    """Remove the e2e namespaces (and every process in them), links, resolv.confs, temp dirs."""
    helpers.remove_leftovers(PREFIX, links=PREFIX, temp_dirs=f"{PREFIX}-*")
    for folder in ETC_NETNS.glob(f"{PREFIX}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        ETC_NETNS.rmdir()  # only when empty: it may hold other namespaces' files


def build() -> Topology:
    """Make the namespaces and veths; the caller removes them with remove_leftovers()."""
    remove_leftovers()
    workdir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-run-"))
    for name in (PHONE, DEV, INET):
        helpers.add_netns(name)
    helpers.add_veth(DEV, AP_IFACE, PHONE, PHONE_IFACE)
    helpers.add_veth(DEV, UPLINK_IFACE, INET, INET_IFACE)
    helpers.add_address(INET, INET_IFACE, f"{INET_ADDRESS}/24")
    # What NetworkManager writes once the device has joined a network: its DNS server. Before
    # that nothing routes there, as on a device that has no uplink yet.
    resolv_conf(DEV, INET_ADDRESS)
    return Topology(workdir)


def add_wire() -> None:
    """A working wired uplink beside the WiFi, with the default route; the WiFi's gateway."""
    helpers.add_veth(DEV, WIRE_IFACE, INET, INET_WIRE_IFACE)
    helpers.add_address(DEV, WIRE_IFACE, WIRE_ADDRESS)
    helpers.add_address(INET, INET_WIRE_IFACE, f"{WIRE_GATEWAY}/24")
    route = ("default", "via", str(WIRE_GATEWAY), "dev", WIRE_IFACE, "metric", WIRE_METRIC)
    helpers.ip("-n", DEV, "route", "add", *route)
    helpers.add_address(INET, INET_IFACE, f"{ROUTED_WIFI_GATEWAY}/24")
    # Replies to the WiFi link come back over it, though the wire is the route back to the
    # servers: loose reverse-path filtering, as NetworkManager sets it on such devices.
    rp_filter = Path(f"/proc/sys/net/ipv4/conf/{UPLINK_IFACE}/rp_filter")
    helpers.in_netns(DEV, lambda: rp_filter.write_text("2"))


def remove_wire() -> None:
    """Undo add_wire: the veth (its route goes with it) and the WiFi's gateway address."""
    helpers.ip("-n", DEV, "link", "del", WIRE_IFACE, check=False)
    helpers.ip(
        "-n", INET, "addr", "del", f"{ROUTED_WIFI_GATEWAY}/24", "dev", INET_IFACE, check=False
    )
