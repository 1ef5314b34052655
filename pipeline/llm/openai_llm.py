"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, llama.cpp server, vLLM), streamed.

The HTTP stream is closed in a ``finally`` so cancelling the consuming task (barge-in) or
closing the generator releases the connection at once; SDK errors become ``pipeline.errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from pipeline.llm.base import ChatMessage


def translate_error(e: openai.OpenAIError, provider: str) -> ProviderError:
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderAuthError(provider, f"refused the API key ({e.status_code})")
    if isinstance(e, openai.RateLimitError):
        return ProviderRateLimited(provider, "rate limited (429)")
    if isinstance(e, openai.APIConnectionError):  # includes APITimeoutError
        return ProviderUnavailable(provider, f"cannot reach the endpoint: {type(e).__name__}")
    if isinstance(e, openai.APIStatusError):
        if e.status_code >= 500:
            return ProviderUnavailable(provider, f"server error ({e.status_code})")
        return ProviderBadResponse(provider, f"request rejected ({e.status_code}): {e.message}")
    return ProviderBadResponse(provider, f"{type(e).__name__}: {e}")


def _to_param(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


class OpenAICompatibleLLM:
    name = "openai"

    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        model: str,
        timeout: float = 30.0,
        *,
        max_retries: int = 1,
        temperature: float | None = None,
    ) -> None:
        # Local servers (Ollama, llama.cpp) need no key, but the SDK refuses an empty one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )
        self.model = model
        self.temperature = temperature

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[_to_param(m) for m in messages],
                stream=True,
                temperature=openai.omit if self.temperature is None else self.temperature,
            )
        except openai.OpenAIError as e:
            raise translate_error(e, self.name) from e
        try:
            async for chunk in response:
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        yield choice.delta.content
        except openai.OpenAIError as e:
            raise translate_error(e, self.name) from e
        except httpx.HTTPError as e:  # the body is read by httpx; a dropped stream surfaces raw
            raise ProviderUnavailable(self.name, f"stream broke: {type(e).__name__}") from e
        finally:
            await response.close()

    async def aclose(self) -> None:
        await self._client.close()
