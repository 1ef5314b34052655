"""The parts of the project's Markdown that tests check: fenced blocks, links and headings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)


@dataclass(frozen=True, slots=True)
class Block:
    path: Path
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Fenced code blocks in order (a fence must start its line, as in CommonMark)."""
    source = path.read_text(encoding="utf-8")
    return [
        Block(path, source.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
        for m in _FENCE.finditer(source)
    ]


def prose(path: Path) -> str:
    """The file without its fenced blocks: what links and headings are read from."""
    return _FENCE.sub("", path.read_text(encoding="utf-8"))


def links(path: Path) -> list[str]:
    return _LINK.findall(prose(path))


def anchors(path: Path) -> set[str]:
    """GitHub's heading ids: link text kept, lower case, punctuation but ``-`` and ``_`` dropped,
    spaces become hyphens."""
    found = set()
    for title in _HEADING.findall(prose(path)):
        plain = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", title).lower()
        found.add(re.sub(r"[^\w\- ]", "", plain).replace(" ", "-"))
    return found
