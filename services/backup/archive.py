"""A backup as one ``.tar`` file instead of a folder: the same files, ``manifest.json`` first.

Not compressed: audio, pictures and ``pg_dump``'s custom format are compressed already. It is
written beside its name and renamed into place when whole, and unpacked beside itself for a
restore, with tarfile's ``data`` filter (no links out, no absolute paths, no devices).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.backup.manifest import MANIFEST, BackupCorrupted

SUFFIX = ".tar"


def is_archive(path: Path) -> bool:
    return path.suffix == SUFFIX


def pack(folder: Path, archive: Path) -> None:
    """``folder``'s files into ``archive``; the folder is removed once the archive is whole."""
    partial = archive.with_name(f".{archive.name}.partial")
    with tarfile.open(partial, "w") as tar:
        tar.add(folder / MANIFEST, arcname=MANIFEST)
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path != folder / MANIFEST:
                tar.add(path, arcname=path.relative_to(folder).as_posix())
    partial.rename(archive)
    shutil.rmtree(folder)


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The backup at ``path`` as a folder: itself, or its archive unpacked for the duration."""
    if not path.is_file():
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        try:
            with tarfile.open(path) as tar:
                tar.extractall(folder, filter="data")
        except (tarfile.TarError, EOFError, OSError) as e:
            raise BackupCorrupted(f"{path} cannot be unpacked: {e}") from e
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
