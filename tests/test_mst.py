"""The MSTmodel, its log-mel targets (the kit's and librosa's), clip segmentation and shifted
copies, and the analysis of what it learned."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch
from torch import nn

from apac_lab.data import (
    Clip, ClipDataset, SegmentDataset, draw_variations, peak_normalize, segment_samples, segment_starts,
    shifted_variation,
)
from apac_lab.frontends import mel_band_edges, power_to_db, slaney_hz_to_mel, slaney_mel_to_hz
from apac_lab.models import (
    MST_DEFAULTS, MST_LAYERS, LogMelDB, MSTmodel, MSTTarget, MSTTargetDataset, RangeNormalizer, band_errors,
    filter_responses, mean_predictor_mse, mel_band_centers, mst_frame_centers, mst_num_frames, nearest_mel_bands,
    probe_errors, probe_signals, set_trainable, sort_filters_by_peak,
)
from apac_lab.plots import (
    band_error_figure, filter_responses_figure, prediction_vs_target_figure, probe_errors_figure,
)

SR = 22050


def _clips(n=4, num_samples=30000, silent_tail=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    waves = [0.3 * torch.randn(num_samples, generator=gen) for _ in range(n)]
    if silent_tail:
        for w in waves:
            w[num_samples // 2 :] = 0.0
    return ClipDataset([Clip(None, i % 2, extra={"i": i}) for i in range(n)], ["a", "b"], sample_rate=SR,
                       num_samples=num_samples, synth=lambda c: waves[c.extra["i"]])


# --- the layer table ------------------------------------------------------------------------------------------


def test_layer_table_matches_the_reference():
    m = MSTmodel()
    convs = [m.conv1, m.conv2, m.conv3]
    assert [c.out_channels for c in convs] == [512, 256, 60]
    assert [c.kernel_size[0] for c in convs] == [1024, 3, 3]
    assert [c.stride[0] for c in convs] == [512, 1, 1]
    assert [c.padding[0] for c in convs[1:]] == [1, 1]  # "same" for the 3-tap layers
    assert [c.in_channels for c in convs] == [1, 512, 256]
    assert [type(b) for b in (m.bn1, m.bn2, m.bn3)] == [nn.BatchNorm1d] * 3
    assert [b.num_features for b in (m.bn1, m.bn2, m.bn3)] == [512, 256, 60]
    for spec, conv in zip(MST_LAYERS, convs):
        assert spec["kernel"] == conv.kernel_size[0] and spec["stride"] == conv.stride[0]
    assert [s["activation"] for s in MST_LAYERS] == ["relu", "relu", "tanh"]
    assert m.layers == [m.conv1, m.bn1, m.conv2, m.bn2, m.conv3, m.bn3]


def test_xavier_init_and_zero_bias():
    m = MSTmodel()
    bound = math.sqrt(6.0 / (1024 + 512 * 1024))
    assert m.conv1.weight.abs().max() <= bound + 1e-9
    assert m.conv1.weight.std() > bound / 3  # not all zero
    assert all(float(c.bias.detach().abs().max()) == 0.0 for c in (m.conv1, m.conv2, m.conv3))


# --- shapes and alignment with the target ---------------------------------------------------------------------


@pytest.mark.parametrize("samples", [20480, 51200, 30001, 1000])
def test_frame_count_matches_the_target(samples):
    m, target = MSTmodel(n_mels=60).eval(), LogMelDB()
    out, ref = m(torch.randn(2, samples)), target(torch.randn(2, samples))
    assert out.shape == ref.shape == (2, 60, mst_num_frames(samples))
    assert out.shape[-1] == samples // 512 + 1


def test_frame_centres_are_the_stft_centres():
    assert torch.equal(mst_frame_centers(51200), torch.arange(101, dtype=torch.float64) * 512)
    same = mst_frame_centers(51200, padding="same")
    assert len(same) == 100 and torch.equal(same, torch.arange(100, dtype=torch.float64) * 512 + 256)


@pytest.mark.parametrize("where", [0, 5 * 512, 5 * 512 + 200, 9 * 512 - 200, 12 * 512])
def test_an_impulse_lands_in_the_same_frame_as_in_the_target(where):
    """Give layer 1 a Hann-window kernel: its output then peaks in the frame whose window is
    centred nearest the impulse, which is where the target's log-mel peaks."""
    samples = 40 * 512
    x = torch.zeros(1, samples)
    x[0, where] = 1.0
    m = MSTmodel(n_filters=1).eval()
    with torch.no_grad():
        m.conv1.weight.copy_(torch.hann_window(1024)[None, None])
    layer1 = m.first_layer(x)[0, 0]
    target = LogMelDB()(x)[0].mean(dim=0)
    assert int(layer1.argmax()) == int(target.argmax()) == round(where / 512)


