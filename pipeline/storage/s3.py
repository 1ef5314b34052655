"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...), handed out as presigned URLs.

Each key lives at ``<prefix><key>`` in one bucket; clients fetch presigned GET URLs (SigV4,
expiring) straight from the store, so audio never passes through the API's processes. boto3 is
synchronous: every call runs in a worker thread (its clients are thread-safe), with short
timeouts and few retries, because a reply waits on each chunk's ``put``.

Failures are translated at the edge into the provider error tree (``pipeline.errors``): an
unreachable or throttling store is ``ProviderUnavailable``/``ProviderRateLimited``
(retryable: a mutation answers with that code and ``retryable: true``; a reply goes on as text
with ``ReplyDegraded AUDIO_STORAGE_FAILED``; an export ends ``FAILED`` and may be asked again);
refused credentials are ``ProviderAuthError``; a missing key is ``KeyError`` as for files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from pipeline.storage.base import CACHE_CONTROL, check_key, download_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

PROVIDER = "object storage"
MAX_EXPIRY_S = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
_DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys
_MISSING = {"NoSuchKey", "404", "NotFound"}
_AUTH = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"}
_THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "429"}
T = TypeVar("T")


def make_client(
    *,
    endpoint_url: str = "",
    region: str = "",
    timeout_s: float = 10.0,
    max_attempts: int = 3,
    addressing_style: Literal["auto", "path", "virtual"] = "auto",
) -> S3Client:
    """A client with credentials from the standard chain (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role), or ``ValueError`` when there are
    none. SigV4 always: the legacy signature is refused by most regions and by every
    S3-compatible store."""
    config = Config(
        signature_version="s3v4",
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        s3={"addressing_style": addressing_style},
    )
    session = boto3.session.Session()
    # Without credentials every presigned URL would fail at delivery: refuse to start instead.
    if session.get_credentials() is None:
        raise ValueError(
            "HOLOMATE_STORAGE=s3 found no credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run with an instance or pod role)"
        )
    client: S3Client = session.client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config
    )
    return client


class S3BlobStorage:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if prefix:
            check_key(prefix.rstrip("/"))
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""

    async def put(self, key: str, data: bytes, mime_type: str) -> None:
        extra: dict[str, Any] = {"ContentType": mime_type, "CacheControl": CACHE_CONTROL}
        name = download_name(key)
        if name is not None:
            extra["ContentDisposition"] = f'attachment; filename="{name}"'
        await self._call(
            self._client.put_object, Bucket=self.bucket, Key=self._object(key), Body=data, **extra
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            body = self._client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
            with body:
                data: bytes = body.read()
            return data

        try:
            return await self._call(read)
        except KeyError:
            raise KeyError(key) from None

    async def delete_prefix(self, prefix: str) -> int:
        folder = self._object(prefix.rstrip("/"))

        def delete() -> int:
            keys = list(self._objects(folder, include_self=True))
            for start in range(0, len(keys), _DELETE_BATCH):
                batch: list[ObjectIdentifierTypeDef] = [
                    {"Key": k} for k in keys[start : start + _DELETE_BATCH]
                ]
                self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            return len(keys)

        return await self._call(delete)

    async def list_prefix(self, prefix: str) -> list[str]:
        prefix = check_key(prefix.rstrip("/"), allow_empty=True)
        folder = self.prefix + prefix if prefix else self.prefix.rstrip("/")
        keys = await self._call(lambda: list(self._objects(folder, include_self=False)))
        return sorted(k.removeprefix(self.prefix) for k in keys)

    def signed_url(self, key: str, expires_in_s: int) -> str:
        """A presigned GET for at most seven days (SigV4's limit); at least one second."""
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object(key)},
            ExpiresIn=max(1, min(expires_in_s, MAX_EXPIRY_S)),
        )

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _objects(self, folder: str, *, include_self: bool) -> Iterator[str]:
        """Object names in the folder ``folder`` (the whole bucket prefix when empty), and the
        object named ``folder`` itself if ``include_self`` (deleting a single blob's key)."""
        under = folder + "/" if folder else ""
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
            for item in page.get("Contents", []):
                name = item["Key"]
                if name.startswith(under) or (include_self and name == folder):
                    yield name

    @staticmethod
    async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ClientError as e:
            raise _translated(e) from e
        except BotoCoreError as e:  # could not connect, timed out, no credentials...
            raise ProviderUnavailable(PROVIDER, str(e)) from e


def _translated(error: ClientError) -> ProviderError | KeyError:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    detail = f"{code or status}: {error.response.get('Error', {}).get('Message', '')}"
    if code in _MISSING:
        return KeyError(code)
    if code in _AUTH:
        return ProviderAuthError(PROVIDER, detail)
    if code in _THROTTLED:
        return ProviderRateLimited(PROVIDER, detail)
    if status >= 500 or code == "NoSuchBucket":  # the store as configured is not there (yet)
        return ProviderUnavailable(PROVIDER, detail)
    return ProviderBadResponse(PROVIDER, detail)
