"""Reference solutions for notebook 02 (Gabor filter learning). Checked by tests/test_exercises_02.py."""

import math

import torch


def solve_param_count() -> tuple[int, int]:
    """16 pairs of free 9 x 111 kernels against 4 numbers per Gabor filter."""
    n_filters, size_f, size_t = 16, 9, 111
    return 2 * size_f * size_t * n_filters, 4 * n_filters  # (31968, 64)


def solve_modulation() -> tuple[float, float]:
    """F cos(gamma) cycles per frame times the frame rate; F sin(gamma) cycles per band."""
    freq, gamma, frame_rate = 0.1, math.pi / 3, 100.0
    return freq * math.cos(gamma) * frame_rate, freq * math.sin(gamma)  # (5.0, 0.0866)


def solve_gabor_kernel():
    """The formula on the centred grid, vectorised over both axes."""

    def my_gabor(sigma_t, sigma_f, gamma, freq, size_f, size_t):
        f = torch.arange(size_f, dtype=torch.float64)[:, None] - (size_f - 1) / 2
        t = torch.arange(size_t, dtype=torch.float64)[None, :] - (size_t - 1) / 2
        envelope = torch.exp(-t ** 2 / (2 * sigma_t ** 2) - f ** 2 / (2 * sigma_f ** 2))
        phase = 2 * math.pi * freq * (t * math.cos(gamma) + f * math.sin(gamma))
        return envelope * torch.exp(1j * phase) / (2 * math.pi * sigma_t * sigma_f)

    return my_gabor