def test_same_padding_gives_the_reference_frame_count():
    m = MSTmodel(padding="same").eval()
    assert m(torch.randn(1, 51200)).shape == (1, 60, 100) and m.num_frames(51200) == 100


def test_output_is_in_the_tanh_range_and_batch_consistent():
    m = MSTmodel().eval()
    x = torch.randn(3, 20480)
    last = []
    hook = m.bn3.register_forward_hook(lambda module, args, out: last.append(out))
    y = m(x)
    hook.remove()
    torch.testing.assert_close(y, torch.tanh(last[0]), rtol=0, atol=0)  # tanh of the last BatchNorm (no dropout)
    torch.testing.assert_close(m(x[1:2]), y[1:2], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(m(x[:, None]), y)  # (batch, 1, samples) is accepted


# --- gradients, freezing -------------------------------------------------------------------------------------


def test_gradients_reach_every_layer():
    m = MSTmodel()
    m(torch.randn(4, 20480)).pow(2).mean().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_frozen_model_keeps_parameters_and_batchnorm_statistics():
    m = MSTmodel(dropout=0.5)
    set_trainable(m, False)
    assert not m.trainable and not any(p.requires_grad for p in m.parameters())
    before = {k: v.clone() for k, v in m.state_dict().items()}
    m.train()  # frozen: stays in eval mode inside
    assert not m.bn1.training and not m.drop.training
    x = torch.randn(4, 20480)
    torch.testing.assert_close(m(x), m(x))  # no dropout noise
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    set_trainable(m, True)
    m.train()
    assert m.trainable and m.bn1.training and all(p.requires_grad for p in m.parameters())


def test_freezing_a_container_freezes_the_batchnorm_inside():
    outer = nn.Sequential(MSTmodel())
    set_trainable(outer, False).train()
    assert not outer[0].trainable and not outer[0].bn2.training


def test_trainable_flag_in_constructor():
    assert not MSTmodel(trainable=False).trainable


# --- bad inputs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [({"hop_length": 2048}, "hop_length"), ({"padding": "valid"}, "padding"), ({"dropout": 1.0}, "dropout"),
     ({"n_mels": 0}, "n_mels")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MSTmodel(**kwargs)


def test_bad_waveforms():
    m = MSTmodel().eval()
    with pytest.raises(ValueError, match="batch, samples"):
        m(torch.randn(2, 2, 4096))
    with pytest.raises(ValueError, match="too short"):
        m(torch.randn(1, 400))
    with pytest.raises(TypeError):
        m([0.0] * 4096)
    with pytest.raises(ValueError):
        mst_num_frames(0)


# --- targets -------------------------------------------------------------------------------------------------


def test_defaults_are_piczaks():
    assert MST_DEFAULTS == {"sample_rate": 22050, "n_fft": 1024, "hop_length": 512, "n_mels": 60, "frames": 101}
    t = LogMelDB()
    assert (t.sample_rate, t.n_fft, t.hop_length, t.n_mels) == (22050, 1024, 512, 60)
    assert segment_samples(101) == 51200


def test_power_to_db_floors_each_spectrogram_on_its_own():
    loud, quiet = torch.full((1, 3, 4), 1.0), torch.full((1, 3, 4), 1e-6)
    loud[0, 0, 0], quiet[0, 0, 0] = 1e-12, 1e-12
    both = power_to_db(torch.cat([loud, quiet]))
    torch.testing.assert_close(both[1:], power_to_db(quiet))  # no dependence on the loud neighbour
    assert float(both[0, 0, 0]) == pytest.approx(-80.0) and float(both[1, 0, 0]) == pytest.approx(-100.0)
    with pytest.raises(ValueError):
        power_to_db(loud, top_db=-1)


# librosa's mel (mel="librosa"): librosa 0.11 is the reference (a test-only dependency)


def _librosa_logmel(x: torch.Tensor, pad_mode: str) -> np.ndarray:
    """librosa's own log-mel of each row, with Tax et al.'s settings: melspectrogram (Slaney scale and
    norm, power 2), then power_to_db with ref 1 and an 80 dB floor per spectrogram."""
    return np.stack([librosa.power_to_db(
        librosa.feature.melspectrogram(y=row.double().numpy(), sr=SR, n_fft=1024, hop_length=512, n_mels=60,
                                       pad_mode=pad_mode), ref=1.0, amin=1e-10, top_db=80.0) for row in x])


@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])  # librosa < 0.10 (the paper's 0.5), and >= 0.10
def test_librosa_target_equals_librosa_melspectrogram(pad_mode, real_fsdd_root):
    from apac_lab.data import load_fsdd

    clips = load_fsdd(real_fsdd_root, split="test", sample_rate=SR, num_samples=20480)
    x = peak_normalize(torch.stack([clips[i][0] for i in range(0, 200, 40)]))  # five real digits at 22,050 Hz
    got = LogMelDB(mel="librosa", pad_mode=pad_mode)(x).numpy()
    want = _librosa_logmel(x, pad_mode)
    assert got.shape == want.shape == (5, 60, 41)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-3)  # dB; float32 against float64
    kit = LogMelDB(mel="htk", pad_mode=pad_mode)(x).numpy()
    assert np.abs(kit - want).max() > 5.0  # the kit's own mel is another transform, by several dB


