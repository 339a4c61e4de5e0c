"""The microphone widget, driven by the messages its browser half sends (no browser here):
samples and rates, the checks of bad input, the callbacks it feeds, its figures; and the
models it feeds: the upload predictor, the mel explorer, the echoic scope's live input."""

import math

import numpy as np
import pytest
import torch

from apac_lab.data import fix_length, resample_waveform
from apac_lab.frontends import EchoicStream, Gammatonegram, power_to_db
from apac_lab.widgets import EchoicScope, MelExplorer, Recorder, UploadPredictor, browser_error_message
from apac_lab.widgets.recorder import CLIP_LEVEL, ESM_PATH, recording_quality

RATE = 48000  # what browsers usually record at
T = torch.arange(RATE) / RATE
SPEECHLIKE = 0.3 * torch.sin(2 * torch.pi * 300 * T) * torch.hann_window(RATE, periodic=False)


def _bytes(x: torch.Tensor) -> bytes:
    return x.numpy().astype("<f4").tobytes()


def _recorder(**kw) -> Recorder:
    return Recorder(**{"sample_rate": 8000, "backend": "output", **kw})


class TestSamplesAndRates:
    def test_a_recording_arrives_resampled_to_the_asked_rate(self):
        rec = _recorder()
        out = rec.handle_waveform(SPEECHLIKE, RATE)
        assert (rec.input_rate, rec.input_samples, rec.chunks) == (RATE, RATE, 10)  # 100 ms chunks
        assert out["sample_rate"] == 8000 and out["waveform"].shape == (8000,)
        torch.testing.assert_close(out["waveform"], resample_waveform(SPEECHLIKE, RATE, 8000), atol=1e-6, rtol=0)
        assert torch.equal(rec.input_waveform, SPEECHLIKE) and rec.recording is out["waveform"]
        assert rec.message.value.startswith("Played in from code (not the microphone): <b>1.00 s</b>")

    def test_the_browser_messages_are_float32_bytes_in_buffers(self):
        rec = _recorder(sample_rate=16000)
        rec.handle_message({"type": "start", "rate": 44100})
        for chunk in SPEECHLIKE[:44100].split(4410):
            rec.handle_message({"type": "chunk", "index": 0}, [memoryview(_bytes(chunk))])  # the comm gives memoryviews
        out = rec.handle_message({"type": "end", "samples": 44100})
        assert out["waveform"].shape == (16000,) and out["input_rate"] == 44100
        assert rec.message.value.startswith("Recorded: <b>1.00 s</b> (44100 samples at 44100 Hz, 16000 at 16000 Hz)")
        torch.testing.assert_close(out["waveform"], resample_waveform(SPEECHLIKE[:44100], 44100, 16000), atol=1e-6,
                                   rtol=0)

    def test_fixed_mode_keeps_seconds_and_push_mode_at_most_max_seconds(self):
        long = SPEECHLIKE.repeat(3)
        fixed = _recorder(seconds=1.0)
        fixed.handle_waveform(long, RATE)
        assert fixed.input_samples == RATE and fixed.recording.shape == (8000,)
        push = _recorder(mode="push", max_seconds=2.0)
        push.handle_waveform(long, RATE)
        assert push.input_samples == 2 * RATE and push.recording.shape == (16000,)

    def test_settings_are_checked(self):
        with pytest.raises(ValueError, match="mode must be one of"):
            _recorder(mode="hold")
        with pytest.raises(ValueError, match=r"seconds must be in \[0.1, max_seconds=5.0\]"):
            _recorder(seconds=6.0)
        with pytest.raises(ValueError, match="sample_rate must be a whole number of Hz"):
            _recorder(sample_rate=0)
        with pytest.raises(TypeError, match="callbacks must be callables"):
            _recorder(on_recording=[42])


