"""What can be proved of the image without a container engine: the Dockerfile's steps, run here.

The builder stage's COPY, WORKDIR, ENV and RUN steps run in a scratch root (apt-get aside: the
test machine has its own packages); the final stage then takes what its COPY --from names from
that root, and its command must resolve there on its own PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath

from tests.container.dockerfile import DOCKERFILE, REPO, Stage, env_of, exec_form, parse_dockerfile

_STAGES = parse_dockerfile(DOCKERFILE.read_text())


class ScratchRoot:
    """A directory standing for a stage's filesystem: absolute image paths map into it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, image_path: str) -> Path:
        """Where an absolute path of the image lies in the scratch root."""
        pure = PurePosixPath(image_path)
        assert pure.is_absolute(), image_path
        return self.root.joinpath(*pure.parts[1:])

    def copy_in(self, source: Path, destination: str, workdir: str) -> None:
        """COPY: a file or a directory's contents to an image path (relative to the workdir)."""
        target = self.path(str(PurePosixPath(workdir, destination)))
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            if destination.endswith("/"):
                target = target / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run_builder(stage: Stage, scratch: ScratchRoot, tools: Path) -> None:
    """The builder's steps in the scratch root; env values that are image paths map into it."""
    workdir = "/"
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    for instruction in stage.instructions:
        words = shlex.split(instruction.arguments)
        match instruction.keyword:
            case "WORKDIR":
                workdir = str(PurePosixPath(workdir, words[0]))
                scratch.path(workdir).mkdir(parents=True, exist_ok=True)
            case "COPY":
                assert not any(w.startswith("--") for w in words), instruction
                *sources, destination = words
                for source in sources:
                    scratch.copy_in(REPO / source, destination, workdir)
            case "ENV" | "ARG":
                for key, value in env_of(Stage(stage.base, None, (instruction,))).items():
                    env[key] = str(scratch.path(value)) if value.startswith("/") else value
            case "RUN" if "apt-get" in instruction.arguments:
                continue
            case "RUN":
                # Every image path a step uses comes through the environment, mapped above.
                assert " /" not in f" {instruction.arguments}", instruction
                subprocess.run(
                    ["sh", "-c", instruction.arguments],
                    cwd=scratch.path(workdir),
                    env=env,
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
            case _:
                raise AssertionError(f"the simulation does not know {instruction}")


def test_the_final_stage_finds_what_the_builder_made_and_its_command_resolves(
    tmp_path: Path,
) -> None:
    builder, final = _STAGES[0], _STAGES[-1]
    assert builder.name is not None
    assert final.base == builder.base, "the venv's Python must be the same in both stages"
    # `python` in the builder is the base image's; here it is this test's interpreter.
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "python").symlink_to(sys.executable)
    built, image = ScratchRoot(tmp_path / "builder"), ScratchRoot(tmp_path / "image")
    _run_builder(builder, built, tools)

    for copy in final.all("COPY"):
        words = shlex.split(copy.arguments)
        if words[0] == f"--from={builder.name}":
            source, destination = words[1:]
            # A venv is not relocatable: it must sit where it was made.
            assert source == destination, copy
            assert built.path(source).is_dir(), f"the builder made no {source}"
            image.copy_in(built.path(source), destination, "/")
        else:
            assert not words[0].startswith("--"), copy
            image.copy_in(REPO / words[0], words[1], "/")

    (cmd,) = final.all("CMD")
    argv = exec_form(cmd)
    assert argv is not None
    entry = image.path(argv[0])
    assert entry.is_file() and os.access(entry, os.X_OK), f"{argv[0]} is not in the image"
    # start.sh runs `wifi-connect` by name: the final stage's PATH must find the venv's.
    search = env_of(final)["PATH"].split(":")
    found = [image.path(d) / "wifi-connect" for d in search if d.startswith("/")]
    command = next((path for path in found if path.is_file()), None)
    assert command is not None, f"wifi-connect is on no directory of PATH {search}"
    assert "wifi-connect run" in entry.read_text()

    version = subprocess.run(
        [str(command), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    python = image.path(env_of(final)["VIRTUAL_ENV"]) / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('wifi-connect-py'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert version == ["wifi-connect", installed]
    assert installed == metadata.version("wifi-connect-py")
