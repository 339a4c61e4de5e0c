"""Solutions to the exercises of notebooks/00_start_here.ipynb (teacher's copy).

``SOLUTIONS`` maps each exercise id to a function that returns the answer
(tests/test_teacher_notes.py runs each one through ``apac_lab.exercises.check``).
"""


def solve_seconds() -> float:
    """00.seconds: a duration is the number of samples over the sample rate."""
    samples, sample_rate = 6000, 8000  # Hz = samples per second
    return samples / sample_rate  # 0.75 s


SOLUTIONS = {"00.seconds": solve_seconds}
