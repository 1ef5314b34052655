"""A live server's processes as Linux shows them in /proc: its workers, what each has loaded,
the CPU each used. Tests and benchmarks read them as an operator's ``ps`` would."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _parents() -> dict[int, int]:
    """Every process now, with its parent (one read of /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(entry.name)[1])
            except (OSError, IndexError, ValueError):
                continue  # it exited meanwhile
    return parents


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` now."""
    return [child for child, parent in _parents().items() if parent == pid]


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it now (worker processes come and go)."""
    parents = _parents()
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += [child for child, parent in parents.items() if parent == p]
    return found


def has_loaded(pid: int, library: str) -> bool:
    """Whether a shared library whose file name holds ``library`` is mapped into ``pid``."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any(library in line.rpartition("/")[2] for line in maps.splitlines())


def running(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False
