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


def make_fsdd_tar(path: Path, folder: str = "free-spoken-digit-dataset-1.0.9") -> Path:
    """A tar.gz in FSDD's release layout: 2 digits x 2 speakers x indices 0..5, 8 kHz."""
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
