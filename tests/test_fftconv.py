"""Same-padded correlation by FFT: equal to conv2d, in values and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import apac_lab.frontends.fftconv as fc
from apac_lab.frontends import conv2d_same, next_fast_len

# the reference F.conv2d(padding="same") warns about even kernel sizes (it pads a copy)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


def _smooth(n: int) -> bool:
    for p in (2, 3, 5):
        while n % p == 0:
            n //= p
    return n == 1


def test_next_fast_len_is_the_smallest_5_smooth_number():
    for n in range(1, 400):
        m = next_fast_len(n)
        assert m >= n and _smooth(m)
        assert not any(_smooth(k) for k in range(n, m))
    with pytest.raises(ValueError):
        next_fast_len(0)


@pytest.mark.parametrize("x_shape,w_shape", [
    ((2, 1, 64, 101), (8, 1, 9, 111)),   # the layer's case, kernel longer than the input
    ((3, 2, 10, 17), (5, 2, 4, 6)),      # several input channels, odd output count, even kernel
    ((1, 1, 5, 7), (2, 1, 9, 15)),       # kernel larger than the input along both axes
    ((2, 3, 12, 12), (1, 3, 1, 1)),      # a single 1 x 1 kernel
])
def test_fft_equals_conv2d(x_shape, w_shape):
    torch.manual_seed(0)
    x, w = torch.randn(x_shape), torch.randn(w_shape)
    ref = F.conv2d(x, w, padding="same")
    out = conv2d_same(x, w, method="fft")
    assert out.shape == ref.shape
    scale = w.abs().sum(dim=(1, 2, 3)).max().item()
    torch.testing.assert_close(out, ref, atol=2e-6 * scale, rtol=0)


@pytest.mark.parametrize("w_shape", [(4, 2, 3, 5), (3, 2, 4, 4)])
def test_fft_gradients_match_finite_differences(w_shape):
    torch.manual_seed(1)
    x = torch.randn(2, 2, 6, 9, dtype=torch.float64, requires_grad=True)
    w = torch.randn(w_shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: conv2d_same(a, b, method="fft"), (x, w))


def test_fft_gradients_equal_conv2d_gradients():
    torch.manual_seed(2)
    x = torch.randn(3, 1, 20, 31, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 1, 7, 25, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 6, 20, 31, dtype=torch.float64)
    ours = torch.autograd.grad(conv2d_same(x, w, method="fft"), (x, w), g)
    ref = torch.autograd.grad(F.conv2d(x, w, padding="same"), (x, w), g)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_only_needed_gradients_are_computed():
    x = torch.randn(1, 1, 8, 8)
    w = torch.randn(2, 1, 3, 3, requires_grad=True)
    conv2d_same(x, w, method="fft").sum().backward()
    assert x.grad is None and w.grad is not None
    (ref,) = torch.autograd.grad(F.conv2d(x, w, padding="same").sum(), w)
    torch.testing.assert_close(w.grad, ref, rtol=1e-4, atol=1e-5)


def test_auto_picks_by_kernel_size(monkeypatch):
    calls = []
    real_apply = fc._FFTCorrelate.apply
    monkeypatch.setattr(fc._FFTCorrelate, "apply", lambda *a: calls.append(1) or real_apply(*a))
    x = torch.randn(1, 1, 16, 40)
    conv2d_same(x, torch.randn(2, 1, 3, 3))
    assert calls == []
    conv2d_same(x, torch.randn(2, 1, 9, 111))
    assert calls == [1]


def test_small_chunks_give_the_same_result(monkeypatch):
    torch.manual_seed(3)
    x, w = torch.randn(2, 1, 10, 20), torch.randn(6, 1, 5, 9)
    whole = conv2d_same(x, w, method="fft")
    monkeypatch.setattr(fc, "_CHUNK_BYTES", 1)  # one filter at a time
    torch.testing.assert_close(conv2d_same(x, w, method="fft"), whole)


@pytest.mark.parametrize("x,w,method,match", [
    (torch.randn(8, 8), torch.randn(1, 1, 3, 3), "fft", "x must be"),
    (torch.randn(1, 1, 8, 8), torch.randn(3, 3), "fft", "weight must be"),
    (torch.randn(1, 2, 8, 8), torch.randn(1, 1, 3, 3), "fft", "input channels"),
    (torch.randn(1, 1, 8, 8), torch.randn(1, 1, 3, 3), "spectral", "method"),
    (torch.randn(1, 1, 8, 8, dtype=torch.complex64), torch.randn(1, 1, 3, 3), "fft", "real"),
])
def test_bad_arguments_are_rejected(x, w, method, match):
    with pytest.raises(ValueError, match=match):
        conv2d_same(x, w, method=method)
