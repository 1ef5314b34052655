"""Both blob stores keep the same promises: folders by prefix, whole blobs, safe keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.storage.base import BlobStorage
from pipeline.storage.local import LocalBlobStorage
from pipeline.storage.s3 import S3BlobStorage
from tests.data.s3_server import S3Endpoint

pytestmark = pytest.mark.one_backend


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStorage]:
    if request.param == "local":
        yield LocalBlobStorage(tmp_path / "root", "0123456789abcdef0123456789abcdef")
        return
    s3: S3Endpoint = request.getfixturevalue("s3")
    bucket = request.getfixturevalue("bucket")
    yield S3BlobStorage(s3.client(), bucket, prefix="deploy-a")


async def test_a_prefix_is_a_folder_and_deleting_it_removes_only_its_blobs(
    blobs: BlobStorage,
) -> None:
    await blobs.put("users/1/audio/m1/0.wav", b"a", "audio/wav")
    await blobs.put("users/1/audio/m1/1.wav", b"b", "audio/wav")
    await blobs.put("users/10/audio/m9/0.wav", b"c", "audio/wav")
    await blobs.put("users/1/exports/3.zip", b"z", "application/zip")

    assert await blobs.get("users/1/audio/m1/1.wav") == b"b"
    assert await blobs.list_prefix("users/1/audio") == [
        "users/1/audio/m1/0.wav",
        "users/1/audio/m1/1.wav",
    ]
    assert len(await blobs.list_prefix("")) == 4
    assert await blobs.delete_prefix("users/1/exports/3.zip") == 1  # one blob by its key
    assert await blobs.delete_prefix("users/1/") == 2  # users/10 is another folder
    assert await blobs.list_prefix("users") == ["users/10/audio/m9/0.wav"]
    assert await blobs.delete_prefix("users/1") == 0
    with pytest.raises(KeyError):
        await blobs.get("users/1/audio/m1/0.wav")


async def test_writing_a_key_again_replaces_the_whole_blob(blobs: BlobStorage) -> None:
    await blobs.put("a/b.bin", b"x" * 10_000, "application/octet-stream")
    await blobs.put("a/b.bin", b"y" * 10, "application/octet-stream")
    assert await blobs.get("a/b.bin") == b"y" * 10
    assert await blobs.list_prefix("a") == ["a/b.bin"]


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\b", ""])
async def test_keys_that_could_escape_are_refused(blobs: BlobStorage, key: str) -> None:
    with pytest.raises(ValueError):
        await blobs.put(key, b"x", "x")
    with pytest.raises(ValueError):
        await blobs.delete_prefix(key)
