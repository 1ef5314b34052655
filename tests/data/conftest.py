"""One S3 server per test process, a fresh bucket per test, and the app keeping blobs in it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.data.s3_server import AWS_ENV, REGION, S3Endpoint, s3_endpoint
from tests.support.graphql import GraphQLClient


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    with s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(s3: S3Endpoint, aws_env: None) -> str:
    return s3.new_bucket()


@pytest.fixture
def s3_settings(settings: Settings, s3: S3Endpoint, bucket: str) -> Settings:
    return settings.model_copy(
        update={
            "storage": "s3",
            "s3_bucket": bucket,
            "s3_prefix": "holomate",
            "s3_endpoint_url": s3.url,
            "s3_region": REGION,
            "s3_max_attempts": 1,
        }
    )


@pytest.fixture
async def s3_app(s3_settings: Settings, clean_db: None) -> AsyncIterator[Starlette]:
    application = create_app(s3_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def s3_api(s3_app: Starlette) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=s3_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield GraphQLClient(client)


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    """A client on the network, as a browser fetching a presigned URL from the bucket."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
