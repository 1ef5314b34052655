"""The packaged llama-server runs only where its instructions exist; an operator's own build
is taken on any CPU."""

from __future__ import annotations

from pathlib import Path

from pipeline.llm.llama_server import find_engine, packaged_engine_refusal

# /proc/cpuinfo flags of the two kinds of machine CI lands on.
AVX2_ONLY = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}
AVX512 = AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "amx_tile"}


def test_an_avx2_only_cpu_is_told_why_and_what_to_do() -> None:
    refusal = packaged_engine_refusal(AVX2_ONLY)
    assert refusal is not None
    assert "avx512f" in refusal and "HOLOMATE_LLM_LOCAL_SERVER" in refusal
    assert packaged_engine_refusal(AVX512) is None


def test_an_operators_own_llama_server_is_used_whatever_the_cpu(tmp_path: Path) -> None:
    binary, model = tmp_path / "llama-server", tmp_path / "model.gguf"
    binary.write_bytes(b"")
    model.write_bytes(b"")
    engine = find_engine(binary, model)
    assert (engine.binary, engine.model) == (binary, model)
