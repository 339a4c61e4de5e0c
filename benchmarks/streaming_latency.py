"""Latency per chunk of the echoic stream against the real-time budget (the hop's duration).

Usage: ``python benchmarks/streaming_latency.py [--seconds 10] [--device cpu] [--threads 1]``

A recording (real FSDD digits strung together through ``load_dataset``, or the
synthetic fallback) is fed one hop at a time (10 ms = 80 samples at 8 kHz) to
:class:`apac_lab.frontends.EchoicStream`: gammatone frame (100 filters), ring buffer
(256 frames) and dilated buffer (8 steps, base 2, mean). A second pass also runs the
listener's encoder (latent 250) on every new view, as a real-time listener would.
Each chunk must be done before the next one arrives: within the hop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apac_lab import get_device, seed_everything  # noqa: E402
from apac_lab.data import load_dataset  # noqa: E402
from apac_lab.frontends import EchoicStream, power_to_unit  # noqa: E402
from apac_lab.models import Listener  # noqa: E402


def recording(seconds: float, sample_rate: int) -> torch.Tensor:
    ds = load_dataset("fsdd", "test", sample_rate=sample_rate)
    waves, need, i = [], int(seconds * sample_rate), 0
    while sum(w.numel() for w in waves) < need:
        waves.append(ds[i % len(ds)][0])
        i += 1
    return torch.cat(waves)[:need]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(wave: torch.Tensor, device: torch.device, listener: Listener | None, chunk: int | None) -> list[float]:
    stream = EchoicStream(sample_rate=8000, device=device)
    chunk = chunk or stream.hop
    wave = wave.to(device).unsqueeze(0)
    times = []
    with torch.no_grad():
        for i in range(0, wave.shape[1] - chunk + 1, chunk):
            _sync(device)
            t0 = time.perf_counter()
            step = stream.process(wave[:, i:i + chunk])
            if listener is not None and step.views.shape[1]:
                listener.encode(power_to_unit(step.views[:, -1], ref=1.0))
            _sync(device)
            times.append(time.perf_counter() - t0)
    return times


def report(name: str, times: list[float], budget: float) -> None:
    ms = sorted(t * 1000 for t in times[10:])  # the first chunks warm up
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    over = sum(t > budget * 1000 for t in ms)
    print(f"{name:34s} median {statistics.median(ms):7.3f} ms  p95 {p(0.95):7.3f} ms  max {ms[-1]:7.3f} ms  "
          f"budget {budget * 1000:.1f} ms  real-time factor {statistics.median(ms) / (budget * 1000):.3f}  "
          f"late chunks {over}/{len(ms)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="recording length (s)")
    ap.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--chunk", type=int, default=None, help="samples per chunk (default: one hop)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(0)
    device = get_device(args.device)
    wave = recording(args.seconds, 8000)
    stream = EchoicStream(sample_rate=8000)
    chunk = args.chunk or stream.hop
    budget = chunk / stream.sample_rate
    print(f"device {device}, {torch.get_num_threads()} thread(s); {args.seconds:g} s of audio in chunks of {chunk} "
          f"samples; budget per chunk = {budget * 1000:.1f} ms")
    print(stream.dilated.memory(stream.hop_seconds))
    report("gammatone + ring + dilated", measure(wave, device, None, chunk), budget)
    listener = Listener().to(device).eval()
    report("... + listener.encode (latent 250)", measure(wave, device, listener, chunk), budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
