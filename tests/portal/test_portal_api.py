"""The wifi-connect HTTP API: GET /networks, POST /connect (JSON), GET /status, POST /rescan."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from app.errors import FlowBusy, NetworkManagerUnavailable, NotYourTurn
from app.flow.report import networks_json
from app.flow.state import AttemptOutcome, CheckResult, FlowState, FlowStatus, Service
from app.nm.models import FailureKind
from app.portal.state import PORTAL
from app.wifi import Credentials, SecurityKind
from tests.portal.helpers import CONNECTING, XSS_IMG, Client, RecordingController, network


async def test_networks_strongest_first_one_per_ssid_in_wifi_connect_shape(
    portal: Client,
) -> None:
    response = await portal.get("/networks")
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert [entry["ssid"] for entry in body] == [
        "Cafe",
        "Home 5G",
        "Campus",
        "Mixed",
        "Library",
        XSS_IMG,
        "Enhanced",
        "Old Router",
        '"><script>alert(2)</script>',
        "Caf\xe9 raw",
    ]
    assert body[0] == {
        "ssid": "Cafe",
        "security": "wpa",
        "strength": 82,
        "frequency": 2437,
        "auth": "wpa-psk",
    }
    by_ssid = {entry["ssid"]: entry for entry in body}
    assert (by_ssid["Home 5G"]["security"], by_ssid["Home 5G"]["auth"]) == ("wpa", "sae")
    assert by_ssid["Home 5G"]["frequency"] == 5180
    assert (by_ssid["Campus"]["security"], by_ssid["Campus"]["auth"]) == ("enterprise", "wpa-eap")
    assert (by_ssid["Mixed"]["security"], by_ssid["Mixed"]["auth"]) == ("wpa", "wpa-psk+sae")
    assert (by_ssid["Library"]["security"], by_ssid["Library"]["auth"]) == ("none", "open")
    assert (by_ssid["Enhanced"]["security"], by_ssid["Enhanced"]["auth"]) == ("none", "owe")
    assert (by_ssid["Old Router"]["security"], by_ssid["Old Router"]["auth"]) == ("wep", "wep")


async def test_owe_transition_network_is_reported_as_owe_and_joined_as_scanned(
    portal: Client, controller: RecordingController
) -> None:
    controller.available = [network(b"Twin", SecurityKind.OWE_TRANSITION, 50)]
    [entry] = await (await portal.get("/networks")).json()
    assert (entry["security"], entry["auth"]) == ("none", "owe")
    assert (await portal.post("/connect", json={"ssid": "Twin"})).status == 200
    assert controller.submitted == [Credentials(ssid=b"Twin", security=SecurityKind.OWE_TRANSITION)]


def test_networks_json_skips_nameless_beacons() -> None:
    hidden = network(b"", SecurityKind.WPA_PSK, 90)
    assert networks_json([hidden, network(b"A", SecurityKind.OPEN, 10)])[0]["ssid"] == "A"


async def connect_json(portal: Client, body: Any) -> tuple[int, Any]:
    """POST /connect with a JSON body; the status and the decoded answer."""
    response = await portal.post("/connect", json=body)
    return response.status, await response.json()


async def test_connect_json_as_wifi_connects_ui_sends_it(
    portal: Client, controller: RecordingController
) -> None:
    # wifi-connect's UI sends every field, empty strings for the ones the network does not use.
    status, body = await connect_json(
        portal, {"ssid": "Cafe", "identity": "", "passphrase": "correct horse"}
    )
    assert (status, body) == (200, CONNECTING)
    assert controller.submitted == [
        Credentials(ssid=b"Cafe", security=SecurityKind.WPA_PSK, passphrase="correct horse")
    ]


@pytest.mark.parametrize(
    ("ssid", "fields", "expected"),
    [
        (
            "Home 5G",
            {"passphrase": "x"},
            Credentials(ssid=b"Home 5G", security=SecurityKind.SAE, passphrase="x"),
        ),
        (
            "Mixed",
            {"passphrase": "a" * 64},
            Credentials(ssid=b"Mixed", security=SecurityKind.WPA_PSK_SAE, passphrase="a" * 64),
        ),
        (
            "Campus",
            {"identity": "alice@example.org", "passphrase": "pw"},
            Credentials(
                ssid=b"Campus",
                security=SecurityKind.WPA_EAP,
                passphrase="pw",
                identity="alice@example.org",
            ),
        ),
        ("Library", {}, Credentials(ssid=b"Library", security=SecurityKind.OPEN)),
        ("Enhanced", {}, Credentials(ssid=b"Enhanced", security=SecurityKind.OWE)),
        (
            "Old Router",
            {"passphrase": "abcde"},
            Credentials(ssid=b"Old Router", security=SecurityKind.WEP, passphrase="abcde"),
        ),
        # The display form of a non-UTF-8 SSID maps back to its raw bytes.
        (
            "Caf\xe9 raw",
            {"passphrase": "password1"},
            Credentials(ssid=b"Caf\xe9 raw", security=SecurityKind.WPA_PSK, passphrase="password1"),
        ),
    ],
)
async def test_connect_maps_the_name_to_the_scanned_network(
    portal: Client,
    controller: RecordingController,
    ssid: str,
    fields: dict[str, str],
    expected: Credentials,
) -> None:
    status, body = await connect_json(portal, {"ssid": ssid, **fields})
    assert (status, body) == (200, CONNECTING)
    assert controller.submitted == [expected]
    assert controller.submitted[0].passphrase == expected.passphrase


async def test_connect_drops_fields_the_network_does_not_use(
    portal: Client, controller: RecordingController
) -> None:
    status, _ = await connect_json(
        portal, {"ssid": "Library", "passphrase": "typed anyway", "identity": "bob"}
    )
    assert status == 200
    assert controller.submitted == [Credentials(ssid=b"Library", security=SecurityKind.OPEN)]
    assert controller.submitted[0].passphrase is None


@pytest.mark.parametrize(
    ("security", "fields", "kind"),
    [
        ("wpa-psk", {"passphrase": "password1"}, SecurityKind.WPA_PSK),
        ("wpa", {"passphrase": "password1"}, SecurityKind.WPA_PSK),
        ("sae", {"passphrase": "pw"}, SecurityKind.SAE),
        ("open", {}, SecurityKind.OPEN),
        ("none", {}, SecurityKind.OPEN),
        ("owe", {}, SecurityKind.OWE),
        ("wep", {"passphrase": "abcde"}, SecurityKind.WEP),
        ("enterprise", {"identity": "me", "passphrase": "pw"}, SecurityKind.WPA_EAP),
        ("wpa-eap", {"identity": "me", "passphrase": "pw"}, SecurityKind.WPA_EAP),
    ],
)
async def test_connect_hidden_network_takes_the_stated_security(
    portal: Client,
    controller: RecordingController,
    security: str,
    fields: dict[str, str],
    kind: SecurityKind,
) -> None:
    status, _ = await connect_json(
        portal, {"ssid": "Secret Lab", "hidden": True, "security": security, **fields}
    )
    assert status == 200
    [credentials] = controller.submitted
    assert credentials.ssid == b"Secret Lab"
    assert credentials.hidden is True
    assert credentials.security is kind
    assert credentials.passphrase == fields.get("passphrase")
    assert credentials.identity == fields.get("identity")


@pytest.mark.parametrize("hidden", ["true", "1", "on", True])
async def test_connect_hidden_accepts_the_usual_spellings_of_true(
    portal: Client, controller: RecordingController, hidden: object
) -> None:
    status, _ = await connect_json(portal, {"ssid": "Lab", "hidden": hidden, "security": "open"})
    assert status == 200
    assert controller.submitted[0].hidden is True


async def test_connect_unlisted_name_with_a_stated_security_is_joined_as_hidden(
    portal: Client, controller: RecordingController
) -> None:
    status, _ = await connect_json(
        portal, {"ssid": "Not Scanned", "security": "wpa-psk", "passphrase": "password1"}
    )
    assert status == 200
    assert controller.submitted == [
        Credentials(
            ssid=b"Not Scanned",
            security=SecurityKind.WPA_PSK,
            passphrase="password1",
            hidden=True,
        )
    ]


async def test_connect_hidden_listed_name_without_security_uses_the_scanned_one(
    portal: Client, controller: RecordingController
) -> None:
    status, _ = await connect_json(
        portal, {"ssid": "Cafe", "hidden": "true", "passphrase": "password1"}
    )
    assert status == 200
    assert controller.submitted[0].security is SecurityKind.WPA_PSK
    assert controller.submitted[0].hidden is True


@pytest.mark.parametrize(
    ("body", "security"),
    [
        ({"ssid": "Attic", "hidden": True, "passphrase": "password1"}, SecurityKind.WPA_PSK),
        (
            {"ssid": "Attic", "hidden": True, "identity": "me", "passphrase": "pw"},
            SecurityKind.WPA_EAP,
        ),
        ({"ssid": "Attic", "hidden": True, "passphrase": ""}, SecurityKind.OPEN),
        ({"ssid": "Not Scanned", "passphrase": "password1"}, SecurityKind.WPA_PSK),
    ],
    ids=["password", "user-and-password", "nothing", "unlisted"],
)
async def test_hidden_network_with_only_the_documented_fields(
    portal: Client, controller: RecordingController, body: dict[str, Any], security: SecurityKind
) -> None:
    """wifi-connect's fields alone join a hidden network: the security follows the credentials."""
    status, answer = await connect_json(portal, body)
    assert (status, answer) == (200, CONNECTING)
    (submitted,) = controller.submitted
    assert submitted.ssid == body["ssid"].encode()
    assert submitted.hidden and submitted.security is security


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # A name the scan did not show is joined as hidden, its password checked as WPA's.
        ({"ssid": "Not Scanned", "passphrase": "short"}, "passphrase"),
        ({"ssid": "", "passphrase": "password1"}, "ssid"),
        ({"passphrase": "password1"}, "ssid"),
        ({"ssid": "Cafe", "passphrase": ""}, "passphrase"),
        ({"ssid": "Cafe", "passphrase": "short"}, "passphrase"),
        ({"ssid": "Cafe", "passphrase": "a" * 64 + "b"}, "passphrase"),
        ({"ssid": "Cafe", "passphrase": "g" * 64}, "passphrase"),
        ({"ssid": "Cafe", "passphrase": "pässwörter"}, "passphrase"),
        ({"ssid": "Campus", "passphrase": "pw"}, "identity"),
        ({"ssid": "Campus", "identity": "me"}, "passphrase"),
        ({"ssid": "Old Router", "passphrase": "x" * 65}, "passphrase"),
        ({"ssid": "Lab", "hidden": True, "security": "rot13"}, "security"),
        ({"ssid": "x" * 33, "hidden": True, "security": "open"}, "ssid"),
        ({"ssid": "Cafe", "hidden": "perhaps"}, "hidden"),
        ({"ssid": 42}, "ssid"),
        ({"ssid": "Cafe", "passphrase": ["password1"]}, "passphrase"),
    ],
)
async def test_connect_bad_input_is_400_naming_the_field(
    portal: Client, controller: RecordingController, body: dict[str, Any], field: str
) -> None:
    status, answer = await connect_json(portal, body)
    assert status == 400
    assert answer["field"] == field
    assert isinstance(answer["error"], str) and answer["error"]
    assert controller.submitted == []


