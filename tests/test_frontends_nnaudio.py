"""apac_lab.frontends.nnaudio: agreement with torchaudio, gradients, training stays finite.

Stated agreement of the NON-trainable nnAudio front-ends with torchaudio (via
apac_lab.frontends.fixed) on real FSDD audio and on synthetic words, same settings:
- power spectrogram and mel power: relative error ||nnAudio - torchaudio|| / ||torchaudio|| <= 1e-4
  (measured about 3e-6: nnAudio's STFT is a float32 convolution, torchaudio's an FFT);
- log-mel (natural log) and MFCC: relative error <= 1e-4, and no MFCC coefficient
  differs by more than 1e-2 (measured about 1e-3, on coefficients of size up to ~700).
"""

import subprocess
import sys

import pytest
import torch
import torchaudio

from apac_lab.data import fix_length, load_fsdd, synthesize_word
from apac_lab.frontends import MFCC, LogMel, MelSpectrogram, NNAudioLogMel, NNAudioMel, NNAudioMFCC, NNAudioSpectrogram

pytest.importorskip("nnAudio")

REL_TOL = 1e-4
MFCC_ABS_TOL = 1e-2
SMALL = {"sample_rate": 8000, "n_fft": 256, "hop_length": 80, "n_mels": 40}


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()


def synthetic_words(n: int = 3) -> torch.Tensor:
    return torch.stack([fix_length(synthesize_word(d, d, 2), 8000, pad_mode="center") for d in range(n)])


