"""Reference solutions for notebook 01 (spectrogram and MFCC). Checked by tests/test_exercises_01.py."""

import math

import torch


def solve_n_frames() -> int:
    """Centred frames: the clip is padded by n_fft // 2 at each end, so frame i sits at sample i * hop."""
    num_samples, hop_length = 8000, 80
    return num_samples // hop_length + 1  # 101


def solve_dct_matrix():
    """The orthonormal DCT-II: D[k, m] = s_k cos(pi k (m + 1/2) / n_mels)."""

    def my_dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
        k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
        m = torch.arange(n_mels, dtype=torch.float64)[None, :]
        D = torch.cos(math.pi * k * (m + 0.5) / n_mels) * math.sqrt(2.0 / n_mels)
        D[0] = D[0] / math.sqrt(2.0)
        return D

    return my_dct_matrix
