"""A plain (non-editable) `pip install .` gives a working command that finds its UI files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.install.source import REPO, copy_source


def test_non_editable_install_runs_and_finds_its_ui(tmp_path: Path) -> None:
    target = tmp_path / "site"
    # pip builds in the source tree: a copy without build leftovers.
    source = copy_source(tmp_path / "source")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Run from outside the checkout so nothing can be imported from the source tree.
    env = {**os.environ, "PYTHONPATH": str(target)}

    def output(*argv: str) -> str:
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout

    assert output(str(target / "bin" / "wifi-connect"), "--version").strip().endswith("0.1.0")
    located = output(
        sys.executable,
        "-c",
        "import app, app.config as c;"
        "print(app.__file__); print(c.bundled_templates_dir()); print(c.bundled_static_dir())",
    )
    module, templates, static = (Path(line) for line in located.splitlines())
    assert module.is_relative_to(target)
    # Every module of the source tree was installed, and imports from the installed copy.
    names = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted((REPO / "app").rglob("*.py"))
    ]
    script = f"import importlib; [print(importlib.import_module(n).__file__) for n in {names!r}]"
    for line in output(sys.executable, "-c", script).splitlines():
        assert Path(line).is_relative_to(target), line
    for directory in (templates, static):
        assert directory.is_relative_to(target / "app"), directory
        assert directory.is_dir()
        assert any(directory.iterdir()), f"{directory} was installed empty"
