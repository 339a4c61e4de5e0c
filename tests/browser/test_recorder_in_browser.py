"""The microphone widget in a real browser, with a real (fake) microphone.

Chromium's fake capture device plays a known WAV as the microphone
(``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
--use-file-for-fake-audio-capture=<wav>``): an FSDD test clip of a spoken digit, centred in
1 s, played in a loop. In JupyterLab, a notebook builds a :class:`apac_lab.widgets.Recorder`
(1 s, fixed length) wired to an :class:`UploadPredictor` (a digit model trained in this
test's set-up on FSDD's official training split) and, streaming, to an
:class:`EchoicScope`. The test presses the widget's Record button, as a student does, and
asserts that

* the kernel received the right number of samples at the right rate (the browser's rate,
  one second of it, and 8000 samples at 8 kHz after resampling);
* the recording correlates with the source clip (the best circular lag: the fake device loops);
* the model predicts the spoken digit for the recording;
* the memory scope updated live: several times while the recording was still running.

A second browser with no fake microphone checks that a refused or missing microphone
gives a clear message in the widget and no error in the kernel.

Screenshots go to ``artifacts/browser/recorder/`` (or ``$APAC_LAB_ARTIFACTS``), with
``report.txt`` holding the measured values. ``APAC_LAB_BROWSER_MODEL`` may name a
``model.pt`` of a run of :func:`apac_lab.recipes.fsdd_digits_settings` to skip the training.
Slow (a training and a JupyterLab): run it alone, under the heavy lock.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from test_notebooks_in_browser import (  # the notebook suite's server and probes (that module skips without Chromium)
    ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab, _KERNEL_EXEC_JS, _is_local, _panel_ready, _run_all, sync_api,
)

SHOTS = ARTIFACTS / "recorder"
DIGIT_CLIP = "7_jackson_0.wav"  # FSDD's official test split (index 0-4), chosen before any run
SR = 8000


# --------------------------------------------------------------------------- set-up

@pytest.fixture(scope="module")
def work():
    folder = Path(tempfile.mkdtemp(prefix="apac-lab-recorder-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def shots():
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture(scope="module")
def fsdd_clip() -> Path:
    from apac_lab.data import dataset_root

    root = dataset_root("fsdd")
    path = next(iter(sorted(root.rglob(DIGIT_CLIP))), None) if root is not None else None
    if path is None:
        pytest.skip(f"FSDD not found (set APAC_LAB_DATA to a folder holding fsdd/recordings/{DIGIT_CLIP})")
    return path


@pytest.fixture(scope="module")
def digit_model(work, fsdd_clip) -> Path:
    """A digit model's model.pt: trained here (4 epochs of the FSDD digits recipe), or APAC_LAB_BROWSER_MODEL."""
    given = os.environ.get("APAC_LAB_BROWSER_MODEL")
    if given:
        return Path(given)
    import torch

    from apac_lab.recipes import fsdd_digits_settings
    from apac_lab.train import run

    torch.set_num_threads(2)
    out = work / "digits"
    run(fsdd_digits_settings(epochs=4, out=str(out), data_root=str(fsdd_clip.parents[1])))
    return out / "model.pt"


@pytest.fixture(scope="module")
def source(work, fsdd_clip):
    """The clip centred in 1 s at 8 kHz (what the kernel should hear), and the WAV the fake microphone plays."""
    import soundfile as sf
    import torch

    from apac_lab.data import fix_length, load_audio, resample_waveform

    clip = fix_length(load_audio(fsdd_clip, sample_rate=SR), SR, pad_mode="center")
    wav = work / "microphone.wav"
    sf.write(wav, resample_waveform(clip, SR, 48000).numpy(), 48000, subtype="PCM_16")
    return clip.numpy(), wav


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                     "source": src} for i, src in enumerate(cells)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def _recorder_notebook(folder: Path, model_pt: Path) -> Path:
    setup = f"""
import json, time
import torch
from IPython.display import display
from apac_lab.checkpoints import load_checkpoint
from apac_lab.train import build_from_settings, read_settings_file, run_settings
from apac_lab.widgets import EchoicScope, Recorder, UploadPredictor

ckpt = load_checkpoint({str(model_pt)!r})
settings = run_settings(**read_settings_file({str(model_pt.parent / 'run.json')!r}, "run.json"))
model = build_from_settings(settings, ckpt["n_classes"])
model.load_state_dict(ckpt["model"])
model.eval()
predictor = UploadPredictor(model, ckpt["classes"], sample_rate={SR}, num_samples={SR})
scope = EchoicScope(torch.zeros({SR}), sample_rate={SR})
events = []  # (seconds, what): when the scope updated and when the recording ended
recorder = Recorder(sample_rate={SR}, seconds=1.0,
                    on_chunk=[scope.stream_samples, lambda c, sr, restart: events.append((time.monotonic(), "chunk"))],
                    on_recording=[predictor.handle_waveform, lambda w, sr: events.append((time.monotonic(), "end"))])
"""
    return _notebook(folder / "recorder_in_browser.ipynb", [setup, "recorder", "predictor", "scope"])


