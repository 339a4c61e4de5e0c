"""Streaming and the listener's front-end: chunk by chunk equals offline; views and levels."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from apac_lab.frontends import EchoicStream, Gammatonegram, dilate
from apac_lab.frontends.echoic import EchoicFrontend, power_to_unit
from apac_lab.frontends.streaming import stream_snapshots

SR = 8000
_WAVE = torch.randn(2, 3000, generator=torch.Generator().manual_seed(0))
_GT = Gammatonegram(sample_rate=SR, center=False, n_filters=24)
_OFFLINE = _GT(_WAVE).transpose(1, 2)  # (batch, frames, bins)


# -------------------------------------------------------------------- streaming vs offline
@settings(max_examples=25, deadline=None)
@given(chunks=st.lists(st.integers(1, 700), min_size=1, max_size=12))
def test_stream_frames_and_views_equal_offline(chunks):
    s = EchoicStream(_GT, history=50, n_steps=4, mode="mean", batch_size=2)
    frames, views, i = [], [], 0
    for n in chunks + [3000]:  # the rest of the recording in one last chunk
        step = s.process(_WAVE[:, i:i + n])
        assert step.frame_index == sum(f.shape[1] for f in frames)
        frames.append(step.frames)
        views.append(step.views)
        i += n
    frames = torch.cat(frames, 1)
    torch.testing.assert_close(frames, _OFFLINE, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(torch.cat(views, 1), dilate(frames, n_steps=4, mode="mean"))
    torch.testing.assert_close(s.ring.unwrap(), frames[:, -50:])


def test_hop_chunks_one_frame_each_once_the_window_is_full():
    s = EchoicStream(_GT, batch_size=2)
    counts = [s.process(_WAVE[:, i:i + 80]).frames.shape[1] for i in range(0, 800, 80)]
    assert counts == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]  # 200-sample windows, 80-sample hops
    assert s.hop_seconds == pytest.approx(0.01)


def test_reset_starts_a_new_recording():
    s = EchoicStream(_GT, batch_size=2)
    first = torch.cat([st.frames for st in s.run(_WAVE, chunk=333)], 1)
    s.reset()
    again = torch.cat([st.frames for st in s.run(_WAVE, chunk=80)], 1)
    torch.testing.assert_close(first, again, rtol=1e-4, atol=1e-4)


def test_snapshots_hold_the_ring_and_the_view():
    s = EchoicStream(_GT, history=20, n_steps=3)
    snaps = stream_snapshots(_WAVE[0], s, every=4)
    n = _OFFLINE.shape[1]
    assert snaps["frame"].tolist() == list(range(3, n, 4))
    k = 5  # snapshot 5 is after frame 23: the ring ends with it, the first 20 - 24 < 0 rows are real
    torch.testing.assert_close(snaps["ring"][k][-1], _OFFLINE[0, 23], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(snaps["ring"][0][:-4], torch.zeros(16, 24))  # zero-padded while filling
    torch.testing.assert_close(snaps["views"][k], dilate(_OFFLINE[0], n_steps=3, mode="mean")[23], rtol=1e-4, atol=1e-4)


def test_stream_rejects_bad_input():
    s = EchoicStream(_GT, batch_size=2)
    with pytest.raises(ValueError, match="batch=2"):
        s.process(torch.randn(3, 80))
    with pytest.raises(ValueError, match="backend"):
        EchoicStream(Gammatonegram(sample_rate=SR, backend="nnaudio"))
    with pytest.raises(ValueError, match="shorter"):
        stream_snapshots(torch.randn(100), EchoicStream(_GT))


# ------------------------------------------------------------------- the listener's input
def test_power_to_unit_maps_top_db_to_zero_one():
    p = torch.tensor([[4.0, 0.4, 4e-8, 0.0]])
    assert power_to_unit(p, top_db=80.0)[0].tolist() == pytest.approx([1.0, 1 - 10 / 80, 0.0, 0.0], abs=1e-6)
    assert power_to_unit(p, ref=0.4, top_db=10.0)[0].tolist() == pytest.approx([1.0, 1.0, 0.0, 0.0], abs=1e-6)
    with pytest.raises(ValueError):
        power_to_unit(p, top_db=0)


def test_frontend_views_are_dilated_gammatone():
    fe = EchoicFrontend(n_steps=4, view_stride=7, gammatone=Gammatonegram(sample_rate=SR, n_filters=24))
    v = fe(_WAVE)
    power = fe.gammatone(_WAVE)
    full = dilate(power.transpose(1, 2), n_steps=4, mode="mean")
    frames = power.shape[-1]
    assert v.shape == (2, len(range((frames - 1) % 7, frames, 7)), 4, 24)
    ref = power.amax(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(v[:, -1], power_to_unit(full[:, -1], ref=ref))
    for k, frame in enumerate(range((frames - 1) % 7, frames, 7)):  # every 7th frame, ending on the last
        torch.testing.assert_close(v[:, k], power_to_unit(full[:, frame], ref=ref))


def test_frontend_is_level_invariant_by_default():
    fe = EchoicFrontend(gammatone=Gammatonegram(sample_rate=SR, n_filters=24))
    torch.testing.assert_close(fe(_WAVE), fe(3 * _WAVE), rtol=1e-4, atol=1e-4)
    assert fe(_WAVE).shape == (2, 8, 24)


def test_frontend_rejects_bad_settings():
    with pytest.raises(ValueError, match="view_stride"):
        EchoicFrontend(view_stride=0)
    with pytest.raises(ValueError, match="power=2"):
        EchoicFrontend(gammatone=Gammatonegram(power=1.0))
    with pytest.raises(ValueError, match="mode"):
        EchoicFrontend(mode="max")
    with pytest.raises(ValueError, match="batch, samples"):
        EchoicFrontend()(torch.randn(8000))
