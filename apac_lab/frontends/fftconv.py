"""2D cross-correlation with "same" padding, direct or by FFT, with one result.

:func:`conv2d_same` equals ``torch.nn.functional.conv2d(x, weight, padding="same")``
(PyTorch's cross-correlation, stride 1, no bias). For long kernels, such as the Gabor
STRFs of notebook 02 (9 mel bands x 111 frames), the FFT route is several times faster
on the CPU. How it is made fast:

- **Two real filters as one complex filter.** Output channels are paired: the first
  half of ``weight`` is the real part of a complex kernel, the second half its
  imaginary part. The input is real, so one complex product and one complex inverse
  FFT give both halves (the real part of the result is the first half, the imaginary
  part the second). For Gabor filters, the pair is exactly (real part, imaginary part).
- **Only the padding that is needed.** A "same" correlation with a kernel of length
  ``k`` needs an FFT length of ``n + max(left, right)`` (not ``n + k - 1``): wrapped
  values land only in the cropped part. The length is rounded up to the next
  5-smooth number (2^a 3^b 5^c), which FFT libraries handle fastest.
- **Transforms computed once.** The input's spectrum is computed once for all filters,
  the kernels' spectrum once for the whole batch.
- **Chunks that stay in cache, and a hand-written backward.** The products and
  inverse transforms run over a few filter planes at a time, into buffers small
  enough to be reused, instead of a 50 MB tensor for autograd to save, copy and zero.
  The backward pass is the same correlation run the other way (checked against
  ``conv2d``'s gradients in ``tests/test_fftconv.py``).

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["conv2d_same", "next_fast_len", "fft_shape", "FFT_MIN_TAPS"]

FFT_MIN_TAPS = 160
"""``method="auto"`` uses the FFT when a kernel has at least this many taps (kf * kt).

Measured with ``benchmarks/gabor_speed.py --crossover`` on a 2-core CPU (64 complex
filters, batch of 8 log-mels of 64 x 101, forward and backward): the two are even
around 9 x 15 taps; the FFT wins from 9 x 21 on (3x faster at 9 x 111, 5x at 15 x 111),
the direct convolution below."""

_CHUNK_BYTES = 1 << 20  # spectral planes processed at a time: about 1 MiB (fits in L2)


def next_fast_len(n: int) -> int:
    """The smallest 5-smooth integer (2^a 3^b 5^c) >= ``n``: a fast FFT length.

    >>> [next_fast_len(n) for n in (1, 7, 68, 156, 157)]
    [1, 8, 72, 160, 160]
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    best = 1 << (n - 1).bit_length()  # a power of two always works
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _pads(k: int) -> tuple[int, int]:
    """Left and right zero padding of a "same" correlation (PyTorch's rule)."""
    left = (k - 1) // 2
    return left, k - 1 - left


def fft_shape(size: tuple[int, int], kernel: tuple[int, int]) -> tuple[int, int]:
    """FFT lengths for a "same" correlation of an ``size`` input with a ``kernel``.

    >>> fft_shape((64, 101), (9, 111))
    (72, 160)
    """
    return tuple(next_fast_len(max(n + max(_pads(k)), k)) for n, k in zip(size, kernel))


