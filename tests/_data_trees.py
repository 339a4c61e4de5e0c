"""Tiny dataset trees in the public layouts, written by the tests (no real data needed)."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import tarfile
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

SC_WORDS = ("yes", "no", "up")
SC_SPEAKERS = ("0a1b2c3d", "4e5f6a7b", "8c9d0e1f")


def tone(freq: float, seconds: float, rate: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def make_speechcommands(root: Path, *, background: bool = True) -> Path:
    """3 words x 3 speakers x 2 utterances, 16 kHz, 0.25 s; speaker 2 is test, speaker 1's
    first utterance validation. Returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    val, test = [], []
    for w, word in enumerate(SC_WORDS):
        (root / word).mkdir()
        for s, spk in enumerate(SC_SPEAKERS):
            for n in range(2):
                rel = f"{word}/{spk}_nohash_{n}.wav"
                sf.write(root / rel, tone(300 + 100 * w + 10 * s, 0.25, 16000), 16000, subtype="PCM_16")
                if s == 2:
                    test.append(rel)
                elif s == 1 and n == 0:
                    val.append(rel)
    (root / "validation_list.txt").write_text("\n".join(val) + "\n")
    (root / "testing_list.txt").write_text("\n".join(test) + "\n")
    if background:
        (root / "_background_noise_").mkdir()
        noise = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
        sf.write(root / "_background_noise_" / "white_noise.wav", noise, 16000)
    return root


ESC_ROWS = [  # (fold, target, category, esc10)
    (1, 0, "dog", True), (2, 0, "dog", True), (3, 0, "dog", True), (4, 0, "dog", True), (5, 0, "dog", True),
    (1, 3, "cow", False), (2, 3, "cow", False), (3, 3, "cow", False), (4, 3, "cow", False), (5, 3, "cow", False),
    (1, 41, "chainsaw", True), (5, 41, "chainsaw", True),
]


