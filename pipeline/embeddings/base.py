"""Text embeddings: the interface recall and forming use, and the float32 wire of a vector.

A person has at most thousands of memories, so similarity is exact cosine over their own rows
(no vector database); vectors are stored as little-endian float32 bytes in ``memories.embedding``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Protocol


class EmbeddingError(Exception):
    """The provider could not embed; memory keeps working on full-text search alone."""


class Embedder(Protocol):
    @property
    def model(self) -> str:
        """The model's name, stored beside each vector (vectors of two models never mix)."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


def to_bytes(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def from_bytes(blob: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))


def normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else list(vector)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0
