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
           "find_frontend"]


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
