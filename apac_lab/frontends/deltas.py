"""Deltas: how fast each band of a spectrogram changes from frame to frame, as an extra channel.

Piczak (2015) feeds his CNN two channels: the log-mel spectrogram and its deltas. Two ways
to compute them are offered, by name:

- ``"piczak"`` (default): the delta of librosa 0.3.1, which Piczak's code called
  (``librosa.feature.delta`` with its default width 9). Tax et al.'s public code
  (corticph/MSTmodel, ``Utilities.generate_delta_031``) ports it for later librosa
  versions: the 9-tap ramp ``[4, 3, ..., -4]`` run as a causal filter
  (``scipy.signal.lfilter``) over the spectrogram padded with 5 copies of its edge
  frames, then trimmed. It is not divided by ``sum(n^2)`` and it LAGS: frame ``t`` holds
  ``sum_n n * x[t - 4 + n]``, the slope around frame ``t - 4``.
- ``"regression"``: the centred least-squares slope over ``width`` frames,
  ``sum_n n (x[t+n] - x[t-n]) / (2 sum_n n^2)``, with edge frames repeated: exactly
  ``torchaudio.functional.compute_deltas(x, win_length=width)`` and
  ``librosa.feature.delta(x, width=width, mode="nearest")`` (librosa's default
  ``mode="interp"`` differs in the first and last ``width // 2`` frames).

``tests/test_deltas.py`` checks ``"piczak"`` against the reference's own lines run with
scipy, and ``"regression"`` against torchaudio and librosa.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DELTA_METHODS", "spectral_deltas", "WithDeltas"]

DELTA_METHODS = ("piczak", "regression")


def spectral_deltas(spec: torch.Tensor, *, method: str = "piczak", width: int = 9) -> torch.Tensor:
    """Deltas of ``spec`` along its last dimension (frames), same shape.

    Args:
        spec (Tensor): ``(..., frames)``, e.g. a log-mel ``(batch, n_mels, frames)``.
        method (str, default "piczak"): ``"piczak"`` (librosa 0.3.1's, as Piczak computed
            them) or ``"regression"`` (torchaudio's ``compute_deltas``); see the module docstring.
        width (int, default 9): frames in the window, odd, >= 3.

    >>> x = torch.arange(12.0)[None]  # a ramp: slope 1 per frame
    >>> spectral_deltas(x, method="regression")[0, 4:8].tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> spectral_deltas(x)[0, 8:12].tolist()  # librosa 0.3.1: not normalised (sum n^2 = 60)
    [60.0, 60.0, 60.0, 60.0]
    """
    if method not in DELTA_METHODS:
        raise ValueError(f"method must be one of {DELTA_METHODS}, got {method!r}")
    if isinstance(width, bool) or int(width) != width or width < 3 or width % 2 == 0:
        raise ValueError(f"width must be an odd number of frames >= 3, got {width!r}")
    if not isinstance(spec, torch.Tensor) or spec.dim() < 1 or spec.shape[-1] < 1:
        raise ValueError(f"spectral_deltas expects a (..., frames) tensor, got {getattr(spec, 'shape', type(spec))}")
    half = width // 2
    lead, frames = spec.shape[:-1], spec.shape[-1]
    x = spec.reshape(-1, 1, frames)
    ramp = torch.arange(-half, half + 1, dtype=x.dtype, device=x.device)  # n = -half .. half
    if method == "regression":
        padded = F.pad(x, (half, half), mode="replicate")
        out = F.conv1d(padded, ramp.view(1, 1, -1)) / (2 * (ramp[half + 1:] ** 2).sum())
    else:
        # librosa 0.3.1: lfilter(ramp reversed, 1, edge-padded by half + 1) starts from zero state, so
        # the first frames also see half - 1 zeros before the edge copies; out[t] = sum_n n x[t - half + n].
        edge = F.pad(x, (half + 1, 0), mode="replicate")
        padded = F.pad(edge, (half - 1, 0))
        out = F.conv1d(padded, ramp.view(1, 1, -1))
    return out.reshape(*lead, frames)


class WithDeltas(nn.Module):
    """A front-end followed by its deltas, as two channels: ``[features, deltas(features)]``.

    Args:
        frontend (nn.Module): maps the input to ``(batch, bands, frames)`` (e.g. the log-mel target).
        method (str, default "piczak"), width (int, default 9): as :func:`spectral_deltas`.

    Shape: the front-end's input -> ``(batch, 2, bands, frames)``.

    >>> WithDeltas(nn.Identity())(torch.zeros(3, 60, 41)).shape
    torch.Size([3, 2, 60, 41])
    """

    def __init__(self, frontend: nn.Module, *, method: str = "piczak", width: int = 9) -> None:
        super().__init__()
        spectral_deltas(torch.zeros(1, 1), method=method, width=width)  # check the settings now
        self.frontend, self.method, self.width = frontend, method, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.frontend(x)
        if features.dim() != 3:
            raise ValueError(f"WithDeltas: the front-end must give (batch, bands, frames), got {tuple(features.shape)}")
        return torch.stack([features, spectral_deltas(features, method=self.method, width=self.width)], dim=1)

    def extra_repr(self) -> str:
        return f"method={self.method!r}, width={self.width}"
