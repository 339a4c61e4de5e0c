"""Ring buffer and dilated buffers: against collections.deque, a slow loop, and each other."""

from collections import deque

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numpy as np

from apac_lab.frontends.buffers import DilatedBuffer, RingBuffer, dilate, dilated_memory, dilated_spans, view_lags

FAST = settings(max_examples=60, deadline=None)


def _frames(start: int, n: int, batch: int) -> torch.Tensor:
    """Distinct frames: value v in batch b is (v + 1000 b, -(v + 1000 b))."""
    v = torch.arange(start, start + n, dtype=torch.float32)[None, :] + 1000 * torch.arange(batch)[:, None]
    return torch.stack([v, -v], dim=-1)  # (batch, n, 2)


# ---------------------------------------------------------------------------- ring: deque
@FAST
@given(capacity=st.integers(1, 12), batch=st.integers(1, 3),
       chunks=st.lists(st.integers(0, 20), min_size=0, max_size=12))
def test_ring_matches_deque(capacity, batch, chunks):
    ring = RingBuffer(capacity, 2, batch_size=batch)
    ref = [deque(maxlen=capacity) for _ in range(batch)]
    counter = 0
    for n in chunks:
        x = _frames(counter, n, batch)
        counter += n
        ring.push(x[:, 0] if n == 1 else x)  # single frames as (batch, bins), the rest as chunks
        for b in range(batch):
            ref[b].extend(x[b].tolist())
        assert ring.count == len(ref[0])
        assert ring.is_full == (len(ref[0]) == capacity)
        got = ring.unwrap()
        for b in range(batch):
            assert got[b].tolist() == list(ref[b])
        if ring.count:
            lags = list(range(ring.count))
            assert ring.lag(lags)[0].tolist() == [ref[0][-1 - k] for k in lags]


@FAST
@given(capacity=st.integers(1, 8), n=st.integers(1, 30))
def test_ring_frame_by_frame_equals_one_chunk(capacity, n):
    a, b = RingBuffer(capacity, 2), RingBuffer(capacity, 2)
    x = _frames(0, n, 1)
    for i in range(n):
        a.push(x[:, i])
    b.push(x)
    assert torch.equal(a.unwrap(), b.unwrap()) and a.count == b.count


def test_ring_writes_in_place_without_shifting():
    ring = RingBuffer(4, 3)
    ptr = ring.storage.data_ptr()
    ring.push(torch.ones(1, 6, 3))
    before = ring.storage.clone()
    ring.push(torch.full((1, 3), 7.0))
    assert ring.storage.data_ptr() == ptr  # the same storage, written in place
    changed = (ring.storage != before).any(-1)[0]
    assert changed.sum() == 1  # one frame pushed, one slot written: nothing shifted


def test_ring_reset_fill_and_device():
    ring = RingBuffer(3, 2, device="cpu")
    ring.push(torch.ones(1, 2, 2))
    ring.reset()
    assert ring.count == 0 and ring.unwrap().shape == (1, 0, 2)
    ring.fill_(torch.tensor([[1.0, 2.0]]))
    assert ring.is_full and ring.unwrap()[0].tolist() == [[1.0, 2.0]] * 3
    assert ring.to("cpu").device.type == "cpu"


@pytest.mark.parametrize("kwargs", [dict(capacity=0, n_bins=2), dict(capacity=2, n_bins=0),
                                    dict(capacity=2, n_bins=2, batch_size=0)])
def test_ring_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        RingBuffer(**kwargs)


def test_ring_rejects_bad_shapes_and_lags():
    ring = RingBuffer(3, 2, batch_size=2)
    with pytest.raises(ValueError, match="push a frame"):
        ring.push(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="push a frame"):
        ring.push(torch.zeros(2, 4, 3))
    ring.push(torch.zeros(2, 2))
    with pytest.raises(IndexError):
        ring.lag(1)