async def test_connect_error_never_quotes_the_password(portal: Client) -> None:
    secret = "pässwörter-geheim"
    response = await portal.post("/connect", json={"ssid": "Cafe", "passphrase": secret})
    assert response.status == 400
    assert secret not in await response.text()


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"Cafe"', b"\xff\xfe"])
async def test_connect_body_that_is_not_a_json_object_is_400(
    portal: Client, controller: RecordingController, raw: bytes
) -> None:
    response = await portal.post("/connect", data=raw, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["field"] is None
    assert controller.submitted == []


@pytest.mark.parametrize(
    ("request_body", "status", "taken"),
    [
        # text/plain is what a cross-site page can post without a preflight: JSON in it is
        # refused.
        (
            {"data": json.dumps({"ssid": "Library"}), "headers": {"Content-Type": "text/plain"}},
            415,
            0,
        ),
        # A JSON body needs no CSRF token: no other site can send one without a preflight.
        ({"json": {"ssid": "Library"}, "headers": {"Origin": "http://192.168.42.1"}}, 200, 1),
    ],
    ids=["text-plain-refused", "json-needs-no-token"],
)
async def test_connect_takes_json_and_refuses_what_another_site_could_post(
    portal: Client,
    controller: RecordingController,
    request_body: dict[str, Any],
    status: int,
    taken: int,
) -> None:
    response = await portal.post("/connect", **request_body)
    assert response.status == status
    assert len(controller.submitted) == taken


async def test_status_without_an_attempt(portal: Client) -> None:
    response = await portal.get("/status")
    assert response.status == 200
    assert await response.json() == {"state": "portal", "last_attempt": None, "trying": None}


async def test_status_reports_the_last_attempt_and_checks(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(
        FlowState.PORTAL,
        AttemptOutcome(
            ssid="Cafe",
            failure=None,
            blocked=(Service.NTP,),
            checks=(
                CheckResult(Service.HTTPS, "https://api.example.org", True, 42.5),
                CheckResult(Service.NTP, "pool.ntp.org", False, None, "no reply in 10 s"),
            ),
        ),
    )
    body = await (await portal.get("/status")).json()
    assert body == {
        "state": "portal",
        "last_attempt": {
            "ssid": "Cafe",
            "ok": False,
            "failure": None,
            "nm_reason": 0,
            "blocked": ["ntp"],
            "reasons": ["Connected to 'Cafe', but time servers (UDP 123) are blocked."],
            "checks": [
                {
                    "service": "https",
                    "target": "https://api.example.org",
                    "ok": True,
                    "latency_ms": 42.5,
                    "reason": None,
                },
                {
                    "service": "ntp",
                    "target": "pool.ntp.org",
                    "ok": False,
                    "latency_ms": None,
                    "reason": "no reply in 10 s",
                },
            ],
        },
        "trying": None,
    }


async def test_status_failure_reason_in_words(
    portal: Client, controller: RecordingController
) -> None:
    controller.current = FlowStatus(
        FlowState.FAILED, AttemptOutcome("Cafe", FailureKind.WRONG_PASSWORD)
    )
    body = await (await portal.get("/status")).json()
    assert body["state"] == "failed"
    assert body["last_attempt"]["failure"] == "wrong-password"
    assert body["last_attempt"]["reasons"] == ["The password for 'Cafe' was not accepted."]


async def test_status_never_holds_the_submitted_passphrase(
    portal: Client, controller: RecordingController
) -> None:
    secret = "hunter2-hunter2"
    await portal.post("/connect", json={"ssid": "Cafe", "passphrase": secret})
    controller.current = FlowStatus(
        FlowState.PORTAL, AttemptOutcome("Cafe", FailureKind.WRONG_PASSWORD)
    )
    assert secret not in await (await portal.get("/status")).text()


async def test_rescan_json_answers_the_new_list(
    portal: Client, controller: RecordingController
) -> None:
    response = await portal.post("/rescan")
    assert response.status == 200
    body = await response.json()
    assert body[0]["ssid"] == "Cafe"
    assert controller.rescans == 1
    response = await portal.post("/rescan", json={})
    assert response.status == 200
    assert controller.rescans == 2


async def test_rescan_failure_is_503(portal: Client, controller: RecordingController) -> None:
    async def broken() -> list[Any]:
        raise NetworkManagerUnavailable("NetworkManager went away")

    controller.rescan = broken  # type: ignore[method-assign]
    response = await portal.post("/rescan")
    assert response.status == 503
    assert "went away" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (FlowBusy("The device is busy"), 409),
        (NotYourTurn("Another phone goes first", retry_after=42), 429),
        (NetworkManagerUnavailable("It went away"), 503),
    ],
)
async def test_a_submission_the_flow_cannot_take(
    portal: Client, controller: RecordingController, error: Exception, status: int
) -> None:
    """Busy or starting is the client's timing (409), as is another phone's turn (429 with
    when to try again); NetworkManager failing is the device's (503)."""
    requesters: list[str | None] = []

    async def refuse(_: Credentials, requester: str | None = None) -> None:
        requesters.append(requester)
        raise error

    controller.submit = refuse  # type: ignore[method-assign]
    response = await portal.post("/connect", json={"ssid": "Library"})
    assert response.status == status
    assert await response.json() == {"error": str(error), "field": None}
    assert requesters == ["127.0.0.1"], "the flow is told which phone asks"
    if isinstance(error, NotYourTurn):
        assert response.headers["Retry-After"] == "42"
        token = portal.app[PORTAL].csrf.token("127.0.0.1")
        form = await portal.post("/connect", data={"ssid": "Library", "csrf_token": token})
        assert form.status == 429 and "Please wait" in await form.text()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/connect"), ("POST", "/networks"), ("GET", "/rescan")]
)
async def test_wrong_method_is_405_with_allow(portal: Client, method: str, path: str) -> None:
    response = await portal.request(method, path)
    assert response.status == 405
    assert "Allow" in response.headers


