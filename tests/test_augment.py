"""Augmentation: batched, per-clip random, identity in eval, repeatable, and usable by fit."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import numpy as np

from apac_lab.train import (
    AddNoise, RandomEQ, SpecAugment, SpeedPerturb, TimeShift, TrainConfig, WaveAugment, attach_spec_augment, fit,
)
from apac_lab.train.augment import (
    RandomBandLimit, RandomMuLaw, RandomReverb, VocalTractWarp, find_spectrogram, synthetic_rir, vtlp_source_positions,
)


def _ramp(b=6, n=50):
    return torch.arange(1, n + 1, dtype=torch.float32).repeat(b, 1)


class TestTimeShift:
    def test_each_clip_is_a_zero_filled_shift_of_itself(self):
        torch.manual_seed(0)
        x = _ramp()
        out = TimeShift(0.3)(x)
        for row in out:  # recover each row's shift and compare with a slow loop
            nz = row.nonzero().flatten()
            shift = int(nz[0]) - int(row[nz[0]].item()) + 1  # out[t] = t - shift + 1
            ref = torch.zeros(50)
            for t in range(50):
                if 0 <= t - shift < 50:
                    ref[t] = x[0, t - shift]
            assert torch.equal(row, ref)
            assert abs(shift) <= 15

    def test_shifts_differ_between_clips(self):
        torch.manual_seed(1)
        out = TimeShift(0.3)(_ramp(16))
        assert len({tuple(r.tolist()) for r in out}) > 4

    def test_identity_in_eval_and_repeatable_with_a_seed(self):
        x = _ramp()
        assert torch.equal(TimeShift(0.3).eval()(x), x)
        torch.manual_seed(3)
        a = TimeShift(0.3)(x)
        torch.manual_seed(3)
        assert torch.equal(a, TimeShift(0.3)(x))

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="max_shift"):
            TimeShift(1.5)
        with pytest.raises(ValueError, match="batch, samples"):
            TimeShift(0.1)(torch.zeros(2, 3, 4))


class TestSpeedPerturb:
    @pytest.mark.parametrize("factor", [0.8, 1.0, 1.25])
    def test_matches_linear_interpolation_about_the_centre(self, factor):
        x = torch.randn(3, 101)
        out = SpeedPerturb((factor, factor))(x)
        t = np.arange(101)
        src = 50 + factor * (t - 50)
        t_pad = np.arange(-1, 102)  # zero padding: reading past the ends fades to 0 over one sample
        for i in range(3):
            ref = np.interp(src, t_pad, np.pad(x[i].numpy(), 1), left=0.0, right=0.0)
            assert np.allclose(out[i].numpy(), ref, atol=1e-4)  # float32 read positions

    def test_factors_differ_per_clip_and_eval_is_identity(self):
        torch.manual_seed(0)
        x = torch.randn(1, 400).repeat(8, 1)
        out = SpeedPerturb((0.8, 1.2))(x)
        assert len({round(float(r.std()), 6) for r in out - x}) == 8
        assert torch.equal(SpeedPerturb().eval()(x), x)

    def test_bad_factors(self):
        with pytest.raises(ValueError, match="0 < low <= high"):
            SpeedPerturb((0.0, 1.1))


class TestRandomEQ:
    def test_response_stays_within_its_bounds_and_differs_per_clip(self):
        torch.manual_seed(0)
        x = torch.randn(6, 4000)
        y = RandomEQ(max_db=12.0, gain_db=(-6.0, 6.0))(x)
        db = 20 * torch.log10(torch.fft.rfft(y).abs() / torch.fft.rfft(x).abs())
        assert db.max() <= 18.0 + 1e-3 and db.min() >= -18.0 - 1e-3
        assert (db[:, 1:] - db[:, :-1]).abs().max() < 0.1  # smooth: 4 cosines over 2001 bins
        assert len({round(float(d.mean()), 3) for d in db}) == 6

    def test_flat_response_is_a_pure_gain_and_eval_is_identity(self):
        x = torch.randn(3, 1000)
        assert torch.allclose(RandomEQ(0.0, (-20.0, -20.0))(x), x / 10, atol=1e-5)
        assert torch.equal(RandomEQ().eval()(x), x)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="max_db"):
            RandomEQ(-1.0)


class TestAddNoise:
    def test_snr_is_the_one_asked_for(self):
        torch.manual_seed(0)
        x = torch.randn(8, 16000) * torch.linspace(0.1, 2, 8)[:, None]
        noisy = AddNoise((5.0, 5.0), p=1.0)(x)
        snr = 10 * torch.log10(x.pow(2).mean(1) / (noisy - x).pow(2).mean(1))
        assert torch.allclose(snr, torch.full((8,), 5.0), atol=0.2)

    def test_p_zero_and_eval_leave_the_signal(self):
        x = torch.randn(4, 100)
        assert torch.equal(AddNoise(p=0.0)(x), x)
        assert torch.equal(AddNoise(p=1.0).eval()(x), x)

    def test_silence_stays_finite(self):
        assert torch.isfinite(AddNoise(p=1.0)(torch.zeros(3, 100))).all()

    def test_bad_range(self):
        with pytest.raises(ValueError, match="low <= high"):
            AddNoise((30.0, 10.0))


class TestSpecAugment:
    def test_masks_are_full_bands_within_the_widths(self):
        torch.manual_seed(0)
        s = SpecAugment(freq_mask=5, time_mask=4, n_freq_masks=1, n_time_masks=1, value=0.0)(torch.ones(32, 40, 30))
        for m in s == 0:
            rows = m.all(1).nonzero().flatten()
            cols = m.all(0).nonzero().flatten()
            assert len(rows) <= 5 and len(cols) <= 4
            if len(rows):
                assert rows.max() - rows.min() + 1 == len(rows)  # one contiguous band
            expect = torch.zeros_like(m)
            expect[rows, :] = True
            expect[:, cols] = True
            assert torch.equal(m, expect), "every masked cell lies in a masked row or column"

    def test_default_fill_is_each_clip_mean_and_channels_share_masks(self):
        torch.manual_seed(0)
        x = torch.rand(4, 2, 16, 12) + torch.arange(4.0)[:, None, None, None]
        out = SpecAugment(6, 6)(x)
        changed = out != x
        assert torch.equal(changed[:, 0], changed[:, 1])
        for i in range(4):
            assert torch.allclose(out[i][changed[i]], x[i].mean().expand(int(changed[i].sum())))

    def test_identity_in_eval(self):
        x = torch.rand(2, 8, 8)
        assert torch.equal(SpecAugment().eval()(x), x)

    def test_time_stretch_scales_events_about_the_centre_and_keeps_frequencies(self):
        x = torch.zeros(2, 2, 5, 41)
        x[:, :, 2, 18:23] = 1.0  # a 5-frame event centred on frame 20, in band 2
        out = SpecAugment(0, 0, time_stretch=(2.0, 2.0))(x)
        assert torch.allclose(out[:, :, [0, 1, 3, 4]], torch.zeros(2, 2, 4, 41))
        # x2 about frame 20: output frame j reads the input at 20 + (j - 20) / 2, linearly interpolated
        ref = torch.zeros(41)
        for j in range(41):
            pos = 20 + (j - 20) / 2
            lo = math.floor(pos)
            ref[j] = (1 - (pos - lo)) * x[0, 0, 2, lo] + (pos - lo) * x[0, 0, 2, min(lo + 1, 40)]
        torch.testing.assert_close(out[:, :, 2], ref.expand(2, 2, 41), rtol=0, atol=1e-6)
        assert (out[0, 0, 2] == 1.0).sum() == 9  # the 5-frame event now lasts 9 frames
        assert torch.equal(SpecAugment(0, 0, time_stretch=(1.0, 1.0))(x), x)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="freq_mask"):
            SpecAugment(freq_mask=-1)
        with pytest.raises(ValueError, match="freq, time"):
            SpecAugment()(torch.zeros(4, 4))


class _SpecModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.frontend = nn.Conv1d(1, 8, 16, stride=8)  # a toy learnable "spectrogram"
        self.head = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))

    def forward(self, x):
        return self.head(self.frontend(x[:, None]))


class TestInTraining:
    def test_spec_augment_follows_model_mode_and_gradients_flow(self):
        model = _SpecModel()
        spec = []
        attach_spec_augment(model, SpecAugment(3, 3, value=0.0))
        model.frontend.register_forward_hook(lambda m, i, o: spec.append(o))
        x = torch.randn(4, 128)
        model.train()(x).sum().backward()
        assert model.frontend.weight.grad.abs().sum() > 0
        model.eval()(x)
        # the hook that records runs after SpecAugment's, so the masked output is what it sees
        assert (spec[0] == 0).any() and not (spec[1] == 0).any()

    def test_fit_uses_augment_on_training_batches_only_and_resume_stays_exact(self, tmp_path):
        seen = []

        class Spy(nn.Module):
            def forward(self, x):
                seen.append(self.training)
                return x

        g = torch.Generator().manual_seed(0)
        data = TensorDataset(torch.randn(48, 64, generator=g), torch.randint(0, 2, (48,), generator=g))
        cfg = dict(epochs=3, batch_size=16, progress=False, device="cpu")
        fit(nn.Linear(64, 2), data, data, TrainConfig(**cfg), augment=Spy())
        assert seen == [True] * 9  # 3 epochs x 3 training batches, no validation batch

        def run(out, **kw):
            torch.manual_seed(0)
            return fit(nn.Linear(64, 2), data, data, TrainConfig(out_dir=str(out), **cfg),
                       augment=WaveAugment(0.2, (5.0, 20.0), 1.0), **kw)

        full = run(tmp_path / "a")
        plain = fit(nn.Linear(64, 2), data, data, TrainConfig(**cfg))
        assert full[-1]["train_loss"] != pytest.approx(plain[-1]["train_loss"], abs=1e-6)

        def stop(rec):
            if rec["epoch"] == 1:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run(tmp_path / "b", on_epoch_end=stop)
        resumed = run(tmp_path / "b", resume=True)
        assert [r["val_loss"] for r in resumed] == pytest.approx([r["val_loss"] for r in full], abs=1e-7)


# --------------------------------------------------------------------------- other voices and microphones

SR = 8000


def _tone(hz, n=SR, b=1):
    return torch.sin(2 * torch.pi * hz * torch.arange(n) / SR).repeat(b, 1)


def _power_spec(x, n_fft=1024):
    return torch.stft(x, n_fft, 256, window=torch.hann_window(n_fft), return_complex=True).abs() ** 2


def _level_db(y, x):
    return 20 * torch.log10(y.std(-1) / x.std(-1))


class TestVocalTractWarp:
    @pytest.mark.parametrize("factor", [0.8, 0.9, 1.15, 1.25])
    def test_a_tone_peak_moves_by_the_factor(self, factor):
        spec = _power_spec(_tone(1000.0))
        out = VocalTractWarp((factor, factor))(spec)
        bin_hz = SR / 1024
        peak_hz = out[0, :, 5:-5].mean(-1).argmax().item() * bin_hz
        assert abs(peak_hz - 1000.0 * factor) <= bin_hz  # within one bin of the warped frequency

    def test_matches_the_piecewise_linear_warp_of_the_paper_by_a_slow_loop(self):
        f, nyq, boundary = 513, 512.0, 0.8
        for factor in (0.85, 1.2):
            src = vtlp_source_positions(torch.tensor([factor]), f, boundary)[0].numpy()
            # forward warp: f -> factor f up to f_hi min(factor, 1) / factor, then linear to Nyquist
            f_hi = boundary * nyq
            edge = f_hi * min(factor, 1.0) / factor
            fwd = lambda x: factor * x if x <= edge else nyq - (nyq - f_hi * min(factor, 1.0)) / (nyq - edge) * (nyq - x)  # noqa: E731
            for k in range(0, f, 7):
                assert fwd(float(src[k])) == pytest.approx(float(k), abs=1e-3)  # src is the inverse of the warp
        torch.manual_seed(0)
        spec = torch.rand(3, 2, f, 6)
        out = VocalTractWarp((0.85, 1.2))(spec)
        assert torch.equal(out[:, :, 0], spec[:, :, 0]) and torch.allclose(out[:, :, -1], spec[:, :, -1])

    def test_factor_one_eval_and_p_zero_are_the_identity_and_clips_differ(self):
        torch.manual_seed(0)
        spec = torch.rand(1, 257, 5).repeat(6, 1, 1)
        assert torch.allclose(VocalTractWarp((1.0, 1.0))(spec), spec)
        assert torch.equal(VocalTractWarp().eval()(spec), spec)
        assert torch.equal(VocalTractWarp(p=0.0)(spec), spec)
        out = VocalTractWarp((0.8, 1.2))(spec)
        assert len({round(float(o.sum()), 4) for o in out}) == 6

    def test_attached_to_a_model_it_warps_the_mel_input_in_training_only(self):
        from apac_lab.models import build_model

        model = build_model("tiny", n_classes=2, sample_rate=SR, n_mels=32)
        seen = []
        model.frontend.register_forward_hook(lambda m, i, o: seen.append(o[0]))
        attach_spec_augment(model, VocalTractWarp((1.3, 1.3)), where=find_spectrogram(model))
        x = _tone(500.0, b=2)
        model.eval()(x)
        model.train()(x)
        plain, warped = seen[0][0].mean(-1).argmax().item(), seen[1][0].mean(-1).argmax().item()
        assert warped > plain  # the tone's mel band moves up

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="factors"):
            VocalTractWarp((1.2, 0.9))
        with pytest.raises(ValueError, match="boundary"):
            VocalTractWarp(boundary=1.0)
        with pytest.raises(ValueError, match="freq, time"):
            VocalTractWarp()(torch.zeros(3, 4))
        from apac_lab.models import build_model

        with pytest.raises(ValueError, match="mode 'std'"):
            find_spectrogram(build_model("tiny", n_classes=2, sample_rate=SR, mode="mel"))


class TestRandomBandLimit:
    def test_butterworth_attenuation_at_and_beyond_the_cut_offs(self):
        lp = RandomBandLimit(SR, low_pass_hz=(1000.0, 1000.0), high_pass_hz=(0.0, 0.0), order=4, p=1.0)
        assert _level_db(lp(_tone(1000.0)), _tone(1000.0)).item() == pytest.approx(-3.0103, abs=1e-3)
        assert _level_db(lp(_tone(2000.0)), _tone(2000.0)).item() == pytest.approx(-10 * np.log10(1 + 2**8), abs=1e-2)
        assert _level_db(lp(_tone(100.0)), _tone(100.0)).item() == pytest.approx(0.0, abs=1e-3)
        hp = RandomBandLimit(SR, low_pass_hz=(4000.0, 4000.0), high_pass_hz=(200.0, 200.0), order=2, p=1.0)
        assert _level_db(hp(_tone(100.0)), _tone(100.0)).item() == pytest.approx(-10 * np.log10(1 + 2**4), abs=1e-2)
        both = -10 * np.log10(1 + (2000 / 4000) ** 4) - 10 * np.log10(1 + (200 / 2000) ** 4)  # the two responses multiply
        assert _level_db(hp(_tone(2000.0)), _tone(2000.0)).item() == pytest.approx(both, abs=1e-3)

    def test_p_chooses_the_filtered_clips_and_eval_is_identity(self):
        torch.manual_seed(0)
        x = torch.randn(64, 800)
        y = RandomBandLimit(SR, p=0.5)(x)
        same = (y - x).abs().amax(1) < 1e-5
        assert 16 < int(same.sum()) < 48
        assert torch.equal(RandomBandLimit(SR, p=1.0).eval()(x), x)
        assert torch.equal(RandomBandLimit(SR, p=0.0)(x), x)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="sample_rate"):
            RandomBandLimit(0)
        with pytest.raises(ValueError, match="low_pass_hz"):
            RandomBandLimit(SR, low_pass_hz=(3000.0, 1000.0))
        with pytest.raises(ValueError, match="order"):
            RandomBandLimit(SR, order=0)


class TestRandomReverb:
    def test_length_level_and_causality(self):
        torch.manual_seed(0)
        x = torch.zeros(4, SR)
        x[:, 2000] = 1.0
        x[1] += 0.1 * torch.randn(SR)
        y = RandomReverb(SR, p=1.0)(x)
        assert y.shape == x.shape
        assert torch.allclose(y.pow(2).mean(1), x.pow(2).mean(1), rtol=1e-4)  # RMS kept
        assert y[[0, 2, 3], :2000].abs().max() < 1e-6  # nothing before the impulse
        assert (y[0, 2001:2400].abs() > 1e-4).float().mean() > 0.9  # a tail after it

    def test_output_is_the_causal_convolution_with_the_response(self):
        torch.manual_seed(1)
        x = torch.randn(2, 600)
        y = RandomReverb(SR, rt60=(0.02, 0.02), drr_db=(3.0, 3.0), p=1.0)(x)
        torch.manual_seed(1)
        _ = torch.randn(2, 600)
        rt60, drr = torch.full((2,), 0.02), torch.full((2,), 3.0)
        torch.rand(2), torch.rand(2)  # the module's draws of rt60 and drr (fixed ranges)
        h = synthetic_rir(rt60, drr, 161, SR)
        for i in range(2):
            ref = np.convolve(x[i].numpy(), h[i].numpy())[:600]
            ref = ref * np.sqrt((x[i].numpy() ** 2).mean() / (ref**2).mean())
            assert np.allclose(y[i].numpy(), ref, atol=1e-4)

    def test_synthetic_response_decays_60_db_in_rt60_with_the_asked_drr(self):
        torch.manual_seed(0)
        h = synthetic_rir(torch.full((256,), 0.3), torch.full((256,), 5.0), 2400, SR)
        assert torch.equal(h[:, 0], torch.ones(256))
        drr = 10 * torch.log10(1.0 / h[:, 1:].pow(2).sum(1))
        assert torch.allclose(drr, torch.full((256,), 5.0), atol=1e-3)
        e = h.pow(2).mean(0)
        w1, w2 = e[400:800].sum(), e[1200:1600].sum()  # 0.05-0.1 s and 0.15-0.2 s
        assert 10 * torch.log10(w1 / w2).item() == pytest.approx(60 * 0.1 / 0.3, abs=0.5)

    def test_eval_and_p_zero_are_the_identity(self):
        x = torch.randn(3, 500)
        assert torch.equal(RandomReverb(SR, p=1.0).eval()(x), x)
        assert torch.equal(RandomReverb(SR, p=0.0)(x), x)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="rt60"):
            RandomReverb(SR, rt60=(0.0, 0.5))
        with pytest.raises(ValueError, match="batch, samples"):
            RandomReverb(SR, p=1.0)(torch.zeros(2, 1, 100))


class TestRandomMuLaw:
    def test_eight_bits_is_torchaudio_mu_law_round_trip(self):
        import torchaudio.functional as AF

        torch.manual_seed(0)
        x = torch.rand(3, 1000) * 2 - 1
        y = RandomMuLaw((8, 8), p=1.0)(x)
        ref = AF.mu_law_decoding(AF.mu_law_encoding(x, 256), 256)
        assert torch.allclose(y, ref, atol=1e-6)

    def test_levels_follow_the_word_length_and_clips_differ(self):
        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 4001).repeat(32, 1)
        y = RandomMuLaw((3, 6), p=1.0)(x)
        levels = sorted(len(torch.unique(r)) for r in y)
        assert set(levels) <= {8, 16, 32, 64} and len(set(levels)) > 1

    def test_eval_and_p_zero_are_the_identity(self):
        x = torch.rand(2, 100) - 0.5
        assert torch.equal(RandomMuLaw(p=1.0).eval()(x), x)
        assert torch.equal(RandomMuLaw(p=0.0)(x), x)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="bits"):
            RandomMuLaw((4.5, 8))
        with pytest.raises(ValueError, match="p must"):
            RandomMuLaw(p=2.0)
