"""PNG chunks, read and written by hand: only the chunk layer is needed (a card lives in
``tEXt`` chunks; the image itself is copied, never decoded), and that layer is a length, a type,
the data and a CRC-32 (``zlib.crc32``), so a dependency such as Pillow, which decodes pixels,
would add attack surface without use. The placeholder picture is the one image written from
pixels: one filter byte per row and zlib, a few lines.

Every chunk's CRC is checked; a file that ends early, lacks IHDR first or IEND last, or declares
an absurd size is refused as a broken PNG on ``file``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from pipeline.cards import limits
from pipeline.cards.errors import CardError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK = 2**31 - 1  # the PNG spec's own bound on a chunk's length


@dataclass(frozen=True, slots=True)
class Chunk:
    kind: bytes
    data: bytes


def read_chunks(raw: bytes) -> list[Chunk]:
    if not raw.startswith(SIGNATURE):
        raise CardError("Broken PNG: the PNG signature is missing")
    chunks: list[Chunk] = []
    at = len(SIGNATURE)
    while at < len(raw):
        if at + 8 > len(raw):
            raise CardError("Broken PNG: the file ends inside a chunk header")
        length, kind = struct.unpack_from(">I4s", raw, at)
        if length > MAX_CHUNK or not kind.isalpha():
            raise CardError("Broken PNG: a chunk header is invalid")
        end = at + 8 + length
        if end + 4 > len(raw):
            raise CardError(f"Broken PNG: the file ends inside the {_name(kind)} chunk")
        data = raw[at + 8 : end]
        (crc,) = struct.unpack_from(">I", raw, end)
        if zlib.crc32(data, zlib.crc32(kind)) != crc:
            raise CardError(f"Broken PNG: the {_name(kind)} chunk's CRC does not match")
        chunks.append(Chunk(kind, data))
        at = end + 4
        if kind == b"IEND":
            break
    if not chunks or chunks[0].kind != b"IHDR" or len(chunks[0].data) != 13:
        raise CardError("Broken PNG: it does not start with an image header (IHDR)")
    if chunks[-1].kind != b"IEND":
        raise CardError("Broken PNG: the file ends before its IEND chunk")
    width, height = struct.unpack_from(">II", chunks[0].data)
    if not (0 < width <= limits.MAX_IMAGE_SIDE and 0 < height <= limits.MAX_IMAGE_SIDE):
        raise CardError(
            f"The picture is {width}x{height}; at most {limits.MAX_IMAGE_SIDE} pixels a side"
        )
    return chunks


def _name(kind: bytes) -> str:
    return kind.decode("ascii", "replace")


def text_chunks(chunks: list[Chunk]) -> dict[str, bytes]:
    """``tEXt`` keyword -> text (Latin-1 bytes); the first of a repeated keyword wins."""
    found: dict[str, bytes] = {}
    for chunk in chunks:
        if chunk.kind != b"tEXt":
            continue
        keyword, sep, text = chunk.data.partition(b"\0")
        if sep:
            found.setdefault(keyword.decode("latin-1"), text)
    return found


def text_chunk(keyword: str, text: bytes) -> Chunk:
    return Chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text)


def write_chunks(chunks: list[Chunk]) -> bytes:
    out = [SIGNATURE]
    for chunk in chunks:
        crc = zlib.crc32(chunk.data, zlib.crc32(chunk.kind))
        out.append(struct.pack(">I4s", len(chunk.data), chunk.kind))
        out.append(chunk.data)
        out.append(struct.pack(">I", crc))
    return b"".join(out)


def solid_png(
    width: int, height: int, rgb: tuple[int, int, int], ring: tuple[int, int, int]
) -> bytes:
    """An RGB picture: a filled disc of ``ring`` on ``rgb``, enough for an avatar placeholder."""
    cx, cy, r2 = width / 2, height / 2, (min(width, height) * 0.35) ** 2
    back, front = bytes(rgb), bytes(ring)
    rows = []
    for y in range(height):
        row = bytearray(b"\0")  # filter: none
        for x in range(width):
            row += front if (x - cx) ** 2 + (y - cy) ** 2 <= r2 else back
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return write_chunks(
        [
            Chunk(b"IHDR", header),
            Chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            Chunk(b"IEND", b""),
        ]
    )
