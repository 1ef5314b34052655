"""The catalogue a voiceId is checked against: a voice added at the provider (a new ElevenLabs
clone) is found by fetching the list again, at most once per interval; a provider that cannot
be reached answers its own retryable error rather than "no such voice"."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import ProviderUnavailable
from pipeline.tts.elevenlabs_tts import ElevenLabsTTS
from services.voices import VoiceCatalog
from tests.pipeline.wire_servers import GOOD_KEY, Wire, elevenlabs_app, serve


def _voice(voice_id: str) -> dict[str, Any]:
    return {"voice_id": voice_id, "name": voice_id.title(), "labels": {"language": "en"}}


async def test_a_voice_cloned_after_the_list_was_fetched_is_found_on_the_next_check() -> None:
    wire = Wire(voices_pages=[[_voice("rachel")]])
    with serve(elevenlabs_app(wire)) as url:
        tts = ElevenLabsTTS(GOOD_KEY, base_url=url, max_retries=0)
        often, seldom = VoiceCatalog({"elevenlabs": tts}, 0), VoiceCatalog({"elevenlabs": tts})
        try:
            assert await often.offers("elevenlabs", "rachel")
            assert await seldom.offers("elevenlabs", "rachel")
            assert not await often.offers("elevenlabs", "clone-1")
            wire.voices_pages = [[_voice("rachel"), _voice("clone-1")]]
            assert await often.offers("elevenlabs", "clone-1")
            # Within the interval the list is not fetched again for every unknown id.
            fetched = len(wire.requests)
            assert not await seldom.offers("elevenlabs", "clone-1")
            assert not await seldom.offers("elevenlabs", "../../bin/sh")
            assert len(wire.requests) == fetched
        finally:
            await tts.aclose()


async def test_a_provider_that_is_down_is_not_taken_for_a_missing_voice() -> None:
    wire = Wire(voices_pages=[[_voice("rachel")]], fail_with=500)
    with serve(elevenlabs_app(wire)) as url:
        tts = ElevenLabsTTS(GOOD_KEY, base_url=url, max_retries=0)
        try:
            with pytest.raises(ProviderUnavailable):
                await VoiceCatalog({"elevenlabs": tts}).offers("elevenlabs", "rachel")
        finally:
            await tts.aclose()
