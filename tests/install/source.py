"""A copy of the source tree without build leftovers, to build or install from."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# .cache holds the contract tier's Debian roots, whose device nodes (/dev/zero, /dev/full) a
# copy would read for ever.
_NOT_SOURCE = (
    ".git",
    ".venv",
    ".cache",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "test-artifacts",
)


def copy_source(target: Path) -> Path:
    """The repository copied to `target`: a stale build/ there could ship a forgotten module."""
    shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    return target
