"""An app whose language model is the prompt recorder (tests/context/recorder.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.context.recorder import Recorder, recorder_app
from tests.pipeline.wire_servers import serve
from tests.support.graphql import GraphQLClient


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    with serve(recorder_app(recording)) as base:
        recording.base_url = f"{base}/v1"  # type: ignore[attr-defined]
        yield recording


def model_settings(settings: Settings, recorder: Recorder, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "llm_base_url": recorder.base_url,  # type: ignore[attr-defined]
            "llm_model": "recorder",
            **changes,
        }
    )


@pytest.fixture
def app_changes() -> dict[str, Any]:
    """Settings a test module changes (a small context, model summaries...)."""
    return {}


@pytest.fixture
async def model_api(
    settings: Settings, clean_db: None, recorder: Recorder, app_changes: dict[str, Any]
) -> AsyncIterator[GraphQLClient]:
    application = create_app(model_settings(settings, recorder, **app_changes))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http)