def test_librosa_target_on_a_short_segment_is_librosas_default():
    x = torch.randn(2, 4096, generator=torch.Generator().manual_seed(1))
    got = LogMelDB(mel="librosa", pad_mode="constant")(x).numpy()
    np.testing.assert_allclose(got, _librosa_logmel(x, "constant"), atol=2e-3)


def test_librosa_mel_filters_and_band_edges():
    t = LogMelDB(mel="librosa")
    np.testing.assert_allclose(t.filterbank().numpy(), librosa.filters.mel(sr=SR, n_fft=1024, n_mels=60),
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(t.band_edges().numpy(), librosa.mel_frequencies(62, fmin=0.0, fmax=SR / 2), rtol=1e-9)
    htk = LogMelDB(mel="htk")
    np.testing.assert_allclose(htk.filterbank().numpy(), librosa.filters.mel(sr=SR, n_fft=1024, n_mels=60, htk=True,
                                                                             norm=None), atol=1e-5)
    np.testing.assert_allclose(htk.band_edges().numpy(), librosa.mel_frequencies(62, fmin=0.0, fmax=SR / 2, htk=True),
                               rtol=1e-9)
    assert MSTTarget(mel="librosa").mel == "librosa" and MSTTarget().mel == "htk"
    with pytest.raises(ValueError, match="mel must be one of"):
        LogMelDB(mel="slaney")


def test_slaney_scale_is_librosas():
    f = np.array([0.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    np.testing.assert_allclose(slaney_hz_to_mel(torch.tensor(f)).numpy(), librosa.hz_to_mel(f), rtol=1e-12)
    m = librosa.hz_to_mel(f)
    np.testing.assert_allclose(slaney_mel_to_hz(torch.tensor(m)).numpy(), f, atol=1e-9)
    assert isinstance(slaney_hz_to_mel(440.0), float)
    np.testing.assert_allclose(mel_band_centers(60, SR, scale="slaney").numpy(),
                               librosa.mel_frequencies(62, fmin=0.0, fmax=SR / 2)[1:-1], rtol=1e-6)
    with pytest.raises(ValueError, match="scale must be one of"):
        mel_band_edges(n_mels=4, f_min=0.0, f_max=4000.0, scale="bark")


def test_librosa_is_a_test_only_dependency():
    repo = Path(__file__).resolve().parents[1]
    for path in (repo / "apac_lab").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+librosa", path.read_text(), re.M), f"{path} imports librosa"
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("librosa") for d in project["dependencies"])
    assert "librosa>=0.11,<1.0" in project["optional-dependencies"]["test"]  # the exact pin: requirements.txt
    assert "librosa==0.11.0" in (repo / "requirements.txt").read_text().split()


def test_target_stays_float32_under_mixed_precision():
    x = torch.randn(1, 20480)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = LogMelDB()(x)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, LogMelDB()(x))


def test_normaliser_maps_training_data_onto_minus_one_one():
    seg = SegmentDataset(_clips(6), frames=21)
    target = MSTTarget().fit(seg)
    y = MSTTargetDataset(seg, target).targets
    assert float(y.min()) == pytest.approx(-1.0, abs=1e-5) and float(y.max()) == pytest.approx(1.0, abs=1e-5)


def test_normaliser_is_saved_and_loaded_with_the_state_dict(tmp_path):
    target = MSTTarget().fit(torch.randn(3, 20480))
    torch.save(target.state_dict(), tmp_path / "t.pt")
    fresh = MSTTarget()
    fresh.load_state_dict(torch.load(tmp_path / "t.pt"))
    x = torch.randn(2, 20480)
    torch.testing.assert_close(fresh(x), target(x))
    assert {"normalizer.low", "normalizer.high", "normalizer.fitted"} <= set(target.state_dict())


def test_normaliser_errors():
    with pytest.raises(RuntimeError, match="fit"):
        RangeNormalizer()(torch.zeros(2))
    with pytest.raises(ValueError, match="empty"):
        RangeNormalizer().fit(torch.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        RangeNormalizer().fit(torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="no data"):
        RangeNormalizer().fit([])
    with pytest.raises(ValueError, match="n, samples"):
        MSTTarget().fit(torch.randn(2, 3, 4096))


def test_target_dataset_pairs_each_segment_with_its_target():
    seg = SegmentDataset(_clips(3), frames=21)
    target = MSTTarget().fit(seg)
    ds = MSTTargetDataset(seg, target)
    x, y = ds[2]
    assert x.shape == (20 * 512,) and y.shape == (60, 21)
    torch.testing.assert_close(y, target(x[None])[0])
    assert float(x.abs().max()) == pytest.approx(1.0)  # peak-normalised input


def test_target_dataset_refuses_the_wrong_sample_rate():
    clips = _clips(2)
    clips.sample_rate = 16000
    seg = SegmentDataset(clips, frames=21)
    with pytest.raises(ValueError, match="sample_rate=22050"):
        MSTTargetDataset(seg, MSTTarget().fit(torch.randn(2, 20480)))


# --- segments ------------------------------------------------------------------------------------------------


def test_segment_starts_and_peak_normalize():
    assert segment_starts(51200 * 2, 51200) == [0, 25600, 51200]
    assert segment_starts(100, 51200) == [0]
    assert torch.equal(peak_normalize(torch.zeros(3)), torch.zeros(3))
    with pytest.raises(ValueError):
        segment_starts(10, 4, overlap=1.0)


def test_silent_segments_are_dropped_but_every_clip_keeps_one():
    seg = SegmentDataset(_clips(3, num_samples=40960, silent_tail=True), frames=21, hop_length=512)
    every = SegmentDataset(_clips(3, num_samples=40960, silent_tail=True), frames=21, silence_db=None)
    assert len(every) == 3 * 7 and len(seg) < len(every)
    assert sorted(set(seg.clip_ids.tolist())) == [0, 1, 2]
    assert all(float(seg[i][0].abs().max()) == pytest.approx(1.0) for i in range(len(seg)))
    silent = ClipDataset([Clip(None, 0)], ["a"], sample_rate=SR, num_samples=20480, synth=lambda c: torch.zeros(20480))
    assert len(SegmentDataset(silent, frames=21)) == 1


def test_split_by_clip_keeps_a_clips_segments_together():
    seg = SegmentDataset(_clips(10, num_samples=40960), frames=21)
    rest, held = seg.split_clips(0.3, seed=1)
    assert held.num_clips == 3 and rest.num_clips == 7 and len(rest) + len(held) == len(seg)
    assert set(held.clip_ids.tolist()) == set(range(3))
    held_waves = {tuple(w[:5].tolist()) for w in held.waves}
    assert not held_waves & {tuple(w[:5].tolist()) for w in rest.waves}
    assert torch.equal(held.labels, held.clip_labels[held.clip_ids])
    with pytest.raises(ValueError):
        seg.split_clips(1.5)


# --- shifted copies (Piczak's, Tax et al.'s "four variations of each ESC-50 clip") ----------------------------


def _tone(freq: float, seconds: float = 1.0) -> torch.Tensor:
    return torch.sin(2 * math.pi * freq * torch.arange(int(seconds * SR)) / SR)


def _peak_hz(x: torch.Tensor) -> float:
    spectrum = torch.fft.rfft(x * torch.hann_window(len(x)))
    return float(torch.fft.rfftfreq(len(x), 1 / SR)[spectrum.abs().argmax()])


def test_a_variation_is_delayed_by_exactly_its_delay():
    x = torch.randn(3000, generator=torch.Generator().manual_seed(0))
    y = shifted_variation(x, SR, delay=1234)
    assert y.shape == (4234,) and torch.equal(y[:1234], torch.zeros(1234)) and torch.equal(y[1234:], x)


@pytest.mark.parametrize("semitones", [-2, 1, 2])
def test_a_variation_moves_a_tone_by_its_semitones_and_keeps_its_length(semitones):
    y = shifted_variation(_tone(440.0), SR, semitones=semitones)
    assert y.shape == (SR,)
    want = 440.0 * 2 ** (semitones / 12)
    assert _peak_hz(y[2048:-2048]) == pytest.approx(want, abs=SR / (SR - 4096))  # within one FFT bin


def test_draws_cover_their_ranges_and_follow_the_seed():
    d = draw_variations(400, max_delay=100, max_semitones=2, seed=3)
    assert d == draw_variations(400, max_delay=100, max_semitones=2, seed=3) != draw_variations(400, max_delay=100,
                                                                                                max_semitones=2, seed=4)
    assert {s for _, s in d} == {-2, -1, 0, 1, 2} and min(t for t, _ in d) >= 0 and max(t for t, _ in d) == 99
    with pytest.raises(ValueError):
        draw_variations(2, max_delay=-1, max_semitones=0)


def test_with_variations_adds_copies_of_every_clip_with_its_label():
    tone = ClipDataset([Clip(None, i, extra={"f": f}) for i, f in enumerate((300.0, 600.0))], ["low", "high"],
                       sample_rate=SR, num_samples=SR, synth=lambda c: _tone(c.extra["f"]))
    seg = SegmentDataset(tone, frames=21)
    aug = seg.with_variations(3, max_delay_s=0.25, max_semitones=0, seed=1)
    assert aug.num_clips == 8 and aug.variations == 3
    assert aug.augmented.tolist() == [False, True, True, True] * 2
    assert aug.clip_labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert aug.waves.shape[-1] == SR + SR // 4  # room for the longest delay
    delays = [d for d, _ in draw_variations(6, max_delay=SR // 4, max_semitones=0, seed=1)]
    for k, c in enumerate([1, 2, 3, 5, 6, 7]):  # each copy: the original (peak-normalised), delayed
        first = int((aug.waves[c].abs() > 0).nonzero()[0])
        assert first == delays[k] + 1  # a sine starts at 0
        torch.testing.assert_close(aug.waves[c, delays[k]:delays[k] + SR], seg.waves[c // 4])
    assert {int(aug.labels[i]) for i in range(len(aug)) if int(aug.clip_ids[i]) in (5, 6, 7)} == {1}
    with pytest.raises(ValueError, match="already holds"):
        aug.with_variations(1)
    with pytest.raises(ValueError, match="copies >= 1"):
        seg.with_variations(0)
    rest, held = aug.split_clips(0.25)
    assert held.augmented.shape == (held.num_clips,)


# --- analysis ------------------------------------------------------------------------------------------------


def test_mean_predictor_mse_matches_a_slow_loop():
    gen = torch.Generator().manual_seed(0)
    train, val = torch.randn(6, 3, 4, generator=gen), torch.randn(5, 3, 4, generator=gen)
    mean = [[sum(float(train[n, b, f]) for n in range(6)) / 6 for f in range(4)] for b in range(3)]
    slow = sum((float(val[n, b, f]) - mean[b][f]) ** 2 for n in range(5) for b in range(3) for f in range(4)) / 60
    assert mean_predictor_mse(train, val) == pytest.approx(slow, rel=1e-12)
    with pytest.raises(ValueError, match="one item shape"):
        mean_predictor_mse(train, val[:, :2])


def test_nearest_mel_band_is_nearest_in_log_frequency():
    centres = torch.tensor([100.0, 200.0, 400.0])
    # 141 Hz is just below the geometric middle of 100 and 200 (141.4), 142 just above
    assert nearest_mel_bands(torch.tensor([141.0, 142.0, 290.0, 5000.0]), centres).tolist() == [0, 1, 2, 2]


def test_band_errors_match_a_slow_loop():
    gen = torch.Generator().manual_seed(0)
    p, t = torch.randn(3, 5, 7, generator=gen), torch.randn(3, 5, 7, generator=gen)
    slow = torch.tensor([sum(float((p[b, k] - t[b, k]).pow(2).sum()) for b in range(3)) / 21 for k in range(5)])
    torch.testing.assert_close(band_errors(p, t), slow)
    with pytest.raises(ValueError):
        band_errors(p, t[:, :4])


def test_filter_peaks_and_sorting():
    t = torch.arange(1024) / SR
    freqs = [5000.0, 200.0, 1000.0]
    w = torch.stack([torch.sin(2 * math.pi * f * t) * torch.hann_window(1024) for f in freqs])[:, None]
    order, peaks = sort_filters_by_peak(w, SR)
    assert order.tolist() == [1, 2, 0]
    assert torch.allclose(peaks, torch.tensor(sorted(freqs)), atol=SR / 1024)
    f, db = filter_responses(w, SR, n_fft=4096)
    assert db.shape == (3, 2049) and float(db.max()) == pytest.approx(0.0) and f[-1] == SR / 2
    with pytest.raises(ValueError):
        filter_responses(w, SR, n_fft=512)


def test_probe_signals_and_errors():
    sig = probe_signals(SR, 20480)
    assert {"tone 1 kHz", "chirp (log)", "white noise", "pink noise"} <= set(sig)
    assert all(s.shape == (20480,) and float(s.abs().max()) == pytest.approx(1.0) for s in sig.values())
    target = MSTTarget().fit(torch.stack(list(sig.values())))
    assert all(v == pytest.approx(0.0, abs=1e-10) for v in probe_errors(target, target, sig).values())
    model = MSTmodel().eval()
    errs = probe_errors(model, target, sig)
    assert list(errs) == list(sig)
    with torch.no_grad():
        for name, s in sig.items():  # MSE of the untrained model against the target, one signal at a time
            want = float((model(s[None]) - target(s[None])).pow(2).mean())
            assert errs[name] == pytest.approx(want, rel=1e-5), name


def test_figures_are_labelled():
    fig = prediction_vs_target_figure(torch.zeros(60, 21), torch.ones(60, 21))
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "Time (s)"
    assert "Hz" in band_error_figure(torch.rand(60)).layout.xaxis.title.text
    f = filter_responses_figure(MSTmodel(n_filters=8).conv1.weight, n_examples=2)
    assert f.layout.xaxis.title.text == "Frequency (Hz)" and len(f.data) == 4
    assert probe_errors_figure({"tone": 0.1}, reference=0.05).layout.yaxis.title.text.startswith("Mean squared")
    with pytest.raises(ValueError):
        prediction_vs_target_figure(torch.zeros(60, 21), torch.zeros(60, 20))
