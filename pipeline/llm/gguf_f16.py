"""Rewrite a Q4_1/Q8_0 GGUF model as F16, for CPUs the prebuilt engine's quantised kernels crash.

The packaged llama-server's CPU library was built with AVX-VNNI (the VEX-encoded ``vpdpbusd``)
in every quantised dot product. CPUs with AVX-512 VNNI but no AVX-VNNI (AMD Zen 4, the servers
this project runs on) die with "Illegal instruction" on the first token; its F16 kernels run
(measured: 55 tokens/s for SmolLM2-135M on 2 cores). Only numpy is needed: the GGUF layout is
copied as is (metadata bytes verbatim, ``general.file_type`` set to F16), and each quantised
tensor is expanded block by block.

GGUF v2/v3: header, key/values, tensor infos (name, dims, type, offset), padding to
``general.alignment``, then the tensors' data at their offsets.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

F32, F16, Q4_1, Q8_0 = 0, 1, 3, 8
MOSTLY_F16 = 1
_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_BLOCK = 32
_BLOCK_BYTES = {Q4_1: 20, Q8_0: 34}


class GGUFError(ValueError):
    pass


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str:
        size = self.take("Q")
        text = bytes(self.data[self.pos : self.pos + size]).decode()
        self.pos += size
        return text

    def skip_value(self, kind: int) -> None:
        if kind == _STRING:
            size = self.take("Q")  # read first: ``pos += take()`` would add to the old pos
            self.pos += size
        elif kind == _ARRAY:
            item, count = self.take("I"), self.take("Q")
            if item in _SCALARS:
                self.pos += _SCALARS[item] * count
            else:
                for _ in range(count):
                    self.skip_value(item)
        elif kind in _SCALARS:
            self.pos += _SCALARS[kind]
        else:
            raise GGUFError(f"unknown metadata type {kind}")


def _dequantize(raw: np.ndarray, kind: int) -> np.ndarray:
    if kind == Q4_1:
        blocks = raw.reshape(-1, 20)
        d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
        qs = blocks[:, 4:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        return (q * d + m).astype(np.float16).reshape(-1)
    blocks = raw.reshape(-1, 34)  # Q8_0
    d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
    return (q * d).astype(np.float16).reshape(-1)


def _pad(out: BinaryIO, alignment: int) -> None:
    out.write(b"\0" * (-out.tell() % alignment))


def convert_to_f16(source: Path, target: Path) -> None:
    """Write ``target`` (atomically) with every Q4_1/Q8_0 tensor of ``source`` as F16."""
    data = memoryview(source.read_bytes())  # ~100 MB, read once
    r = _Reader(data)
    if bytes(data[:4]) != b"GGUF":
        raise GGUFError(f"{source} is not a GGUF file")
    r.pos = 4
    version, n_tensors, n_kv = r.take("I"), r.take("Q"), r.take("Q")
    if version not in (2, 3):
        raise GGUFError(f"GGUF version {version} is not supported")
    kv_start, alignment, file_type_at = r.pos, 32, None
    for _ in range(n_kv):
        key, kind = r.string(), r.take("I")
        if key == "general.alignment" and kind == 4:
            alignment = struct.unpack_from("<I", data, r.pos)[0]
        if key == "general.file_type" and kind == 4:
            file_type_at = r.pos - kv_start
        r.skip_value(kind)
    metadata = bytearray(data[kv_start : r.pos])
    if file_type_at is not None:
        struct.pack_into("<I", metadata, file_type_at, MOSTLY_F16)
    tensors: list[tuple[str, list[int], int, int]] = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("Q") for _ in range(r.take("I"))]
        tensors.append((name, dims, r.take("I"), r.take("Q")))
    data_start = r.pos + (-r.pos % alignment)

    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as out:
        out.write(b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + metadata)
        offset, layout = 0, []
        for name, dims, kind, _ in tensors:
            count = int(np.prod(dims, dtype=np.int64))
            new_kind = F16 if kind in _BLOCK_BYTES else kind
            if new_kind not in (F32, F16):
                raise GGUFError(f"tensor {name}: type {kind} is not supported")
            layout.append(new_kind)
            encoded = name.encode()
            out.write(struct.pack("<Q", len(encoded)) + encoded + struct.pack("<I", len(dims)))
            out.write(struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", new_kind, offset))
            offset += count * (4 if new_kind == F32 else 2)
            offset += -offset % alignment
        _pad(out, alignment)
        for (_name, dims, kind, at), new_kind in zip(tensors, layout, strict=True):
            count = int(np.prod(dims, dtype=np.int64))
            start = data_start + at
            if kind in _BLOCK_BYTES:
                size = count // _BLOCK * _BLOCK_BYTES[kind]
                raw = np.frombuffer(data, dtype=np.uint8, count=size, offset=start)
                out.write(_dequantize(raw, kind).tobytes())
            else:
                size = count * (4 if new_kind == F32 else 2)
                out.write(data[start : start + size])
            _pad(out, alignment)
    os.replace(partial, target)
