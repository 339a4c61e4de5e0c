"""Clips cut into fixed-length, half-overlapping segments, as Piczak (2015) and Tax et al. (2017) do.

A clip is normalised by its peak, cut into segments of ``hop_length * (frames - 1)``
samples (so that a centred STFT gives ``frames`` frames: 51,200 samples and 101 frames at
the defaults), each segment starting half a segment after the previous one. Silent
segments are dropped (but each clip keeps its loudest segment, so every clip can vote at
test time). Each segment is then normalised by its own peak: that is the input the
MSTmodel and the raw-audio classifiers see.

Data augmentation (opt-in): :meth:`SegmentDataset.with_variations` adds shifted copies of
every clip, as Piczak did and Tax et al. repeat ("four variations of each ESC-50 clip
using time-/pitch-shifting"): each copy is delayed by a random number of samples (zeros
in front) and pitch-shifted by a random whole number of semitones
(:func:`shifted_variation`). Use it on the training split only.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import torch
import torchaudio
from torch.utils.data import Dataset

from apac_lab.data.audio import fix_length
from apac_lab.data.base import ClipDataset

__all__ = ["peak_normalize", "segment_starts", "segment_samples", "shifted_variation", "draw_variations",
           "SegmentDataset"]


def peak_normalize(waveform: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Divide each waveform (last dimension) by its maximum absolute value; silence stays zero.

    >>> peak_normalize(torch.tensor([[0.5, -0.25], [0.0, 0.0]]))
    tensor([[ 1.0000, -0.5000],
            [ 0.0000,  0.0000]])
    """
    peak = waveform.abs().amax(dim=-1, keepdim=True)
    return waveform / peak.clamp_min(eps)


def segment_samples(frames: int, hop_length: int = 512) -> int:
    """Samples in a segment that a centred STFT turns into ``frames`` frames: ``hop * (frames - 1)``.

    >>> segment_samples(101), segment_samples(41)
    (51200, 20480)
    """
    if frames < 2 or hop_length < 1:
        raise ValueError(f"need frames >= 2 and hop_length >= 1, got frames={frames}, hop_length={hop_length}")
    return hop_length * (frames - 1)


def segment_starts(num_samples: int, length: int, *, overlap: float = 0.5) -> list[int]:
    """Start samples of the segments of ``length`` that fit in ``num_samples`` (at least one).

    >>> segment_starts(10, 4), segment_starts(3, 4)
    ([0, 2, 4, 6], [0])
    """
    if length < 1:
        raise ValueError(f"segment length must be >= 1 sample, got {length}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    step = max(1, int(round(length * (1.0 - overlap))))
    return list(range(0, max(num_samples - length, 0) + 1, step))


def shifted_variation(waveform: torch.Tensor, sample_rate: int, *, delay: int = 0, semitones: int = 0) -> torch.Tensor:
    """A clip pitch-shifted by ``semitones`` (length kept: phase-vocoder stretch, then
    resampling, as ``torchaudio.functional.pitch_shift`` and ``librosa.effects.pitch_shift``)
    and delayed by ``delay`` samples of silence in front: ``(samples,)`` -> ``(samples + delay,)``.

    >>> shifted_variation(torch.tensor([1.0, -1.0]), 8000, delay=2).tolist()
    [0.0, 0.0, 1.0, -1.0]
    """
    if waveform.dim() != 1:
        raise ValueError(f"shifted_variation expects one clip (samples,), got shape {tuple(waveform.shape)}")
    if isinstance(delay, bool) or int(delay) != delay or delay < 0:
        raise ValueError(f"delay must be a whole number of samples >= 0, got {delay!r}")
    if isinstance(semitones, bool) or int(semitones) != semitones:
        raise ValueError(f"semitones must be a whole number (half-steps), got {semitones!r}")
    out = waveform.float()
    if semitones:
        out = _pitch_shift(out, int(sample_rate), int(semitones))
    return torch.cat([out.new_zeros(int(delay)), out])


def _pitch_shift(x: torch.Tensor, sample_rate: int, semitones: int, n_fft: int = 512) -> torch.Tensor:
    """``torchaudio.functional.pitch_shift``'s method: a phase-vocoder stretch by ``1 / rate``
    (``rate = 2 ** (-semitones / 12)``), then resampling by ``rate``. torchaudio resamples from
    ``int(sample_rate / rate)`` Hz, whose kernel (no common factor with the sample rate) takes
    seconds per clip; here ``rate`` is the nearest fraction ``p / q`` with ``q <= 100`` (within
    2 cents of the exact pitch for any shift of up to 12 half-steps), a kernel of a few
    thousand values."""
    if x.shape[-1] < n_fft:
        raise ValueError(f"pitch shifting needs at least {n_fft} samples (one {n_fft}-point frame), got {x.shape[-1]}")
    hop = n_fft // 4
    rate = 2.0 ** (-semitones / 12)
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop_length=hop, window=window, return_complex=True)
    advance = torch.linspace(0, math.pi * hop, spec.shape[-2])[..., None]
    stretched = torchaudio.functional.phase_vocoder(spec, rate, advance)
    y = torch.istft(stretched, n_fft, hop_length=hop, window=window, length=int(round(x.shape[-1] / rate)))
    ratio = Fraction(rate).limit_denominator(100)
    return fix_length(torchaudio.functional.resample(y, ratio.denominator, ratio.numerator), x.shape[-1])


