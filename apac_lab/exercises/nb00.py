"""Checks for ``notebooks/00_start_here.ipynb``: a first taste of the check mechanism.

Exercise ids: ``00.seconds`` (samples and sample rate to a duration in seconds).

>>> from apac_lab.exercises import check
>>> check("00.seconds", 0.75, quiet=True)
True
"""

from __future__ import annotations

import math

from apac_lab.exercises import register

__all__: list[str] = []

#: The exercise's numbers: a clip of SAMPLES samples recorded at RATE Hz.
SAMPLES, RATE = 6000, 8000


@register("00.seconds")
def _seconds(answer) -> tuple[bool, str]:
    value = float(answer)
    if math.isclose(value, SAMPLES / RATE, rel_tol=1e-6):
        return True, ""
    if math.isclose(value, RATE / SAMPLES, rel_tol=1e-6):
        return False, "upside down: a duration is samples divided by samples per second"
    if math.isclose(value, SAMPLES * RATE, rel_tol=1e-6):
        return False, "multiplying gives samples x samples per second; divide instead"
    if math.isclose(value, 1000 * SAMPLES / RATE, rel_tol=1e-6):
        return False, "that is in milliseconds; the answer is asked in seconds"
    return False, f"a clip of {SAMPLES} samples at {RATE} Hz (samples per second) lasts how many seconds?"
