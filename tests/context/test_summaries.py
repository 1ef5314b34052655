"""Older turns fold into the conversation's summary once its history outgrows the prompt, and
the model then reads the summary instead of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.recorder import Recorder
from tests.context.talk import QUIET, conversation, eventually, talk
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

INTERRUPT = "mutation($id: ID!) { interruptReply(messageId: $id, heardUntilMs: 1) { status text } }"
# A 512-token model with 128 for the reply: the history is folded past ~190 tokens.
SMALL = {"llm_context_tokens": 512, "llm_reply_tokens": 128}
SAID = [
    "I adopted a grey cat named Pixel from the shelter in Porto last week.",
    "Work was long today, I am a night nurse at the Santa Maria hospital.",
    "Okay.",
    "My sister Carla is visiting us on the 14th of June for her birthday.",
    "Hmm, what do you think?",
    "We are planning a trip to the Azores next spring with my partner Leo.",
    "The weather has been rainy all week long here, it is rather gloomy.",
    "Tonight I am cooking a spicy bean stew from my grandmother's recipe.",
]


async def _chat(api: GraphQLClient) -> tuple[str, str]:
    token = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    await api.ok(QUIET, token=token)
    companion = await create_companion(api, token, "Nova")
    conv = (await start_conversation(api, token, companion["id"]))["id"]
    for text in SAID:
        await talk(api, token, conv, text)
    return token, conv


@pytest.fixture
def app_changes() -> dict[str, Any]:
    return SMALL


async def test_an_overflowing_history_is_summarised_and_read_instead(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    token, conv = await _chat(model_api)

    async def summarised() -> dict[str, Any] | None:
        found = await conversation(model_api, token, conv)
        return found if found["summary"] else None

    found = await eventually(summarised)
    assert found["summaryUpdatedAt"]
    assert "Ada: I adopted a grey cat named Pixel" in found["summary"]  # the person's words
    assert "Okay." not in found["summary"] and "Tell me more" not in found["summary"]

    await talk(model_api, token, conv, "Do you remember my cat?")
    prompt = recorder.prompts[-1]
    assert "Earlier in this conversation:" in prompt[0]["content"]
    assert "Pixel" in prompt[0]["content"]
    said = [m["content"] for m in prompt if m["role"] == "user"]
    assert SAID[0] not in said  # folded: read from the summary, not twice
    assert said[-1] == "Do you remember my cat?"
    assert sum(len(m["content"]) for m in prompt) / 4 < 512 - 128


class TestByTheModel:
    @pytest.fixture
    def app_changes(self) -> dict[str, Any]:
        return {**SMALL, "llm_summaries": True}

    async def test_a_capable_model_writes_the_summary(
        self, model_api: GraphQLClient, recorder: Recorder
    ) -> None:
        token, conv = await _chat(model_api)

        async def summary() -> str:
            return str((await conversation(model_api, token, conv))["summary"])

        assert await eventually(summary) == recorder.summary_answer
        asked = recorder.summary_prompts[0][1]["content"]
        assert "Ada: I adopted a grey cat named Pixel" in asked

    async def test_a_failing_model_falls_back_to_the_extractive_summary(
        self, model_api: GraphQLClient, recorder: Recorder
    ) -> None:
        recorder.fail_summaries = True
        token, conv = await _chat(model_api)

        async def summary() -> str:
            return str((await conversation(model_api, token, conv))["summary"])

        assert "Ada: I adopted a grey cat named Pixel" in await eventually(summary)
        assert recorder.summary_prompts


class TestInterrupted:
    @pytest.fixture
    def app_changes(self) -> dict[str, Any]:
        return {**SMALL, "llm_summaries": True}

    async def test_an_interrupted_reply_counts_only_what_was_heard(
        self, model_api: GraphQLClient, recorder: Recorder
    ) -> None:
        token = (await register(model_api, "ada@example.com", "Ada"))["accessToken"]
        companion = await create_companion(model_api, token, "Nova")
        conv = (await start_conversation(model_api, token, companion["id"]))["id"]
        recorder.answer = "Bananas are berries, botanically. Strawberries are not berries."
        await talk(model_api, token, conv, SAID[0])  # spoken aloud: it has audio to cut
        reply = (await conversation(model_api, token, conv))["messages"]["nodes"][0]
        heard = await model_api.ok(INTERRUPT, {"id": reply["id"]}, token)
        assert heard["interruptReply"] == {"status": "INTERRUPTED", "text": ""}  # nothing heard
        recorder.answer = "I see."
        await model_api.ok(QUIET, token=token)
        for text in SAID[1:]:
            await talk(model_api, token, conv, text)

        async def asked() -> list[list[dict[str, str]]]:
            return recorder.summary_prompts

        assert "Ada: I adopted a grey cat named Pixel" in (await eventually(asked))[0][1]["content"]
        await talk(model_api, token, conv, "One more thing.")
        asked_all = "\n".join(p[1]["content"] for p in recorder.summary_prompts)
        assert "Nova: I see." in asked_all and "Bananas" not in asked_all
