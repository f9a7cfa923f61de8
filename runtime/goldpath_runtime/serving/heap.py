"""What every serving worker does once its model or prompt is loaded."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Take everything loaded so far (model, numpy, the app) out of the collector's reach,
    and make collections rarer.

    A full collection walks every object the model and libraries hold, tens of ms on this
    model, and lands on whichever request is in flight: that, not scoring, set the p99.
    What a request allocates dies with it through reference counting, so the young
    generation can be collected far less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