# ------------------------------------------------------------------- dilated: slow loop
def _slow_dilate(x, n_steps, base, mode, pad, pad_value):
    """One frame, one step, one lag at a time: (frames, bins) -> (frames, n_steps, bins)."""
    starts, widths = dilated_spans(n_steps, base)
    out = []
    for t in range(x.shape[0]):
        steps = []
        for a, w in zip(starts, widths):
            span = [x[t - lag] if t - lag >= 0 else (x[0] if pad == "edge" else torch.full_like(x[0], pad_value))
                    for lag in range(a, a + w)]
            span = torch.stack(span)
            steps.append({"lookup": span[0], "mean": span.double().mean(0).float(),
                          "median": span.median(0).values}[mode])
        out.append(torch.stack(steps[::-1]))
    return torch.stack(out)


@pytest.mark.parametrize("mode", ["lookup", "mean", "median"])
@pytest.mark.parametrize("pad", ["constant", "edge"])
@pytest.mark.parametrize("base", [1.0, 1.5, 2.0, 3.0])
def test_dilate_matches_slow_loop(mode, pad, base):
    torch.manual_seed(0)
    x = torch.randn(40, 3)
    got = dilate(x, n_steps=4, base=base, mode=mode, pad=pad, pad_value=-2.0)
    want = _slow_dilate(x, 4, base, mode, pad, -2.0)
    assert got.shape == (40, 4, 3)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_dilate_batch_consistency():
    x = torch.randn(3, 50, 5)
    full = dilate(x, mode="mean")
    assert full.shape == (3, 50, 8, 5)
    for b in range(3):
        torch.testing.assert_close(full[b], dilate(x[b], mode="mean"))


def test_dilated_spans_tile_the_past():
    for base in (1, 1.3, 2, 2.5, 4):
        starts, widths = dilated_spans(6, base)
        assert starts[0] == 0 and all(s + w == s2 for s, w, s2 in zip(starts, widths, starts[1:]))
    assert dilated_spans(8, 2) == ([2 ** j - 1 for j in range(8)], [2 ** j for j in range(8)])


def test_base_one_is_a_plain_buffer():
    x = torch.randn(20, 2)
    view = dilate(x, n_steps=5, base=1, mode="mean")
    torch.testing.assert_close(view[-1], x[-5:])


# ------------------------------------------------------- dilated: Rothmann's (2018) rule
def _article_loop(spectrogram, num_frames, dilation_factor):
    """The loop of Rothmann's make_dilated_spectral_frames, transcribed from the article:
    frame i, step j takes spectrogram[i - factor**j], or spectrogram[0] before the start."""
    dilated_frames = np.zeros((len(spectrogram), num_frames, len(spectrogram[0])))
    for i in range(len(spectrogram)):
        for j in range(num_frames):
            dilation = np.power(dilation_factor, j)
            if i - dilation < 0:
                dilated_frames[i][j] = spectrogram[0]
            else:
                dilated_frames[i][j] = spectrogram[i - dilation]
    return dilated_frames


@pytest.mark.parametrize("n_steps, factor, frames", [(8, 2, 300), (8, 2, 5), (4, 3, 50), (3, 1, 10), (1, 2, 4)])
def test_rothmann_rule_matches_the_articles_loop(n_steps, factor, frames):
    spec = np.random.default_rng(0).random((frames, 6))
    want = _article_loop(spec, n_steps, factor)
    got = dilate(torch.from_numpy(spec), n_steps=n_steps, base=factor, rule="rothmann2018")
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)  # a lookup: the same numbers, not close ones


def test_rothmann_rule_lags_order_and_start():
    assert view_lags(8, 2, rule="rothmann2018") == [1, 2, 4, 8, 16, 32, 64, 128]  # newest first
    assert view_lags(8, 2) == [127, 63, 31, 15, 7, 3, 1, 0]  # the kit: oldest first, lag 0 included
    x = torch.arange(1.0, 301.0).view(300, 1)
    view = dilate(x, rule="rothmann2018")[-1, :, 0]
    assert 300.0 not in view.tolist()  # the current frame is never in the article's view
    assert view.tolist() == [300.0 - lag for lag in (1, 2, 4, 8, 16, 32, 64, 128)]
    assert dilate(x, rule="rothmann2018")[0, :, 0].tolist() == [1.0] * 8  # spectrogram[0] before the start
    assert dilate(x, mode="lookup")[-1, :, 0].tolist() == [300.0 - lag for lag in (127, 63, 31, 15, 7, 3, 1, 0)]


