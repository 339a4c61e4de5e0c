"""The Gabor STRF layer: kernels against the formula, gradients, shapes, batches, errors."""

from __future__ import annotations

import cmath
import math

import pytest
import torch

from apac_lab.frontends import GaborSTRF, gabor_kernels, paper_init
from apac_lab.frontends.gabor import NYQUIST

torch.manual_seed(0)


def slow_kernel(sigma_t, sigma_f, gamma, freq, phase, size_f, size_t, normalize=True):
    """The formula, one filter, one tap at a time, in Python floats (complex128)."""
    out = torch.zeros(size_f, size_t, dtype=torch.complex128)
    for i in range(size_f):
        for j in range(size_t):
            f, t = i - (size_f - 1) / 2, j - (size_t - 1) / 2
            env = math.exp(-0.5 * (t * t / sigma_t ** 2 + f * f / sigma_f ** 2))
            carrier = cmath.exp(1j * (2 * math.pi * freq * (t * math.cos(gamma) + f * math.sin(gamma)) + phase))
            out[i, j] = env * carrier / ((2 * math.pi * sigma_t * sigma_f) if normalize else 1.0)
    return out


def random_params(n, dtype=torch.float64, phase=True):
    g = torch.Generator().manual_seed(n)
    p = {
        "sigma_t": 0.5 + 20 * torch.rand(n, generator=g, dtype=dtype),
        "sigma_f": 0.5 + 5 * torch.rand(n, generator=g, dtype=dtype),
        "gamma": (torch.rand(n, generator=g, dtype=dtype) - 0.5) * 4 * math.pi,
        "freq": NYQUIST * torch.rand(n, generator=g, dtype=dtype),
    }
    if phase:
        p["phase"] = (torch.rand(n, generator=g, dtype=dtype) - 0.5) * 2 * math.pi
    return p


# ---- agreement with the formula -------------------------------------------------------

@pytest.mark.parametrize("size", [(9, 21), (4, 10), (1, 7), (5, 1)])
@pytest.mark.parametrize("normalize", [True, False])
def test_kernels_equal_the_formula_filter_by_filter(size, normalize):
    p = random_params(6)
    k = gabor_kernels(**p, size_f=size[0], size_t=size[1], normalize=normalize)
    assert k.dtype == torch.complex128
    for i in range(6):
        ref = slow_kernel(*(float(p[name][i]) for name in ("sigma_t", "sigma_f", "gamma", "freq", "phase")),
                          *size, normalize=normalize)
        torch.testing.assert_close(k[i], ref, atol=1e-6 * ref.abs().max().item() + 1e-12, rtol=0)


def test_real_imag_output_and_no_phase():
    p = random_params(3, phase=False)
    re, im = gabor_kernels(**p, size_f=5, size_t=9, as_complex=False)
    k = gabor_kernels(**p, size_f=5, size_t=9)
    torch.testing.assert_close(re, k.real)
    torch.testing.assert_close(im, k.imag)
    torch.testing.assert_close(k, gabor_kernels(**p, phase=torch.zeros(3, dtype=torch.float64), size_f=5, size_t=9))


def test_known_kernels():
    # F = 0: a Gaussian blob, real and even; the centre tap is 1 / (2 pi st sf)
    k = gabor_kernels(torch.tensor([2.0]), 3.0, 0.7, 0.0, size_f=7, size_t=9)[0]
    assert k.imag.abs().max() == 0
    assert math.isclose(k.real[3, 4].item(), 1 / (2 * math.pi * 6), rel_tol=1e-6)
    torch.testing.assert_close(k.real, k.real.flip(0, 1))
    # gamma = 0: a purely temporal wave; every row has the same phase progression
    k = gabor_kernels(torch.tensor([50.0]), 50.0, 0.0, 0.25, size_f=3, size_t=8, normalize=False)[0]
    ratio = k[:, 1:] / k[:, :-1]
    torch.testing.assert_close(ratio.angle(), torch.full_like(ratio.real, math.pi / 2), atol=1e-5, rtol=0)


