"""Blobs on the local disk, served by the web layer behind HMAC-signed, expiring URLs.

A key is a relative path of plain segments (no ``..``, ``.``, empty segments, backslashes or
absolute paths), checked again after resolving so nothing escapes ``root_dir``. Writes go to a
temporary file in the same folder and are renamed into place, so a reader never sees half a file
(no fsync: audio chunks are cheap to regenerate, latency is not). A prefix names a folder:
``users/1`` never matches ``users/10``.

URL: ``<base_url_path>/<key>?exp=<unix seconds>&sig=<hex hmac-sha256(secret, key + "\\n" + exp)>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from pipeline.storage.base import check_key as _check_key

MIN_SECRET_BYTES = 16


def sign(secret: bytes, key: str, exp: int) -> str:
    return hmac.new(secret, f"{key}\n{exp}".encode(), hashlib.sha256).hexdigest()


class LocalBlobStorage:
    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        secret: str | bytes,
        base_url_path: str = "/media",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret.encode() if isinstance(secret, str) else secret
        if len(self._secret) < MIN_SECRET_BYTES:
            raise ValueError(f"storage secret must be at least {MIN_SECRET_BYTES} bytes")
        self.root = Path(root_dir).resolve()
        self._base = base_url_path.rstrip("/")
        self._clock = clock

    def path_for(self, key: str) -> Path:
        """The file behind ``key``; raises ``ValueError`` for a key that could escape the root."""
        path = (self.root / _check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"invalid storage key: {key!r}")
        return path

    async def put(self, key: str, data: bytes, mime_type: str) -> None:
        await asyncio.to_thread(self._write, self.path_for(key), data)

    async def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError) as e:
            raise KeyError(key) from e

    async def delete_prefix(self, prefix: str) -> int:
        folder = self.path_for(prefix.rstrip("/"))
        return await asyncio.to_thread(self._delete_tree, folder)

    async def list_prefix(self, prefix: str) -> list[str]:
        prefix = _check_key(prefix.rstrip("/"), allow_empty=True)
        folder = self.path_for(prefix) if prefix else self.root
        return await asyncio.to_thread(self._list, folder)

    def signed_url(self, key: str, expires_in_s: int) -> str:
        _check_key(key)
        exp = int(self._clock()) + expires_in_s
        return f"{self._base}/{quote(key, safe='/')}?exp={exp}&sig={sign(self._secret, key, exp)}"

    def verify_signature(
        self, key: str, exp: int | str, sig: str, now: float | None = None
    ) -> bool:
        """True if ``sig`` was made by :meth:`signed_url` for ``key`` and has not expired."""
        try:
            exp_int = int(exp)
        except (TypeError, ValueError):
            return False
        if exp_int < (self._clock() if now is None else now):
            return False
        return hmac.compare_digest(sign(self._secret, key, exp_int).encode(), sig.encode())

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _list(self, folder: Path) -> list[str]:
        if not folder.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    @staticmethod
    def _delete_tree(folder: Path) -> int:
        if folder.is_file():
            folder.unlink()
            return 1
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
        shutil.rmtree(folder)
        return count