async def test_unknown_api_path_is_404(portal: Client) -> None:
    response = await portal.get("/nothing-here")
    assert response.status == 404
    assert "There is nothing at this address." in await response.text()


# Names whose display needs care: hidden characters, a backslash, a lookalike of an escape,
# Latin-1 that shows like UTF-8 (the stronger is the one listed).
TRICKY = (
    network("Evil\u202egnp.exe".encode(), SecurityKind.OPEN, 70),
    network(b"Evil\\u{202E}gnp.exe", SecurityKind.OPEN, 65),
    network(b"Clear\x1b[2J", SecurityKind.OPEN, 60),
    network(b"C:\\net", SecurityKind.OPEN, 55),
    network(b"Caf\xe9", SecurityKind.OPEN, 50),
    network("Caf\xe9".encode(), SecurityKind.OPEN, 45),
    network("\U0001f468\u200d\U0001f469\u200d\U0001f467".encode(), SecurityKind.OPEN, 40),
)


# One portal per name: the rate limit allows a phone five submissions a minute.
@pytest.mark.parametrize("controller", [RecordingController(TRICKY)], ids=["tricky-names"])
async def test_every_name_is_listed_once(portal: Client) -> None:
    names = [entry["ssid"] for entry in await (await portal.get("/networks")).json()]
    assert len(names) == len(set(names)) == len(TRICKY) - 1, "the weaker 'Café' is not listed"