def draw_variations(n: int, *, max_delay: int, max_semitones: int, seed: int = 0) -> list[tuple[int, int]]:
    """``n`` random ``(delay, semitones)`` pairs: delay uniform in ``0 .. max_delay - 1`` samples (0 when
    ``max_delay`` is 0), semitones uniform in ``-max_semitones .. max_semitones``.

    >>> draw_variations(2, max_delay=0, max_semitones=0)
    [(0, 0), (0, 0)]
    """
    if n < 0 or max_delay < 0 or max_semitones < 0:
        raise ValueError(f"need n, max_delay and max_semitones >= 0, got {n}, {max_delay}, {max_semitones}")
    gen = torch.Generator().manual_seed(seed)
    delays = torch.randint(0, max(max_delay, 1), (n,), generator=gen).tolist()
    steps = torch.randint(-max_semitones, max_semitones + 1, (n,), generator=gen).tolist()
    return list(zip(delays, steps))


class SegmentDataset(Dataset):
    """The segments of a :class:`ClipDataset`: items ``(segment (samples,), label)``.

    The clips are read once, peak-normalised and kept in memory; segments are sliced
    (and peak-normalised) when asked for.

    Args:
        clips (ClipDataset): the clips (at the sample rate the models expect).
        frames (int, default 101): STFT frames per segment (Piczak's "long" segments;
            41 gives his "short" ones).
        hop_length (int, default 512): hop in samples; a segment is ``hop * (frames - 1)`` samples.
        overlap (float, default 0.5): fraction by which consecutive segments overlap.
        silence_db (float | None, default -60.0): drop segments whose RMS, in dB relative to
            the clip's peak, is below this (keeping each clip's loudest segment); None keeps all.
        progress (bool, default False): a progress bar while reading the clips.

    Attributes: ``clip_ids`` (which clip each segment comes from), ``labels`` (per segment),
    ``clip_labels`` (per clip), ``starts`` (start sample of each segment), ``classes``,
    ``sample_rate``, ``augmented`` (per clip: True for a copy made by :meth:`with_variations`),
    ``variations`` (the copies per original clip).

    >>> from apac_lab.data import Clip
    >>> clips = ClipDataset([Clip(None, 0), Clip(None, 1)], ["a", "b"], sample_rate=8000,
    ...                     num_samples=2048, synth=lambda c: torch.randn(2048))
    >>> seg = SegmentDataset(clips, frames=5, hop_length=256)
    >>> len(seg), seg[0][0].shape, seg.clip_ids.tolist()
    (6, torch.Size([1024]), [0, 0, 0, 1, 1, 1])
    """

    def __init__(
        self,
        clips: ClipDataset,
        *,
        frames: int = 101,
        hop_length: int = 512,
        overlap: float = 0.5,
        silence_db: float | None = -60.0,
        progress: bool = False,
    ) -> None:
        if len(clips) == 0:
            raise ValueError(f"{getattr(clips, 'name', 'dataset')}: no clips to segment")
        self.length = segment_samples(frames, hop_length)
        self.frames, self.hop_length, self.overlap, self.silence_db = frames, hop_length, overlap, silence_db
        self.classes = list(clips.classes)
        self.sample_rate = clips.sample_rate
        self.name = f"{clips.name}/segments"
        items = range(len(clips))
        if progress:
            from tqdm.auto import tqdm

            items = tqdm(items, desc=f"reading {clips.name}", leave=False)
        waves, clip_labels = [], []
        for i in items:
            wave, label = clips[i]
            waves.append(fix_length(wave, max(wave.shape[-1], self.length)))
            clip_labels.append(int(label))
        self.waves = peak_normalize(torch.stack(waves))
        self.clip_labels = torch.tensor(clip_labels)
        self.augmented = torch.zeros(len(waves), dtype=torch.bool)
        self.variations = 0
        self._index(range(len(waves)))

    def _index(self, clip_indices: Sequence[int]) -> None:
        rows = []
        for c in clip_indices:
            starts = segment_starts(self.waves.shape[-1], self.length, overlap=self.overlap)
            segs = torch.stack([self.waves[c, s : s + self.length] for s in starts])
            if self.silence_db is not None:
                rms_db = 10 * torch.log10(segs.pow(2).mean(dim=-1).clamp_min(1e-20))
                keep = (rms_db >= self.silence_db).nonzero().flatten().tolist() or [int(rms_db.argmax())]
                starts = [starts[k] for k in keep]
            rows += [(c, s) for s in starts]
        index = torch.tensor(rows, dtype=torch.long).reshape(-1, 2)
        self.clip_ids, self.starts = index[:, 0], index[:, 1]

    @property
    def labels(self) -> torch.Tensor:
        """The label of every segment."""
        return self.clip_labels[self.clip_ids]

    @property
    def num_clips(self) -> int:
        return int(self.waves.shape[0])

    def __len__(self) -> int:
        return int(self.clip_ids.numel())

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        c, s = int(self.clip_ids[index]), int(self.starts[index])
        return peak_normalize(self.waves[c, s : s + self.length]), int(self.clip_labels[c])

    def segments(self, indices: Sequence[int] | None = None) -> torch.Tensor:
        """Stack segments (all, or ``indices``) into ``(n, samples)``, each peak-normalised."""
        idx = range(len(self)) if indices is None else indices
        if len(idx) == 0:
            return torch.empty(0, self.length)
        return torch.stack([self[i][0] for i in idx])

    def with_variations(
        self, n: int = 4, *, max_delay_s: float = 1.0, max_semitones: int = 2, seed: int = 0
    ) -> "SegmentDataset":
        """A new dataset holding every clip and ``n`` shifted copies of it (:func:`shifted_variation`,
        each with its own random delay and pitch shift from :func:`draw_variations`), segmented
        like the originals. Every clip (originals too) is padded at the end by ``max_delay_s``,
        so a delayed copy keeps all its samples. For training data only.

        Args:
            n (int, default 4): copies per clip (Tax et al.: four).
            max_delay_s (float, default 1.0): largest delay in seconds (Tax et al.'s code: up to 1 s).
            max_semitones (int, default 2): largest pitch shift either way, in half-steps.
            seed (int, default 0): the draws.
        """
        if self.variations:
            raise ValueError(f"{self.name} already holds {self.variations} variations per clip; make them once")
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"n must be a whole number of copies >= 1, got {n!r}")
        if not 0.0 <= max_delay_s <= 60.0:
            raise ValueError(f"max_delay_s must be in [0, 60] seconds, got {max_delay_s}")
        if isinstance(max_semitones, bool) or int(max_semitones) != max_semitones or not 0 <= max_semitones <= 12:
            raise ValueError(f"max_semitones must be a whole number in 0..12, got {max_semitones!r}")
        max_delay = int(round(max_delay_s * self.sample_rate))
        length = self.waves.shape[-1] + max_delay
        draws = draw_variations(n * self.num_clips, max_delay=max_delay, max_semitones=int(max_semitones), seed=seed)
        waves, labels, augmented = [], [], []
        for c in range(self.num_clips):
            waves.append(fix_length(self.waves[c], length))
            labels.append(int(self.clip_labels[c]))
            augmented.append(False)
            for delay, steps in draws[c * n:(c + 1) * n]:
                waves.append(fix_length(shifted_variation(self.waves[c], self.sample_rate, delay=delay,
                                                          semitones=steps), length))
                labels.append(int(self.clip_labels[c]))
                augmented.append(True)
        new = object.__new__(SegmentDataset)
        new.__dict__.update(self.__dict__)
        new.name = self.name.replace("/segments", f"/x{n + 1}/segments")
        new.waves = peak_normalize(torch.stack(waves))
        new.clip_labels = torch.tensor(labels)
        new.augmented = torch.tensor(augmented)
        new.variations = int(n)
        new._index(range(len(waves)))
        return new

    def split_clips(self, fraction: float, *, seed: int = 0) -> tuple["SegmentDataset", "SegmentDataset"]:
        """Split by clip (a clip's segments stay together): ``(rest, held_out)`` with about
        ``fraction`` of the clips held out, e.g. a validation set for early stopping."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        n = self.num_clips
        if n < 2:
            raise ValueError("need at least 2 clips to split")
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
        k = min(n - 1, max(1, round(fraction * n)))
        return (self.subset_clips(sorted(order[k:])),
                self.subset_clips(sorted(order[:k]), name=self.name.replace("/segments", "/held-out/segments")))

    def subset_clips(self, clip_indices: Sequence[int], *, name: str | None = None) -> "SegmentDataset":
        """A new dataset holding only the given clips (renumbered 0..len-1 in that order)."""
        clip_indices = list(clip_indices)
        new = object.__new__(SegmentDataset)
        new.__dict__.update(self.__dict__)
        new.name = name or self.name
        new.waves = self.waves[clip_indices]
        new.clip_labels = self.clip_labels[clip_indices]
        new.augmented = self.augmented[clip_indices]
        keep = {c: i for i, c in enumerate(clip_indices)}
        mask = torch.tensor([int(c) in keep for c in self.clip_ids.tolist()], dtype=torch.bool)
        new.clip_ids = torch.tensor([keep[int(c)] for c in self.clip_ids[mask].tolist()], dtype=torch.long)
        new.starts = self.starts[mask]
        return new

    def __repr__(self) -> str:
        return (
            f"SegmentDataset(name={self.name!r}, clips={self.num_clips}, segments={len(self)}, "
            f"samples={self.length}, frames={self.frames}, sample_rate={self.sample_rate})"
        )
