"""Data augmentation that runs batched on the device: time shift, noise, SpecAugment.

Every module here acts on a whole batch at once (no Python loop over items), draws its
randomness from torch's global generator (so :func:`apac_lab.train.fit`'s per-epoch seed
makes a run repeatable), and is the identity in eval mode. Waveform augmentations
(:class:`TimeShift`, :class:`AddNoise`, chained in :class:`WaveAugment`) are given to
``fit(..., augment=...)``; :class:`SpecAugment` masks a spectrogram inside the model,
attached to its front-end with :func:`attach_spec_augment`.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TimeShift", "SpeedPerturb", "RandomEQ", "AddNoise", "SpecAugment", "WaveAugment", "attach_spec_augment",
           "find_frontend", "VocalTractWarp", "vtlp_source_positions", "RandomBandLimit", "RandomReverb", "synthetic_rir",
           "RandomMuLaw", "find_spectrogram"]


class TimeShift(nn.Module):
    """Shift each clip in time by a random offset, filling with zeros (no wrap-around).

    Args:
        max_shift (float, default 0.1): largest shift as a fraction of the clip length
            (0.1 of a 1 s clip is 100 ms), either direction; 0 disables it.
        p (float, default 1.0): probability that a clip is shifted.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> _ = torch.manual_seed(0); out = TimeShift(0.5)(torch.ones(4, 10))
    >>> out.shape, bool((out.sum(1) >= 5).all())
    (torch.Size([4, 10]), True)
    >>> TimeShift(0.5).eval()(torch.ones(2, 10)).sum().item()
    20.0
    """

    def __init__(self, max_shift: float = 0.1, *, p: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= max_shift < 1.0:
            raise ValueError(f"max_shift is a fraction of the clip in [0, 1), got {max_shift}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.max_shift, self.p = float(max_shift), float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.max_shift == 0.0 or self.p == 0.0:
            return x
        if x.dim() != 2:
            raise ValueError(f"TimeShift expects (batch, samples), got shape {tuple(x.shape)}")
        b, n = x.shape
        limit = int(self.max_shift * n)
        if limit == 0:
            return x
        shift = torch.randint(-limit, limit + 1, (b, 1), device=x.device)
        shift = shift * (torch.rand(b, 1, device=x.device) < self.p)
        src = torch.arange(n, device=x.device)[None, :] - shift  # out[t] = x[t - shift]
        valid = (src >= 0) & (src < n)
        return torch.gather(x, 1, src.clamp(0, n - 1)) * valid


class SpeedPerturb(nn.Module):
    """Play each clip faster or slower by a random factor (pitch and formants move with it,
    like a shorter or longer vocal tract), keeping its length: linear interpolation.

    The clip is read at positions ``factor * (t - centre) + centre``, so it stays centred;
    positions outside the clip read zeros. All clips go through one ``grid_sample`` call.

    Args:
        factors (tuple[float, float], default (0.9, 1.1)): range of the speed factor
            (> 1 is faster and higher), drawn uniformly per clip.
        p (float, default 1.0): probability that a clip is perturbed.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> x = torch.sin(torch.arange(8000) * 2 * torch.pi * 200 / 8000)[None]
    >>> y = SpeedPerturb((1.5, 1.5))(x)
    >>> int(torch.fft.rfft(y[0, 2000:6000]).abs().argmax()) * 2  # Hz (2 Hz bins): 200 Hz played 1.5x faster
    300
    """

    def __init__(self, factors: tuple[float, float] = (0.9, 1.1), *, p: float = 1.0) -> None:
        super().__init__()
        lo, hi = (float(v) for v in factors)
        if not 0 < lo <= hi:
            raise ValueError(f"factors must be (low, high) with 0 < low <= high, got {factors}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.factors, self.p = (lo, hi), float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.factors == (1.0, 1.0):
            return x
        if x.dim() != 2:
            raise ValueError(f"SpeedPerturb expects (batch, samples), got shape {tuple(x.shape)}")
        b, n = x.shape
        lo, hi = self.factors
        factor = lo + (hi - lo) * torch.rand(b, 1, device=x.device)
        factor = torch.where(torch.rand(b, 1, device=x.device) < self.p, factor, torch.ones_like(factor))
        pos = torch.linspace(-1.0, 1.0, n, device=x.device)[None, :] * factor  # normalised read positions
        grid = torch.stack([pos, torch.zeros_like(pos)], -1)[:, None]  # (b, 1, n, 2): (x, y)
        out = nn.functional.grid_sample(x[:, None, None, :], grid.to(x.dtype), mode="bilinear",
                                        padding_mode="zeros", align_corners=True)
        return out[:, 0, 0, :]


class RandomEQ(nn.Module):
    """Filter each clip with a random smooth frequency response and a random gain: another
    microphone, room or level. Speakers recorded with different equipment differ this way.

    The response in dB is ``gain + sum_k a_k cos(k pi f / f_nyquist)``, k = 1..``n_terms``,
    with ``a_k`` uniform in ``[-max_db / n_terms, max_db / n_terms]`` (so it stays within
    ``max_db`` of the gain) and ``gain`` uniform in ``gain_db``; applied by FFT, all clips
    at once.

    Args:
        max_db (float, default 12.0): largest excursion of the response, in dB (0: flat).
        gain_db (tuple[float, float], default (-10.0, 10.0)): range of the overall gain, dB.
        n_terms (int, default 4): cosine terms (more: wigglier responses).
        p (float, default 1.0): probability that a clip is filtered.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> _ = torch.manual_seed(0); x = torch.randn(4, 8000)
    >>> y = RandomEQ(max_db=0.0, gain_db=(6.0, 6.0))(x)
    >>> round(float(y.std() / x.std()), 2)  # +6 dB is twice the amplitude
    2.0
    """

    def __init__(self, max_db: float = 12.0, gain_db: tuple[float, float] = (-10.0, 10.0), *, n_terms: int = 4,
                 p: float = 1.0) -> None:
        super().__init__()
        lo, hi = (float(v) for v in gain_db)
        if max_db < 0 or lo > hi:
            raise ValueError(f"need max_db >= 0 and gain_db (low, high) with low <= high, got {max_db}, {gain_db}")
        if n_terms < 1:
            raise ValueError(f"n_terms must be >= 1, got {n_terms}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.max_db, self.gain_db, self.n_terms, self.p = float(max_db), (lo, hi), int(n_terms), float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.dim() != 2:
            raise ValueError(f"RandomEQ expects (batch, samples), got shape {tuple(x.shape)}")
        b, n = x.shape
        lo, hi = self.gain_db
        gain = lo + (hi - lo) * torch.rand(b, 1, device=x.device)
        a = (2 * torch.rand(b, self.n_terms, device=x.device) - 1) * (self.max_db / self.n_terms)
        f = torch.linspace(0.0, 1.0, n // 2 + 1, device=x.device)
        k = torch.arange(1, self.n_terms + 1, device=x.device, dtype=f.dtype)
        db = gain + a @ torch.cos(torch.pi * k[:, None] * f[None, :])  # (b, bins)
        db = db * (torch.rand(b, 1, device=x.device) < self.p)
        spec = torch.fft.rfft(x.float(), n=n) * 10.0 ** (db / 20.0)
        return torch.fft.irfft(spec, n=n).to(x.dtype)


class AddNoise(nn.Module):
    """Add white Gaussian noise at a random signal-to-noise ratio per clip.

    Args:
        snr_db (tuple[float, float], default (10.0, 30.0)): SNR range in dB, drawn
            uniformly per clip (lower is noisier).
        p (float, default 0.5): probability that a clip gets noise.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> _ = torch.manual_seed(0); x = torch.sin(torch.linspace(0, 100, 8000)).repeat(3, 1)
    >>> noisy = AddNoise((20.0, 20.0), p=1.0)(x)
    >>> snr = 10 * torch.log10(x.pow(2).mean(1) / (noisy - x).pow(2).mean(1))
    >>> bool(((snr - 20).abs() < 0.5).all())
    True
    """

    def __init__(self, snr_db: tuple[float, float] = (10.0, 30.0), *, p: float = 0.5) -> None:
        super().__init__()
        lo, hi = (float(v) for v in snr_db)
        if lo > hi:
            raise ValueError(f"snr_db must be (low, high) with low <= high, got {snr_db}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.snr_db, self.p = (lo, hi), float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        b = x.shape[0]
        shape = (b,) + (1,) * (x.dim() - 1)
        lo, hi = self.snr_db
        snr = lo + (hi - lo) * torch.rand(shape, device=x.device)
        power = x.pow(2).flatten(1).mean(1).view(shape).clamp(min=1e-10)
        scale = torch.sqrt(power / 10.0 ** (snr / 10.0)) * (torch.rand(shape, device=x.device) < self.p)
        return x + torch.randn_like(x) * scale


def _band_mask(b: int, size: int, width: int, count: int, device) -> torch.Tensor:
    """``(b, size)`` bool: ``count`` random bands of width ``0..width`` per row."""
    mask = torch.zeros(b, size, dtype=torch.bool, device=device)
    pos = torch.arange(size, device=device)[None, :]
    for _ in range(count):
        w = torch.randint(0, width + 1, (b, 1), device=device)
        start = (torch.rand(b, 1, device=device) * (size - w + 1)).long()
        mask |= (pos >= start) & (pos < start + w)
    return mask


class SpecAugment(nn.Module):
    """Stretch a spectrogram in time, then mask random frequency bands and time spans
    (Park et al., 2019).

    Each clip gets its own stretch and masks. Masked cells are set to ``value`` or, by
    default, to the clip's mean (for a log-mel that is a neutral level, unlike 0).

    Args:
        freq_mask (int, default 16): widest frequency mask, in bins (mel bands).
        time_mask (int, default 8): widest time mask, in frames.
        n_freq_masks (int, default 2): frequency masks per clip.
        n_time_masks (int, default 2): time masks per clip.
        value (float | None, default None): fill value; None uses each clip's mean.
        time_stretch (tuple[float, float] | None, default None): range of a random
            stretch of the time axis about the centre (1.2 is 20% slower speech: the
            speaking rate changes, the pitch does not); edge frames extend the clip.

    Shape: ``(batch, ..., freq, time)`` -> same shape.

    >>> _ = torch.manual_seed(0); s = SpecAugment(freq_mask=4, time_mask=3, value=0.0)(torch.ones(2, 1, 16, 20))
    >>> s.shape, bool((s == 0).any()), bool((s == 1).any())
    (torch.Size([2, 1, 16, 20]), True, True)
    """

    def __init__(self, freq_mask: int = 16, time_mask: int = 8, *, n_freq_masks: int = 2,
                 n_time_masks: int = 2, value: float | None = None,
                 time_stretch: tuple[float, float] | None = None) -> None:
        super().__init__()
        for name, v in (("freq_mask", freq_mask), ("time_mask", time_mask),
                        ("n_freq_masks", n_freq_masks), ("n_time_masks", n_time_masks)):
            if int(v) != v or v < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {v}")
        if time_stretch is not None and not 0 < time_stretch[0] <= time_stretch[1]:
            raise ValueError(f"time_stretch must be (low, high) with 0 < low <= high, got {time_stretch}")
        self.freq_mask, self.time_mask = int(freq_mask), int(time_mask)
        self.n_freq_masks, self.n_time_masks = int(n_freq_masks), int(n_time_masks)
        self.value = value
        self.time_stretch = None if time_stretch is None else (float(time_stretch[0]), float(time_stretch[1]))

    def stretch(self, spec: torch.Tensor) -> torch.Tensor:
        """The random time stretch alone (all clips in one ``grid_sample`` call)."""
        lo, hi = self.time_stretch
        b, f, t = spec.shape[0], spec.shape[-2], spec.shape[-1]
        x = spec.reshape(b, -1, f, t)
        factor = lo + (hi - lo) * torch.rand(b, 1, 1, device=spec.device)
        gx = (torch.linspace(-1.0, 1.0, t, device=spec.device)[None, None, :] / factor).expand(b, f, t)
        gy = torch.linspace(-1.0, 1.0, f, device=spec.device)[None, :, None].expand(b, f, t)
        grid = torch.stack([gx, gy], -1).to(x.dtype)
        out = nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
        return out.reshape(spec.shape)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return spec
        if spec.dim() < 3:
            raise ValueError(f"SpecAugment expects (batch, ..., freq, time), got shape {tuple(spec.shape)}")
        if self.time_stretch is not None and self.time_stretch != (1.0, 1.0):
            spec = self.stretch(spec)
        b, f, t = spec.shape[0], spec.shape[-2], spec.shape[-1]
        if self.n_freq_masks * self.freq_mask + self.n_time_masks * self.time_mask == 0:
            return spec
        fm = _band_mask(b, f, min(self.freq_mask, f), self.n_freq_masks, spec.device)
        tm = _band_mask(b, t, min(self.time_mask, t), self.n_time_masks, spec.device)
        mask = fm[:, :, None] | tm[:, None, :]  # (b, f, t)
        mask = mask.view((b,) + (1,) * (spec.dim() - 3) + (f, t))
        if self.value is None:
            fill = spec.detach().flatten(1).mean(1).view((b,) + (1,) * (spec.dim() - 1))
        else:
            fill = torch.full((), float(self.value), dtype=spec.dtype, device=spec.device)
        return torch.where(mask, fill.to(spec.dtype), spec)


class WaveAugment(nn.Sequential):
    """Speed, equaliser and gain, time shift, then noise: the waveform augmentation of the
    recipes and the CLI.

    Args:
        max_shift (float, default 0.1): see :class:`TimeShift` (0 disables it).
        snr_db (tuple[float, float] | None, default (10.0, 30.0)): see :class:`AddNoise`;
            None disables noise.
        noise_p (float, default 0.5): probability of noise per clip.
        speed (tuple[float, float] | None, default None): see :class:`SpeedPerturb`;
            None disables it.
        eq_db (float, default 0.0): see :class:`RandomEQ` (``max_db``); 0 and no
            ``gain_db`` disable it.
        gain_db (tuple[float, float] | None, default None): random gain range in dB.

    >>> aug = WaveAugment(max_shift=0.1, snr_db=None); len(aug)
    1
    """

    def __init__(self, max_shift: float = 0.1, snr_db: tuple[float, float] | None = (10.0, 30.0),
                 noise_p: float = 0.5, speed: tuple[float, float] | None = None, eq_db: float = 0.0,
                 gain_db: tuple[float, float] | None = None) -> None:
        mods: list[nn.Module] = []
        if speed is not None and tuple(speed) != (1.0, 1.0):
            mods.append(SpeedPerturb(tuple(speed)))
        if eq_db > 0 or gain_db is not None:
            mods.append(RandomEQ(eq_db, tuple(gain_db) if gain_db is not None else (0.0, 0.0)))
        if max_shift > 0:
            mods.append(TimeShift(max_shift))
        if snr_db is not None and noise_p > 0:
            mods.append(AddNoise(snr_db, p=noise_p))
        super().__init__(*mods)


def find_frontend(model: nn.Module) -> nn.Module:
    """The model's spectrogram front-end: the submodule named ``frontend`` (or
    ``front_end``), or the model's first child as a last resort.

    >>> m = nn.Sequential(); m.frontend = nn.Identity(); type(find_frontend(m)).__name__
    'Identity'
    """
    for name in ("frontend", "front_end"):
        sub = getattr(model, name, None)
        if isinstance(sub, nn.Module):
            return sub
    for name, sub in model.named_modules():
        if name.split(".")[-1] in ("frontend", "front_end"):
            return sub
    children = list(model.children())
    if not children:
        raise ValueError(f"{type(model).__name__} has no submodules: cannot find its front-end")
    return children[0]


def attach_spec_augment(model: nn.Module, spec_augment: SpecAugment, *, where: nn.Module | None = None):
    """Mask the output of the model's front-end (``where``) with ``spec_augment`` in training.

    The masking happens in a forward hook, so the model code stays as it is; it follows
    the front-end's mode (``model.train()`` / ``model.eval()``). A front-end that returns
    a tuple or dict of spectrograms has each tensor of 3 or more dimensions masked.

    Args:
        model (nn.Module): the model.
        spec_augment (SpecAugment): the masking module.
        where (nn.Module | None, default None): the submodule whose output is masked;
            None uses :func:`find_frontend`.

    Returns:
        The hook handle (``.remove()`` detaches it).

    >>> m = nn.Sequential(nn.Identity(), nn.Flatten()); _ = torch.manual_seed(0)
    >>> h = attach_spec_augment(m, SpecAugment(2, 2, value=0.0))
    >>> bool((m(torch.ones(2, 8, 8)) == 0).any()), bool((m.eval()(torch.ones(2, 8, 8)) == 0).any())
    (True, False)
    """
    target = where if where is not None else find_frontend(model)
    spec_augment.train()  # the hook decides, from the front-end's own mode

    def mask(out):
        if isinstance(out, torch.Tensor):
            return spec_augment(out) if out.dim() >= 3 else out
        if isinstance(out, tuple):
            return tuple(mask(o) for o in out)
        if isinstance(out, list):
            return [mask(o) for o in out]
        if isinstance(out, dict):
            return {k: mask(v) for k, v in out.items()}
        return out

    def hook(module, inputs, output):
        return mask(output) if module.training else output

    return target.register_forward_hook(hook)


# --------------------------------------------------------------------------- other voices and microphones


def _check_p(p: float) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    return float(p)


def _check_range(name: str, value, *, low: float = float("-inf")) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    if not low <= lo <= hi:
        raise ValueError(f"{name} must be (low, high) with {low} <= low <= high, got {value!r}")
    return lo, hi


def _uniform(b: int, value_range: tuple[float, float], device) -> torch.Tensor:
    lo, hi = value_range
    return lo + (hi - lo) * torch.rand(b, device=device)


def _chosen(b: int, p: float, device) -> torch.Tensor:
    """``(b,)`` bool: which clips are augmented (probability ``p`` each)."""
    return torch.rand(b, device=device) < p


def vtlp_source_positions(factor: torch.Tensor, n_bins: int, boundary: float = 0.8) -> torch.Tensor:
    """Where each output bin of a vocal-tract-length-perturbed spectrum reads the input.

    The warp (Jaitly and Hinton, 2013) maps input frequency ``f`` to ``factor * f`` below a
    boundary and is linear above it so that the Nyquist frequency stays put; this returns
    its inverse, in fractional bin numbers.

    Args:
        factor (Tensor): ``(batch,)`` warp factors (> 1 moves formants up: a shorter tract).
        n_bins (int): frequency bins from 0 Hz to Nyquist (``n_fft // 2 + 1``).
        boundary (float, default 0.8): the bend, as a fraction of Nyquist, for factor 1.

    Returns:
        Tensor: ``(batch, n_bins)`` source positions in ``[0, n_bins - 1]``.

    >>> vtlp_source_positions(torch.tensor([1.25]), 11)[0, :5].tolist()  # bin 5 reads bin 4
    [0.0, 0.800000011920929, 1.600000023841858, 2.4000000953674316, 3.200000047683716]
    """
    nyq = float(n_bins - 1)
    out = torch.arange(n_bins, device=factor.device, dtype=torch.float32)[None, :]
    a = factor.float()[:, None]
    bend_out = boundary * nyq * torch.clamp(a, max=1.0)  # the bend on the output axis
    bend_in = bend_out / a
    upper = bend_in + (out - bend_out) * (nyq - bend_in) / (nyq - bend_out)
    return torch.where(out <= bend_out, out / a, upper).clamp(0.0, nyq)


class VocalTractWarp(nn.Module):
    """Vocal tract length perturbation (VTLP): warp the frequency axis of a linear power
    spectrogram by a random factor per clip, as another speaker's vocal tract would move
    its formants (Jaitly and Hinton, 2013). Time is untouched.

    Acts on the spectrogram *before* the mel filterbank (attach it with
    :func:`attach_spec_augment` to the front-end's spectrogram module, see
    :func:`find_spectrogram`), so both the log-mel and the MFCCs see the warped spectrum.
    The warp is :func:`vtlp_source_positions` with linear interpolation between bins.

    Args:
        factors (tuple[float, float], default (0.9, 1.1)): range of the warp factor,
            drawn uniformly per clip (> 1: formants move up).
        boundary (float, default 0.8): where the warp bends, as a fraction of Nyquist.
        p (float, default 1.0): probability that a clip is warped.

    Shape: ``(batch, ..., freq, time)`` -> same shape; ``freq`` bins span 0 Hz to Nyquist.

    >>> spec = torch.zeros(1, 513, 4); spec[:, 128] = 1.0   # 1000 Hz at 8 kHz, n_fft 1024
    >>> int(VocalTractWarp((1.2, 1.2))(spec)[0, :, 0].argmax()) * 8000 / 1024
    1203.125
    """

    def __init__(self, factors: tuple[float, float] = (0.9, 1.1), *, boundary: float = 0.8, p: float = 1.0) -> None:
        super().__init__()
        self.factors = _check_range("factors", factors, low=1e-3)
        if not 0.0 < boundary < 1.0:
            raise ValueError(f"boundary is a fraction of Nyquist in (0, 1), got {boundary}")
        self.boundary, self.p = float(boundary), _check_p(p)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.factors == (1.0, 1.0):
            return spec
        if spec.dim() < 3:
            raise ValueError(f"VocalTractWarp expects (batch, ..., freq, time), got shape {tuple(spec.shape)}")
        b, f, t = spec.shape[0], spec.shape[-2], spec.shape[-1]
        factor = torch.where(_chosen(b, self.p, spec.device), _uniform(b, self.factors, spec.device),
                             torch.ones(b, device=spec.device))
        src = vtlp_source_positions(factor, f, self.boundary)  # (b, f)
        lo = src.floor().long().clamp(max=f - 1)
        hi = (lo + 1).clamp(max=f - 1)
        w = (src - lo).to(spec.dtype)
        x = spec.reshape(b, -1, f, t)
        take = lambda idx: torch.gather(x, 2, idx[:, None, :, None].expand(b, x.shape[1], f, t))  # noqa: E731
        out = take(lo) * (1 - w)[:, None, :, None] + take(hi) * w[:, None, :, None]
        return out.reshape(spec.shape)


class RandomBandLimit(nn.Module):
    """Band-limit each clip: a random low-pass and, optionally, a random high-pass filter,
    as a telephone, a cheap microphone or a low sampling rate would (zero phase, by FFT).

    The magnitude responses are Butterworth's: ``1 / sqrt(1 + (f / f_c)^(2 order))`` for the
    low-pass (-3 dB at ``f_c``) and ``1 / sqrt(1 + (f_c / f)^(2 order))`` for the high-pass;
    a cut-off of 0 Hz disables the high-pass.

    Args:
        sample_rate (int): Hz of the clips.
        low_pass_hz (tuple[float, float], default (1500.0, 4000.0)): range of the low-pass
            cut-off, drawn uniformly per clip.
        high_pass_hz (tuple[float, float], default (0.0, 300.0)): range of the high-pass cut-off.
        order (int, default 4): filter order (the slopes are ``6 * order`` dB per octave).
        p (float, default 0.5): probability that a clip is filtered.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> t = torch.arange(8000) / 8000; x = torch.sin(2 * torch.pi * 2000 * t)[None]
    >>> y = RandomBandLimit(8000, low_pass_hz=(2000.0, 2000.0), high_pass_hz=(0.0, 0.0), p=1.0)(x)
    >>> round(float(20 * torch.log10(y.std() / x.std())), 2)  # -3 dB at the cut-off
    -3.01
    """

    def __init__(self, sample_rate: int, *, low_pass_hz: tuple[float, float] = (1500.0, 4000.0),
                 high_pass_hz: tuple[float, float] = (0.0, 300.0), order: int = 4, p: float = 0.5) -> None:
        super().__init__()
        if int(sample_rate) != sample_rate or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a whole number of Hz > 0, got {sample_rate}")
        self.sample_rate = int(sample_rate)
        self.low_pass_hz = _check_range("low_pass_hz", low_pass_hz, low=1e-3)
        self.high_pass_hz = _check_range("high_pass_hz", high_pass_hz, low=0.0)
        if int(order) != order or order < 1:
            raise ValueError(f"order must be a whole number >= 1, got {order}")
        self.order, self.p = int(order), _check_p(p)

    def response(self, low_pass: torch.Tensor, high_pass: torch.Tensor, n: int) -> torch.Tensor:
        """Magnitude responses ``(batch, n // 2 + 1)`` for cut-offs ``(batch,)`` in Hz."""
        f = torch.fft.rfftfreq(n, 1.0 / self.sample_rate).to(low_pass.device)[None, :]
        lp = 1.0 / torch.sqrt(1.0 + (f / low_pass[:, None]) ** (2 * self.order))
        hp = torch.where(high_pass[:, None] > 0,
                         1.0 / torch.sqrt(1.0 + (high_pass[:, None] / f.clamp(min=1e-6)) ** (2 * self.order)),
                         torch.ones_like(f))
        return lp * hp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.dim() != 2:
            raise ValueError(f"RandomBandLimit expects (batch, samples), got shape {tuple(x.shape)}")
        b, n = x.shape
        gain = self.response(_uniform(b, self.low_pass_hz, x.device), _uniform(b, self.high_pass_hz, x.device), n)
        gain = torch.where(_chosen(b, self.p, x.device)[:, None], gain, torch.ones_like(gain))
        return torch.fft.irfft(torch.fft.rfft(x.float(), n=n) * gain, n=n).to(x.dtype)


def synthetic_rir(rt60: torch.Tensor, drr_db: torch.Tensor, length: int, sample_rate: int) -> torch.Tensor:
    """Synthetic room impulse responses: a unit direct path, then white noise whose
    amplitude decays by 60 dB in ``rt60`` seconds, scaled to a direct-to-reverberant
    energy ratio of ``drr_db``.

    Args:
        rt60 (Tensor): ``(batch,)`` reverberation times in seconds (> 0).
        drr_db (Tensor): ``(batch,)`` direct-to-reverberant ratios in dB.
        length (int): samples of each response (the direct path is sample 0).
        sample_rate (int): Hz.

    Returns:
        Tensor: ``(batch, length)``.

    >>> h = synthetic_rir(torch.tensor([0.3]), torch.tensor([6.0]), 2400, 8000)
    >>> h.shape, h[0, 0].item(), round(float(10 * torch.log10(1 / h[0, 1:].pow(2).sum())), 2)
    (torch.Size([1, 2400]), 1.0, 6.0)
    """
    t = torch.arange(1, length, device=rt60.device, dtype=torch.float32)[None, :] / sample_rate
    tail = torch.randn(rt60.shape[0], length - 1, device=rt60.device) * torch.exp(-6.9078 * t / rt60[:, None])
    tail = tail * torch.sqrt(10.0 ** (-drr_db[:, None] / 10.0) / tail.pow(2).sum(1, keepdim=True).clamp(min=1e-20))
    return torch.cat([torch.ones(rt60.shape[0], 1, device=rt60.device), tail], 1)


class RandomReverb(nn.Module):
    """Reverberation: convolve each clip with a synthetic room impulse response
    (:func:`synthetic_rir`: exponentially decaying noise after a direct path), as another
    room would. The convolution is causal (by FFT, zero-padded, no wrap-around), the
    output keeps the clip's length (the tail past its end is cut) and its RMS level.

    Args:
        sample_rate (int): Hz of the clips.
        rt60 (tuple[float, float], default (0.1, 0.5)): range of the reverberation time, s.
        drr_db (tuple[float, float], default (0.0, 12.0)): range of the direct-to-reverberant
            energy ratio, dB (lower is more reverberant).
        p (float, default 0.5): probability that a clip is reverberated.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> x = torch.zeros(1, 8000); x[0, 1000] = 1.0
    >>> y = RandomReverb(8000, p=1.0)(x)
    >>> y.shape, float(y[0, :1000].abs().max()) < 1e-6, bool((y[0, 1001:].abs() > 1e-4).any())  # causal
    (torch.Size([1, 8000]), True, True)
    """

    def __init__(self, sample_rate: int, *, rt60: tuple[float, float] = (0.1, 0.5),
                 drr_db: tuple[float, float] = (0.0, 12.0), p: float = 0.5) -> None:
        super().__init__()
        if int(sample_rate) != sample_rate or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a whole number of Hz > 0, got {sample_rate}")
        self.sample_rate = int(sample_rate)
        self.rt60 = _check_range("rt60", rt60, low=1e-3)
        self.drr_db = _check_range("drr_db", drr_db)
        self.p = _check_p(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.dim() != 2:
            raise ValueError(f"RandomReverb expects (batch, samples), got shape {tuple(x.shape)}")
        b, n = x.shape
        length = min(n, int(round(self.rt60[1] * self.sample_rate)) + 1)
        h = synthetic_rir(_uniform(b, self.rt60, x.device), _uniform(b, self.drr_db, x.device), length,
                          self.sample_rate)
        size = n + length - 1
        wet = torch.fft.irfft(torch.fft.rfft(x.float(), n=size) * torch.fft.rfft(h, n=size), n=size)[:, :n]
        rms_in = x.float().pow(2).mean(1, keepdim=True).sqrt()
        wet = wet * rms_in / wet.pow(2).mean(1, keepdim=True).sqrt().clamp(min=1e-12)
        return torch.where(_chosen(b, self.p, x.device)[:, None], wet, x.float()).to(x.dtype)


class RandomMuLaw(nn.Module):
    """Codec-like distortion: mu-law companding to a random word length, as an 8-bit
    telephone codec (G.711's mu-law) or a cheaper one would leave it.

    Each chosen clip is encoded with ``mu = 2**bits - 1`` (``bits`` drawn per clip from
    the whole numbers in ``bits``), quantised, and decoded, like
    ``torchaudio.functional.mu_law_decoding(mu_law_encoding(x, mu + 1), mu + 1)``.
    Samples are clipped to ``[-1, 1]`` first.

    Args:
        bits (tuple[int, int], default (4, 8)): range of the word length (whole numbers).
        p (float, default 0.5): probability that a clip is distorted.

    Shape: ``(batch, samples)`` -> ``(batch, samples)``.

    >>> y = RandomMuLaw((2, 2), p=1.0)(torch.linspace(-1, 1, 100)[None])
    >>> len(torch.unique(y))  # 2 bits: 4 levels
    4
    """

    def __init__(self, bits: tuple[int, int] = (4, 8), *, p: float = 0.5) -> None:
        super().__init__()
        lo, hi = _check_range("bits", bits, low=1.0)
        if int(lo) != lo or int(hi) != hi or hi > 16:
            raise ValueError(f"bits must be whole numbers in 1..16, got {bits!r}")
        self.bits, self.p = (int(lo), int(hi)), _check_p(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.dim() != 2:
            raise ValueError(f"RandomMuLaw expects (batch, samples), got shape {tuple(x.shape)}")
        b = x.shape[0]
        bits = torch.randint(self.bits[0], self.bits[1] + 1, (b, 1), device=x.device)
        mu = (2.0 ** bits.float()) - 1.0
        v = x.float().clamp(-1.0, 1.0)
        y = torch.sign(v) * torch.log1p(mu * v.abs()) / torch.log1p(mu)
        q = ((y + 1) / 2 * mu + 0.5).floor()  # 0..mu, as torchaudio's encoding
        y = q / mu * 2 - 1
        out = torch.sign(y) * (torch.exp(y.abs() * torch.log1p(mu)) - 1.0) / mu
        return torch.where(_chosen(b, self.p, x.device)[:, None], out, x.float()).to(x.dtype)


def find_spectrogram(model: nn.Module) -> nn.Module:
    """The module of the model's front-end that outputs the linear power spectrogram
    (where :class:`VocalTractWarp` attaches): ``torchaudio.transforms.Spectrogram`` inside
    a fixed (``std`` mode) front-end.

    >>> from apac_lab.models import build_model
    >>> type(find_spectrogram(build_model("tiny", n_classes=2, sample_rate=8000))).__name__
    'Spectrogram'
    """
    import torchaudio

    for sub in find_frontend(model).modules():
        if isinstance(sub, torchaudio.transforms.Spectrogram):
            return sub
    raise ValueError(f"{type(model).__name__}: no torchaudio Spectrogram in its front-end; VocalTractWarp needs a "
                     "fixed front-end (mode 'std')")
