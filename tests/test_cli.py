"""The training CLI: it trains, writes what it says it writes, resumes, reads a config file,
turns bad settings into one line and exit status 2, and runs the same under torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from apac_lab.models import build_model
from apac_lab.train.cli import main, resolve_settings
from conftest import REPO

MODEL = "cli_models:linear_mel"  # tests/cli_models.py: no BatchNorm, no dropout
BASE = ["--dataset", "synthetic", "--model", MODEL, "--sample-rate", "8000", "--per-class", "8",
        "--test-per-class", "4", "--val-fraction", "0.2", "--lr", "0.01", "--quiet"]


def _env():  # for subprocesses: the repository and tests/ on the path, one thread, offline
    env = dict(os.environ)
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]), OMP_NUM_THREADS="1",
               APAC_LAB_OFFLINE="1")
    return env


def _weights(out: Path) -> dict:
    return torch.load(out / "model.pt", weights_only=True)["model"]


class TestRun:
    def test_trains_evaluates_and_says_where_things_go(self, tmp_path, capsys):
        out = tmp_path / "run"
        assert main(BASE + ["--epochs", "2", "--batch-size", "16", "--out", str(out)]) == 0
        said = capsys.readouterr().out
        assert str(out / "last.pt") in said and str(out / "metrics.json") in said
        for name in ("run.json", "config.json", "last.pt", "history.json", "model.pt", "metrics.json",
                     "confusion.csv", "report.txt"):
            assert (out / name).is_file(), name
        m = json.loads((out / "metrics.json").read_text())
        conf = torch.tensor(m["confusion"])
        assert conf.shape == (10, 10) and conf.sum() == m["test_clips"] == 40
        assert m["test_accuracy"] == pytest.approx(conf.diag().sum().item() / 40)
        assert [r["recall"] for r in m["per_class"]] == pytest.approx((conf.diag() / conf.sum(1)).tolist())
        assert len(json.loads((out / "history.json").read_text())) == 2
        assert "test accuracy" in (out / "report.txt").read_text()
        assert (out / "confusion.csv").read_text().count("\n") == 11

    def test_config_file_then_flags_override(self, tmp_path):
        cfg = tmp_path / "run.json"
        cfg.write_text(json.dumps({"dataset": "fsdd", "epochs": 7, "batch-size": 4, "noise_snr": [5, 20]}))
        s = resolve_settings(["--config", str(cfg), "--epochs", "3", "--model", MODEL])
        assert (s["dataset"], s["epochs"], s["batch_size"], s["noise_snr"]) == ("fsdd", 3, 4, [5, 20])
        assert s["lr"] == 1e-3 and s["weight_decay"] == 1e-3  # the paper's defaults

    def test_resume_continues_with_the_saved_settings(self, tmp_path):
        a, b = tmp_path / "a", tmp_path / "b"
        assert main(BASE + ["--epochs", "3", "--batch-size", "16", "--out", str(a)]) == 0
        assert main(BASE + ["--epochs", "1", "--batch-size", "16", "--out", str(b)]) == 0
        # only --out, --resume and the new epoch count: the rest comes from b/run.json
        assert main(["--out", str(b), "--resume", "--epochs", "3", "--quiet"]) == 0
        hist_a = json.loads((a / "history.json").read_text())
        hist_b = json.loads((b / "history.json").read_text())
        assert [h["epoch"] for h in hist_b] == [1, 2, 3]
        assert [h["val_loss"] for h in hist_b] == pytest.approx([h["val_loss"] for h in hist_a], abs=1e-6)
        wa, wb = _weights(a), _weights(b)
        assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)


    def test_trainable_front_end_is_saved_for_the_fifth_mode(self, tmp_path):
        common = ["--dataset", "synthetic", "--model", "tiny", "--sample-rate", "8000", "--per-class", "3",
                  "--test-per-class", "2", "--epochs", "1", "--quiet", "--val-fraction", "0"]
        assert main(common + ["--mode", "mel+stft", "--out", str(tmp_path / "pre")]) == 0
        front = tmp_path / "pre" / "frontend.pt"
        assert front.is_file()
        assert main(common + ["--mode", "mel+stft+fsdd", "--checkpoint", str(front), "--out", str(tmp_path / "ft"),
                              "--epochs", "1"]) == 0
        pre = torch.load(tmp_path / "pre" / "model.pt", weights_only=True)["model"]
        ft = torch.load(tmp_path / "ft" / "model.pt", weights_only=True)
        assert ft["settings"]["mode"] == "mel+stft+fsdd"
        key = next(k for k in pre if "mel_basis" in k)
        start = build_model("tiny", n_classes=10, sample_rate=8000, mode="mel+stft+fsdd", checkpoint=front)
        assert torch.equal(start.state_dict()[key], pre[key])  # starts from the saved filters...
        assert not torch.equal(pre[key], ft["model"][key])  # ...and fine-tunes them


class TestBadArguments:
    @pytest.mark.parametrize("argv, words", [
        (["--dataset", "mnist"], "unknown dataset"),
        (["--dataset", "fsdd", "--epochs", "0"], "--epochs must be >= 1"),
        (["--dataset", "fsdd", "--lr", "-1"], "--lr must be > 0"),
        (["--dataset", "fsdd", "--frontend-lr-scale", "0"], "--frontend-lr-scale must be > 0"),
        (["--dataset", "fsdd", "--speed", "1.2", "0.9"], "--speed needs LOW HIGH"),
        (["--dataset", "fsdd", "--gain-db", "6", "-6"], "--gain-db needs LOW HIGH"),
        (["--dataset", "fsdd", "--epochs", "two"], "invalid int value"),
        (["--dataset", "fsdd", "--no-such-flag"], "unrecognized arguments"),
        (["--epochs", "2"], "no dataset"),
        (["--dataset", "fsdd", "--config", "/nonexistent/run.json"], "does not exist"),
        (["--dataset", "fsdd", "--noise-snr", "30", "10"], "LOW <= HIGH"),
        (["--dataset", "fsdd", "--model", "no_such_module:fn"], "cannot import"),
        (["--dataset", "fsdd", "--model", "alexnet"], "unknown model 'alexnet'"),
        (["--dataset", "fsdd", "--mode", "mfcc"], "unknown mode 'mfcc'"),
        (["--dataset", "fsdd", "--model", "tiny", "--model-kwargs", '{"width": 3}'], "width"),
        (["--dataset", "fsdd", "--model", MODEL, "--mode", "mel+stft+fsdd"], "--checkpoint"),
        (["--dataset", "fsdd", "--model", MODEL, "--mode", "mel"], "only mode 'std'"),
        (["--dataset", "fsdd", "--model", MODEL, "--data-root", "/nonexistent/fsdd"], "does not exist"),
    ])
    def test_one_line_and_status_2(self, argv, words, tmp_path, capsys):
        assert main(argv + ["--out", str(tmp_path / "x"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("apac-lab-train: error: ") and err.count("\n") == 1, err
        assert words in err

    def test_config_file_errors(self, tmp_path, capsys):
        bad_key, bad_json, bad_type = tmp_path / "k.json", tmp_path / "j.json", tmp_path / "t.json"
        bad_key.write_text('{"dataset": "fsdd", "epoch": 3}')
        bad_json.write_text('{"dataset": "fsdd",')
        bad_type.write_text('{"dataset": "fsdd", "epochs": "3"}')
        for path, words in ((bad_key, "unknown keys ['epoch']"), (bad_json, "not valid JSON"),
                            (bad_type, "'epochs' must be int")):
            assert main(["--config", str(path)]) == 2
            assert words in capsys.readouterr().err

    def test_no_traceback_from_the_command_line(self, tmp_path):
        proc = subprocess.run([sys.executable, "-m", "apac_lab.train", "--dataset", "fsdd", "--batch-size", "0"],
                              capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
        assert proc.returncode == 2
        assert proc.stderr.strip() == "apac-lab-train: error: --batch-size must be >= 1, got 0"
