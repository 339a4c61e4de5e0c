"""Print how closely the from-scratch and nnAudio front-ends match torchaudio on real FSDD.

Usage: APAC_LAB_DATA=../shared/data python benchmarks/frontend_agreement.py [--clips N]

For each setting and front-end it prints the relative error ||x - torchaudio|| / ||torchaudio||
(median and max over clips) and the largest absolute difference. Without FSDD it falls back
to the synthetic words (and says so). The tests assert the tolerances (tests/test_frontends_*.py).
"""

from __future__ import annotations

import argparse

import torch
import torchaudio

from apac_lab.data import load_dataset
from apac_lab.frontends import MFCC, LogMel, MelSpectrogram, NNAudioLogMel, NNAudioMel, NNAudioMFCC, mfcc_from_scratch

SETTINGS = {
    "APAC @ 8 kHz (n_fft 1024, hop 256, 128 mels, 64 MFCC)": dict(n_fft=1024, hop_length=256, n_mels=128, n_mfcc=64),
    "speech (n_fft 256, hop 80, 40 mels, 13 MFCC)": dict(n_fft=256, hop_length=80, n_mels=40, n_mfcc=13),
}


def _row(name: str, a: torch.Tensor, b: torch.Tensor) -> str:
    rel = torch.tensor([float((x - y).norm() / y.norm()) for x, y in zip(a, b)])
    return f"  {name:30s} rel. error median {rel.median():.1e}  max {rel.max():.1e}  | max |diff| {(a - b).abs().max():.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100, help="clips of the FSDD test split (default 100)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = load_dataset("fsdd", "test")
    n = min(args.clips, len(ds))
    x = torch.stack([ds[i][0] for i in range(n)])
    sr = ds.sample_rate
    print(f"{ds.name}: {n} clips at {sr} Hz")
    for title, s in SETTINGS.items():
        mel_kw = {k: v for k, v in s.items() if k != "n_mfcc"}
        ta = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=s["n_mfcc"], melkwargs=dict(mel_kw, mel_scale="htk"))
        ref = torch.stack([ta(xi) for xi in x])  # torchaudio clip by clip (its batch dB floor is shared)
        print(title)
        print(_row("scratch MFCC vs torchaudio", mfcc_from_scratch(x, sample_rate=sr, **s), ref))
        print(_row("nnAudio mel vs torchaudio", NNAudioMel(sample_rate=sr, **mel_kw)(x),
                   MelSpectrogram(sample_rate=sr, **mel_kw)(x)))
        print(_row("nnAudio log-mel vs torchaudio", NNAudioLogMel(sample_rate=sr, **mel_kw)(x),
                   LogMel(sample_rate=sr, **mel_kw)(x)))
        print(_row("nnAudio MFCC vs torchaudio", NNAudioMFCC(sample_rate=sr, **s)(x), ref))
        print(_row("apac_lab MFCC vs torchaudio", MFCC(sample_rate=sr, **s)(x), ref))


if __name__ == "__main__":
    main()
