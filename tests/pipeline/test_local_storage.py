"""Audio files on disk: keys cannot escape, writes are whole, URLs are signed and expire."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.storage.local import LocalBlobStorage

SECRET = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


@pytest.fixture
def storage(tmp_path: Path) -> LocalBlobStorage:
    return LocalBlobStorage(tmp_path / "root", SECRET, clock=lambda: NOW)


async def test_put_get_list_and_delete_by_folder(storage: LocalBlobStorage) -> None:
    await storage.put("users/1/audio/m1/0.wav", b"a", "audio/wav")
    await storage.put("users/1/audio/m1/1.wav", b"b", "audio/wav")
    await storage.put("users/10/audio/m9/0.wav", b"c", "audio/wav")

    assert await storage.get("users/1/audio/m1/1.wav") == b"b"
    assert await storage.list_prefix("users/1") == [
        "users/1/audio/m1/0.wav",
        "users/1/audio/m1/1.wav",
    ]
    assert await storage.delete_prefix("users/1/") == 2  # users/10 is another folder
    assert await storage.list_prefix("users") == ["users/10/audio/m9/0.wav"]
    assert await storage.delete_prefix("users/1") == 0
    with pytest.raises(KeyError):
        await storage.get("users/1/audio/m1/0.wav")


async def test_overwrite_replaces_whole_file_and_leaves_no_temp_files(
    storage: LocalBlobStorage,
) -> None:
    await asyncio.gather(*(storage.put("a/b.bin", bytes([i]) * 10_000, "x") for i in range(20)))

    data = await storage.get("a/b.bin")
    assert len(data) == 10_000 and len(set(data)) == 1
    assert [p.name for p in (storage.root / "a").iterdir()] == ["b.bin"]


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/./b", "a\\b", "", "c:/x", "a/.."]
)
async def test_keys_that_could_escape_the_root_are_refused(
    storage: LocalBlobStorage, key: str
) -> None:
    with pytest.raises(ValueError):
        await storage.put(key, b"x", "x")
    with pytest.raises(ValueError):
        await storage.delete_prefix(key)


async def test_a_symlink_out_of_the_root_is_refused(
    storage: LocalBlobStorage, tmp_path: Path
) -> None:
    storage.root.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (storage.root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError):
        await storage.put("link/x.wav", b"x", "audio/wav")
    assert not (tmp_path / "outside" / "x.wav").exists()


def parse(url: str) -> tuple[str, str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, parts.path.removeprefix("/media/"), query["exp"][0], query["sig"][0]


def test_signed_url_verifies_until_it_expires(storage: LocalBlobStorage) -> None:
    path, key, exp, sig = parse(storage.signed_url("users/1/audio/m 1/0.wav", 60))

    assert path == "/media/users/1/audio/m%201/0.wav"
    assert int(exp) == NOW + 60
    key = "users/1/audio/m 1/0.wav"  # the web layer hands over the decoded path
    assert storage.verify_signature(key, exp, sig, now=NOW + 60)
    assert not storage.verify_signature(key, exp, sig, now=NOW + 61)


def test_a_signature_is_bound_to_key_expiry_and_secret(
    storage: LocalBlobStorage, tmp_path: Path
) -> None:
    _, key, exp, sig = parse(storage.signed_url("a/0.wav", 60))
    other = LocalBlobStorage(
        tmp_path / "root", "another-secret-of-enough-length!", clock=lambda: NOW
    )

    assert storage.verify_signature(key, exp, sig, now=NOW)
    assert not storage.verify_signature("a/1.wav", exp, sig, now=NOW)
    assert not storage.verify_signature(key, str(int(exp) + 3600), sig, now=NOW)
    assert not other.verify_signature(key, exp, sig, now=NOW)
    assert not storage.verify_signature(key, "soon", sig, now=NOW)
    assert not storage.verify_signature(key, exp, "é" + sig[1:], now=NOW)


def test_short_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalBlobStorage(tmp_path, "short")


def test_base_url_path_is_configurable(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path, SECRET, "/files/", clock=lambda: NOW)
    assert storage.signed_url("a.wav", 1).startswith("/files/a.wav?exp=")
