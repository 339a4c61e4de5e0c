"""The full budget's data path: load and batch one epoch of a Speech Commands tree with the
training loop's own DataLoader (``apac_lab.train.make_loader``, default settings), and print
clips/s and peak memory, against what a GPU needs and what Colab has (issue 11 §5).

It answers two questions before the first GPU run:

* **Will loading starve the GPU?** The loader's clips/s against the clips/s a GPU trains at. Where
  no GPU figure is recorded, the need is estimated from APAC's training throughput on this CPU
  (``benchmarks/throughput.py``'s measurement, run here for a few steps) times ``--gpu-speedup``,
  a stated assumption (default 100: one GPU step as fast as 100 steps on 2 CPU threads).
* **Will memory fit Colab's 12 GB?** The peak memory of the loading processes (main and
  workers, counted once: the proportional set size, PSS), and what the runner's in-memory
  cache (``--cache auto``) would hold for each split.

Usage::

    python benchmarks/make_speechcommands_tree.py /work/tmp-sc/speechcommands   # the real-size tree
    python benchmarks/data_path.py /work/tmp-sc/speechcommands                  # one epoch, loop defaults
    python benchmarks/data_path.py ROOT --num-workers 0 2 --max-batches 500     # compare worker counts
    python benchmarks/data_path.py ROOT --device cuda                           # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

COLAB_RAM_GB = 12.0
GB = 1e9


def _kib(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except OSError:
            pass
    return out + [g for c in out for g in _children(c)]


def process_tree_memory(pid: int | None = None) -> tuple[int, int, int]:
    """``(main RSS, main + children PSS, number of children)`` in bytes, from /proc (Linux)."""
    pid = pid or os.getpid()
    kids = _children(pid)
    pss = sum(_kib(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in [pid] + kids)
    return 1024 * _kib(Path(f"/proc/{pid}/status"), "VmRSS"), 1024 * pss, len(kids)


class PeakMemory:
    """Samples :func:`process_tree_memory` every ``every`` seconds in a thread; ``.peak`` holds the
    largest main RSS, total PSS and worker count seen."""

    def __init__(self, every: float = 0.25) -> None:
        self.every, self.peak, self._stop = every, [0, 0, 0], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = [max(a, b) for a, b in zip(self.peak, process_tree_memory())]
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = [max(a, b) for a, b in zip(self.peak, process_tree_memory())]


def one_epoch(ds, config, *, device: str, max_batches: int | None) -> dict:
    """Iterate the training loader of ``ds`` once (as :func:`apac_lab.train.fit` builds it),
    moving each batch to ``device``; clips/s and peak memory."""
    import torch

    from apac_lab.train import make_loader

    loader = make_loader(ds, config, train=True)
    workers, pinned = loader.num_workers, loader.pin_memory
    steps = len(loader) if max_batches is None else min(max_batches, len(loader))
    clips, t0, c0 = 0, time.perf_counter(), cpu_seconds()
    with PeakMemory() as mem:
        for i, (x, y) in enumerate(loader):
            if i >= steps:
                break
            x = x.to(device, non_blocking=True)
            torch.as_tensor(y).to(device, non_blocking=True)
            clips += x.shape[0]
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        del loader  # joins the workers, so that their CPU time is counted
    cpu = cpu_seconds() - c0
    return {"num_workers": workers, "pin_memory": pinned, "batches": steps, "clips": clips, "seconds": seconds,
            "clips_per_s": clips / seconds, "cpu_seconds": cpu, "cpu_ms_per_clip": 1000 * cpu / clips,
            "peak_main_rss": mem.peak[0], "peak_pss": mem.peak[1], "workers_seen": mem.peak[2]}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the loader's joined workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cache_plan(splits: dict) -> list[dict]:
    """What the runner's ``--cache auto`` holds in memory for each split, and its size."""
    from apac_lab.train.runner import CACHE_AUTO_BYTES, cache_bytes

    return [{"split": name, "clips": len(ds), "bytes": cache_bytes(ds), "cached": cache_bytes(ds) <= CACHE_AUTO_BYTES}
            for name, ds in splits.items()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="a Speech Commands v2 tree (make_speechcommands_tree.py writes one)")
    p.add_argument("--split", default="train")
    p.add_argument("--num-workers", nargs="+", type=int, default=None,
                   help="worker counts to compare (default: the training loop's own choice)")
    p.add_argument("--batch-size", type=int, default=None, help="default: TrainConfig's")
    p.add_argument("--device", default="cpu", help="where batches go (cuda on a GPU machine)")
    p.add_argument("--max-batches", type=int, default=None, help="stop after this many batches (default: one epoch)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (the CPU training figure uses them)")
    p.add_argument("--gpu-speedup", type=float, default=100.0,
                   help="assumed GPU training speed, in multiples of this CPU's (default 100)")
    p.add_argument("--gpu-clips-per-s", type=float, default=None,
                   help="a measured GPU training figure (clips/s) to compare with, instead of the assumption")
    p.add_argument("--record", type=Path, default=None, help="also write the figures to this JSON file")
    args = p.parse_args(argv)

    import torch

    from apac_lab.data import load_speechcommands
    from apac_lab.train import TrainConfig

    torch.set_num_threads(args.threads)
    splits = {s: load_speechcommands(args.root, split=s) for s in ("train", "validation", "test")}
    ds = splits[args.split]
    base = TrainConfig(epochs=1, progress=False, device=args.device,
                       **({"batch_size": args.batch_size} if args.batch_size else {}))
    print(f"data path: {ds.name}, {len(ds):,} clips of {ds.num_samples / ds.sample_rate:g} s at {ds.sample_rate} Hz "
          f"from {args.root}; batch {base.batch_size}; device {args.device}; {os.cpu_count()} cores, torch threads "
          f"{torch.get_num_threads()}")

    plan = cache_plan(splits)
    for c in plan:
        print(f"  --cache auto, {c['split']:<10}: {c['clips']:>6,} clips = {c['bytes'] / GB:5.2f} GB as float32 -> "
              f"{'held in memory' if c['cached'] else 'read from disk each epoch'}")
    held = sum(c["bytes"] for c in plan if c["cached"])
    print(f"  in memory with --cache auto: {held / GB:.2f} GB (against Colab's {COLAB_RAM_GB:g} GB)")

    runs = []
    configs = ([base] if args.num_workers is None else
               [TrainConfig(**{**base.to_dict(), "num_workers": n}) for n in args.num_workers])
    for cfg in configs:
        r = one_epoch(ds, cfg, device=args.device, max_batches=args.max_batches)
        runs.append(r)
        print(f"  workers {r['num_workers']} (pin_memory {r['pin_memory']}): {r['clips']:,} clips in {r['seconds']:.1f} s "
              f"= {r['clips_per_s']:,.0f} clips/s ({r['cpu_ms_per_clip']:.2f} ms of CPU per clip); peak memory: main RSS "
              f"{r['peak_main_rss'] / GB:.2f} GB, all loading processes (PSS) {r['peak_pss'] / GB:.2f} GB", flush=True)

    if args.gpu_clips_per_s:
        need, why = args.gpu_clips_per_s, f"the GPU figure given ({args.gpu_clips_per_s:,.0f} clips/s)"
    else:
        from throughput import measure

        c0, threads = cpu_seconds(), torch.get_num_threads()
        cpu = measure("apac", "std", "cpu", batch_size=base.batch_size, steps=3, warmup=1, amp=False)
        busy = cpu_seconds() - c0  # warm-up and timed steps: 4 steps of the batch
        cpu_rate = max(cpu["clips_per_s"], 4 * base.batch_size / (busy / threads))
        need = cpu_rate * args.gpu_speedup
        why = (f"APAC (std) trains at {cpu_rate:.1f} clips/s on {threads} CPU threads (benchmarks/throughput.py's "
               f"loop; wall {cpu['clips_per_s']:.1f}, or from its CPU time, on a busy machine); assumed GPU = "
               f"{args.gpu_speedup:g} x that")
    peak = max(r["peak_pss"] for r in runs)
    cost = max(r["cpu_ms_per_clip"] for r in runs)  # the dearest way measured: reading, batching, passing on
    per_core = 1000 / cost  # clips/s one core delivers
    print(f"GPU need: {need:,.0f} clips/s ({why})")
    print(f"reading costs up to {cost:.2f} ms of CPU per clip: {per_core:,.0f} clips/s per worker with a core to itself")
    from apac_lab.train.loop import auto_workers

    verdicts = []
    for where, cores in (("this machine", os.cpu_count() or 1), ("free Colab (2 cores)", 2),
                         ("a 16-core GPU machine", 16)):
        workers = auto_workers(in_memory=False, device_type="cuda", cores=cores)
        capacity = workers * per_core
        verdicts.append(capacity >= need)
        print(f"  {where}: the loop starts {workers} worker(s) on a GPU -> up to {capacity:,.0f} clips/s: "
              + ("keeps up" if capacity >= need else f"STARVES it ({capacity / need:.2f} x the need)"))
    print(f"  without workers (the previous default: reading in the process that feeds the GPU): up to "
          f"{per_core:,.0f} clips/s, "
          + ("keeps up" if per_core >= need else f"{per_core / need:.2f} x the need"))
    fits = peak + held <= COLAB_RAM_GB * GB
    print(f"memory: loading peak {peak / GB:.2f} GB + cache {held / GB:.2f} GB = {(peak + held) / GB:.2f} GB -> "
          f"{'fits' if fits else 'EXCEEDS'} Colab's {COLAB_RAM_GB:g} GB")
    if args.record:
        from notebook_runner import git_state, machine_info

        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps({
            "benchmark": "benchmarks/data_path.py", "root": str(args.root), "split": args.split, "clips": len(ds),
            "batch_size": base.batch_size, "device": args.device, "runs": runs, "cache_auto": plan, "gpu_need": need,
            "clips_per_s_per_worker": per_core,
            "gpu_need_basis": why, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **git_state(),
            "machine": machine_info()}, indent=1) + "\n")
        print(f"recorded in {args.record}")
    return 0 if all(verdicts[1:]) and fits else 1


if __name__ == "__main__":
    raise SystemExit(main())
