"""ChunkResampler: a stream resampled chunk by chunk equals resample_waveform of the whole, in bounded memory."""

import math

import pytest
import torch
import torchaudio.functional as AF

from apac_lab.data import ChunkResampler, resample_waveform


def _stream(x, orig, new, sizes):
    r = ChunkResampler(orig, new)
    out, i, k = [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        out.append(r.push(x[i:i + n]))
        i, k = i + n, k + 1
    out.append(r.flush())
    return torch.cat(out), r


class TestSameAsTheWhole:
    @pytest.mark.parametrize("orig,new", [(48000, 8000), (44100, 8000), (44100, 16000), (48000, 16000),
                                          (8000, 48000), (22050, 8000), (96001, 8000)])
    def test_any_chunk_sizes_give_the_whole_stream_resampled(self, orig, new):
        x = torch.randn(orig // 3 + 37, generator=torch.Generator().manual_seed(orig))
        y, r = _stream(x, orig, new, sizes=[1, 7, 480, 4801, 2999, 128])
        whole = resample_waveform(x, orig, new)
        assert y.shape == whole.shape == (math.ceil(new * len(x) / orig),)
        torch.testing.assert_close(y, whole, atol=1e-6, rtol=0)
        assert r.samples_in == len(x) and r.samples_out == len(y)

    def test_against_torchaudio(self):
        x = torch.randn(48000, generator=torch.Generator().manual_seed(1))
        y, _ = _stream(x, 48000, 16000, sizes=[4800])
        torch.testing.assert_close(y, AF.resample(x, 48000, 16000), atol=1e-6, rtol=0)

    def test_same_rate_passes_samples_through(self):
        x = torch.randn(1000)
        y, _ = _stream(x, 16000, 16000, sizes=[100])
        assert torch.equal(y, x)


class TestStreaming:
    def test_outputs_come_while_the_stream_runs(self):
        r = ChunkResampler(48000, 8000)
        firsts = [r.push(torch.randn(4800)).numel() for _ in range(5)]
        assert firsts[0] > 0 and all(n == 800 for n in firsts[1:])  # one 100 ms chunk in, 100 ms out

    def test_memory_stays_bounded_over_a_long_stream(self):
        r = ChunkResampler(44100, 16000)
        sizes = []
        for _ in range(100):  # 10 s in 100 ms chunks
            r.push(torch.zeros(4410))
            sizes.append(r._buffer.numel())
        assert max(sizes[50:]) == max(sizes[:50]) < 4410 + 4 * r._reach  # no growth with the stream's length

    def test_push_after_flush_is_an_error(self):
        r = ChunkResampler(48000, 8000)
        r.push(torch.randn(100))
        r.flush()
        assert r.flush().numel() == 0
        with pytest.raises(ValueError, match="was flushed: make a new one"):
            r.push(torch.randn(10))

    def test_rates_are_checked(self):
        with pytest.raises(ValueError, match="orig_freq must be a whole number of Hz"):
            ChunkResampler(0, 8000)
