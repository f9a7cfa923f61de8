"""Micro-batching: concurrent requests coalesced into one predict call, each answer kept
apart; a full queue refused at once; a failing model reaching every caller."""

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
        batcher.start()
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
        blocked = MicroBatcher(lambda m: m[:, 0], max_queue=1)
        # Not started: the first request fills the queue, the second is refused.
        first = asyncio.ensure_future(blocked.predict(np.zeros((1, 1))))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await blocked.predict(np.zeros((1, 1)))
        first.cancel()

        def broken(matrix: np.ndarray) -> np.ndarray:
            raise RuntimeError("model exploded")

        failing = MicroBatcher(broken)
        failing.start()
        results = await asyncio.gather(
            *(failing.predict(np.zeros((1, 1))) for _ in range(5)), return_exceptions=True
        )
        await failing.stop()
        assert all(isinstance(r, RuntimeError) for r in results)

    asyncio.run(scenario())
