"""The command writer: one thread runs the commands, in groups, and hands each its own outcome back.

The group commit itself (what is recorded, conflicts, locks) is proved on PostgreSQL in
tests/ledger/application/test_group_commit.py; here the writer's own duties: order, grouping, one command's failure
not being another's, a broken group not stranding anyone, and a clean stop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

import pytest

from api.commands import CommandWriter
from ledger.application import Ledger, Outcome


class Runner:
    """Stands in for the ledger's run_together: runs each command as Outcome.of does, and notes the groups."""

    def __init__(self) -> None:
        self.groups: list[int] = []
        self.fail_group: BaseException | None = None

    def run_together(self, commands: Sequence[Callable[[], Any]]) -> list[Outcome[Any]]:
        self.groups.append(len(commands))
        if self.fail_group is not None:
            raise self.fail_group
        return [Outcome.of(command) for command in commands]


def writer_for(runner: Runner, group_size: int = 64) -> CommandWriter:
    writer = CommandWriter(cast(Ledger, runner), group_size=group_size)
    writer.start()
    return writer


def test_commands_run_in_arrival_order_and_queued_ones_together() -> None:
    runner = Runner()
    writer = writer_for(runner, group_size=4)
    order: list[int] = []
    started, gate = threading.Event(), threading.Event()

    def command(n: int) -> int:
        if n == 0:
            started.set()
            gate.wait(5)
        order.append(n)
        return n

    async def main() -> list[int]:
        first = asyncio.ensure_future(writer.submit(lambda: command(0)))
        # the first group (of one) is running; the rest queue up behind it
        assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        rest = [asyncio.ensure_future(writer.submit(partial(command, n))) for n in range(1, 10)]
        gate.set()
        return [await first, *[await job for job in rest]]

    try:
        assert asyncio.run(main()) == list(range(10))
    finally:
        writer.stop()
    assert order == list(range(10))
    assert runner.groups == [1, 4, 4, 1]


def test_each_command_gets_its_own_failure() -> None:
    writer = writer_for(Runner())

    def refused() -> int:
        raise ValueError("refused")

    def stops() -> int:
        raise StopIteration  # a future cannot carry it: it arrives as a RuntimeError

    async def main() -> tuple[int | BaseException, ...]:
        return await asyncio.gather(
            writer.submit(lambda: 1),
            writer.submit(refused),
            writer.submit(stops),
            writer.submit(lambda: 4),
            return_exceptions=True,
        )

    try:
        one, two, three, four = asyncio.run(main())
    finally:
        writer.stop()
    assert (one, four) == (1, 4)
    assert isinstance(two, ValueError)
    assert isinstance(three, RuntimeError)
    assert "StopIteration" in str(three)


def test_a_broken_group_fails_its_commands_and_the_writer_goes_on() -> None:
    runner = Runner()
    writer = writer_for(runner)

    async def main() -> tuple[Any, Any]:
        runner.fail_group = ConnectionError("the database went away")
        failed = await asyncio.gather(writer.submit(lambda: 1), return_exceptions=True)
        runner.fail_group = None
        return failed[0], await writer.submit(lambda: 2)

    try:
        failed, later = asyncio.run(main())
    finally:
        writer.stop()
    assert isinstance(failed, ConnectionError)
    assert later == 2


def test_a_cancelled_request_does_not_disturb_the_others() -> None:
    writer = writer_for(Runner())
    gate = threading.Event()

    async def main() -> Any:
        slow = asyncio.ensure_future(writer.submit(lambda: gate.wait(5)))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(writer.submit(lambda: "ran all the same"))
        kept = asyncio.ensure_future(writer.submit(lambda: "kept"))
        await asyncio.sleep(0.01)
        gone.cancel()  # the client went away while its command was queued
        gate.set()
        await slow
        return await kept

    try:
        assert asyncio.run(main()) == "kept"
    finally:
        writer.stop()


def test_stop_finishes_what_is_queued_then_refuses_more() -> None:
    writer = writer_for(Runner())
    done: list[int] = []
    gate = threading.Event()

    async def main() -> None:
        def command(n: int) -> None:
            gate.wait(5)
            done.append(n)

        jobs = [asyncio.ensure_future(writer.submit(partial(command, n))) for n in range(3)]
        await asyncio.sleep(0.05)
        stopping = asyncio.get_running_loop().run_in_executor(None, writer.stop)
        gate.set()
        await stopping
        await asyncio.gather(*jobs)

    asyncio.run(main())
    assert done == [0, 1, 2]

    async def after() -> None:
        await writer.submit(lambda: 1)

    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(after())


def test_a_command_submitted_while_the_writer_stops_is_told_so() -> None:
    writer = writer_for(Runner())
    started, gate = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        gate.wait(5)

    async def main() -> BaseException | None:
        loop = asyncio.get_running_loop()
        running = asyncio.ensure_future(writer.submit(slow))
        assert await loop.run_in_executor(None, started.wait, 5)
        stopping = loop.run_in_executor(None, writer.stop)
        await asyncio.sleep(0.05)  # stop has queued its marker and waits for the thread
        late = asyncio.ensure_future(writer.submit(lambda: 1))
        await asyncio.sleep(0.01)
        gate.set()
        await stopping
        await running
        try:
            await asyncio.wait_for(late, 5)
        except RuntimeError as error:
            return error
        return None

    error = asyncio.run(main())
    assert isinstance(error, RuntimeError)
    assert "stopped" in str(error)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death is the point
def test_a_writer_that_died_answers_its_group_and_refuses_more() -> None:
    runner = Runner()
    runner.fail_group = SystemExit()  # not a command's failure: the thread goes down
    writer = writer_for(runner)

    async def main() -> Any:
        return (await asyncio.gather(writer.submit(lambda: 1), return_exceptions=True))[0]

    died = asyncio.run(main())
    assert isinstance(died, RuntimeError)
    assert writer._thread is not None
    writer._thread.join(5)

    async def after() -> None:
        await writer.submit(lambda: 2)

    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(after())