def make_esc50(root: Path, rows=ESC_ROWS, *, rate: int = 44100, seconds: float = 0.5) -> Path:
    """A few ESC-50 clips (short, so that the loader pads them to 5 s) and meta/esc50.csv."""
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "meta").mkdir(exist_ok=True)
    with open(root / "meta" / "esc50.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        for i, (fold, target, category, esc10) in enumerate(rows):
            name = f"{fold}-{1000 + i}-A-{target}.wav"
            sf.write(root / "audio" / name, tone(200 + 20 * target, seconds, rate), rate, subtype="PCM_16")
            w.writerow([name, fold, target, category, esc10, 1000 + i, "A"])
    return root


def make_fsdd_tar(path: Path, folder: str | None = None) -> Path:
    """A tar.gz in FSDD's release layout: 2 digits x 2 speakers x indices 0..5, 8 kHz, under ``folder``
    (None: the pinned release's top folder)."""
    if folder is None:
        from apac_lab.data import DOWNLOADS

        folder = DOWNLOADS["fsdd"].folder
    with tarfile.open(path, "w:gz") as tar:
        for d in range(2):
            for spk in ("zoe", "yan"):
                for i in range(6):
                    buf = io.BytesIO()
                    sf.write(buf, tone(250 + 50 * d + i, 0.2, 8000), 8000, format="WAV", subtype="PCM_16")
                    data = buf.getvalue()
                    info = tarfile.TarInfo(f"{folder}/recordings/{d}_{spk}_{i}.wav")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        readme = b"tiny FSDD for tests\n"
        info = tarfile.TarInfo(f"{folder}/README.md")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@contextmanager
def serve_folder(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 (random port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- Speech Commands trees of any size, some files corrupt ------------------------------------

#: The official v2 split sizes (clips of the 35 words), for a real-size tree.
SC_OFFICIAL_SIZES = {"train": 84_843, "validation": 9_981, "test": 11_005}
_SPLIT_CODE = {"train": "a", "validation": "b", "test": "c"}  # first hex digit of the split's speakers
CORRUPT_KINDS = ("garbage", "truncated", "nan")


def _wav_bytes(samples: np.ndarray, rate: int, *, float32: bool = False) -> bytes:
    """A canonical 44-byte-header mono WAV: PCM_16 (or IEEE float32) ``samples``."""
    data = samples.astype("<f4").tobytes() if float32 else (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    width, fmt = (4, 3) if float32 else (2, 1)
    header = (b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
              + fmt.to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
              + (rate * width).to_bytes(4, "little") + width.to_bytes(2, "little") + (8 * width).to_bytes(2, "little")
              + b"data" + len(data).to_bytes(4, "little"))
    return header + data


def make_speechcommands_tree(
    root: Path,
    *,
    sizes: dict[str, int] | None = None,
    words: tuple[str, ...] = SC_WORDS,
    utterances: int = 5,
    seconds: float = 1.0,
    rate: int = 16000,
    corrupt_fraction: float = 0.0,
    background: bool = False,
    seed: int = 0,
) -> dict[str, list[str]]:
    """A Speech Commands v2 tree of any size, in the release layout, with the official list files.

    ``sizes`` gives the clips per split (``{"train": n, "validation": n, "test": n}``;
    :data:`SC_OFFICIAL_SIZES` with the 35 words is the real release's 84,843 / 9,981 /
    11,005). Clip ``k`` of a split is word ``words[k % len(words)]``; each speaker says
    each word ``utterances`` times, and the speakers of the three splits are disjoint
    (their ids start with a, b, c), as in the release. Every clip is ``seconds`` long at
    ``rate`` Hz: a word-dependent tone in seeded noise. Files are written as raw bytes, so a
    real-size tree (about 3.4 GB) takes a few minutes, not hours.

    ``corrupt_fraction`` of the clips (every ``round(1 / fraction)``-th of each split,
    the first one in the middle of the split) are corrupt, cycling through
    :data:`CORRUPT_KINDS`: random bytes, a WAV cut to half its declared size, a float WAV
    holding a NaN.

    Returns:
        dict: ``{"train": [...], "validation": [...], "test": [...], "corrupt": [...]}``,
        the paths relative to ``root`` (``<word>/<speaker>_nohash_<n>.wav``).
    """
    sizes = dict(sizes or {"train": 30, "validation": 6, "test": 6})
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    tones = {w: 0.3 * np.sin(2 * np.pi * (250 + 60 * i) * t) for i, w in enumerate(words)}
    noise = rng.normal(0, 0.05, n + 4096)
    every = int(round(1 / corrupt_fraction)) if corrupt_fraction > 0 else 0
    root.mkdir(parents=True, exist_ok=True)
    for w in words:
        (root / w).mkdir(exist_ok=True)
    out: dict[str, list[str]] = {"train": [], "validation": [], "test": [], "corrupt": []}
    corrupt_count = 0
    for split, count in sizes.items():
        for k in range(count):
            word = words[k % len(words)]
            j = k // len(words)
            rel = f"{word}/{_SPLIT_CODE[split]}{j // utterances:07x}_nohash_{j % utterances}.wav"
            shift = (k * 7919) % 4096
            wave = (tones[word] + noise[shift : shift + n]).astype(np.float32)
            if every and k % every == every // 2:
                kind = CORRUPT_KINDS[corrupt_count % len(CORRUPT_KINDS)]
                corrupt_count += 1
                if kind == "garbage":
                    data = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
                elif kind == "truncated":
                    data = _wav_bytes(wave, rate)
                    data = data[: 44 + (len(data) - 44) // 2]
                else:
                    wave[n // 2] = np.nan
                    data = _wav_bytes(wave, rate, float32=True)
                out["corrupt"].append(rel)
            else:
                data = _wav_bytes(wave, rate)
            (root / rel).write_bytes(data)
            out[split].append(rel)
    (root / "validation_list.txt").write_text("".join(f"{r}\n" for r in sorted(out["validation"])))
    (root / "testing_list.txt").write_text("".join(f"{r}\n" for r in sorted(out["test"])))
    if background:
        (root / "_background_noise_").mkdir(exist_ok=True)
        (root / "_background_noise_" / "white_noise.wav").write_bytes(_wav_bytes(noise[: 4 * rate], rate))
    return out
