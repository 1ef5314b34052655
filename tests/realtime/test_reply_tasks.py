"""Work the reply service leaves running (a turn's aftermath, commands from other processes) is
never lost from sight: a failure is logged under the task's name, and stopping the server lets
what is running finish, cancels what overstays, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.replies.tasks import TaskSet

log = logging.getLogger("tests.reply_tasks")


async def test_a_failing_background_task_is_logged_by_name_and_let_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)

    async def fails() -> None:
        raise RuntimeError("the database went away")

    with caplog.at_level(logging.ERROR, logger=log.name):
        task = tasks.start(fails(), "after turn 7")
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # done callbacks run on the next loop pass

    assert len(tasks) == 0
    [record] = [r for r in caplog.records if r.name == log.name]
    assert record.getMessage() == "after turn 7 failed"
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_a_background_task_that_succeeds_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)

    async def works() -> int:
        return 3

    with caplog.at_level(logging.DEBUG, logger=log.name):
        assert await tasks.start(works(), "summary") == 3
        await asyncio.sleep(0)

    assert len(tasks) == 0
    assert [r for r in caplog.records if r.name == log.name] == []


async def test_stopping_lets_quick_work_finish_and_cancels_what_overstays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)
    finished: list[str] = []
    cleaned_up: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        finished.append("quick")

    async def stuck() -> None:
        try:
            await asyncio.sleep(60)
            finished.append("stuck")
        finally:
            cleaned_up.append("stuck")  # cancelled and awaited: its clean-up ran

    tasks.start(quick(), "memories of turn 1")
    stuck_task = tasks.start(stuck(), "memories of turn 2")
    with caplog.at_level(logging.WARNING, logger=log.name):
        await tasks.drain(timeout_s=0.2)

    assert finished == ["quick"]
    assert cleaned_up == ["stuck"]
    assert stuck_task.cancelled()
    assert len(tasks) == 0
    assert [r.getMessage() for r in caplog.records if r.name == log.name] == [
        "memories of turn 2 still running at shutdown; cancelled"
    ]


async def test_draining_nothing_returns_at_once() -> None:
    tasks = TaskSet(log)
    await asyncio.wait_for(tasks.drain(timeout_s=60), 1)
