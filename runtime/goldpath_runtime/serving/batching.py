"""Adaptive micro-batching of concurrent requests into one predict call.

Requests queue their encoded rows; one task takes everything waiting (up to
`max_batch_rows`), scores it with a single estimator call and resolves each request's
future with its slice. At low load a request is scored alone at once; under load, the
rows that arrive while a batch is scored form the next batch, so throughput rises with
concurrency while latency stays near one predict call. `max_wait_s` may add a short wait
to fill batches further; the queue is bounded, and a full queue answers 503 at once
rather than letting latency grow without limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is the caller's: the shell itself does not need it
    import numpy as np

log = logging.getLogger(__name__)


class Overloaded(Exception):
    """The queue is full: the caller should get 503 and retry later."""


class MicroBatcher:
    def __init__(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        *,
        max_batch_rows: int = 256,
        max_wait_s: float = 0.0,
        max_queue: int = 2048,
    ) -> None:
        self._predict = predict
        self.max_batch_rows = max_batch_rows
        self.max_wait_s = max_wait_s
        self._queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = asyncio.Queue(
            max_queue
        )
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Score what is queued, then stop (graceful shutdown drains in-flight requests)."""
        while not self._queue.empty():
            await asyncio.sleep(0.001)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def predict(self, matrix: np.ndarray) -> np.ndarray:
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((matrix, future))
        except asyncio.QueueFull:
            raise Overloaded from None
        return await future

    async def _collect(self) -> list[tuple[np.ndarray, asyncio.Future[np.ndarray]]]:
        items = [await self._queue.get()]
        rows = len(items[0][0])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while rows < self.max_batch_rows:
            if self._queue.empty():
                # Let requests already accepted by the server reach the queue.
                await asyncio.sleep(0)
                if self._queue.empty() and loop.time() >= deadline:
                    break
                if self._queue.empty():
                    await asyncio.sleep(min(0.0005, max(0.0, deadline - loop.time())))
                    continue
            item = self._queue.get_nowait()
            items.append(item)
            rows += len(item[0])
        return items

    async def _run(self) -> None:
        while True:
            items = await self._collect()
            matrices = [matrix for matrix, _ in items]
            try:
                stacked = matrices[0] if len(matrices) == 1 else _stack(matrices)
                probabilities = self._predict(stacked)
            except Exception as exc:  # every waiting request gets the failure, none hangs
                log.exception("batch prediction failed")
                for _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            self.rows += len(stacked)
            start = 0
            for matrix, future in items:
                end = start + len(matrix)
                if not future.done():
                    future.set_result(probabilities[start:end])
                start = end


def _stack(matrices: list[np.ndarray]) -> np.ndarray:
    import numpy

    return numpy.vstack(matrices)
