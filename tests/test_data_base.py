"""apac_lab.data.base: the shared helpers of every loader, and ClipDataset under parallel DataLoader workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from _data_trees import make_speechcommands_tree
from apac_lab.data import rate_and_length, speaker_list, wav_files


# --- the shared helpers ------------------------------------------------------------------------

def test_wav_files_match_the_extension_in_any_case(tmp_path):
    for name in ("b.WAV", "a.wav", "c.Wav", "notes.txt", "d.wav.txt"):
        (tmp_path / name).touch()
    (tmp_path / "e.wav").mkdir()  # a folder is not a file
    assert {k: p.name for k, p in wav_files(tmp_path).items()} == {"a.wav": "a.wav", "b.wav": "b.WAV", "c.wav": "c.Wav"}


def test_wav_files_refuse_two_spellings_of_one_clip(tmp_path):
    (tmp_path / "a.wav").touch()
    (tmp_path / "a.WAV").touch()
    with pytest.raises(ValueError, match=r"a\.WAV and a\.wav are the same clip .*delete one"):
        wav_files(tmp_path)


def test_rate_and_length_fill_only_none():
    assert rate_and_length(None, None, default_rate=44100, default_seconds=5, name="ESC-50") == (44100, 220500)
    assert rate_and_length(16000, None, default_rate=44100, default_seconds=5, name="ESC-50") == (16000, 80000)
    assert rate_and_length(16000.0, 123, default_rate=8000, default_seconds=1, name="x") == (16000, 123)


@pytest.mark.parametrize("rate, samples, message", [
    (0, None, r"FSDD: sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    (-8000, None, r"got -8000"),
    (8000.5, None, r"got 8000.5"),
    (None, 0, r"FSDD: num_samples must be a positive whole number of samples, got 0; pass e.g. 8000, or None for 1 s"),
    (None, -1, r"got -1"),
    (None, 2.5, r"got 2.5"),
])
def test_rate_and_length_refuse_zero_and_nonsense(rate, samples, message):
    with pytest.raises(ValueError, match=message):
        rate_and_length(rate, samples, default_rate=8000, default_seconds=1, name="FSDD")


def test_speaker_list_reads_a_string_as_one_speaker():
    assert speaker_list("george") == ["george"]
    assert speaker_list(["george", "jackson"]) == ["george", "jackson"]
    assert speaker_list({7}) == ["7"]


# --- parallel DataLoader workers: the run stops at the first bad file, naming it -------------------

_SCENARIOS = textwrap.dedent('''
    import gc, json, multiprocessing, sys, time
    import torch
    from torch import nn
    from apac_lab.data import load_fsdd, load_speechcommands
    from apac_lab.train import TrainConfig, fit, make_loader
    from apac_lab.train.runner import cache_in_memory

    def run(name, ds, cache, corrupt):
        config = TrainConfig(epochs=1, batch_size=8, num_workers=2, progress=False, device="cpu", seed=3)
        rel = [f"{c.path.parent.name}/{c.path.name}" for c in ds.clips]
        bad = [i for i, r in enumerate(rel) if r in corrupt]
        if cache:  # read in index order (no workers), then train on the tensors with 2 workers
            first = rel[bad[0]] if bad else None
        else:      # read in the training order by 2 workers
            order = list(make_loader(ds, config, train=True).sampler)
            first = next((rel[i] for i in order if i in set(bad)), None)
        result, t0 = {"name": name, "expected": first}, time.perf_counter()
        try:
            data = cache_in_memory(ds, "yes", progress=False) if cache else ds
            model = nn.Sequential(nn.Linear(ds.num_samples, len(ds.classes)))
            hist = fit(model, data, None, config)
            result.update(ok=True, samples=hist[-1]["train_samples"], clips=len(ds))
        except Exception as exc:
            # the workers must be gone when fit raises: a loader left to the garbage collector
            # (PyTorch's re-raise leaves a reference cycle) joins each worker after a 5 s timeout
            result.update(ok=False, type=type(exc).__name__, message=str(exc),
                          workers_left=len(multiprocessing.active_children()))
        gc.collect()  # where a left-over loader would stall
        result["seconds"] = time.perf_counter() - t0
        print(json.dumps(result), flush=True)

    fsdd, fsdd_bad, sc, sc_bad = sys.argv[1:5]
    for cache in (False, True):
        tag = "cache-on" if cache else "cache-off"
        run(f"fsdd-{tag}", load_fsdd(fsdd, split="all"), cache, set())
        run(f"fsdd-truncated-{tag}", load_fsdd(fsdd_bad, split="all"), cache, {"recordings/3_jackson_2.wav"})
        run(f"sc-{tag}", load_speechcommands(sc, split="train", classes=["yes", "no", "up"]), cache,
            set(json.load(open(sc_bad))))
''')


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory, real_fsdd_root):
    """Every scenario, run once in a subprocess (so that a hang is a timeout, not a stuck suite)."""
    tmp = tmp_path_factory.mktemp("workers")
    fsdd = tmp / "fsdd" / "recordings"
    fsdd.mkdir(parents=True)
    for digit in range(10):  # a small real subset: 2 speakers x 10 digits x 3 takes = 60 clips
        for speaker in ("jackson", "lucas"):
            for index in range(3):
                shutil.copy(real_fsdd_root / "recordings" / f"{digit}_{speaker}_{index}.wav", fsdd)
    fsdd_bad = tmp / "fsdd_bad"
    shutil.copytree(fsdd.parent, fsdd_bad)
    victim = fsdd_bad / "recordings" / "3_jackson_2.wav"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # a download cut short
    sc = tmp / "sc"
    tree = make_speechcommands_tree(sc, sizes={"train": 300, "validation": 10, "test": 10}, corrupt_fraction=0.01)
    corrupt = [r for r in tree["corrupt"] if r in tree["train"]]
    assert len(corrupt) == 3  # 1% of 300
    (tmp / "sc_bad.json").write_text(json.dumps(corrupt))
    script = tmp / "scenarios.py"
    script.write_text(_SCENARIOS)
    cmd = [sys.executable, str(script), str(fsdd.parent), str(fsdd_bad), str(sc), str(tmp / "sc_bad.json")]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))
        out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        out, err = exc.stdout or "", f"TIMED OUT (a hang): {exc.stderr or ''}"
        out = out.decode() if isinstance(out, bytes) else out
    results = {r["name"]: r for r in map(json.loads, filter(None, out.splitlines()))}
    return results, err, corrupt, tmp


def _result(worker_runs, name):
    results, err, _, _ = worker_runs
    assert name in results, f"scenario {name} did not finish: {err[-2000:]}"
    return results[name]


@pytest.mark.parametrize("cache", ["cache-off", "cache-on"])
def test_fsdd_trains_with_two_workers(worker_runs, cache):
    r = _result(worker_runs, f"fsdd-{cache}")
    assert r["ok"], r.get("message")
    assert r["samples"] == r["clips"] == 60  # every clip seen once, none skipped


@pytest.mark.parametrize("cache", ["cache-off", "cache-on"])
def test_fsdd_truncated_file_stops_the_two_worker_run_naming_it(worker_runs, cache):
    r = _result(worker_runs, f"fsdd-truncated-{cache}")
    assert not r["ok"] and r["type"] == "AudioError"
    assert "3_jackson_2.wav: the file is truncated" in r["message"]
    # the worker's own one-line message, not "Caught AudioError in DataLoader worker process 0." + its traceback
    assert "\n" not in r["message"] and r["message"].startswith(str(worker_runs[3] / "fsdd_bad")), r["message"]
    assert r["workers_left"] == 0  # fit shut its loader's workers down before raising
    assert r["seconds"] < 8  # generous: with the 5 s join timeout per worker it took over 10 s


@pytest.mark.parametrize("cache", ["cache-off", "cache-on"])
def test_speechcommands_with_1_percent_corrupt_stops_at_the_first_bad_file(worker_runs, cache):
    r = _result(worker_runs, f"sc-{cache}")
    corrupt = worker_runs[2]
    assert not r["ok"] and r["type"] == "AudioError", r
    assert r["expected"] in corrupt and r["expected"] in r["message"]
    assert [c for c in corrupt if c in r["message"]] == [r["expected"]]  # the first bad file, and only it
    assert "\n" not in r["message"] and r["workers_left"] == 0 and r["seconds"] < 8
