"""A local model whose server dies: the reply it was writing fails retryably, the next reply
falls back to the persona responder at once (never waits on a dead server), and the model comes
back by itself. Also: the F16 rewrite used on CPUs without AVX-VNNI keeps every tensor."""

from __future__ import annotations

import asyncio
import os
import signal
import struct
from pathlib import Path

import pytest

from pipeline.errors import ProviderUnavailable
from pipeline.llm.base import ChatMessage
from pipeline.llm.gguf_f16 import F16, convert_to_f16
from pipeline.llm.llama_server import MODEL_NAME, EngineError, ServerOptions, find_engine
from pipeline.llm.local import PersonaResponder
from pipeline.llm.local_model import LocalModelLLM


def engine_missing() -> str:
    try:
        find_engine()
    except EngineError as e:
        return str(e)
    return ""


MISSING = engine_missing()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("local-model"),
    pytest.mark.skipif(bool(MISSING), reason=f"local model cannot run here: {MISSING}"),
]
CHAT = [
    ChatMessage("system", "You are Nova, a kind companion."),
    ChatMessage("user", "Tell me a long story about the stars and the moon."),
]


async def test_a_dead_model_server_fails_its_reply_retryably_then_falls_back_and_returns(
    tmp_path: Path,
) -> None:
    llm = LocalModelLLM(
        PersonaResponder(word_delay_s=0), ServerOptions(), tmp_path / "models", max_restarts=1
    )
    try:
        assert await llm.start()
        provider, info = llm.answering()
        assert provider is llm and info.model == MODEL_NAME and not info.fallback
        assert await llm.count_tokens("Hello there, Nova!") > 0
        assert llm.context_tokens == ServerOptions().ctx_size

        stream = llm.stream(CHAT)
        assert await anext(stream)  # the model is writing
        assert llm.server is not None and llm.server.pid is not None
        os.kill(llm.server.pid, signal.SIGKILL)
        with pytest.raises(ProviderUnavailable) as failed:
            async with asyncio.timeout(30):
                async for _ in stream:
                    pass
        assert failed.value.retryable

        provider, info = llm.answering()  # the next reply does not wait on the dead server
        assert provider is llm.fallback and info.model == "persona-responder" and info.fallback
        async with asyncio.timeout(60):
            while not llm.ready:  # noqa: ASYNC110 - restarted in the background
                await asyncio.sleep(0.2)
        assert llm.answering()[1].model == MODEL_NAME
    finally:
        await llm.aclose()
    assert not llm.ready


def test_the_f16_rewrite_keeps_every_tensor_with_its_shape(tmp_path: Path) -> None:
    packaged = find_engine().model
    target = tmp_path / "model.F16.gguf"
    convert_to_f16(packaged, target)
    source, rewritten = tensor_infos(packaged), tensor_infos(target)
    assert [(n, dims) for n, dims, _ in source] == [(n, dims) for n, dims, _ in rewritten]
    assert {kind for _, _, kind in rewritten} <= {0, F16}
    assert target.stat().st_size > packaged.stat().st_size


def tensor_infos(path: Path) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, dims, type) of each tensor, read independently of the rewrite's parser."""
    data = path.read_bytes()
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(kind: int) -> None:
        nonlocal pos
        if kind == 8:
            (size,) = struct.unpack_from("<Q", data, pos)
            pos += 8 + size
        elif kind == 9:
            item, count = struct.unpack_from("<IQ", data, pos)
            pos += 12
            for _ in range(count):
                skip(item)
        else:
            pos += sizes[kind]

    for _ in range(n_kv):
        skip(8)
        (kind,) = struct.unpack_from("<I", data, pos)
        pos += 4
        skip(kind)
    infos = []
    for _ in range(n_tensors):
        (size,) = struct.unpack_from("<Q", data, pos)
        name = data[pos + 8 : pos + 8 + size].decode()
        pos += 8 + size
        (n_dims,) = struct.unpack_from("<I", data, pos)
        dims = struct.unpack_from(f"<{n_dims}Q", data, pos + 4)
        pos += 4 + 8 * n_dims
        kind, _offset = struct.unpack_from("<IQ", data, pos)
        pos += 12
        infos.append((name, tuple(dims), kind))
    return infos