def test_broadcasting_and_shapes():
    st = torch.rand(4, 3) + 1
    k = gabor_kernels(st, 2.0, torch.zeros(1, 3), 0.1, size_f=5, size_t=11)
    assert k.shape == (4, 3, 5, 11)
    assert gabor_kernels(2.0, 2.0, 0.0, 0.1, size_f=3, size_t=4).shape == (3, 4)
    re, im = gabor_kernels(torch.ones(2), 1.0, 0.0, 0.1, size_f=3, size_t=4, as_complex=False)
    assert re.shape == im.shape == (2, 3, 4) and re.dtype == torch.float32


def test_far_tails_are_exact_zeros_not_subnormals():
    k = gabor_kernels(torch.tensor([1.0]), 1.0, 0.3, 0.1, size_f=3, size_t=111, as_complex=False)[0]
    tiny = k[(k != 0) & (k.abs() < torch.finfo(torch.float32).tiny)]
    assert tiny.numel() == 0 and k[0, 0, 0] == 0


# ---- gradients ------------------------------------------------------------------------

@pytest.mark.parametrize("normalize", [True, False])
def test_kernel_gradients_match_finite_differences(normalize):
    p = {k: v.requires_grad_() for k, v in random_params(3).items()}
    p["freq"] = (0.05 + 0.4 * torch.rand(3, dtype=torch.float64)).requires_grad_()
    names = ("sigma_t", "sigma_f", "gamma", "freq", "phase")

    def fn(*args):
        return gabor_kernels(*args, size_f=5, size_t=8, normalize=normalize, as_complex=False)

    assert torch.autograd.gradcheck(fn, tuple(p[n] for n in names))
    assert torch.autograd.gradcheck(lambda *a: fn(*a, None)[1], tuple(p[n] for n in names[:4]))
    assert torch.autograd.gradcheck(lambda *a: gabor_kernels(*a, size_f=3, size_t=6).abs(), tuple(p[n] for n in names))


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("with_phase,output", [(False, "magnitude"), (False, "complex"), (True, "complex")])
def test_gradients_reach_every_filter_parameter(method, with_phase, output):
    # (the magnitude does not depend on the phase: |exp(i phi) z| = |z|)
    # (and the energy re^2 + im^2 does not either: the loss weighs the outputs at random)
    torch.manual_seed(7)
    layer = GaborSTRF(6, kernel_size=(5, 21), with_phase=with_phase, method=method, output=output)
    names = {"raw_sigma_t", "raw_sigma_f", "gamma", "raw_freq"} | ({"phase"} if with_phase else set())
    assert {n for n, _ in layer.named_parameters()} == names
    y = layer(torch.randn(2, 1, 16, 30))
    (y * torch.randn_like(y)).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert (p.grad.abs() > 0).all(), f"no gradient reaches every filter's {name}"


def test_layer_gradients_agree_between_methods():
    x = torch.randn(2, 1, 12, 40, dtype=torch.float64)
    grads = []
    for method in ("direct", "fft"):
        torch.manual_seed(1)
        layer = GaborSTRF(4, kernel_size=(5, 33), method=method).double()
        layer(x).pow(2).sum().backward()
        grads.append(torch.cat([p.grad.flatten() for p in layer.parameters()]))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-7, atol=1e-10)


def test_a_few_training_steps_change_parameters_and_stay_finite():
    torch.manual_seed(0)
    layer = GaborSTRF(4, kernel_size=(5, 21), output="magnitude")
    before = layer.params()
    opt = torch.optim.Adam(layer.parameters(), lr=0.5)  # large steps: constraints must hold
    x = torch.randn(4, 1, 16, 30)
    for _ in range(20):
        opt.zero_grad()
        (-layer(x).mean()).backward()
        opt.step()
    after = layer.params()
    assert any(not torch.allclose(before[k], after[k]) for k in before)
    assert (after["sigma_t"] > 0).all() and (after["sigma_f"] > 0).all()
    assert ((after["freq"] > 0) & (after["freq"] < NYQUIST)).all()
    assert torch.isfinite(layer(x)).all()


# ---- the layer: shapes, batches, methods ----------------------------------------------

