"""Learnable spectro-temporal Gabor filters (STRFs) on the log-mel, after Riad et al. (2021).

A Gabor STRF is a 2D kernel over (mel band f, frame t), both centred on the kernel::

    g(t, f) = exp(-t^2 / (2 sigma_t^2) - f^2 / (2 sigma_f^2))
              * exp(i (2 pi F (t cos(gamma) + f sin(gamma)) + phi)) / (2 pi sigma_t sigma_f)

a Gaussian envelope (widths ``sigma_t`` in frames, ``sigma_f`` in bands) times a complex
plane wave of modulation frequency ``F`` (cycles per sample of the kernel grid) along
orientation ``gamma`` (0: purely temporal modulation, pi/2: purely spectral). Its real
and imaginary parts are an even and an odd (quadrature) pair. Per filter, only these
four numbers (and optionally the phase ``phi``) are learned, against 9 x 111 = 999
weights for a free kernel of the same size.

Where this follows Riad, Karadayi, Bachoud-Levi & Dupoux (2021), "Learning
spectro-temporal representations of complex sounds with parameterized neural networks",
JASA 150(1), and their public code (github.com/bootphon/learnable-strf, ``STRFConv2d``):

- the same kernel: axis-aligned Gaussian envelope, carrier along ``t cos(gamma) +
  f sin(gamma)``, the ``1 / (2 pi sigma_t sigma_f)`` normalisation, real and imaginary
  parts as two channel groups (their ``gabor_mode="concat"``) or the magnitude (``"abs"``);
- the same initialisation (:func:`paper_init`): ``gamma`` uniform on the circle (their
  von Mises with concentration 0), ``2 pi F = (pi / 2) 1.41^-U(0, 5)`` radians per
  sample, and both widths ``2 * 1.41^U(0, 6)`` samples.

Where it departs, and why:

- ``F`` is in cycles per sample (their ``freq`` is in radians per sample, ``2 pi F``),
  and it is bounded to ``[0, 0.5]``, the grid's Nyquist limit, by a sigmoid; their
  ``freq`` is unbounded, so a filter could alias.
- Widths are kept positive by a softplus (plus 1e-3); theirs are raw parameters plus
  1e-3, which can go negative or through zero during training.
- The grid is centred, ``k - (size - 1) / 2`` with unit steps; theirs is
  ``linspace(1 - ceil(size / 2), ceil(size / 2), size)``, which for odd sizes is neither
  centred nor unit-spaced (a 9-band kernel gets steps of 9/8).
- The optional phase ``phi`` is applied; theirs is declared but unused.
- All kernels are built at once by one vectorised function, using that the kernel is
  separable (``g = a(f) b(t)``); theirs loops over every (out, in) pair in every forward
  pass, once for the real and again for the imaginary part.
- The convolution picks direct or FFT by kernel size (:func:`conv2d_same`), same result.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from apac_lab.frontends.fftconv import conv2d_same

__all__ = ["gabor_kernels", "paper_init", "GaborSTRF", "NYQUIST", "SIGMA_MIN"]

NYQUIST = 0.5
"""Largest modulation frequency of the kernel grid, in cycles per sample."""

SIGMA_MIN = 1e-3
"""Floor added to the softplus of the widths, in samples (the reference code's 1e-3)."""

_OUTPUTS = ("complex", "magnitude")


def _as_tensor(v, like: torch.Tensor | None) -> torch.Tensor:
    if isinstance(v, torch.Tensor):
        return v
    return torch.as_tensor(v, dtype=like.dtype if like is not None else torch.get_default_dtype(),
                           device=like.device if like is not None else None)


def gabor_kernels(
    sigma_t,
    sigma_f,
    gamma,
    freq,
    phase=None,
    *,
    size_f: int,
    size_t: int,
    normalize: bool = True,
    as_complex: bool = True,
    check: bool = True,
):
    """Build all Gabor kernels at once (no Python loop over filters).

    Args:
        sigma_t (Tensor | float): temporal width of the Gaussian envelope, frames (> 0).
        sigma_f (Tensor | float): spectral width, bands (> 0).
        gamma (Tensor | float): orientation of the carrier, radians.
        freq (Tensor | float): modulation frequency ``F``, cycles per sample, in [0, 0.5].
        phase (Tensor | float | None, default None): carrier phase ``phi``, radians; None is 0.
        size_f (int): kernel height in mel bands.
        size_t (int): kernel width in frames.
        normalize (bool, default True): divide by ``2 pi sigma_t sigma_f``, as the paper.
        as_complex (bool, default True): return one complex tensor, else ``(real, imag)``.
        check (bool, default True): validate the values (the module skips it: its
            constraints guarantee them).

    The parameters broadcast together to a shape ``S`` (e.g. ``(n,)``); the result is
    ``(*S, size_f, size_t)``, rows along mel bands (f), columns along frames (t), on the
    centred grid ``k - (size - 1) / 2``.

    >>> k = gabor_kernels(torch.tensor([3.0, 8.0]), 2.0, 0.0, 0.1, size_f=9, size_t=21)
    >>> k.shape, k.dtype
    (torch.Size([2, 9, 21]), torch.complex64)
    >>> round(float(k[0, 4, 10].real) * 2 * math.pi * 3.0 * 2.0, 6)  # centre: envelope 1, phase 0
    1.0
    """
    for name, size in (("size_f", size_f), ("size_t", size_t)):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{name} must be a positive int (kernel size in samples), got {size!r}")
    like = next((v for v in (sigma_t, sigma_f, gamma, freq, phase) if isinstance(v, torch.Tensor)), None)
    if like is not None and not like.is_floating_point():
        like = like.float()
    sigma_t, sigma_f, gamma, freq = (_as_tensor(v, like) for v in (sigma_t, sigma_f, gamma, freq))
    phase = None if phase is None else _as_tensor(phase, like)
    if check:
        _check_values(sigma_t, sigma_f, gamma, freq, phase)
    shape = torch.broadcast_shapes(*(v.shape for v in (sigma_t, sigma_f, gamma, freq)),
                                   *(() if phase is None else (phase.shape,)))
    params = [_flat(v, shape) for v in (sigma_t, sigma_f, gamma, freq)]
    params.append(None if phase is None else _flat(phase, shape))
    real, imag = _GaborKernels.apply(*params, size_f, size_t, normalize, False)
    if len(shape) != 1:
        real, imag = real.reshape(*shape, size_f, size_t), imag.reshape(*shape, size_f, size_t)
    return torch.complex(real, imag) if as_complex else (real, imag)


def _flat(v: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``v`` broadcast to ``shape`` and flattened (no autograd node when it already is)."""
    if v.dim() == 1 and v.shape == shape:
        return v
    return v.expand(shape).reshape(-1)


def _kernel_pairs(sigma_t, sigma_f, gamma, freq, phase, shape, size_f, size_t, normalize) -> torch.Tensor:
    """Real and imaginary kernels stacked in one tensor, ``(2, *shape, size_f, size_t)``."""
    params = [_flat(v, shape) for v in (sigma_t, sigma_f, gamma, freq)]
    params.append(None if phase is None else _flat(phase, shape))
    both = _GaborKernels.apply(*params, size_f, size_t, normalize, True)  # (2, n, size_f, size_t)
    return both.reshape(2, *shape, size_f, size_t)


_GRIDS: dict = {}


def _grid(size_f: int, size_t: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The centred grids of both axes, concatenated: ``(size_f + size_t,)`` (cached)."""
    key = (size_f, size_t, dtype, device)
    if key not in _GRIDS:
        if len(_GRIDS) > 32:
            _GRIDS.clear()
        f = torch.arange(size_f, dtype=dtype, device=device) - (size_f - 1) / 2
        t = torch.arange(size_t, dtype=dtype, device=device) - (size_t - 1) / 2
        _GRIDS[key] = torch.cat([f, t])
    return _GRIDS[key]


def _factors(sigma_t, sigma_f, gamma, freq, phase, size_f: int, size_t: int, normalize: bool):
    """The separable factors of ``g = a(f) b(t)``, side by side: complex ``[a | b]``, ``(n, size_f + size_t)``.

    Both factors are a Gaussian times a 1D wave: ``a(f) = exp(-f^2 / 2 sigma_f^2)
    exp(i (omega sin(gamma) f + phi)) / (2 pi sigma_t sigma_f)`` and ``b(t) =
    exp(-t^2 / 2 sigma_t^2) exp(i omega cos(gamma) t)``, computed in one pass.
    """
    n = sigma_t.shape[0]
    grid = _grid(size_f, size_t, sigma_t.dtype, sigma_t.device)
    omega = 2 * math.pi * freq
    sin_g, cos_g = torch.sin(gamma), torch.cos(gamma)
    sig = torch.cat([sigma_f[:, None].expand(n, size_f), sigma_t[:, None].expand(n, size_t)], 1)
    wave = torch.cat([(omega * sin_g)[:, None].expand(n, size_f), (omega * cos_g)[:, None].expand(n, size_t)], 1)
    env = _gauss(grid / sig)
    if normalize:
        env[:, :size_f] *= (1.0 / (2 * math.pi * sigma_t * sigma_f))[:, None]
    arg = wave * grid
    if phase is not None:
        arg[:, :size_f] += phase[:, None]
    return torch.polar(env, arg), grid, sig, sin_g, cos_g, omega


class _GaborKernels(torch.autograd.Function):
    """All kernels as batched outer products ``a(f) b(t)``, with hand-derived gradients.

    Autograd through the dozens of small ops of :func:`_factors` and two broadcast outer
    products costs more than the arithmetic; here the backward pass is four small batched
    matrix products (the gradients of ``a`` and ``b``) and a few reductions.
    Checked with ``torch.autograd.gradcheck`` in ``tests/test_gabor.py``.
    """

    @staticmethod
    def forward(ctx, sigma_t, sigma_f, gamma, freq, phase, size_f, size_t, normalize, stacked):
        z, grid, sig, sin_g, cos_g, omega = _factors(sigma_t, sigma_f, gamma, freq, phase, size_f, size_t, normalize)
        zr = torch.view_as_real(z)  # (n, size_f + size_t, 2): real and imaginary parts
        a = zr[:, :size_f]  # (n, size_f, 2)
        b_re, b_im = zr[:, size_f:, 0], zr[:, size_f:, 1]
        # stacked: one (2, n, size_f, size_t) tensor, real parts then imaginary parts, which
        # the layer convolves as is (no copy); else two tensors (no copy in the backward)
        both = a.new_empty((2, a.shape[0], size_f, size_t)) if stacked else [None, None]
        with torch.autocast(a.device.type, enabled=False):  # kernels in the parameters' precision
            both[0] = torch.bmm(a, torch.stack([b_re, -b_im], 1), out=both[0])  # a_re b_re - a_im b_im
            both[1] = torch.bmm(a, torch.stack([b_im, b_re], 1), out=both[1])  # a_re b_im + a_im b_re
        ctx.save_for_backward(sigma_t, sigma_f, z, grid, sig, sin_g, cos_g, omega)
        ctx.normalize, ctx.has_phase, ctx.stacked, ctx.size_f = normalize, phase is not None, stacked, size_f
        return both if stacked else tuple(both)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, *grads):
        sigma_t, sigma_f, z, grid, sig, sin_g, cos_g, omega = ctx.saved_tensors
        g_re, g_im = (grads[0][0], grads[0][1]) if ctx.stacked else grads
        k = ctx.size_f
        zr = torch.view_as_real(z)
        a_re, a_im, b_re, b_im = zr[:, :k, 0], zr[:, :k, 1], zr[:, k:, 0], zr[:, k:, 1]
        # L = Re sum conj(G) a b, G = g_re + i g_im: grad_a = G conj(b), grad_b = conj(a) G
        # (as (n, 2, size) products: [re; im] rows; the transposed form is the faster one for BLAS)
        ga = (torch.bmm(torch.stack([b_re, -b_im], 1), g_re.transpose(1, 2))
              + torch.bmm(torch.stack([b_im, b_re], 1), g_im.transpose(1, 2)))
        gb = torch.bmm(torch.stack([a_re, -a_im], 1), g_re) + torch.bmm(torch.stack([a_im, a_re], 1), g_im)
        gcat = torch.cat([ga, gb], 2)
        gz = torch.complex(gcat[:, 0], gcat[:, 1])  # (n, size_f + size_t)
        # with a factor z = |z| exp(i theta): dL = P d ln|z| - Q d theta, P + iQ = conj(gz) z
        w = gz.conj() * z
        p, q = w.real, w.imag
        # ln|z| = -x^2 / (2 sigma^2) [- ln(2 pi sigma_t sigma_f) in a]; theta = omega sin|cos(gamma) x [+ phi in a]
        d_sigma = p * (grid * grid) / sig ** 3
        q_x = q * grid
        grad_sf, grad_st = d_sigma[:, :k].sum(-1), d_sigma[:, k:].sum(-1)
        qf_f, qt_t = q_x[:, :k].sum(-1), q_x[:, k:].sum(-1)
        if ctx.normalize:
            total = p[:, :k].sum(-1)
            grad_sf = grad_sf - total / sigma_f
            grad_st = grad_st - total / sigma_t
        grad_omega = -(sin_g * qf_f + cos_g * qt_t)
        grad_gamma = -omega * (cos_g * qf_f - sin_g * qt_t)
        grad_phase = -q[:, :k].sum(-1) if ctx.has_phase else None
        return grad_st, grad_sf, grad_gamma, 2 * math.pi * grad_omega, grad_phase, None, None, None, None


_EXP_FLOOR = -30.0


def _gauss(z: torch.Tensor) -> torch.Tensor:
    """``exp(-z^2 / 2)``, exactly 0 where below ``exp(-30)`` (1e-13).

    Far tails would otherwise be subnormal floats, which the CPU handles up to 100x
    slower (in this function, and in every product and convolution downstream).
    """
    arg = -0.5 * z * z
    return torch.exp(arg.clamp_min(_EXP_FLOOR)).masked_fill(arg < _EXP_FLOOR, 0.0)


def _check_values(sigma_t, sigma_f, gamma, freq, phase) -> None:
    named = {"sigma_t": sigma_t, "sigma_f": sigma_f, "gamma": gamma, "freq": freq, "phase": phase}
    for name, v in named.items():
        if v is None:
            continue
        if v.is_complex() or not v.is_floating_point():
            raise ValueError(f"{name} must be a real floating-point value, got dtype {v.dtype}")
        if not bool(torch.isfinite(v).all()):
            raise ValueError(f"{name} must be finite, got {v.detach().flatten()[:4].tolist()}...")
    for name in ("sigma_t", "sigma_f"):
        if bool((named[name] <= 0).any()):
            raise ValueError(f"{name} must be > 0 (a width in samples), got min {float(named[name].min()):g}")
    if bool(((freq < 0) | (freq > NYQUIST)).any()):
        raise ValueError(
            f"freq must be in [0, {NYQUIST}] cycles per sample (the grid's Nyquist limit), got "
            f"[{float(freq.min()):g}, {float(freq.max()):g}]; turn the orientation gamma by pi instead of "
            "using a negative frequency"
        )
    try:
        torch.broadcast_shapes(*(v.shape for v in named.values() if v is not None))
    except RuntimeError as exc:
        raise ValueError(f"parameter shapes do not broadcast: { {k: tuple(v.shape) for k, v in named.items() if v is not None} }") from exc


def paper_init(n_filters: int, in_channels: int = 1, *, generator: torch.Generator | None = None) -> dict:
    """Initial filter parameters drawn as in Riad et al. (2021), shape ``(n_filters, in_channels)``.

    ``gamma ~ U(-pi, pi)``; ``F = 0.25 * 1.41^-U(0, 5)`` cycles/sample (0.045 to 0.25);
    ``sigma_t, sigma_f ~ 2 * 1.41^U(0, 6)`` samples (2 to 15.7); phase 0. Uses the global
    torch RNG unless a ``generator`` is given (seed with :func:`apac_lab.seed_everything`).

    >>> p = paper_init(64)
    >>> sorted(p), tuple(p["freq"].shape), bool((p["freq"] <= 0.25).all())
    (['freq', 'gamma', 'phase', 'sigma_f', 'sigma_t'], (64, 1), True)
    """
    if n_filters < 1 or in_channels < 1:
        raise ValueError(f"n_filters and in_channels must be >= 1, got {n_filters} and {in_channels}")
    shape = (n_filters, in_channels)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(shape, generator=generator)  # noqa: E731
    return {
        "sigma_t": 2 * 1.41 ** u(0, 6),
        "sigma_f": 2 * 1.41 ** u(0, 6),
        "gamma": u(-math.pi, math.pi),
        "freq": 0.25 * 1.41 ** -u(0, 5),
        "phase": torch.zeros(shape),
    }


def _softplus_inv(y: torch.Tensor) -> torch.Tensor:
    return y + torch.log(-torch.expm1(-y))  # log(exp(y) - 1), stable for large y


class GaborSTRF(nn.Module):
    """A bank of learnable 2D Gabor STRFs applied to a log-mel ("same" padding).

    Args:
        n_filters (int, default 64): number of Gabor filters N.
        in_channels (int, default 1): input channels C; each (filter, channel) pair has
            its own parameters.
        kernel_size (tuple[int, int], default (9, 111)): (mel bands, frames); odd sizes
            keep each kernel centred on its output sample.
        output (str, default "complex"): ``"complex"`` gives 2N channels, the real parts
            then the imaginary parts; ``"magnitude"`` gives N channels, ``sqrt(re^2 + im^2)``.
        trainable (bool, default True): parameters (learned) or buffers (fixed).
        with_phase (bool, default False): add a phase per filter.
        padding (str, default "same"): output size = input size (the only mode).
        method (str, default "auto"): convolution by ``"direct"`` conv2d, ``"fft"``, or
            ``"auto"`` (by kernel size, see :func:`apac_lab.frontends.conv2d_same`).
        normalize (bool, default True): the ``1 / (2 pi sigma_t sigma_f)`` factor.
        init (dict | None, default None): initial ``sigma_t, sigma_f, gamma, freq`` (and
            ``phase``), each broadcastable to ``(n_filters, in_channels)``; None draws
            them with :func:`paper_init`.

    Parameters (per filter and channel): ``sigma_t = softplus(raw_sigma_t) + 1e-3``
    frames, ``sigma_f`` likewise in bands, ``freq = 0.5 sigmoid(raw_freq)`` cycles per
    sample, ``gamma`` and ``phase`` in radians.

    Shape: ``(batch, C, n_mels, frames)`` (or ``(batch, n_mels, frames)`` when C = 1)
    -> ``(batch, 2N or N, n_mels, frames)``.

    >>> layer = GaborSTRF(8, kernel_size=(5, 21))
    >>> layer(torch.randn(2, 1, 32, 50)).shape
    torch.Size([2, 16, 32, 50])
    >>> sum(p.numel() for p in layer.parameters())  # 4 per filter
    32
    """

    def __init__(
        self,
        n_filters: int = 64,
        *,
        in_channels: int = 1,
        kernel_size: tuple[int, int] = (9, 111),
        output: str = "complex",
        trainable: bool = True,
        with_phase: bool = False,
        padding: str = "same",
        method: str = "auto",
        normalize: bool = True,
        init: dict | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(n_filters, int) or n_filters < 1:
            raise ValueError(f"n_filters must be a positive int, got {n_filters!r}")
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive int, got {in_channels!r}")
        if (not isinstance(kernel_size, (tuple, list)) or len(kernel_size) != 2
                or not all(isinstance(k, int) and k >= 1 for k in kernel_size)):
            raise ValueError(f"kernel_size must be (mel bands, frames), two positive ints, got {kernel_size!r}")
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
        if padding != "same":
            raise ValueError(f"padding must be 'same' (output as large as the input), got {padding!r}")
        if method not in ("auto", "direct", "fft"):
            raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
        self.n_filters, self.in_channels = n_filters, in_channels
        self.kernel_size = (int(kernel_size[0]), int(kernel_size[1]))
        self.output, self.trainable, self.with_phase = output, bool(trainable), bool(with_phase)
        self.padding, self.method, self.normalize = padding, method, bool(normalize)
        values = paper_init(n_filters, in_channels)
        if init is not None:
            unknown = set(init) - set(values)
            if unknown:
                raise ValueError(f"init has unknown keys {sorted(unknown)}; use {sorted(values)}")
            values.update(init)
        shape = (n_filters, in_channels)
        vals = {}
        for k, v in values.items():
            v = torch.as_tensor(v, dtype=torch.get_default_dtype())
            if v.dim() == 1 and v.numel() == n_filters and in_channels > 1:
                v = v[:, None]  # one value per filter, shared by the channels
            try:
                vals[k] = torch.broadcast_to(v.reshape(shape) if v.numel() == n_filters * in_channels else v,
                                             shape).clone()
            except RuntimeError as exc:
                raise ValueError(f"init[{k!r}] of shape {tuple(v.shape)} does not fit {shape}") from exc
        _check_values(vals["sigma_t"], vals["sigma_f"], vals["gamma"], vals["freq"], vals["phase"])
        if bool((vals["sigma_t"] <= SIGMA_MIN).any() or (vals["sigma_f"] <= SIGMA_MIN).any()):
            raise ValueError(f"initial widths must be > {SIGMA_MIN} samples")
        if bool(((vals["freq"] <= 0) | (vals["freq"] >= NYQUIST)).any()):
            raise ValueError(f"initial freq must be strictly inside (0, {NYQUIST}) cycles per sample")
        for name in ("raw_sigma_t", "raw_sigma_f", "gamma", "raw_freq") + (("phase",) if with_phase else ()):
            self._register(name, torch.zeros(shape))
        self.set_params(**{k: v for k, v in vals.items() if with_phase or k != "phase"})

    def _register(self, name: str, value: torch.Tensor) -> None:
        if self.trainable:
            self.register_parameter(name, nn.Parameter(value))
        else:
            self.register_buffer(name, value)

    @torch.no_grad()
    def set_params(self, **values) -> None:
        """Set filter parameters in physical units (``sigma_t``, ``sigma_f``, ``gamma``, ``freq``, ``phase``).

        >>> layer = GaborSTRF(2, kernel_size=(3, 5)); layer.set_params(freq=0.1, sigma_t=4.0)
        >>> [round(v, 4) for v in layer.freq.flatten().tolist()], [round(v, 4) for v in layer.sigma_t.flatten().tolist()]
        ([0.1, 0.1], [4.0, 4.0])
        """
        allowed = {"sigma_t", "sigma_f", "gamma", "freq"} | ({"phase"} if self.with_phase else set())
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; this layer has {sorted(allowed)}")
        for name, v in values.items():
            ref = getattr(self, "gamma")
            v = torch.broadcast_to(torch.as_tensor(v, dtype=ref.dtype, device=ref.device), ref.shape)
            if name in ("sigma_t", "sigma_f"):
                if bool((v <= SIGMA_MIN).any()):
                    raise ValueError(f"{name} must be > {SIGMA_MIN} samples")
                getattr(self, "raw_" + name).copy_(_softplus_inv(v - SIGMA_MIN))
            elif name == "freq":
                if bool(((v <= 0) | (v >= NYQUIST)).any()):
                    raise ValueError(f"freq must be strictly inside (0, {NYQUIST}) cycles per sample")
                getattr(self, "raw_freq").copy_(torch.logit(v / NYQUIST))
            else:
                getattr(self, name).copy_(v)

    @property
    def sigma_t(self) -> torch.Tensor:
        """Temporal widths in frames, ``(n_filters, in_channels)``."""
        return F.softplus(self.raw_sigma_t) + SIGMA_MIN

    @property
    def sigma_f(self) -> torch.Tensor:
        """Spectral widths in mel bands, ``(n_filters, in_channels)``."""
        return F.softplus(self.raw_sigma_f) + SIGMA_MIN

    @property
    def freq(self) -> torch.Tensor:
        """Modulation frequencies in cycles per sample, in (0, 0.5)."""
        return NYQUIST * torch.sigmoid(self.raw_freq)

    def params(self) -> dict:
        """The filter parameters in physical units, detached: name -> ``(n_filters, in_channels)``."""
        out = {"sigma_t": self.sigma_t, "sigma_f": self.sigma_f, "gamma": self.gamma, "freq": self.freq}
        if self.with_phase:
            out["phase"] = self.phase
        return {k: v.detach().clone() for k, v in out.items()}

    def kernels(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Real and imaginary kernels, each ``(n_filters, in_channels, size_f, size_t)``."""
        return gabor_kernels(
            self.sigma_t, self.sigma_f, self.gamma, self.freq, self.phase if self.with_phase else None,
            size_f=self.kernel_size[0], size_t=self.kernel_size[1], normalize=self.normalize,
            as_complex=False, check=False,
        )

    @property
    def out_channels(self) -> int:
        return self.n_filters * (2 if self.output == "complex" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3 and self.in_channels == 1:
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected a log-mel (batch, {self.in_channels}, n_mels, frames)"
                + (" or (batch, n_mels, frames)" if self.in_channels == 1 else "")
                + f", got shape {tuple(x.shape)}"
            )
        both = _kernel_pairs(self.sigma_t, self.sigma_f, self.gamma, self.freq, self.phase if self.with_phase else None,
                             self.gamma.shape, *self.kernel_size, self.normalize)
        y = conv2d_same(x, both.reshape(-1, *both.shape[2:]), method=self.method)  # casts to x's precision
        if self.output == "magnitude":
            n = self.n_filters
            y = torch.sqrt(y[:, :n] ** 2 + y[:, n:] ** 2 + 1e-12)
        return y

    def extra_repr(self) -> str:
        return (f"{self.n_filters}, in_channels={self.in_channels}, kernel_size={self.kernel_size}, "
                f"output={self.output!r}, trainable={self.trainable}, with_phase={self.with_phase}, "
                f"method={self.method!r}")