_STATE = """
import json
rec = recorder.recording
print(json.dumps({"input_rate": recorder.input_rate, "input_samples": recorder.input_samples,
                  "chunks": recorder.chunks, "samples": None if rec is None else rec.numel(),
                  "recording": None if rec is None else rec.tolist(), "message": recorder.message.value,
                  "errors": recorder.errors, "prediction": predictor.message.value,
                  "scope_updates": scope.live_updates, "scope_frames": scope.live_frames,
                  "scope_window": [scope.stream.win, scope.stream.hop],
                  "scope_title": scope.live.figure.layout.title.text, "events": events}))
"""


def _kernel_json(page, code: str) -> dict:
    out = page.evaluate(_KERNEL_EXEC_JS, code)
    return json.loads(out.strip().splitlines()[-1])


def _circular_correlation(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """The best normalised correlation of x with y over circular shifts, and its lag in samples."""
    fx, fy = np.fft.rfft(x), np.fft.rfft(y)
    c = np.fft.irfft(fx * np.conj(fy), n=len(x)) / (np.linalg.norm(x) * np.linalg.norm(y))
    lag = int(np.argmax(c))
    return float(c[lag]), lag


def _browser(pw, profile: str, extra: list[str]):
    context = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True,
                                                    args=CHROMIUM_ARGS + extra, viewport={"width": 1300, "height": 1500})
    context.route("**/*", lambda route: route.continue_() if _is_local(route.request.url) else route.abort())
    return context


def _open(context, lab, name: str, console: list[str]):
    page = context.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(lab.url(name))
    _panel_ready(page)
    _run_all(page, name)
    return page


# --------------------------------------------------------------------------- the tests

