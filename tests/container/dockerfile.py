"""A Dockerfile read into stages, and the project's rules for it, as pure functions."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
# The Debian packages of the final image; scripts/test installs the same list.
RUNTIME_PACKAGES = REPO / "scripts" / "debian-packages.txt"

# Packages that compile: none may reach the final image.
_COMPILER = re.compile(
    r"^(gcc|g\+\+|cpp|clang|llvm|make|cmake|build-essential|libc6-dev|cython3?|rustc|cargo)"
    r"(-[\d.]+)?$|-dev$"
)
# A base image tag that names a version: 3.11.14-slim-bookworm, 12.8, 1.2-alpine.
_VERSION_TAG = re.compile(r"^v?\d+\.\d+")


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword in upper case, its argument text and its first line."""

    keyword: str
    arguments: str
    line: int


@dataclass(frozen=True)
class Stage:
    """A build stage: the image it starts FROM, its name and what follows until the next FROM."""

    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        """This stage's instructions of one kind."""
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile; comments dropped, continued lines joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped.removesuffix("\\").strip())
        if not continued:
            keyword, _, arguments = " ".join(p for p in pending if p).partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
            pending = []
    if pending:
        raise ValueError(f"Dockerfile line {start}: a continued line ends the file")
    return _stages(instructions)


def _stages(instructions: list[Instruction]) -> list[Stage]:
    """Group instructions by FROM; ARGs before the first FROM are dropped."""
    stages: list[Stage] = []
    current: tuple[str, str | None] | None = None
    body: list[Instruction] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if current is not None:
                stages.append(Stage(*current, tuple(body)))
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            current, body = (words[0], name), []
        elif current is not None:
            body.append(instruction)
    if current is None:
        raise ValueError("the Dockerfile has no FROM")
    stages.append(Stage(*current, tuple(body)))
    return stages


def exec_form(instruction: Instruction) -> list[str] | None:
    """The argv of an exec-form (JSON array) CMD or ENTRYPOINT; None for the shell form."""
    try:
        value = json.loads(instruction.arguments)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return value
    return None


def env_of(stage: Stage) -> dict[str, str]:
    """The ENV and ARG defaults a stage sets, the later winning (key=value forms only)."""
    values: dict[str, str] = {}
    for instruction in stage.instructions:
        if instruction.keyword in ("ENV", "ARG"):
            for word in shlex.split(instruction.arguments):
                key, sep, value = word.partition("=")
                if sep:
                    values[key] = value
    return values


def shell_commands(run: Instruction) -> list[list[str]]:
    """The simple commands of a shell-form RUN, split at &&, ||, ; and |, as words."""
    lexer = shlex.shlex(run.arguments, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";", "|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def apt_installs(stage: Stage) -> list[str]:
    """Every package name the stage's RUNs give to `apt-get install`."""
    packages: list[str] = []
    for run in stage.all("RUN"):
        for words in shell_commands(run):
            if words[:2] == ["apt-get", "install"]:
                packages += [w for w in words[2:] if not w.startswith("-")]
    return packages


def read_package_list(path: Path) -> list[str]:
    """The names of a Debian package list: one a line, # starts a comment."""
    names = (line.partition("#")[0].strip() for line in path.read_text().splitlines())
    return [name for name in names if name]


def violations(stages: list[Stage]) -> list[str]:
    """Every rule the Dockerfile breaks, one line each naming the stage or line."""
    found: list[str] = []
    names = {stage.name for stage in stages if stage.name}
    if len(stages) < 2:
        found.append("single stage: the image must be built in a builder stage and copied")
    for stage in stages:
        found += _base_violations(stage, names)
        found += _apt_violations(stage)
        for instruction in stage.all("CMD") + stage.all("ENTRYPOINT"):
            if exec_form(instruction) is None:
                found.append(f"line {instruction.line}: {instruction.keyword} in shell form")
    final = stages[-1]
    found += [
        f"final stage installs {p}, a compiler" for p in apt_installs(final) if is_compiler(p)
    ]
    if final.base in names:
        found.append(f"the final stage starts FROM the stage {final.base}, compiler and all")
    return found


def is_compiler(package: str) -> bool:
    """Whether a Debian package is a compiler, a build tool or development headers."""
    return _COMPILER.search(package) is not None


def _base_violations(stage: Stage, stage_names: set[str]) -> list[str]:
    """A base image must be an earlier stage or a pinned version, never `latest`."""
    if stage.base in stage_names:
        return []
    image, _, digest = stage.base.partition("@")
    _, colon, tag = image.rpartition(":")
    if not colon or "/" in tag:
        return [f"FROM {stage.base}: no tag, which means latest"]
    if tag == "latest" or not _VERSION_TAG.match(tag):
        return [f"FROM {stage.base}: the tag {tag!r} names no version"]
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        return [f"FROM {stage.base}: a malformed digest"]
    return []


def _apt_violations(stage: Stage) -> list[str]:
    """apt-get runs non-interactively, updates, installs no recommends and drops its lists."""
    found: list[str] = []
    noninteractive = env_of(stage).get("DEBIAN_FRONTEND") == "noninteractive"
    for run in stage.all("RUN"):
        commands = shell_commands(run)
        installs = [i for i, words in enumerate(commands) if words[:2] == ["apt-get", "install"]]
        if not installs:
            continue
        where = f"line {run.line}"
        inline = "DEBIAN_FRONTEND=noninteractive" in run.arguments
        if not (noninteractive or inline):
            found.append(f"{where}: apt-get without DEBIAN_FRONTEND=noninteractive")
        for index in installs:
            words = commands[index]
            if "--no-install-recommends" not in words:
                found.append(f"{where}: apt-get install without --no-install-recommends")
            if not {"-y", "--yes", "--assume-yes"} & set(words):
                found.append(f"{where}: apt-get install without -y")
        updates = [i for i, words in enumerate(commands) if words[:2] == ["apt-get", "update"]]
        if not updates or updates[0] > installs[0]:
            found.append(f"{where}: apt-get install without apt-get update in the same RUN")
        cleaned = [
            i
            for i, words in enumerate(commands)
            if words[:2] == ["rm", "-rf"] and "/var/lib/apt/lists/*" in words
        ]
        if not cleaned or cleaned[-1] < installs[-1]:
            found.append(f"{where}: the apt lists are not removed in the same RUN")
    return found
