"""Write a Speech Commands v2-shaped tree at the release's real size, for the full budget's data
path (``benchmarks/data_path.py``) and a first GPU run (issue 11 §5).

84,843 / 9,981 / 11,005 clips (train / validation / test) of the 35 words, each 1 s of 16 kHz
PCM_16 (a word-dependent tone in seeded noise, not speech), in the release layout
(``<word>/<speaker>_nohash_<n>.wav``) with the official ``validation_list.txt`` and
``testing_list.txt``; the generator is ``tests/_data_trees.py::make_speechcommands_tree``, the one
the tests use. The real-size tree takes about 3.4 GB and a few minutes: check the disk first
(``df -h``), and delete the tree when done. It refuses a folder that is not empty.

Usage::

    python benchmarks/make_speechcommands_tree.py /work/tmp-sc/speechcommands
    python benchmarks/make_speechcommands_tree.py /tmp/sc --scale 0.01      # 1% of every split
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from _data_trees import SC_OFFICIAL_SIZES, make_speechcommands_tree  # noqa: E402

from apac_lab.data.speechcommands import SPEECHCOMMANDS_CLASSES  # noqa: E402

BYTES_PER_CLIP = 44 + 2 * 16000  # the canonical header and 1 s of PCM_16 at 16 kHz


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="the folder to write (created; must be empty or absent)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the real split sizes (default 1: real size)")
    p.add_argument("--corrupt-fraction", type=float, default=0.0, help="fraction of corrupt files (default 0)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.root.exists() and (not args.root.is_dir() or any(args.root.iterdir())):
        print(f"make_speechcommands_tree: {args.root} exists and is not an empty folder; give a new folder "
              "(nothing was written)", file=sys.stderr)
        return 2
    sizes = {k: max(1, round(v * args.scale)) for k, v in SC_OFFICIAL_SIZES.items()}
    need = sum(sizes.values()) * BYTES_PER_CLIP
    parent = args.root if args.root.exists() else next(q for q in args.root.parents if q.exists())
    free = shutil.disk_usage(parent).free
    print(f"writing {sizes} clips ({need / 1e9:.2f} GB) into {args.root}; {free / 1e9:.1f} GB free there")
    if need > 0.9 * free:
        print(f"make_speechcommands_tree: not enough disk for {need / 1e9:.2f} GB (free {free / 1e9:.1f} GB)",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    tree = make_speechcommands_tree(args.root, sizes=sizes, words=tuple(SPEECHCOMMANDS_CLASSES),
                                    corrupt_fraction=args.corrupt_fraction, background=True, seed=args.seed)
    seconds = time.perf_counter() - t0
    du = subprocess.run(["du", "-sb", str(args.root)], capture_output=True, text=True).stdout.split()
    size = int(du[0]) if du else need
    print(f"wrote {sum(len(tree[s]) for s in SC_OFFICIAL_SIZES)} clips ({len(tree['corrupt'])} corrupt) in "
          f"{seconds:.0f} s: {size / 1e9:.2f} GB on disk ({size / 2**30:.2f} GiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
