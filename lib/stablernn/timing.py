"""Wall-clock timing for the figures that report speed on the reader's machine.
"""

from __future__ import annotations

import time
from typing import Callable

from ._validate import check_int


def best_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 0) -> float:
    """Fastest of ``repeats`` timed calls of ``fn`` after ``warmup`` untimed ones, in seconds.

    The fastest run is the one least disturbed by other work on the machine; warm-up calls keep
    first-call allocations out of the measurement.
    """
    repeats = check_int("repeats", repeats, low=1)
    for _ in range(check_int("warmup", warmup, low=0)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
