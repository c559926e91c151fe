"""The simulator's table of NetworkManager versions: parsing, ordering and what each one lacks."""

from __future__ import annotations

import pytest

from app.simulator.versions import (
    MEMBER_SINCE,
    NEWEST,
    OLDEST,
    has_member,
    missing_members,
    parse_version,
    version_text,
)

NM = "org.freedesktop.NetworkManager"


@pytest.mark.parametrize(
    ("text", "version"), [("1.2", (1, 2)), ("1.10", (1, 10)), ("1.30", (1, 30)), ("1.52", (1, 52))]
)
def test_parse_and_print_round_trip(text: str, version: tuple[int, int]) -> None:
    assert parse_version(text) == version
    assert version_text(version) == text


def test_versions_order_by_number_not_by_text() -> None:
    # As text "1.9" > "1.10"; as versions it is older.
    assert parse_version("1.9") < parse_version("1.10") < parse_version("1.12")
    assert sorted(["1.52", "1.10", "1.8", "1.30"], key=parse_version) == [
        "1.8",
        "1.10",
        "1.30",
        "1.52",
    ]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.10.4", "is not a NetworkManager version like 1.10"),
        ("1.010", "is not a NetworkManager version like 1.10"),
        (" 1.10", "is not a NetworkManager version like 1.10"),
        ("1,10", "is not a NetworkManager version like 1.10"),
        ("", "is not a NetworkManager version like 1.10"),
        ("1.0", "is outside the versions the simulator knows (1.2 to 1.52)"),
        ("1.54", "is outside the versions the simulator knows (1.2 to 1.52)"),
        ("2.0", "is outside the versions the simulator knows (1.2 to 1.52)"),
    ],
)
def test_parse_refuses_what_is_not_a_known_series(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=rf"^'{text}' {why.replace('(', '.').replace(')', '.')}$"):
        parse_version(text)


def test_every_entry_is_within_the_known_versions() -> None:
    assert MEMBER_SINCE
    for (interface, member), since in MEMBER_SINCE.items():
        assert interface.startswith(NM), interface
        assert member[0].isupper(), member
        assert OLDEST < since <= NEWEST, (interface, member)


@pytest.mark.parametrize(
    ("interface", "member", "since"),
    [
        (f"{NM}.Device.Wireless", "LastScan", (1, 12)),
        (f"{NM}.IP4Config", "NameserverData", (1, 14)),
        (f"{NM}.Settings", "AddConnection2", (1, 20)),
        (f"{NM}.Settings.Connection", "Filename", (1, 12)),
        (f"{NM}.Connection.Active", "StateChanged", (1, 8)),
        (f"{NM}.Device", "Ip4Connectivity", (1, 16)),
        (NM, "VersionInfo", (1, 42)),
    ],
)
def test_a_member_is_there_from_its_version_on(
    interface: str, member: str, since: tuple[int, int]
) -> None:
    before = (since[0], since[1] - 2)
    assert not has_member(before, interface, member)
    assert member in missing_members(before, interface)
    assert has_member(since, interface, member)
    assert member not in missing_members(since, interface)
    assert has_member(NEWEST, interface, member)


def test_members_older_than_the_table_are_always_there() -> None:
    assert has_member(OLDEST, NM, "ActivateConnection")
    assert has_member(OLDEST, f"{NM}.IP4Config", "Nameservers")
    assert missing_members(NEWEST, NM) == frozenset()


def test_what_1_30_and_1_42_lack_against_1_52() -> None:
    assert missing_members((1, 30), NM) == {"RadioFlags", "VersionInfo"}
    assert missing_members((1, 30), f"{NM}.Device") == {"Ports"}
    assert missing_members((1, 42), NM) == frozenset()
    assert missing_members((1, 42), f"{NM}.Settings.Connection") == {"VersionId"}
    assert missing_members((1, 42), f"{NM}.AccessPoint") == {"Bandwidth"}
    assert missing_members((1, 10), f"{NM}.Settings.Connection") == {
        "Filename",
        "Flags",
        "VersionId",
    }