@pytest.mark.parametrize("output,channels", [("complex", 10), ("magnitude", 5)])
def test_layer_shapes(output, channels):
    layer = GaborSTRF(5, kernel_size=(3, 7), output=output)
    assert layer(torch.randn(2, 1, 12, 20)).shape == (2, channels, 12, 20)
    assert layer(torch.randn(2, 12, 20)).shape == (2, channels, 12, 20)  # (batch, n_mels, frames)
    assert layer.out_channels == channels
    two = GaborSTRF(3, in_channels=2, kernel_size=(3, 7))
    assert two(torch.randn(1, 2, 8, 9)).shape == (1, 6, 8, 9)
    re, im = two.kernels()
    assert re.shape == im.shape == (3, 2, 3, 7)


def test_magnitude_is_the_modulus_of_the_complex_output():
    torch.manual_seed(2)
    c = GaborSTRF(3, kernel_size=(3, 9))
    m = GaborSTRF(3, kernel_size=(3, 9), output="magnitude")
    m.load_state_dict(c.state_dict())
    x = torch.randn(2, 1, 10, 15)
    y = c(x)
    torch.testing.assert_close(m(x), torch.sqrt(y[:, :3] ** 2 + y[:, 3:] ** 2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel", [(9, 111), (4, 30), (9, 9), (15, 3)])
def test_fft_and_direct_agree(kernel):
    torch.manual_seed(3)
    layer = GaborSTRF(6, kernel_size=kernel)
    x = torch.randn(2, 1, 24, 50)
    layer.method = "direct"
    direct = layer(x)
    layer.method = "fft"
    fft = layer(x)
    torch.testing.assert_close(fft, direct, atol=1e-5, rtol=0)


def test_the_layer_is_a_same_padded_correlation_with_its_kernels():
    torch.manual_seed(4)
    layer = GaborSTRF(3, kernel_size=(5, 9), method="fft")
    re, im = layer.kernels()
    x = torch.randn(1, 1, 11, 13)
    ref = torch.nn.functional.conv2d(x, torch.cat([re, im]), padding="same")
    torch.testing.assert_close(layer(x), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_batch_consistency(method):
    torch.manual_seed(5)
    layer = GaborSTRF(4, kernel_size=(5, 41), method=method, output="magnitude")
    x = torch.randn(5, 1, 16, 37)
    whole = layer(x)
    for i in range(5):
        torch.testing.assert_close(layer(x[i:i + 1])[0], whole[i], atol=1e-6, rtol=1e-5)


def test_autocast_fft_computes_in_float32_direct_like_conv2d():
    torch.manual_seed(8)
    layer = GaborSTRF(3, kernel_size=(5, 41), output="magnitude", method="fft")
    x = torch.randn(2, 1, 16, 30)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x.bfloat16())
        layer.method = "direct"
        z = layer(x)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    torch.testing.assert_close(y, layer(x.bfloat16().float()), atol=1e-5, rtol=1e-5)
    assert z.dtype == torch.bfloat16 and torch.isfinite(z).all()  # conv2d's autocast rule


def test_fixed_layer_has_buffers_not_parameters_and_the_same_state():
    fixed = GaborSTRF(4, kernel_size=(3, 5), trainable=False)
    learned = GaborSTRF(4, kernel_size=(3, 5))
    assert list(fixed.parameters()) == []
    assert set(fixed.state_dict()) == set(learned.state_dict())
    fixed.load_state_dict(learned.state_dict())
    x = torch.randn(1, 1, 6, 8)
    torch.testing.assert_close(fixed(x), learned(x))


def test_constraints_hold_for_any_raw_value():
    layer = GaborSTRF(3, kernel_size=(5, 11))
    with torch.no_grad():
        layer.raw_sigma_t.copy_(torch.tensor([[-200.0], [0.0], [200.0]]))
        layer.raw_sigma_f.copy_(torch.tensor([[-200.0], [0.0], [200.0]]))
        layer.raw_freq.copy_(torch.tensor([[-200.0], [0.0], [200.0]]))
    p = layer.params()
    # softplus(raw) + 1e-3 and NYQUIST * sigmoid(raw): -200 saturates at the floor, 0 is the middle, +200 the top
    widths = torch.tensor([[1e-3], [math.log(2.0) + 1e-3], [200.0 + 1e-3]])
    torch.testing.assert_close(p["sigma_t"], widths, rtol=1e-6, atol=0.0)
    torch.testing.assert_close(p["sigma_f"], widths, rtol=1e-6, atol=0.0)
    torch.testing.assert_close(p["freq"], torch.tensor([[0.0], [NYQUIST / 2], [NYQUIST]]), rtol=0.0, atol=1e-7)
    assert all(torch.isfinite(k).all() for k in layer.kernels())


def test_set_params_round_trip_and_init():
    layer = GaborSTRF(3, kernel_size=(3, 5), with_phase=True,
                      init={"sigma_t": [2.0, 4.0, 8.0], "sigma_f": 1.5, "gamma": 0.3, "freq": 0.2, "phase": 1.0})
    p = layer.params()
    torch.testing.assert_close(p["sigma_t"][:, 0], torch.tensor([2.0, 4.0, 8.0]))
    torch.testing.assert_close(p["freq"], torch.full((3, 1), 0.2))
    torch.testing.assert_close(p["phase"], torch.full((3, 1), 1.0))
    layer.set_params(gamma=torch.tensor([[0.1], [0.2], [0.3]]))
    torch.testing.assert_close(layer.params()["gamma"][:, 0], torch.tensor([0.1, 0.2, 0.3]))


def test_paper_init_spreads_over_the_modulation_plane():
    torch.manual_seed(6)
    p = paper_init(256)
    assert ((p["freq"] >= 0.25 * 1.41 ** -5 - 1e-6) & (p["freq"] <= 0.25 + 1e-6)).all()
    for name in ("sigma_t", "sigma_f"):
        assert ((p[name] >= 2 - 1e-6) & (p[name] <= 2 * 1.41 ** 6 + 1e-4)).all()
    # orientations cover the circle: temporal and spectral modulations both present
    assert p["gamma"].min() < -2.5 and p["gamma"].max() > 2.5
    assert (torch.cos(p["gamma"]).abs() > 0.9).any() and (torch.sin(p["gamma"]).abs() > 0.9).any()


# ---- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    ({"sigma_t": -1.0}, "sigma_t must be > 0"),
    ({"sigma_f": 0.0}, "sigma_f must be > 0"),
    ({"freq": 0.6}, "Nyquist"),
    ({"freq": -0.1}, "Nyquist"),
    ({"gamma": float("nan")}, "finite"),
    ({"sigma_t": torch.ones(3), "sigma_f": torch.ones(4)}, "broadcast"),
    ({"size_f": 0}, "size_f"),
    ({"size_t": 2.5}, "size_t"),
    ({"size_t": True}, "size_t"),
    ({"freq": torch.tensor([1], dtype=torch.int64)}, "floating"),
])
def test_bad_kernel_parameters_are_rejected(kwargs, match):
    args = {"sigma_t": 2.0, "sigma_f": 2.0, "gamma": 0.0, "freq": 0.1, "size_f": 3, "size_t": 5}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gabor_kernels(**args)