@settings(max_examples=30, deadline=None)
@given(base=st.sampled_from([1.0, 2.0, 3.0]), n_steps=st.integers(1, 6),
       chunks=st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_rothmann_rule_streams_as_offline(base, n_steps, chunks):
    x = torch.randn(2, sum(chunks), 3, generator=torch.Generator().manual_seed(2))
    offline = dilate(x, n_steps=n_steps, base=base, rule="rothmann2018")
    buf = DilatedBuffer(3, n_steps=n_steps, base=base, rule="rothmann2018", batch_size=2)
    outs, i = [], 0
    for n in chunks:
        outs.append(buf.push(x[:, i] if n == 1 else x[:, i:i + n]))
        i += n
    torch.testing.assert_close(torch.cat(outs, dim=1), offline, rtol=0, atol=0)
    assert buf.span == int(base) ** (n_steps - 1) + 1 and (buf.mode, buf.pad) == ("lookup", "edge")


def test_rothmann_rule_memory_report():
    r = dilated_memory(8, 2, n_bins=100, hop_s=0.01, rule="rothmann2018")
    assert (r.frames_kept, r.frames_history, r.seconds) == (8, 128, pytest.approx(1.28))
    assert "rothmann2018 rule" in str(r) and "16.0x less" in str(r)
    assert DilatedBuffer(100, rule="rothmann2018").memory(0.01) == r


@pytest.mark.parametrize("kwargs, match", [
    (dict(rule="rothmann2018", mode="mean"), "mode='mean' needs rule='kit'"),
    (dict(rule="rothmann2018", pad="constant"), "spectrogram\\[0\\]"),
    (dict(rule="rothmann2018", base=1.5), "whole-number base"),
    (dict(rule="wavenet"), "rule must be one of"),
])
def test_rothmann_rule_rejects_what_the_article_does_not_define(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dilate(torch.zeros(4, 2), **kwargs)
    with pytest.raises(ValueError, match=match):
        DilatedBuffer(2, **kwargs)


# ----------------------------------------------------------- dilated: streaming vs offline
@settings(max_examples=40, deadline=None)
@given(mode=st.sampled_from(["lookup", "mean", "median"]), pad=st.sampled_from(["constant", "edge"]),
       base=st.sampled_from([1.0, 2.0, 3.0]), n_steps=st.integers(1, 5),
       chunks=st.lists(st.integers(1, 25), min_size=1, max_size=6))
def test_streaming_agrees_with_offline(mode, pad, base, n_steps, chunks):
    torch.manual_seed(1)
    x = torch.randn(2, sum(chunks), 3)
    offline = dilate(x, n_steps=n_steps, base=base, mode=mode, pad=pad, pad_value=0.5)
    buf = DilatedBuffer(3, n_steps=n_steps, base=base, mode=mode, pad=pad, pad_value=0.5, batch_size=2)
    outs, i = [], 0
    for n in chunks:
        outs.append(buf.push(x[:, i] if n == 1 else x[:, i:i + n]))
        i += n
    torch.testing.assert_close(torch.cat(outs, dim=1), offline, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(buf.view(), offline[:, -1])


def test_streaming_reset_starts_over():
    buf = DilatedBuffer(1, n_steps=3, pad="edge")
    buf.push(torch.ones(1, 5, 1))
    buf.reset()
    out = buf.push(torch.full((1, 1), 3.0))
    assert out[0, 0, :, 0].tolist() == [3.0, 3.0, 3.0]


# ------------------------------------------------------------------ memory and errors
def test_memory_report():
    r = dilated_memory(8, 2.0, n_bins=100, hop_s=0.01)
    assert (r.frames_kept, r.frames_history) == (8, 255) and r.ratio == pytest.approx(255 / 8)
    assert r.seconds == pytest.approx(2.55) and "31.9x less" in str(r)
    assert DilatedBuffer(100).memory(0.01) == r


@pytest.mark.parametrize("kwargs", [dict(mode="max"), dict(pad="wrap"), dict(base=0.5), dict(n_steps=0)])
def test_dilate_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        dilate(torch.zeros(4, 2), **kwargs)


def test_dilate_rejects_bad_shapes():
    with pytest.raises(ValueError, match="batch, frames, bins"):
        dilate(torch.zeros(4))
    with pytest.raises(RuntimeError, match="push a frame first"):
        DilatedBuffer(2).view()
