"""docker-compose.yml gives balena what the app needs, in fields balena's supervisor supports."""

from __future__ import annotations

import re
from typing import Any

import yaml

from app.config import ENV_SETTINGS, FLAG_SETTINGS
from tests.container.dockerfile import DOCKERFILE, REPO, env_of, exec_form, parse_dockerfile

COMPOSE = REPO / "docker-compose.yml"
BALENA_DOC = REPO / "docs" / "balena.md"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _wifi_connect() -> dict[str, Any]:
    service = _compose()["services"]["wifi-connect"]
    assert isinstance(service, dict)
    return service


def test_the_service_reaches_the_hosts_network_and_bus() -> None:
    service = _wifi_connect()
    assert service["network_mode"] == "host"
    # balena reads the label's value as the string '1'.
    assert service["labels"]["io.balena.features.dbus"] == "1"
    assert {"NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE"} <= set(service["cap_add"])
    final = parse_dockerfile(DOCKERFILE.read_text())[-1]
    bus = service["environment"]["DBUS_SYSTEM_BUS_ADDRESS"]
    assert bus == env_of(final)["DBUS_SYSTEM_BUS_ADDRESS"]
    assert bus == "unix:path=/host/run/dbus/system_bus_socket"


def test_it_builds_this_repositorys_dockerfile_from_inside_the_project() -> None:
    """balena takes a build context only from the project directory or below it."""
    context = (COMPOSE.parent / _wifi_connect()["build"]).resolve()
    assert context.is_relative_to(REPO)
    assert (context / "Dockerfile").samefile(DOCKERFILE)


def test_the_example_application_starts_through_start_sh() -> None:
    """The command is the image's start.sh followed by the application it execs once online."""
    command = _wifi_connect()["command"]
    assert isinstance(command, list) and all(isinstance(word, str) for word in command)
    final = parse_dockerfile(DOCKERFILE.read_text())[-1]
    (cmd,) = final.all("CMD")
    image_command = exec_form(cmd)
    assert image_command is not None
    assert command[0] == image_command[0]
    assert len(command) > 1, "no example application after start.sh"


def test_only_fields_balenas_supervisor_takes() -> None:
    """Compose file format 2.4 at most, and depends_on only in its list form."""
    compose = _compose()
    assert re.fullmatch(r"2(\.[0-4])?", str(compose["version"]))
    for name, service in compose["services"].items():
        assert isinstance(service.get("depends_on", []), list), name
        assert service.get("restart", "always") == "always", name


def test_the_balena_docs_variables_are_the_apps() -> None:
    """Each variable in docs/balena.md's table and `balena env set` lines is one the app reads."""
    known = {s.env for s in (*ENV_SETTINGS, *FLAG_SETTINGS)}
    named: set[str] = set()
    for line in BALENA_DOC.read_text().splitlines():
        if line.startswith("| `"):
            named |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
        elif line.startswith("balena env set "):
            named.add(line.split()[3])
    assert len(named) > 5, named
    assert named <= known, named - known
