"""A real S3 endpoint for tests: moto's server on 127.0.0.1, spoken to over HTTP as AWS is."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from moto.server import ThreadedMotoServer
from mypy_boto3_s3 import S3Client

from pipeline.storage.s3 import make_client

# Credentials moto accepts (it checks none); set as the standard AWS_* variables, the way an
# operator configures the server.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "holomate-test",
    "AWS_SECRET_ACCESS_KEY": "holomate-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    url: str
    server: ThreadedMotoServer

    def client(self, *, max_attempts: int = 1) -> S3Client:
        return make_client(endpoint_url=self.url, region=REGION, max_attempts=max_attempts)

    def new_bucket(self) -> str:
        name = f"holomate-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings_env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """What ``holomate serve`` needs in its environment to keep its blobs in ``bucket``."""
        return {
            **AWS_ENV,
            "HOLOMATE_STORAGE": "s3",
            "HOLOMATE_S3_BUCKET": bucket,
            "HOLOMATE_S3_PREFIX": prefix,
            "HOLOMATE_S3_ENDPOINT_URL": self.url,
            "HOLOMATE_S3_REGION": REGION,
        }

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in ``bucket``, read with a client of its own (not the server's)."""
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                key = item["Key"]
                found[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return found


@contextmanager
def s3_endpoint() -> Iterator[S3Endpoint]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Endpoint(f"http://{host}:{port}", server)
    finally:
        server.stop()
