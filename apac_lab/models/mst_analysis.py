"""What did the MSTmodel learn? Error per band, first-layer filters, out-of-domain probes.

- :func:`band_errors`: the mean squared error of each mel band; :func:`mean_predictor_mse`,
  the error of a model that ignores its input (the bar the MSTmodel must clear).
- :func:`filter_responses`, :func:`sort_filters_by_peak`: the first layer's 512 kernels
  seen as filters: magnitude responses and peak frequencies (the paper shows wavelet-like
  and band-pass kernels, ordered by frequency); :func:`nearest_mel_bands`, the band of the
  target each filter sits in (the figures and the filter inspector of notebook 04).
- :func:`probe_signals`, :func:`probe_errors`: how well the learned transform agrees with
  the true log-mel on signals it never saw: pure tones, chirps and noise.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from apac_lab.data.segments import peak_normalize
from apac_lab.frontends.scratch import mel_band_edges

__all__ = [
    "model_outputs", "band_errors", "mean_predictor_mse", "mel_band_centers", "filter_responses",
    "sort_filters_by_peak", "nearest_mel_bands", "probe_signals", "probe_errors",
]


@torch.no_grad()
def model_outputs(model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """The model's outputs for a tensor of inputs: eval mode, in batches, on the model's device; on the CPU.

    (For a dataset of ``(input, target)`` pairs and a training config, see
    :func:`apac_lab.train.predict`, which returns outputs and targets.) The model's
    train/eval mode is restored afterwards.

    Args:
        model (nn.Module): any module.
        inputs (Tensor): ``(n, ...)``, batched along the first dimension.
        batch_size (int, default 64): inputs per forward pass.

    Returns:
        Tensor: ``(n, ...)`` outputs, concatenated.

    >>> model_outputs(nn.Identity(), torch.ones(3, 2)).shape
    torch.Size([3, 2])
    """
    if len(inputs) == 0:
        raise ValueError("model_outputs: no inputs")
    params = list(model.parameters()) + list(model.buffers())
    device = params[0].device if params else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        out = [model(inputs[i : i + batch_size].to(device)).cpu() for i in range(0, len(inputs), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out)


def band_errors(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per band: ``(batch, n_mels, frames)`` twice -> ``(n_mels,)``.

    >>> band_errors(torch.zeros(2, 3, 4), torch.tensor([0.0, 1.0, 2.0])[None, :, None].expand(2, 3, 4))
    tensor([0., 1., 4.])
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} must have one shape")
    if prediction.dim() == 2:
        prediction, target = prediction[None], target[None]
    if prediction.dim() != 3:
        raise ValueError(f"expected (batch, n_mels, frames), got shape {tuple(prediction.shape)}")
    return (prediction - target).pow(2).mean(dim=(0, 2))


def mean_predictor_mse(train_targets: torch.Tensor, val_targets: torch.Tensor) -> float:
    """MSE on ``val_targets`` of always predicting the mean training target (per band and frame).

    A model that ignores its input can do this well; the MSTmodel's validation MSE is read
    against it (notebook 04 asks for at most half).

    >>> mean_predictor_mse(torch.tensor([[0.0], [2.0]]), torch.tensor([[1.0], [3.0]]))
    2.0
    """
    if train_targets.dim() < 2 or train_targets.shape[1:] != val_targets.shape[1:]:
        raise ValueError(f"need (n, ...) training and validation targets of one item shape, got "
                         f"{tuple(train_targets.shape)} and {tuple(val_targets.shape)}")
    if len(train_targets) == 0 or len(val_targets) == 0:
        raise ValueError("mean_predictor_mse: no targets")
    mean = train_targets.double().mean(dim=0)
    return float((val_targets.double() - mean).pow(2).mean())


def mel_band_centers(n_mels: int = 60, sample_rate: int = 22050, f_min: float = 0.0, f_max: float | None = None,
                     *, scale: str = "htk") -> torch.Tensor:
    """Centre frequencies (Hz) of mel bands: HTK's (:class:`apac_lab.frontends.MelSpectrogram`'s
    default) or ``scale="slaney"`` (librosa's, the target ``mel="librosa"``).

    >>> [round(f) for f in mel_band_centers(3, 16000).tolist()]
    [614, 1768, 3934]
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    return mel_band_edges(n_mels=n_mels, f_min=f_min, f_max=f_max, scale=scale)[1:-1].float()


def filter_responses(weight: torch.Tensor, sample_rate: int, *, n_fft: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitude responses of 1D kernels, in dB relative to each kernel's own peak.

    Args:
        weight (Tensor): ``(filters, 1, kernel)`` or ``(filters, kernel)`` (e.g. ``model.conv1.weight``).
        sample_rate (int): Hz.
        n_fft (int | None, default None): FFT size (>= kernel); None is the kernel size.

    Returns:
        (freqs, response_db): ``(n_fft // 2 + 1,)`` Hz and ``(filters, n_fft // 2 + 1)`` dB (max 0).

    >>> t = torch.arange(64) / 8000
    >>> f, r = filter_responses(torch.sin(2 * math.pi * 1000 * t)[None], 8000)
    >>> float(f[r[0].argmax()])
    1000.0
    """
    w = weight.detach().float().cpu()
    if w.dim() == 3:
        w = w[:, 0]
    if w.dim() != 2:
        raise ValueError(f"expected (filters, 1, kernel) or (filters, kernel) weights, got shape {tuple(weight.shape)}")
    n_fft = n_fft or w.shape[-1]
    if n_fft < w.shape[-1]:
        raise ValueError(f"n_fft={n_fft} is shorter than the kernel ({w.shape[-1]} samples)")
    mag = torch.fft.rfft(w, n=n_fft).abs()
    db = 20 * torch.log10(mag.clamp_min(1e-12) / mag.amax(dim=-1, keepdim=True).clamp_min(1e-12))
    freqs = torch.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    return freqs, db


def sort_filters_by_peak(weight: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Order the kernels by the frequency of their largest response.

    Returns:
        (order, peaks): ``order`` indexes the filters from lowest to highest peak frequency,
        ``peaks`` are those frequencies in Hz, in that order.

    >>> t = torch.arange(64) / 8000
    >>> w = torch.stack([torch.sin(2 * math.pi * f * t) for f in (3000, 500, 1500)])
    >>> order, peaks = sort_filters_by_peak(w, 8000); order.tolist(), peaks.tolist()
    ([1, 2, 0], [500.0, 1500.0, 3000.0])
    """
    freqs, db = filter_responses(weight, sample_rate)
    peaks = freqs[db.argmax(dim=-1)]
    order = torch.argsort(peaks, stable=True)
    return order, peaks[order]


def nearest_mel_bands(freqs_hz: torch.Tensor, band_centers_hz: torch.Tensor) -> torch.Tensor:
    """For each frequency, the index of the mel band whose centre is nearest on the mel
    axis (nearest in log frequency; a band's neighbours sit at about equal ratios above 1 kHz).

    >>> nearest_mel_bands(torch.tensor([90.0, 1000.0, 5000.0]), torch.tensor([100.0, 800.0, 4000.0]))
    tensor([0, 1, 2])
    """
    f = torch.as_tensor(freqs_hz, dtype=torch.float64).clamp_min(1.0).log()
    c = torch.as_tensor(band_centers_hz, dtype=torch.float64).clamp_min(1.0).log()
    if c.dim() != 1 or c.numel() == 0:
        raise ValueError(f"band_centers_hz must be a non-empty 1D tensor, got shape {tuple(c.shape)}")
    return (f[..., None] - c).abs().argmin(dim=-1)


def probe_signals(sample_rate: int = 22050, num_samples: int = 51200, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """Signals outside an environmental-sound training set, each peak-normalised like the inputs.

    Pure tones at 250 Hz, 1 kHz and 4 kHz; a logarithmic chirp from 50 Hz to 0.45 x the
    sample rate; a linear chirp over the same range; white noise; pink (1/f) noise.

    >>> sorted(probe_signals(8000, 4096))[:3]
    ['chirp (linear)', 'chirp (log)', 'pink noise']
    """
    if sample_rate <= 0 or num_samples < 2:
        raise ValueError(f"need sample_rate > 0 and num_samples >= 2, got {sample_rate} and {num_samples}")
    t = torch.arange(num_samples, dtype=torch.float64) / sample_rate
    dur = num_samples / sample_rate
    f0, f1 = 50.0, 0.45 * sample_rate
    k = math.log(f1 / f0) / dur
    gen = torch.Generator().manual_seed(seed)
    white = torch.randn(num_samples, generator=gen, dtype=torch.float64)
    spec = torch.fft.rfft(white)
    f = torch.fft.rfftfreq(num_samples, d=1.0 / sample_rate)
    pink = torch.fft.irfft(spec / f.clamp_min(f[1]).sqrt(), n=num_samples)
    signals = {
        "tone 250 Hz": torch.sin(2 * math.pi * 250 * t),
        "tone 1 kHz": torch.sin(2 * math.pi * 1000 * t),
        "tone 4 kHz": torch.sin(2 * math.pi * 4000 * t),
        "chirp (log)": torch.sin(2 * math.pi * f0 * (torch.exp(k * t) - 1) / k),
        "chirp (linear)": torch.sin(2 * math.pi * (f0 * t + (f1 - f0) * t**2 / (2 * dur))),
        "white noise": white,
        "pink noise": pink,
    }
    return {name: peak_normalize(x).float() for name, x in signals.items()}


@torch.no_grad()
def probe_errors(
    model: nn.Module, target: nn.Module, signals: dict[str, torch.Tensor] | None = None, *, sample_rate: int = 22050,
    num_samples: int = 51200,
) -> dict[str, float]:
    """Mean squared error between the model and the true target on each probe signal.

    Args:
        model (nn.Module): the trained MSTmodel.
        target (nn.Module): the fitted :class:`apac_lab.models.MSTTarget` (the truth).
        signals (dict | None, default None): name -> ``(samples,)`` waveform; None uses
            :func:`probe_signals` at ``sample_rate`` and ``num_samples``.

    Returns:
        dict: name -> MSE in the normalised target units (compare with the validation MSE).
    """
    signals = signals if signals is not None else probe_signals(sample_rate, num_samples)
    if not signals:
        raise ValueError("probe_errors: no signals")
    names = list(signals)
    waves = torch.stack([signals[n] for n in names])
    pred = model_outputs(model, waves)
    truth = model_outputs(target, waves)
    if pred.shape != truth.shape:
        raise ValueError(f"model output {tuple(pred.shape)} and target {tuple(truth.shape)} are not aligned")
    errs = (pred - truth).pow(2).mean(dim=(1, 2))
    return {n: float(e) for n, e in zip(names, errs)}