def _place(w: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Put a kernel in an FFT buffer so that circular convolution is "same" correlation.

    Tap ``m`` goes to index ``(left - m) mod n`` along each axis.
    """
    (kf, kt), (nf, nt) = w.shape[-2:], shape
    (lf, rf), (lt, rt) = _pads(kf), _pads(kt)
    h = F.pad(w.flip(-2, -1), (0, nt - kt, 0, nf - kf))
    return torch.roll(h, shifts=(-rf, -rt), dims=(-2, -1))


def _chunk(n_planes: int, plane_bytes: int) -> int:
    return max(1, min(n_planes, _CHUNK_BYTES // max(plane_bytes, 1)))


class _FFTCorrelate(torch.autograd.Function):
    """Real x (B, C, H, W) correlated with complex kernels (N, C, kf, kt) -> (B, 2N, H, W).

    Output channels ``n`` and ``N + n`` are the real and imaginary parts of the
    correlation with kernel ``n``. Filters are processed a chunk at a time (outer loop)
    and the batch item by item (inner loop), into preallocated buffers: every operand
    of the inner loop stays in the CPU cache.
    """

    @staticmethod
    def forward(ctx, x, w_real, w_imag):
        B, C, H, W = x.shape
        N, _, kf, kt = w_real.shape
        shape = fft_shape((H, W), (kf, kt))
        X = torch.fft.fft2(F.pad(x, (0, shape[1] - W, 0, shape[0] - H)))  # (B, C, nf, nt): once for all filters
        out = x.new_empty((B, 2 * N, H, W))
        step = _chunk(N * C, X[0, 0].numel() * X.element_size()) // C or 1
        Y = X.new_empty((step, C) + shape)
        y = X.new_empty((step,) + shape)
        for n0 in range(0, N, step):
            n1 = min(N, n0 + step)
            # kernels' spectra, with the inverse FFT's 1 / (nf nt) folded in (once per chunk, not per item)
            K = torch.fft.fft2(_place(torch.complex(w_real[n0:n1], w_imag[n0:n1]), shape), norm="forward")
            Yn, yn = Y[: n1 - n0], y[: n1 - n0]
            for b in range(B):
                if C == 1:
                    torch.mul(K[:, 0], X[b, 0], out=yn)
                else:
                    torch.sum(torch.mul(K, X[b], out=Yn), dim=1, out=yn)
                crop = torch.fft.ifft2(yn, norm="forward")[:, :H, :W]
                out[b, n0:n1] = crop.real
                out[b, N + n0:N + n1] = crop.imag
        ctx.save_for_backward(X, w_real, w_imag)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        X, w_real, w_imag = ctx.saved_tensors
        B, C, nf, nt = X.shape
        N, _, kf, kt = w_real.shape
        H, W = grad_out.shape[-2:]
        need_x = ctx.needs_input_grad[0]
        need_w = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        step = _chunk(N * C, X[0, 0].numel() * X.element_size()) // C or 1
        Xc = X.conj()
        g = X.new_zeros((step, nf, nt))  # gradient of a chunk, zero-padded; the padding stays zero
        gr = torch.view_as_real(g)
        gw = X.new_empty((step, C, nf, nt))
        gx = X.new_zeros(X.shape) if need_x else None
        grad_real = w_real.new_empty(w_real.shape) if need_w else None
        grad_imag = w_imag.new_empty(w_imag.shape) if need_w else None
        lf, lt = _pads(kf)[0], _pads(kt)[0]
        for n0 in range(0, N, step):
            n1 = min(N, n0 + step)
            n = n1 - n0
            Kc = torch.fft.fft2(_place(torch.complex(w_real[n0:n1], w_imag[n0:n1]), (nf, nt))).conj() if need_x else None
            gwn = gw[:n].zero_()
            for b in range(B):
                gr[:n, :H, :W, 0] = grad_out[b, n0:n1]
                gr[:n, :H, :W, 1] = grad_out[b, N + n0:N + n1]
                Gn = torch.fft.fft2(g[:n])
                if need_w:
                    gwn.addcmul_(Xc[b], Gn[:, None])
                if need_x:
                    gx[b] += (Gn[:, None] * Kc).sum(0)
            if need_w:
                # sum_b conj(X) G is the index-reversed spectrum of the correlation of x with
                # the gradient: a forward FFT divided by nf * nt undoes it, and tap m sits at
                # index (m - left) mod n.
                c = torch.fft.fft2(gwn) / (nf * nt)
                c = torch.roll(c, shifts=(lf, lt), dims=(-2, -1))[..., :kf, :kt]
                grad_real[n0:n1] = c.real
                grad_imag[n0:n1] = c.imag
        grad_x = torch.fft.ifft2(gx).real[..., :H, :W].contiguous() if need_x else None
        return grad_x, grad_real, grad_imag


def _check(x: torch.Tensor, weight: torch.Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"x must be (batch, channels, height, width), got shape {tuple(x.shape)}")
    if weight.dim() != 4:
        raise ValueError(f"weight must be (out, in, kernel_h, kernel_w), got shape {tuple(weight.shape)}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels but x has {x.shape[1]}")
    if x.is_complex() or weight.is_complex():
        raise ValueError("x and weight must be real; pass a complex kernel as [real; imag] output channels")


def conv2d_same(x: torch.Tensor, weight: torch.Tensor, *, method: str = "auto") -> torch.Tensor:
    """``F.conv2d(x, weight, padding="same")``, directly or by FFT.

    Args:
        x (Tensor): real input, ``(batch, in_channels, height, width)``.
        weight (Tensor): real kernels, ``(out_channels, in_channels, kf, kt)``. For the
            FFT route, output channel ``o`` and ``o + out_channels // 2`` are computed
            together as one complex kernel (an odd last channel is paired with zeros).
        method (str, default "auto"): ``"direct"`` (``F.conv2d``), ``"fft"``, or
            ``"auto"``: FFT when ``kf * kt >= FFT_MIN_TAPS``.

    Returns:
        Tensor ``(batch, out_channels, height, width)``. Both methods agree to about
        1e-6 times the kernel's L1 norm in float32; gradients reach ``x`` and ``weight``.
        The FFT route computes half-precision inputs (autocast) in float32.

    >>> x, w = torch.randn(2, 1, 16, 40), torch.randn(6, 1, 5, 31)
    >>> y = conv2d_same(x, w, method="fft")
    >>> y.shape, bool(torch.allclose(y, F.conv2d(x, w, padding="same"), atol=1e-4))
    (torch.Size([2, 6, 16, 40]), True)
    """
    _check(x, weight)
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
    kf, kt = weight.shape[-2:]
    if method == "direct" or (method == "auto" and kf * kt < FFT_MIN_TAPS):
        weight = weight.to(x.dtype)
        (lf, rf), (lt, rt) = _pads(kf), _pads(kt)
        if lf == rf and lt == rt:
            return F.conv2d(x, weight, padding=(lf, lt))
        return F.conv2d(F.pad(x, (lt, rt, lf, rf)), weight)  # even kernels: PyTorch's "same" rule
    if x.dtype in (torch.float16, torch.bfloat16) or weight.dtype in (torch.float16, torch.bfloat16):
        # half-precision FFTs need power-of-two sizes on CUDA and lose accuracy: compute in float32
        x, weight = x.float(), weight.float()
    weight = weight.to(x.dtype)
    out = weight.shape[0]
    if out % 2:
        weight = torch.cat([weight, weight.new_zeros((1,) + weight.shape[1:])])
    half = weight.shape[0] // 2
    y = _FFTCorrelate.apply(x, weight[:half], weight[half:])
    return y if out % 2 == 0 else torch.cat([y[:, :half], y[:, half:half + half - 1]], 1)
