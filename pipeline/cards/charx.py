"""CharX: a zip holding ``card.json`` (a V3 card) and its assets (``embeded://path`` URIs).

Only ``card.json`` and the main icon are read. Before anything is decompressed the archive's
directory is checked: at most ``MAX_ZIP_ENTRIES`` entries (counted from the end record, before
``zipfile`` builds its list), no name that could escape a folder if extracted (absolute, ``..``,
backslashes, drive letters), no duplicates, no encryption, a bounded declared total and, for large
entries, a bounded compression ratio. Reads stop at the declared size, and ``zipfile`` checks
each entry's CRC, so an entry lying about its size fails instead of growing.
"""

from __future__ import annotations

import io
import struct
import zipfile

from pipeline.cards import limits
from pipeline.cards.errors import CardError

CARD = "card.json"
_END = b"PK\x05\x06"


def open_charx(raw: bytes) -> zipfile.ZipFile:
    _check_entry_count(raw)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as e:
        raise CardError("Broken CharX: not a readable zip file") from e
    infos = archive.infolist()
    if len(infos) > limits.MAX_ZIP_ENTRIES:
        raise CardError(f"The CharX holds more than {limits.MAX_ZIP_ENTRIES} files")
    names: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not _safe_name(name):
            raise CardError(f"The CharX holds an unsafe file name: {name[:100]!r}")
        if name in names:
            raise CardError(f"The CharX holds {name[:100]!r} twice")
        names.add(name)
        if info.flag_bits & 0x1:
            raise CardError("The CharX is encrypted")
        total += info.file_size
        if total > limits.MAX_ZIP_TOTAL:
            raise CardError(
                f"The CharX unpacks to more than {limits.MAX_ZIP_TOTAL // (1024 * 1024)} MiB"
            )
        if info.file_size > limits.ZIP_RATIO_FROM and info.file_size > limits.MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise CardError(f"The CharX's {name[:100]!r} is compressed suspiciously well")
    return archive


def read_entry(archive: zipfile.ZipFile, name: str, max_bytes: int, field: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as e:
        raise CardError(f"The CharX has no {name[:100]!r}", field) from e
    if info.file_size > max_bytes:
        raise CardError(f"{name[:100]!r} is larger than {max_bytes} bytes", field)
    try:
        with archive.open(info) as f:
            data = f.read(max_bytes + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError) as e:
        raise CardError(f"Broken CharX: {name[:100]!r} cannot be read", field) from e
    if len(data) > max_bytes:
        raise CardError(f"{name[:100]!r} is larger than {max_bytes} bytes", field)
    return data


def _check_entry_count(raw: bytes) -> None:
    at = raw.rfind(_END, max(0, len(raw) - 65_557))  # the end record and its comment
    if at < 0 or at + 22 > len(raw):
        raise CardError("Broken CharX: not a readable zip file")
    (entries,) = struct.unpack_from("<H", raw, at + 10)
    if entries > limits.MAX_ZIP_ENTRIES:
        raise CardError(f"The CharX holds more than {limits.MAX_ZIP_ENTRIES} files")


def _safe_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    if len(name) > 1 and name[1] == ":":  # C:...
        return False
    return all(part not in ("..", ".") for part in name.split("/"))
