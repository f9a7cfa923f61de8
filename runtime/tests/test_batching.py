"""Micro-batching: concurrent requests coalesced into one predict call, each answer kept
apart; too many waiting refused at once; a failing model reaching every caller; a caller
that went away not scored."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from goldpath_runtime.serving.batching import MicroBatcher, Overloaded


def test_batcher_coalesces_concurrent_requests_and_keeps_answers_apart() -> None:
    calls: list[int] = []

    def predict(matrix: np.ndarray) -> np.ndarray:
        calls.append(len(matrix))
        return matrix[:, 0] * 2

    async def scenario() -> list[np.ndarray]:
        batcher = MicroBatcher(predict, max_batch_rows=64)
        requests = [np.array([[float(i)], [float(i) + 0.5]]) for i in range(40)]
        answers = await asyncio.gather(*(batcher.predict(m) for m in requests))
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    for i, answer in enumerate(answers):
        np.testing.assert_array_equal(answer, [2.0 * i, 2.0 * i + 1.0])
    assert sum(calls) == 80
    assert len(calls) < 40, f"no coalescing happened: {calls}"
    assert max(calls) <= 64


def test_full_queue_is_refused_at_once_and_failures_reach_every_caller() -> None:
    async def scenario() -> None:
        scored: list[int] = []
        blocked = MicroBatcher(lambda m: scored.append(len(m)) or m[:, 0], max_queue=2)
        # Two requests wait for the loop's next turn; a third in the same turn is refused.
        waiting = [asyncio.ensure_future(blocked.predict(np.zeros((1, 1)))) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await blocked.predict(np.zeros((1, 1)))
        assert [len(answer) for answer in await asyncio.gather(*waiting)] == [1, 1]
        assert scored == [2]

        def broken(matrix: np.ndarray) -> np.ndarray:
            raise RuntimeError("model exploded")

        failing = MicroBatcher(broken)
        results = await asyncio.gather(
            *(failing.predict(np.zeros((1, 1))) for _ in range(5)), return_exceptions=True
        )
        await failing.stop()
        assert all(isinstance(r, RuntimeError) for r in results)

    asyncio.run(scenario())


def test_a_caller_that_went_away_is_not_scored() -> None:
    async def scenario() -> None:
        scored: list[list[float]] = []
        batcher = MicroBatcher(lambda m: scored.append(m[:, 0].tolist()) or m[:, 0])
        gone = asyncio.ensure_future(batcher.predict(np.array([[1.0]])))
        kept = asyncio.ensure_future(batcher.predict(np.array([[2.0]])))
        await asyncio.sleep(0)  # both wait for the batch
        gone.cancel()
        assert (await kept).tolist() == [2.0]
        assert scored == [[2.0]]
        await batcher.stop()

    asyncio.run(scenario())