@pytest.mark.parametrize(
    "controller",
    [RecordingController((network, *TRICKY)) for network in TRICKY if network.strength != 45],
    ids=lambda controller: repr(controller.available[0].ssid),
)
async def test_a_listed_name_connects_to_exactly_its_bytes(
    portal: Client, controller: RecordingController
) -> None:
    wanted = controller.available[0]
    status, _ = await connect_json(portal, {"ssid": wanted.display_ssid})
    assert status == 200
    (credentials,) = controller.submitted
    assert (credentials.ssid, credentials.hidden) == (wanted.ssid, False)

    controller.current = FlowStatus(FlowState.PORTAL)
    page = await (await portal.get("/")).text()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = await portal.post(
        "/connect", data={"ssid": wanted.display_ssid, "csrf_token": token}
    )
    assert response.url.path == "/connecting"
    assert response.url.query["ssid"] == wanted.display_ssid
    shown = html.escape(wanted.display_ssid, quote=False)
    assert f"Connecting to '<bdi>{shown}</bdi>'" in await response.text()


async def test_only_a_phone_opening_the_portal_is_named_for_taking_turns(
    portal: Client, controller: RecordingController
) -> None:
    """The page, the list, a rescan or a connect name the phone; a status poll does not."""
    for path in ("/status", "/", "/networks", "/openapi.json", "/generate_204"):
        await portal.get(path, allow_redirects=False)
    await portal.post("/rescan")
    phone = "127.0.0.1"
    assert controller.requesters == [None, phone, phone, None, None, phone]
