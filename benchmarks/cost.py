"""Cost of APAC beside MobileNetV2 and ResNet50: parameters and CPU latency for one 1 s clip.

Every model is built by the registry (waveform in, logits out: the front-end is part of the
timed call), put in eval mode and called under ``torch.inference_mode`` on a batch of one
1 s clip at 16 kHz. The calls are interleaved model by model (round robin), so that a
change in the machine's load hits all models alike; the table gives the median (and the
10th-90th percentiles) over ``--repeats`` calls, after ``--warmup`` untimed calls, and the
median process CPU time per call (less sensitive to other jobs on a shared machine than
the wall clock, with one thread); "front-end ms" is the front-end alone.

    python benchmarks/cost.py                      # 35 classes (Speech Commands v2), 1 thread
    python benchmarks/cost.py --threads 2 --repeats 200 --models apac mobilenetv2

The paper claims APAC is as fast as MobileNetV2. Issue 3, section 8, "Cost".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from apac_lab.models import build_model, count_parameters, list_models
from apac_lab.utils import quick_or_full


def _parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["apac", "mobilenetv2", "resnet50"], choices=list_models())
    p.add_argument("--mode", default="std", help="front-end mode (default std)")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--n-classes", type=int, default=35)
    p.add_argument("--repeats", type=int, default=None, help="timed calls per model (default 30 quick, 200 full)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def measure(models: dict[str, torch.nn.Module], x: torch.Tensor, repeats: int, warmup: int):
    """Wall-clock and process-CPU seconds per call of each model on ``x``, interleaved round robin."""
    times: dict[str, list[float]] = {name: [] for name in models}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    with torch.inference_mode():
        for _ in range(warmup):
            for m in models.values():
                m(x)
        for _ in range(repeats):
            for name, m in models.items():
                c0, t0 = time.process_time(), time.perf_counter()
                m(x)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    return times, cpu


def main(argv=None) -> dict:
    args = _parse(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    repeats = args.repeats or quick_or_full(30, 200)
    x = 0.1 * torch.randn(1, args.sample_rate)
    models = {name: build_model(name, n_classes=args.n_classes, sample_rate=args.sample_rate, mode=args.mode).eval()
              for name in args.models}
    frontends = {f"{name} front-end": m.frontend for name, m in models.items()}
    times, cpu = measure({**models, **frontends}, x, repeats, args.warmup)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"Cost for one 1 s clip at {args.sample_rate} Hz (batch 1, eval, torch.inference_mode), "
          f"{args.n_classes} classes, front-end mode {args.mode!r}")
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); {repeats} timed calls per model after {args.warmup} warm-up, "
          f"interleaved")
    header = (f"{'model':<12} {'parameters':>12} {'of which front-end':>19} {'median ms':>10} {'p10-p90 ms':>14} "
              f"{'CPU ms':>7} {'front-end ms':>13}")
    print(header)
    print("-" * len(header))
    rows = {}
    for name, m in models.items():
        t = sorted(times[name])
        q = statistics.quantiles(t, n=10)
        fe = statistics.median(times[f"{name} front-end"])
        rows[name] = {"parameters": count_parameters(m), "frontend_parameters": count_parameters(m.frontend),
                      "median_ms": 1e3 * statistics.median(t), "p10_ms": 1e3 * q[0], "p90_ms": 1e3 * q[-1],
                      "frontend_ms": 1e3 * fe, "cpu_ms": 1e3 * statistics.median(cpu[name])}
        r = rows[name]
        print(f"{name:<12} {r['parameters']:>12,} {r['frontend_parameters']:>19,} {r['median_ms']:>10.2f} "
              f"{r['p10_ms']:>6.2f}-{r['p90_ms']:<7.2f} {r['cpu_ms']:>7.2f} {r['frontend_ms']:>13.2f}")
    if "apac" in rows and "mobilenetv2" in rows:
        a, b = rows["apac"], rows["mobilenetv2"]
        print(f"APAC / MobileNetV2: latency x{a['median_ms'] / b['median_ms']:.2f} (CPU time x{a['cpu_ms'] / b['cpu_ms']:.2f}), "
              f"parameters x{a['parameters'] / b['parameters']:.2f}")
    print(f"load average (1, 5, 15 min) at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} "
          "(a shared machine inflates and scatters latencies; compare models within one run)")
    return rows


if __name__ == "__main__":
    main()
