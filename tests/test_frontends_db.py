"""power_to_db, the kit's one dB conversion: torchaudio's AmplitudeToDB clip by clip, each
clip floored on its own, ``ref=None`` as librosa's ``ref=np.max``, and clear errors."""

import math

import pytest
import torch
import torchaudio

from apac_lab.frontends import power_to_db

_GEN = torch.Generator().manual_seed(0)
_POWER = torch.rand(3, 20, 30, generator=_GEN) ** 8  # about 90 dB of range, so the floor matters


def test_equals_torchaudio_clip_by_clip():
    ref = torch.stack([torchaudio.transforms.AmplitudeToDB("power", top_db=80.0)(p) for p in _POWER])
    torch.testing.assert_close(power_to_db(_POWER), ref, rtol=0, atol=0)
    no_floor = torchaudio.transforms.AmplitudeToDB("power", top_db=None)(_POWER)
    torch.testing.assert_close(power_to_db(_POWER, top_db=None), no_floor, rtol=0, atol=0)


def test_each_clip_keeps_its_own_floor():
    loud = torch.cat([_POWER[:1] * 1e6, _POWER[1:]])
    torch.testing.assert_close(power_to_db(loud)[1:], power_to_db(_POWER[1:]), rtol=0, atol=0)
    db = power_to_db(_POWER)
    spread = db.amax(dim=(1, 2)) - db.amin(dim=(1, 2))
    assert spread.tolist() == pytest.approx([80.0] * 3, abs=1e-4)


def test_ref_none_is_each_clips_maximum_like_librosa():
    # librosa.power_to_db(S, ref=np.max, amin, top_db), written out: 10 log10(max(S, amin)) - 10 log10(max(S))
    x = _POWER.double()
    want = 10 * torch.log10(x.clamp_min(1e-10)) - 10 * torch.log10(x.amax(dim=(1, 2), keepdim=True))
    want = torch.maximum(want, want.amax(dim=(1, 2), keepdim=True) - 80.0)
    got = power_to_db(x, ref=None)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-9)
    assert got.amax(dim=(1, 2)).tolist() == [0.0, 0.0, 0.0]


def test_a_reference_power_shifts_every_value():
    for ref in (4.0, torch.tensor(4.0)):
        torch.testing.assert_close(power_to_db(_POWER, ref=ref), power_to_db(_POWER) - 10 * math.log10(4.0))


def test_dims_choose_what_one_clip_is():
    whole = power_to_db(_POWER, ref=None, dims=None)
    assert float(whole.amax()) == 0.0 and float(whole.amin()) == pytest.approx(-80.0)
    assert power_to_db(torch.tensor([1.0, 1e-12])).tolist() == [0.0, -80.0]  # 1D: the whole tensor


@pytest.mark.parametrize("kwargs, match", [({"amin": 0.0}, "amin"), ({"top_db": -1.0}, "top_db")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        power_to_db(_POWER, **kwargs)
