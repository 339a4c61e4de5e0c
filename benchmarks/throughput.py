"""Training throughput in clips per second: the real training loop (``apac_lab.train.fit``, through
``apac_lab.train.training_throughput``, which the full budget's time estimate uses) on random 1 s
clips at 16 kHz, on the CPU and, where there is one, a CUDA GPU with mixed precision.

Each model is trained for ``--warmup`` steps (not timed: allocation, kernel selection),
then ``--steps`` timed steps; the figure is clips seen / seconds of those steps (forward,
backward, optimiser step, with the front-end on the device). Data is held in memory so the
figure is the model's, not the disk's.

Usage::

    python benchmarks/throughput.py                          # CPU, 2 threads, then CUDA if available
    python benchmarks/throughput.py --device cuda --batch-size 128 --models apac mobilenetv2 resnet50
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(name: str, mode: str, device: str, *, batch_size: int, steps: int, warmup: int, amp: bool,
            sample_rate: int = 16000, n_classes: int = 35) -> dict:
    """One model's rate, by :func:`apac_lab.train.training_throughput` (what the full budget's
    time estimate uses)."""
    from apac_lab.train import run_settings, training_throughput

    s = run_settings(dataset="speechcommands", model=name, mode=mode, sample_rate=sample_rate, batch_size=batch_size,
                     device=device, amp=amp, seed=0)
    r = training_throughput(s, n_classes, steps=steps, warmup=warmup)
    return {"model": name, "mode": mode, "device": device, "amp": amp and device.startswith("cuda"),
            "params": r["parameters"], "clips_per_s": r["train_clips_per_s"], "step_s": r["step_seconds"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["apac", "mobilenetv2", "resnet50"])
    p.add_argument("--modes", nargs="+", default=["std", "mel+stft"], help="front-end modes for APAC")
    p.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    devices = ["cpu"] if args.device == "cpu" else ["cuda"] if args.device == "cuda" else \
        ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" in devices and not torch.cuda.is_available():
        print("no CUDA GPU here")
        return 2
    print(f"training throughput, 1 s clips at 16 kHz, batch {args.batch_size}, {args.steps} timed steps after "
          f"{args.warmup} warm-up; CPU threads {args.threads}; torch {torch.__version__}")
    if "cuda" in devices:
        print(f"GPU: {torch.cuda.get_device_name()} (mixed precision float16)")
    print(f"{'device':<9} {'model':<12} {'mode':<9} {'params':>10} {'clips/s':>9} {'s/step':>8}")
    for device in devices:
        for name in args.models:
            for mode in (args.modes if name == "apac" else ["std"]):
                r = measure(name, mode, device, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
                            amp=True)
                print(f"{device + ('+amp' if r['amp'] else ''):<9} {name:<12} {mode:<9} {r['params']:>10,} "
                      f"{r['clips_per_s']:>9.1f} {r['step_s']:>8.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
