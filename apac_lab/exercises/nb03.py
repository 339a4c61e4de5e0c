"""Checks for notebook 03 (echoic buffers).

* ``03.unwrap``: a function ``unwrap(storage, write, count)`` that returns the frames of
  a hand-made circular buffer in time order, oldest first.
* ``03.steps_for_4s``: the fewest dilated steps (base 2, 10 ms hop) whose spans cover
  4 s, the long end of echoic memory.
* ``03.mean_view``: the 3-step, base-2, mean-mode view of ``[1, 2, ..., 10]`` at its last
  frame, oldest step first.
"""

from __future__ import annotations

import random
from collections import deque

from apac_lab.exercises import register

__all__ = ["reference_push"]


def reference_push(storage: list, write: int, count: int, value) -> tuple[int, int]:
    """The notebook's hand-made push: write at ``write``, move on modulo the capacity."""
    storage[write] = value
    return (write + 1) % len(storage), min(count + 1, len(storage))


@register("03.unwrap")
def _unwrap(answer):
    if not callable(answer):
        return False, "give a function unwrap(storage, write, count) that returns a list"
    rng = random.Random(3)
    for _ in range(200):
        cap = rng.randint(1, 9)
        storage, write, count, ref = [None] * cap, 0, 0, deque(maxlen=cap)
        for v in range(rng.randint(0, 25)):
            write, count = reference_push(storage, write, count, v)
            ref.append(v)
        got = list(answer(list(storage), write, count))
        if got != list(ref):
            hint = "while the buffer is not full yet, the frames are storage[:count]" if count < cap else \
                "once full, the oldest frame is the one the next push would overwrite: storage[write]"
            return False, f"capacity {cap}, {len(ref) if count < cap else 'many'} pushes: expected {list(ref)}, got {got}. Hint: {hint}"
    return True, ""


@register("03.steps_for_4s")
def _steps(answer):
    try:
        k = int(answer)
    except (TypeError, ValueError):
        return False, "answer with a whole number of steps"
    if k != answer:
        return False, "answer with a whole number of steps"
    covered = lambda n: (2 ** n - 1) * 10  # noqa: E731  ms covered by n steps of 1, 2, 4, ... frames of 10 ms
    if covered(k) < 4000:
        return False, f"{k} steps cover only {covered(k)} ms: spans of 1, 2, 4, ... frames add up to 2^k - 1 frames"
    if covered(k - 1) >= 4000:
        return False, f"{k - 1} steps already cover {covered(k - 1)} ms: find the fewest"
    return True, ""


@register("03.mean_view")
def _mean_view(answer):
    want = [5.5, 8.5, 10.0]  # spans: frames 4-7 (values 4..7), 8-9, 10
    try:
        got = [float(a) for a in answer]
    except TypeError:
        return False, "answer with a list of 3 numbers, oldest step first"
    if len(got) != 3:
        return False, f"a 3-step view has 3 numbers, got {len(got)}"
    if [round(g, 6) for g in got] == want:
        return True, ""
    if [round(g, 6) for g in got[::-1]] == want:
        return False, "right numbers, wrong order: the oldest step comes first"
    if [round(g, 6) for g in got] == [7.0, 9.0, 10.0]:
        return False, "that is lookup mode (the newest frame of each span): average each span instead"
    return False, "step j averages round(2**j) frames: the current one, then the 2 before it, then the 4 before those"
