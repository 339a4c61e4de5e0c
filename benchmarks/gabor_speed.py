"""Speed of the Gabor STRF layer against the reference approach (issue 4, section 1).

Prints, for 64 filters of 9 x 111 (mel bands x frames) on a batch of 8 log-mels of
64 x 101, forward plus backward (median of ``--repeats`` blocks, see :func:`race`):

(a) kernel construction: :func:`apac_lab.frontends.gabor_kernels` (all filters at
    once) against a per-filter Python loop of the same formula (the public reference
    implementation's way; here in one loop for both parts, which favours it);
(b) the whole layer: :class:`apac_lab.frontends.GaborSTRF` (vectorised kernels, and
    FFT convolution chosen by kernel size) against loop-built kernels plus a direct
    ``conv2d``. The input log-mel does not need a gradient (``--input-grad`` to add it).

``--crossover`` prints direct vs FFT convolution times over kernel sizes, the numbers
behind ``apac_lab.frontends.fftconv.FFT_MIN_TAPS``.

Run on one thread, as CI does::

    OMP_NUM_THREADS=1 python benchmarks/gabor_speed.py --repeats 15
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F

from apac_lab.frontends import GaborSTRF, conv2d_same, gabor_kernels, paper_init


def loop_kernels(sigma_t, sigma_f, gamma, freq, *, size_f: int, size_t: int):
    """The reference approach: one filter at a time, the formula on the full grid."""
    f = torch.arange(size_f, dtype=sigma_t.dtype) - (size_f - 1) / 2
    t = torch.arange(size_t, dtype=sigma_t.dtype) - (size_t - 1) / 2
    ff, tt = torch.meshgrid(f, t, indexing="ij")
    real, imag = [], []
    for i in range(sigma_t.shape[0]):
        env = torch.exp(-0.5 * (tt ** 2 / sigma_t[i] ** 2 + ff ** 2 / sigma_f[i] ** 2))
        arg = 2 * math.pi * freq[i] * (tt * torch.cos(gamma[i]) + ff * torch.sin(gamma[i]))
        norm = 1.0 / (2 * math.pi * sigma_t[i] * sigma_f[i])
        real.append(env * torch.cos(arg) * norm)
        imag.append(env * torch.sin(arg) * norm)
    return torch.stack(real), torch.stack(imag)


def timed(fn, number: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) per call, over ``number`` calls."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(number):
        fn()
    return (time.perf_counter() - w0) / number, (time.process_time() - c0) / number


def race(fns: dict, repeats: int, min_block_s: float = 0.05) -> dict:
    """Median CPU and wall seconds per call of each function, over ``repeats`` blocks.

    As ``timeit`` does: each block runs a function enough times to last ``min_block_s``
    (after a warm-up call) and gives the mean time per call; garbage collection waits
    until the block is done. The functions take turns block by block, so that load
    changes on a shared machine hit all alike. The CPU time of this process is the
    steadier measure of the work done (other processes' time slices do not count in
    it); both are printed.
    """
    number = {}
    for k, fn in fns.items():
        fn()
        w, _ = timed(fn, 1)
        number[k] = max(1, math.ceil(min_block_s / max(w, 1e-6)))
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            fn()
            gc.collect()
            gc.disable()
            try:
                times[k].append(timed(fn, number[k]))
            finally:
                gc.enable()
    return {k: {"wall": statistics.median(w for w, _ in v), "cpu": statistics.median(c for _, c in v)}
            for k, v in times.items()}


def _line(label: str, slow: str, fast: str, t: dict, target: float) -> str:
    cpu, wall = t[slow]["cpu"] / t[fast]["cpu"], t[slow]["wall"] / t[fast]["wall"]
    return (f"{label}: {slow} {t[slow]['cpu'] * 1e3:.2f} ms, {fast} {t[fast]['cpu'] * 1e3:.2f} ms (CPU time) "
            f"-> {cpu:.1f}x (target >= {target:g}x); wall-clock {t[slow]['wall'] * 1e3:.2f} vs "
            f"{t[fast]['wall'] * 1e3:.2f} ms -> {wall:.1f}x")


def bench_kernels(n: int, size_f: int, size_t: int, repeats: int) -> dict:
    p = {k: v[:, 0].clone().requires_grad_() for k, v in paper_init(n).items() if k != "phase"}
    grads = list(torch.randn(2, n, size_f, size_t))  # upstream gradients of the two parts

    def vectorised():
        re, im = gabor_kernels(p["sigma_t"], p["sigma_f"], p["gamma"], p["freq"], size_f=size_f, size_t=size_t,
                               as_complex=False, check=False)
        torch.autograd.backward([re, im], grads)

    def loop():
        re, im = loop_kernels(p["sigma_t"], p["sigma_f"], p["gamma"], p["freq"], size_f=size_f, size_t=size_t)
        torch.autograd.backward([re, im], grads)

    return race({"loop": loop, "vectorised": vectorised}, repeats)


def bench_layer(n: int, size_f: int, size_t: int, batch: int, n_mels: int, frames: int, repeats: int,
                input_grad: bool) -> tuple[dict, float]:
    layer = GaborSTRF(n, kernel_size=(size_f, size_t), output="complex")
    ref = {k: v[:, 0].detach().clone().requires_grad_() for k, v in layer.params().items()}
    x = torch.randn(batch, 1, n_mels, frames, requires_grad=input_grad)
    grad = torch.randn(batch, 2 * n, n_mels, frames)  # the gradient flowing back into the layer

    def reference():
        re, im = loop_kernels(ref["sigma_t"], ref["sigma_f"], ref["gamma"], ref["freq"], size_f=size_f, size_t=size_t)
        y = F.conv2d(x, torch.cat([re, im])[:, None], padding="same")
        y.backward(grad)

    def ours():
        layer(x).backward(grad)

    with torch.no_grad():
        re, im = loop_kernels(ref["sigma_t"], ref["sigma_f"], ref["gamma"], ref["freq"], size_f=size_f, size_t=size_t)
        diff = (layer(x) - F.conv2d(x, torch.cat([re, im])[:, None], padding="same")).abs().max().item()
    return race({"reference": reference, "GaborSTRF": ours}, repeats), diff


def bench_crossover(n: int, batch: int, n_mels: int, frames: int, repeats: int) -> None:
    x = torch.randn(batch, 1, n_mels, frames)
    print(f"\ncrossover: {n} complex filters (= {2 * n} real kernels) on {batch} x {n_mels} x {frames}, fwd+bwd, CPU ms")
    print(f"{'kernel':>10} {'taps':>6} {'direct':>9} {'fft':>9}")
    for kf, kt in [(3, 3), (5, 5), (5, 11), (9, 9), (9, 15), (9, 21), (9, 31), (9, 55), (9, 111), (15, 111)]:
        w = torch.randn(2 * n, 1, kf, kt, requires_grad=True)
        fns = {m: (lambda m=m: conv2d_same(x, w, method=m).square().mean().backward()) for m in ("direct", "fft")}
        t = race(fns, max(3, repeats // 3))
        print(f"{f'{kf}x{kt}':>10} {kf * kt:>6} {t['direct']['cpu'] * 1e3:>9.1f} {t['fft']['cpu'] * 1e3:>9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--kernel", type=int, nargs=2, default=(9, 111), metavar=("BANDS", "FRAMES"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--input", type=int, nargs=2, default=(64, 101), metavar=("N_MELS", "FRAMES"))
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--input-grad", action="store_true", help="the input log-mel needs a gradient too")
    ap.add_argument("--crossover", action="store_true", help="also time direct vs FFT over kernel sizes")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    (kf, kt), (n_mels, frames) = a.kernel, a.input
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), {os.cpu_count()} CPUs; "
          f"median of {a.repeats} alternating blocks of >= 50 ms")
    print(f"{a.filters} Gabor filters of {kf} x {kt} (bands x frames); batch of {a.batch} log-mels of {n_mels} x {frames}")

    k = bench_kernels(a.filters, kf, kt, a.repeats)
    print(_line("(a) kernel construction fwd+bwd", "loop", "vectorised", k, 20))
    t, diff = bench_layer(a.filters, kf, kt, a.batch, n_mels, frames, a.repeats, a.input_grad)
    print(_line("(b) whole layer fwd+bwd", "reference", "GaborSTRF", t, 3)
          + f"\n    reference = loop-built kernels + direct conv2d; max |difference| of outputs {diff:.1e}")
    # The reference's kernels have far Gaussian tails in subnormal floats, which the CPU
    # multiplies slowly (GaborSTRF zeroes tails below 1e-13). Timed again with subnormals
    # flushed to zero for both, to show what the speed-up owes to that.
    if torch.set_flush_denormal(True):
        t, _ = bench_layer(a.filters, kf, kt, a.batch, n_mels, frames, a.repeats, a.input_grad)
        torch.set_flush_denormal(False)
        print(_line("    same, subnormals flushed to zero", "reference", "GaborSTRF", t, 3))
    if a.crossover:
        bench_crossover(a.filters, a.batch, n_mels, frames, a.repeats)


if __name__ == "__main__":
    main()
