"""apac_lab.data.synthetic: deterministic by seed, classes that differ, splits and their errors."""

from __future__ import annotations

import pytest
import torch

from apac_lab.data import SplitError, load_synthetic, synthesize_word


def test_same_seed_same_audio_other_seed_other_audio():
    a = synthesize_word(4, 2, 1, seed=7)
    assert torch.equal(a, synthesize_word(4, 2, 1, seed=7))
    b = synthesize_word(4, 2, 1, seed=8)
    assert a.shape != b.shape or not torch.allclose(a, b, atol=1e-3)


def test_dataset_items_are_reproducible():
    x1, y1 = load_synthetic(split="test", n_speakers=2, takes=2, test_takes=1, seed=3).tensors()
    x2, y2 = load_synthetic(split="test", n_speakers=2, takes=2, test_takes=1, seed=3).tensors()
    assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_takes_and_speakers_vary_the_audio():
    base = synthesize_word(1, 0, 0)
    for other in (synthesize_word(1, 0, 1), synthesize_word(1, 1, 0)):
        n = min(len(base), len(other))
        assert not torch.allclose(base[:n], other[:n], atol=1e-2)


def test_rates_shapes_and_range():
    for rate in (8000, 16000, 44100):
        w = synthesize_word(2, 3, 0, sample_rate=rate)
        assert w.dtype == torch.float32 and torch.isfinite(w).all()
        assert 0.3 * rate < len(w) < 0.9 * rate and 0.3 < float(w.abs().max()) < 1.0


def _spectral_features(x: torch.Tensor) -> torch.Tensor:
    spec = torch.stft(x, 256, 128, window=torch.hann_window(256), return_complex=True).abs().pow(2)
    f = torch.log(spec.mean(-1) + 1e-8)
    return f - f.mean(1, keepdim=True)


def test_classes_are_separable_by_their_spectra():
    """Nearest class centroid of the long-term spectrum, on takes never seen: far above chance (10 %)."""
    kw = dict(n_speakers=4, takes=3, test_takes=1)
    x_tr, y_tr = load_synthetic(split="train", **kw).tensors()
    x_te, y_te = load_synthetic(split="test", **kw).tensors()
    f_tr, f_te = _spectral_features(x_tr), _spectral_features(x_te)
    centroids = torch.stack([f_tr[y_tr == k].mean(0) for k in range(10)])
    accuracy = (torch.cdist(f_te, centroids).argmin(1) == y_te).float().mean()
    assert accuracy >= 0.6


def test_take_splits_partition_the_set():
    kw = dict(n_speakers=2, takes=5, test_takes=2, val_takes=1)
    sizes = {s: len(load_synthetic(split=s, **kw)) for s in ("train", "validation", "test", "all")}
    assert sizes == {"train": 40, "validation": 20, "test": 40, "all": 100}


def test_speaker_split():
    test = load_synthetic(split="test", holdout_speakers=["spk1"], takes=2)
    train = load_synthetic(split="train", holdout_speakers=["spk1"], takes=2)
    assert test.speakers == ["spk1"] and "spk1" not in train.speakers and len(train) == 4 * len(test)


def test_classes_and_rate_are_configurable():
    ds = load_synthetic(split="test", classes=["a", "b", "c"], sample_rate=16000, num_samples=4000, takes=1, test_takes=1)
    assert ds.classes == ["a", "b", "c"] and ds[0][0].shape == (4000,) and ds.sample_rate == 16000


# --- errors -------------------------------------------------------------------------------

def test_unknown_split():
    with pytest.raises(SplitError, match="unknown split 'dev'"):
        load_synthetic(split="dev")


def test_impossible_sizes():
    with pytest.raises(SplitError, match="impossible sizes"):
        load_synthetic(takes=2, test_takes=2, val_takes=1)


def test_empty_split():
    with pytest.raises(SplitError, match="'validation' split is empty"):
        load_synthetic(split="validation")  # val_takes=0 by default


def test_unknown_holdout_speaker():
    with pytest.raises(SplitError, match=r"cannot hold out speakers \['george'\]"):
        load_synthetic(split="test", holdout_speakers=["george"])