class TestBadInputIsAMessage:
    @pytest.mark.parametrize("wave,refusal", [
        (torch.zeros(RATE), "the recording is silent"),
        (1e-3 * SPEECHLIKE / 0.3, "far too quiet (peak -60.0 dBFS"),
        (SPEECHLIKE[: RATE // 20], "only 0.05 s long"),
        (torch.full((RATE,), float("nan")), "NaN or infinite"),
    ])
    def test_unusable_recordings_are_refused_and_not_passed_on(self, wave, refusal):
        got = []
        rec = _recorder(on_recording=lambda w, sr: got.append(w))
        rec.handle_waveform(SPEECHLIKE, RATE)
        got.clear()
        assert rec.handle_waveform(wave, RATE) is None
        assert refusal in rec.message.value and got == [] and rec.recording is None

    def test_clipping_is_a_warning_and_the_recording_is_used(self):
        loud = SPEECHLIKE / 0.3 * 2.0
        got = []
        rec = _recorder(on_recording=lambda w, sr: got.append(w))
        assert rec.handle_waveform(loud.clamp(-1, 1), RATE) is not None
        assert "the recording clips" in rec.message.value and len(got) == 1
        assert rec.quality["clipped"] == pytest.approx(float((loud.abs() >= CLIP_LEVEL).float().mean()))

    @pytest.mark.parametrize("name,words", [
        ("NotAllowedError", "permission to use the microphone was refused"),
        ("NotFoundError", "no microphone was found"),
        ("NotReadableError", "could not be opened"),
        ("NoMediaDevices", "only on https or http://localhost"),
        ("SomethingNew", "the browser could not record (SomethingNew: detail)"),
    ])
    def test_browser_errors_name_the_problem_and_the_fix(self, name, words):
        rec = _recorder()
        assert rec.handle_message({"type": "error", "name": name, "message": "detail"}) is None
        assert words in rec.message.value and words in browser_error_message(name, "detail")
        assert rec.recording is None

    def test_broken_messages_never_raise(self):
        rec = _recorder()
        rec.handle_message({"type": "chunk"}, [b"\x00\x00\x80?"])  # no recording in progress: ignored
        rec.handle_message({"type": "end"})
        rec.handle_message({"type": "start", "rate": 0})
        assert "the browser's sample rate must be a whole number of Hz" in rec.message.value
        rec.handle_message({"type": "start", "rate": RATE})
        rec.handle_message({"type": "chunk"}, [b"abc"])
        assert "3 bytes, not whole float32 samples" in rec.message.value
        rec.handle_message({"type": "teleport"})
        assert "unknown message" in rec.message.value
        rec._on_msg(rec.view, "not a dict", [])
        assert "unknown message" in rec.message.value

    def test_a_failing_consumer_is_shown_and_the_others_still_run(self):
        got = []

        def broken(w, sr):
            raise RuntimeError("out of cheese")

        rec = _recorder(on_recording=[broken, lambda w, sr: got.append(sr)])
        assert rec.handle_waveform(SPEECHLIKE, RATE) is not None
        assert got == [8000] and rec.errors == ["broken failed: RuntimeError: out of cheese"]
        assert "broken failed: RuntimeError: out of cheese" in rec.message.value

    def test_levels_are_measured_on_the_samples_as_recorded(self):
        x = torch.full((8000,), 0.5)
        x[::2] = -0.5
        x[:80] = 1.0  # 1% of the samples at full scale
        q = recording_quality(x, sample_rate=8000)
        assert q["peak_dbfs"] == pytest.approx(0.0) and q["clipped"] == pytest.approx(0.01)
        assert q["rms_dbfs"] == pytest.approx(10 * math.log10((0.25 * 7920 + 80) / 8000))
        assert q["refused"] is None and len(q["warnings"]) == 1 and CLIP_LEVEL == 0.99


class TestCallbacksAndFigures:
    def test_chunks_stream_out_while_recording_and_add_up_to_the_recording(self):
        chunks, restarts = [], []

        def on_chunk(chunk, sr, *, restart):
            chunks.append(chunk)
            restarts.append(restart)

        rec = _recorder(on_chunk=on_chunk)
        out = rec.handle_waveform(SPEECHLIKE, RATE)
        assert len(chunks) >= 10 and restarts[0] and not any(restarts[1:])
        assert torch.equal(torch.cat(chunks), out["waveform"])
        rec.handle_waveform(SPEECHLIKE, RATE)
        assert restarts.count(True) == 2

    def test_waveform_log_mel_and_play_back_show_the_recording(self):
        rec = _recorder(n_mels=32)
        rec.handle_waveform(SPEECHLIKE, RATE)
        wave = rec.wave_live.figure.data[0]
        assert max(wave.y) == pytest.approx(float(rec.recording.max()), abs=1e-6) and len(wave.y) <= 4000
        assert float(wave.x[-1]) == pytest.approx(1.0, abs=2e-3)
        mel = rec.mel_live.figure.data[0]
        z = np.array(mel.z)
        assert z.shape == (32, 1 + 8000 // 80)  # 10 ms hop, centred frames
        assert z.max() - z.min() == pytest.approx(80.0)  # dB, floored 80 dB below the maximum
        loudest = float(mel.x[int(np.argmax(z.max(0)))])
        assert loudest == pytest.approx(0.5, abs=0.02)  # the Hann envelope peaks mid-recording
        assert rec.audio.value[:4] == b"RIFF" and "peak" in rec.wave_live.figure.layout.title.text

    def test_the_example_is_notebook_05s_size(self):
        rec = Recorder.example(backend="output")
        assert (rec.sample_rate, rec.seconds, rec.mode) == (16000, 1.0, "fixed")
        assert rec.handle_waveform(SPEECHLIKE, RATE)["waveform"].shape == (16000,)

    def test_the_browser_half_is_an_anywidget_with_the_settings(self):
        rec = _recorder(seconds=1.5, mode="push", max_seconds=3.0, chunk_seconds=0.05)
        view = rec.view
        assert (view.seconds, view.mode, view.max_seconds, view.chunk_ms, view.processing) == (1.5, "push", 3.0, 50, False)
        esm = ESM_PATH.read_text()
        assert view._esm == esm and "getUserMedia" in esm and "export default" in esm
        assert rec.widget.children[0] is view


# --------------------------------------------------------------------------- the models it feeds

class TestFeeds:
    def test_upload_predictor_handle_waveform_resamples_and_centres(self):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(8000, 3)).eval()
        up = UploadPredictor(net, ["a", "b", "c"], sample_rate=8000, num_samples=8000, backend="output")
        clip = SPEECHLIKE[: RATE // 2]  # 0.5 s at 48 kHz
        res = up.handle_waveform(clip, RATE)
        heard = fix_length(resample_waveform(clip, RATE, 8000), 8000, pad_mode="center")
        with torch.no_grad():
            want = net(heard[None])[0].softmax(-1)
        torch.testing.assert_close(res["probabilities"], want)
        assert list(up.live.figure.data[0].y) == pytest.approx(want.tolist())
        assert f"predicted <b>{res['label']}</b>" in up.message.value
        assert up.handle_waveform(torch.zeros(0), RATE) is None and "⚠ recording:" in up.message.value

    def test_mel_explorer_adds_and_selects_the_recording(self):
        ex = MelExplorer({"tone": torch.sin(torch.arange(8000) * 0.3)}, sample_rate=8000, backend="output")
        ex.add_recording(SPEECHLIKE, RATE, name="mine")
        assert list(ex.controls["recording"].options) == ["tone", "mine"] and ex.controls["recording"].value == "mine"
        assert ex.recordings["mine"].shape == (8000,) and ex.live.figure.layout.title.text.startswith("mine:")
        audio = ex.audio.value
        ex.add_recording(0.5 * SPEECHLIKE[: RATE // 2], RATE, name="mine")  # a new take replaces the old one
        assert list(ex.controls["recording"].options) == ["tone", "mine"] and ex.recordings["mine"].shape == (4000,)
        assert ex.audio.value != audio
        ex.add_recording(torch.zeros(0), RATE)
        assert "empty or not finite" in ex.message.value

    def test_recorder_feeds_the_echoic_scope_live(self):
        def scope():
            stream = EchoicStream(Gammatonegram(sample_rate=8000, center=False, n_filters=32), history=64, n_steps=5)
            return EchoicScope(torch.randn(4000), stream=stream, every=3, backend="output"), stream

        live, _ = scope()
        rec = _recorder(on_chunk=live.stream_samples)
        out = rec.handle_waveform(SPEECHLIKE, RATE)
        # the reference: the whole recording streamed in one go through a fresh stream
        ref, stream = scope()
        stream.reset()
        frames = torch.cat([s.frames for s in stream.run(out["waveform"], chunk=800)], 1)[0]
        ring = stream.ring.unwrap()[0]
        want = power_to_db(ring, ref=float(frames.max()), amin=1e-30, top_db=None, dims=None).clamp_min(-60).numpy()
        np.testing.assert_allclose(np.array(live.live.figure.data[0].z).T, want, atol=1e-4)
        assert live.live_frames == stream.frames_done and live.live_updates == rec.chunks + 1 - 1
        assert live.live.figure.layout.title.text.startswith("Live: echoic memory 1.00 s")
        rec.handle_waveform(SPEECHLIKE[: RATE // 2], RATE)  # a new recording starts an empty memory
        assert live.live_frames == (4000 - stream.win) // stream.hop + 1

    def test_the_scope_refuses_chunks_at_another_rate(self):
        scope = EchoicScope(torch.randn(4000), backend="output")
        with pytest.raises(ValueError, match="chunks must be at the stream's 8000 Hz, got 16000 Hz"):
            scope.stream_samples(torch.randn(160), 16000)
