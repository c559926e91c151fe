"""Texts the contract tier keeps for people to read: the keyfiles and refusals NM produced."""

from __future__ import annotations

from pathlib import Path


class ArtifactLog:
    """Texts gathered during the session under a title each, written to one artifact file."""

    def __init__(self, what: str, entries: dict[str, str] | None = None, prefix: str = "") -> None:
        self.what = what
        self.entries: dict[str, str] = {} if entries is None else entries
        self.prefix = prefix

    def prefixed(self, prefix: str) -> ArtifactLog:
        """The same log, every title recorded through it starting with `prefix`."""
        return ArtifactLog(self.what, self.entries, prefix)

    def record(self, title: str, text: str) -> None:
        """Keep one text and show it (visible with `pytest -s`)."""
        title = self.prefix + title
        self.entries[title] = text
        print(f"\n--- {self.what}: {title} ---\n{text}")

    def write(self, path: Path) -> None:
        """Write every recorded text, in a stable order."""
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"### {title}\n{self.entries[title].rstrip()}\n" for title in sorted(self.entries)]
        path.write_text(f"# {self.what}\n\n" + "\n".join(parts))