@pytest.mark.parametrize("kwargs,match", [
    ({"n_filters": 0}, "n_filters"),
    ({"in_channels": 0}, "in_channels"),
    ({"kernel_size": (9,)}, "kernel_size"),
    ({"kernel_size": (0, 5)}, "kernel_size"),
    ({"output": "phase"}, "output"),
    ({"padding": "valid"}, "padding"),
    ({"method": "winograd"}, "method"),
    ({"init": {"sigma": 1.0}}, "unknown keys"),
    ({"init": {"freq": 0.5}}, "strictly inside"),
    ({"init": {"sigma_t": -2.0}}, "sigma_t"),
    ({"init": {"sigma_t": [1.0, 2.0]}}, "does not fit"),
])
def test_bad_layer_arguments_are_rejected(kwargs, match):
    args = {"n_filters": 3, "kernel_size": (3, 5)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        GaborSTRF(**args)


def test_bad_inputs_are_rejected():
    layer = GaborSTRF(2, kernel_size=(3, 5))
    with pytest.raises(ValueError, match="log-mel"):
        layer(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="log-mel"):
        layer(torch.randn(8, 8))
    with pytest.raises(ValueError, match="unknown parameters"):
        layer.set_params(phase=1.0)
    with pytest.raises(ValueError, match="freq"):
        layer.set_params(freq=0.7)