def test_recording_through_the_fake_microphone_reaches_the_models(work, shots, digit_model, source):
    clip, wav = source
    nb = _recorder_notebook(work, digit_model)
    lab = Lab([nb])
    console: list[str] = []
    report = []
    try:
        with sync_api.sync_playwright() as pw:
            profile = tempfile.mkdtemp(prefix="apac-lab-chromium-mic-")
            context = _browser(pw, profile, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                             f"--use-file-for-fake-audio-capture={wav}"])
            try:
                page = _open(context, lab, nb.name, console)
                button = page.locator("button.apac-record")
                button.wait_for(timeout=60_000)
                # every figure drawn (2 of the recorder, the predictor's, the scope's) before recording
                page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                                       ".filter(p => p.querySelector('.main-svg')).length >= 4", timeout=120_000)
                time.sleep(1.0)
                page.screenshot(path=str(shots / "before.png"))
                button.click()
                deadline = time.monotonic() + 60
                while True:
                    state = _kernel_json(page, _STATE)
                    done = state["samples"] is not None and "predicted" in state["prediction"]
                    if done or "⚠" in state["message"] or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                time.sleep(1.0)  # let the figures paint
                page.screenshot(path=str(shots / "after.png"), full_page=True)
                page.locator(".apac-recorder").first.screenshot(path=str(shots / "recorder_button.png"))
            finally:
                context.close()
                shutil.rmtree(profile, ignore_errors=True)
    finally:
        lab.close()
        (shots / "console.log").write_text("\n".join(console) + "\n")

    (shots / "state.json").write_text(json.dumps({k: v for k, v in state.items() if k != "recording"}, indent=1,
                                                 ensure_ascii=False) + "\n")
    assert state["samples"] is not None, f"no recording reached the kernel: {state['message']}; console: {console[-5:]}"
    rate = state["input_rate"]
    rec = np.array(state["recording"], dtype=np.float32)
    corr, lag = _circular_correlation(rec, clip)
    label = state["prediction"].split("predicted <b>")[1].split("</b>")[0]
    chunk_times = [t for t, what in state["events"] if what == "chunk"]
    end = next(t for t, what in state["events"] if what == "end")
    live = [t for t in chunk_times if t < end - 0.3]  # scope updates at least 0.3 s before the recording ended
    report += [f"browser rate {rate} Hz, {state['input_samples']} samples in {state['chunks']} chunks; "
               f"{state['samples']} samples at {SR} Hz",
               f"correlation with the source clip {corr:.4f} at a circular lag of {lag} samples ({lag / SR * 1000:.0f} ms)",
               f"predicted digit {label} for {DIGIT_CLIP} (message: {state['prediction']})",
               f"scope: {state['scope_updates']} live updates, {state['scope_frames']} frames; {len(live)} chunk "
               f"updates >= 0.3 s before the end; title {state['scope_title']!r}",
               f"recorder message: {state['message']}"]
    (shots / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))

    assert not state["errors"], state["errors"]
    assert rate in (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
    assert state["input_samples"] == rate  # seconds=1.0 at the browser's rate
    assert state["samples"] == SR and len(rec) == SR
    assert corr > 0.9, f"the recording does not match the played clip (correlation {corr:.3f})"
    assert label == DIGIT_CLIP[0], f"the model heard {label!r} for the digit {DIGIT_CLIP[0]}"
    win, hop = state["scope_window"]
    assert state["scope_updates"] >= 5 and state["scope_frames"] == (SR - win) // hop + 1
    assert len(live) >= 5, "the scope did not update while recording"
    assert state["scope_title"].startswith("Live: echoic memory 1.00 s")


def test_a_refused_or_missing_microphone_is_a_message_not_an_error(work, shots):
    nb = _notebook(work / "recorder_refused.ipynb", [
        "from apac_lab.widgets import Recorder\nrecorder = Recorder(sample_rate=8000)", "recorder"])
    lab = Lab([nb])
    console: list[str] = []
    results = {}
    try:
        with sync_api.sync_playwright() as pw:
            # no fake UI: the permission prompt is dismissed (refused); no fake device: maybe no microphone at all
            for case, extra in (("refused", ["--use-fake-device-for-media-stream"]),
                                ("no device", ["--use-fake-ui-for-media-stream"])):
                profile = tempfile.mkdtemp(prefix="apac-lab-chromium-nomic-")
                context = _browser(pw, profile, extra)
                try:
                    page = _open(context, lab, nb.name, console)
                    page.locator("button.apac-record").click()
                    deadline = time.monotonic() + 30
                    while True:
                        out = page.evaluate(_KERNEL_EXEC_JS, "print(recorder.message.value)")
                        if "⚠" in out or "Recorded" in out or time.monotonic() > deadline:
                            break
                        time.sleep(0.5)
                    page.locator(".apac-recorder").first.screenshot(path=str(shots / f"{case.replace(' ', '_')}.png"))
                    errors = page.evaluate(_KERNEL_EXEC_JS, "print(len(recorder.errors))").strip()
                    results[case] = (out.strip(), errors)
                    page.evaluate("async () => { const p = window.jupyterapp.shell.currentWidget;"
                                  " await p.sessionContext.shutdown(); }")
                finally:
                    context.close()
                    shutil.rmtree(profile, ignore_errors=True)
    finally:
        lab.close()
    (shots / "report_refused.txt").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    refused, _ = results["refused"]
    assert "permission to use the microphone was refused" in refused, refused
    assert all(e == "0" for _, e in results.values())
    missing, _ = results["no device"]
    # where the machine has a real microphone, it records; otherwise a clear message names the problem
    assert "Recorded" in missing or "no microphone was found" in missing or "could not be opened" in missing, missing
