"""send_eagerly: a WebSocket write done on the spot, or finished later exactly as a task would."""

from __future__ import annotations

import asyncio

import pytest

from live.eager_send import send_eagerly


class Socket:
    """An ASGI send as uvicorn's: it waits only while the transport is paused."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.written: list[str] = []
        self.gone = False
        self.cleaned_up = 0

    async def send(self, message: dict[str, str]) -> None:
        try:
            await self.writable.wait()
            if self.gone:
                raise OSError("client disconnected")
            self.written.append(message["text"])
        finally:
            self.cleaned_up += 1


async def test_a_writable_socket_is_written_at_once_with_no_task() -> None:
    socket = Socket()
    assert send_eagerly(socket.send({"text": "a"})) is None
    assert socket.written == ["a"]


async def test_a_paused_socket_is_written_when_it_drains() -> None:
    socket = Socket()
    socket.writable.clear()
    finishing = send_eagerly(socket.send({"text": "a"}))
    assert finishing is not None
    await asyncio.sleep(0.01)
    assert socket.written == []
    socket.writable.set()
    await asyncio.wait_for(finishing, 1)
    assert socket.written == ["a"]


async def test_a_failure_is_raised_where_it_happens() -> None:
    socket = Socket()
    socket.gone = True
    with pytest.raises(OSError):
        send_eagerly(socket.send({"text": "a"}))

    socket.writable.clear()
    finishing = send_eagerly(socket.send({"text": "b"}))
    assert finishing is not None
    socket.writable.set()
    with pytest.raises(OSError):
        await asyncio.wait_for(finishing, 1)
    assert socket.written == []


async def test_cancelling_the_finishing_task_ends_the_write_cleanly() -> None:
    socket = Socket()
    socket.writable.clear()
    finishing = send_eagerly(socket.send({"text": "a"}))
    assert finishing is not None
    await asyncio.sleep(0)
    finishing.cancel()
    await asyncio.gather(finishing, return_exceptions=True)
    assert finishing.cancelled()
    assert socket.cleaned_up == 1, "the send's own cleanup ran"
    socket.writable.set()
    await asyncio.sleep(0.01)
    assert socket.written == []