@pytest.fixture(scope="module")
def real_clips(real_fsdd_root):
    ds = load_fsdd(real_fsdd_root, split="test")
    step = max(1, len(ds) // 4)
    return torch.stack([ds[i][0] for i in range(0, len(ds), step)][:4])


# ----------------------------------------------------------------------------- agreement with torchaudio
def _assert_agrees(x):
    for kw in ({"sample_rate": 8000}, SMALL):  # APAC defaults at 8 kHz, and a small speech setting
        assert rel_err(NNAudioMel(**kw)(x), MelSpectrogram(**kw)(x)) <= REL_TOL
        assert rel_err(NNAudioLogMel(**kw)(x), LogMel(**kw)(x)) <= REL_TOL
        n_mfcc = 13 if kw is SMALL else 64
        ours, ref = NNAudioMFCC(n_mfcc=n_mfcc, **kw)(x), MFCC(n_mfcc=n_mfcc, **kw)(x)
        assert rel_err(ours, ref) <= REL_TOL and (ours - ref).abs().max().item() <= MFCC_ABS_TOL
    spec = NNAudioSpectrogram(sample_rate=8000, n_fft=256, hop_length=80)(x)
    assert rel_err(spec, torchaudio.transforms.Spectrogram(n_fft=256, hop_length=80, power=2.0)(x)) <= REL_TOL


def test_agrees_with_torchaudio_on_synthetic_words():
    _assert_agrees(synthetic_words())


def test_agrees_with_torchaudio_on_real_fsdd(real_clips):
    _assert_agrees(real_clips)


def test_mel_basis_is_torchaudios_htk_without_area_norm():
    """nnAudio's own MFCC would use Slaney-normalised triangles; ours must not."""
    fb = torchaudio.functional.melscale_fbanks(129, 0.0, 4000.0, 40, 8000, norm=None, mel_scale="htk").T
    for m in (NNAudioMel(**SMALL), NNAudioMFCC(n_mfcc=13, **SMALL)):
        torch.testing.assert_close(m.mel_basis, fb, rtol=0, atol=1e-4)


# ----------------------------------------------------------------------------- shapes and batches
@pytest.mark.parametrize("lead", [(), (3,), (2, 2)])
def test_shapes(lead):
    x = torch.randn(*lead, 8000)
    assert NNAudioSpectrogram(sample_rate=8000, n_fft=256, hop_length=80)(x).shape == (*lead, 129, 101)
    assert NNAudioMel(**SMALL)(x).shape == (*lead, 40, 101)
    assert NNAudioLogMel(**SMALL)(x).shape == (*lead, 40, 101)
    assert NNAudioMFCC(n_mfcc=13, **SMALL)(x).shape == (*lead, 13, 101)


def test_batch_consistency():
    x = synthetic_words() * torch.tensor([1.0, 1e-2, 1e-4])[:, None]
    m = NNAudioMFCC(n_mfcc=13, **SMALL)
    torch.testing.assert_close(m(x), torch.stack([m(xi) for xi in x]), rtol=1e-5, atol=1e-3)


def test_defaults_scale_with_sample_rate():
    m = NNAudioMFCC(sample_rate=8000)
    assert (m.n_fft, m.hop_length, m.n_mels, m.n_mfcc, m.f_max) == (1024, 256, 128, 64, 4000.0)
    assert m.fourier_kernels[0].shape == (513, 1, 1024)


# ----------------------------------------------------------------------------- trainable: gradients and steps
FLAGS = [(True, False), (False, True), (True, True)]


def _expected(trainable_mel, trainable_stft):
    return ({"mel_basis"} if trainable_mel else set()) | ({"wcos", "wsin"} if trainable_stft else set())


@pytest.mark.parametrize("cls", [NNAudioLogMel, NNAudioMFCC])
@pytest.mark.parametrize("trainable_mel, trainable_stft", FLAGS)
def test_gradients_reach_the_trainable_tensors(cls, trainable_mel, trainable_stft):
    kw = dict(SMALL, n_mfcc=13) if cls is NNAudioMFCC else SMALL
    m = cls(**kw, trainable_mel=trainable_mel, trainable_stft=trainable_stft)
    names = {n.rsplit(".", 1)[-1] for n, _ in m.named_parameters()}
    assert names == _expected(trainable_mel, trainable_stft)
    m(torch.randn(2, 4000)).pow(2).mean().backward()
    for p in m.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
    assert (m.mel_basis.grad is not None) == trainable_mel
    assert all((k.grad is not None) == trainable_stft for k in m.fourier_kernels)


def test_not_trainable_has_no_parameters():
    for m in (NNAudioMel(**SMALL), NNAudioMFCC(n_mfcc=13, **SMALL), NNAudioSpectrogram(sample_rate=8000, n_fft=256)):
        assert list(m.parameters()) == []
    assert NNAudioSpectrogram(sample_rate=8000, n_fft=256, trainable_stft=True).fourier_kernels[0].requires_grad


@pytest.mark.parametrize("cls", [NNAudioLogMel, NNAudioMFCC])
@pytest.mark.parametrize("trainable_mel, trainable_stft", FLAGS)
def test_adam_steps_change_the_tensors_and_outputs_stay_finite(cls, trainable_mel, trainable_stft):
    torch.manual_seed(0)
    kw = dict(SMALL, n_mfcc=13) if cls is NNAudioMFCC else SMALL
    m = cls(**kw, trainable_mel=trainable_mel, trainable_stft=trainable_stft)
    x = torch.randn(4, 4000)
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    opt = torch.optim.Adam(m.parameters(), lr=1.0)  # huge on purpose: drives mel weights below zero
    for _ in range(3):
        y = m(x)
        loss = (y[..., 0, :] if cls is NNAudioMFCC else y).mean()  # minimise the energy
        opt.zero_grad()
        loss.backward()
        opt.step()
    for n, p in m.named_parameters():
        assert (p - before[n]).abs().max() > 0.1, f"{n} did not change"
        assert torch.isfinite(p).all()
    y = m(x)
    assert torch.isfinite(y).all()
    if trainable_mel:
        assert (m.mel_basis < 0).any()
        raw = m.layer(x) if cls is NNAudioLogMel else m.layer.melspec_layer(x)  # nnAudio's raw mel energies
        assert (raw < 0).any() and torch.isnan(torch.log(raw + 1e-6)).any()  # the hazard the safe logs avoid


# ----------------------------------------------------------------------------- errors and optional import
@pytest.mark.parametrize(
    "kwargs, match",
    [({"sample_rate": 8000, "n_fft": 1}, "n_fft"), ({"sample_rate": 8000, "hop_length": 0}, "hop_length"),
     ({"sample_rate": 8000, "f_min": 4000.0}, "f_min < f_max"), ({"sample_rate": 8000, "n_mfcc": 200}, "n_mfcc"),
     ({"sample_rate": 8000, "top_db": -1.0}, "top_db")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NNAudioMFCC(**kwargs)


def test_bad_eps_and_short_input():
    with pytest.raises(ValueError, match="eps"):
        NNAudioLogMel(sample_rate=8000, eps=0.0)
    with pytest.raises(ValueError, match="n_fft // 2"):
        NNAudioMel(**SMALL)(torch.randn(100))


def test_missing_nnaudio_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "nnAudio", None)  # makes `import nnAudio` fail
    with pytest.raises(ImportError, match=r"pip install nnAudio==0\.3\.4"):
        NNAudioMel(**SMALL)


def test_importing_apac_lab_does_not_need_nnaudio():
    code = ("import sys; sys.modules['nnAudio'] = None\n"
            "import apac_lab, apac_lab.frontends, apac_lab.plots, apac_lab.widgets\n"
            "print(apac_lab.frontends.NNAudioMel.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "NNAudioMel" in out.stdout
