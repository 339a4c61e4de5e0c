"""The training CLI: it trains, writes what it says it writes, resumes only what it can resume
exactly, reads a config file, turns bad settings and bad files into one line and exit status 2,
keeps one run per folder, and runs the same under torchrun."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from apac_lab.models import build_model
from apac_lab.train import RunSettings, TrainConfig, UsageError, run_settings
from apac_lab.train.cli import build_parser, main, run_settings_from_argv
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
        s = run_settings_from_argv(["--config", str(cfg), "--epochs", "3", "--model", MODEL])
        assert (s.dataset, s.train.epochs, s.train.batch_size, s.noise_snr) == ("fsdd", 3, 4, [5.0, 20.0])
        assert s.train.lr == 1e-3 and s.train.weight_decay == 1e-3  # the paper's defaults

    def test_resume_continues_with_the_saved_settings(self, tmp_path):
        a, b = tmp_path / "a", tmp_path / "b"
        assert main(BASE + ["--epochs", "3", "--batch-size", "16", "--out", str(a)]) == 0
        assert main(BASE + ["--epochs", "1", "--batch-size", "16", "--out", str(b)]) == 0
        # only --out, --resume and the new epoch count: the rest comes from b/run.json (whose
        # --model is code: allowed by the flag)
        assert main(["--out", str(b), "--resume", "--epochs", "3", "--quiet", "--allow-code"]) == 0
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


class TestSettings:
    """One object: flags, run.json and notebooks all go through RunSettings and its TrainConfig."""

    def test_every_setting_has_a_flag_with_its_help(self):
        parser = build_parser()
        actions = {a.dest: a for a in parser._actions}
        for cls in (RunSettings, TrainConfig):
            for f in dataclasses.fields(cls):
                if f.metadata.get("cli") and f.name != "train":  # train: its fields are the flags
                    assert f.name in actions, f.name
                    assert actions[f.name].help.startswith(f.metadata["help"]), f.name
        assert actions["momentum"].option_strings == ["--momentum"]  # TrainConfig's field, flat flag name
        assert "loss" not in actions and "out_dir" not in actions  # not for the command line

    def test_run_json_is_the_serialisation_and_reads_back(self, tmp_path):
        s = run_settings(dataset="synthetic", model="tiny", epochs=4, lr=0.02, speed=[0.9, 1.1], out=str(tmp_path))
        d = s.to_dict()
        assert d["train"]["lr"] == 0.02 and d["speed"] == [0.9, 1.1] and "out_dir" not in d["train"]
        (tmp_path / "run.json").write_text(json.dumps(d))
        again = run_settings_from_argv(["--config", str(tmp_path / "run.json")])
        assert again == s

    def test_a_flat_run_json_of_the_previous_release_reads(self, tmp_path):
        old = {"dataset": "synthetic", "model": "tiny", "mode": "std", "epochs": 2, "batch_size": 8, "lr": 0.01,
               "model_kwargs": {}, "noise_snr": None, "out": str(tmp_path), "resume": False, "quiet": True}
        (tmp_path / "old.json").write_text(json.dumps(old))
        s = run_settings_from_argv(["--config", str(tmp_path / "old.json")])
        assert (s.train.epochs, s.train.batch_size, s.train.lr, s.model) == (2, 8, 0.01, "tiny")

    def test_notebook_keywords_are_the_flags(self):
        s = run_settings(dataset="FSDD", batch_size=8, time_shift=0.1)
        assert (s.dataset, s.train.batch_size, s.time_shift, s.out) == ("fsdd", 8, 0.1, "runs/fsdd-apac-std")
        assert s.replace(epochs=3).train.epochs == 3 and s.train.epochs == 10
        with pytest.raises(UsageError, match=r"unknown keys \['epoch'\]"):
            run_settings(dataset="fsdd", epoch=3)
        with pytest.raises(UsageError, match="--batch-size must be >= 1, got 0"):
            run_settings(dataset="fsdd", batch_size=0)

    def test_the_old_settings_function_is_a_deprecated_alias(self):
        import apac_lab.train.cli as cli

        with pytest.warns(DeprecationWarning, match="run_settings"):
            old = cli.settings
        assert old is run_settings


class TestPresets:
    """The paper's training settings by one name (Cassetta 2023, section 8)."""

    def test_the_presets_are_the_papers_settings(self):
        from apac_lab.papers import figure
        from apac_lab.train import PRESETS

        # "Adam as optimizer, learning rate equal to 1e-3 and a value for the weight decay equal to 1e-3 for 80
        # epochs for the models without pretraining, while in the other case we used the same optimizer but with a
        # lower learning rate (1e-4) and a lower number of epochs (30)"
        assert PRESETS == {
            "paper-scratch": {"optimizer": "adam", "weight_decay": 1e-3, "lr": 1e-3, "epochs": 80},
            "paper-pretrained": {"optimizer": "adam", "weight_decay": 1e-3, "lr": 1e-4, "epochs": 30},
        }
        assert PRESETS["paper-pretrained"]["lr"] == figure("cassetta2023.settings.lr_pretrained").value

    @pytest.mark.parametrize("name, lr, epochs", [("paper-scratch", 1e-3, 80), ("paper-pretrained", 1e-4, 30)])
    def test_one_name_on_the_command_line_sets_them(self, name, lr, epochs):
        s = run_settings_from_argv(["--dataset", "speechcommands", "--preset", name])
        assert (s.preset, s.train.optimizer, s.train.lr, s.train.weight_decay, s.train.epochs) == (
            name, "adam", lr, 1e-3, epochs)
        assert s.to_dict()["preset"] == name  # run.json says which preset the run started from

    def test_what_is_given_overrides_the_preset_and_is_listed(self, tmp_path):
        from apac_lab.train import preset_departures

        s = run_settings_from_argv(["--dataset", "fsdd", "--preset", "paper-scratch", "--epochs", "3",
                                    "--optimizer", "sgd"])
        assert (s.train.epochs, s.train.optimizer, s.train.lr) == (3, "sgd", 1e-3)
        assert preset_departures(s) == [("optimizer", "adam", "sgd"), ("epochs", 80, 3)]
        cfg = tmp_path / "cfg.json"
        cfg.write_text(json.dumps({"dataset": "fsdd", "lr": 0.05}))
        s = run_settings_from_argv(["--config", str(cfg), "--preset", "paper-pretrained"])
        assert (s.train.lr, s.train.epochs) == (0.05, 30)  # the file names lr: it wins
        assert run_settings(dataset="fsdd", preset="paper-pretrained").train.lr == 1e-4  # the notebooks' way

    def test_a_run_trains_with_the_presets_settings(self, tmp_path):
        out = tmp_path / "p"
        assert main(["--dataset", "synthetic", "--model", MODEL, "--sample-rate", "8000", "--per-class", "4",
                     "--test-per-class", "2", "--preset", "paper-pretrained", "--epochs", "1", "--quiet",
                     "--out", str(out)]) == 0
        group = torch.load(out / "last.pt", weights_only=True)["optimizer"]["param_groups"][0]
        assert (group["lr"], group["weight_decay"]) == (1e-4, 1e-3)
        assert "betas" in group  # Adam
        saved = json.loads((out / "run.json").read_text())
        assert saved["preset"] == "paper-pretrained" and saved["train"]["lr"] == 1e-4
        assert run_settings_from_argv(["--config", str(out / "run.json"), "--allow-code"]).train.epochs == 1

    def test_an_unknown_preset_is_one_line(self, tmp_path, capsys):
        assert main(["--dataset", "fsdd", "--preset", "paper", "--out", str(tmp_path / "x")]) == 2
        assert "--preset: invalid choice: 'paper'" in _one_line_error(capsys)
        with pytest.raises(UsageError, match="--preset must be one of"):
            run_settings(dataset="fsdd", preset="paper")


@pytest.fixture(scope="module")
def imagenet_file(tmp_path_factory):
    """A torchvision-format MobileNetV2 state dict (RGB input, 1000 classes; width 0.25 to stay small)."""
    from apac_lab.models import MobileNetV2

    torch.manual_seed(5)
    rgb = MobileNetV2(1000, in_channels=3, width_mult=0.25)
    with torch.no_grad():
        for p in rgb.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("imagenet") / "mobilenet_v2.pth"
    torch.save(rgb.state_dict(), path)
    return path


class TestPretrained:
    """--pretrained PATH: a local torchvision weights file for a baseline, adapted to one channel."""

    ARGS = ["--dataset", "synthetic", "--model", "mobilenetv2", "--model-kwargs", '{"width_mult": 0.25}',
            "--sample-rate", "8000", "--per-class", "2", "--test-per-class", "1", "--val-fraction", "0",
            "--quiet"]

    def test_the_file_is_loaded_with_rgb_summed_into_one_channel(self, imagenet_file, capsys):
        from apac_lab.train import build_from_settings

        sd = torch.load(imagenet_file, weights_only=True)
        s = run_settings_from_argv(self.ARGS + ["--pretrained", str(imagenet_file), "--preset", "paper-pretrained"])
        assert (s.pretrained, s.train.lr, s.train.epochs) == (str(imagenet_file), 1e-4, 30)
        model = build_from_settings(s, 10)
        got = model.backbone.state_dict()
        assert torch.allclose(got["features.0.0.weight"], sd["features.0.0.weight"].sum(1, keepdim=True))
        assert got["features.0.0.weight"].shape[1] == 1
        assert torch.equal(got["features.7.conv.1.0.weight"], sd["features.7.conv.1.0.weight"])
        assert got["classifier.1.weight"].shape == (10, 1280)  # a new layer for the task's classes
        assert "ImageNet weights loaded" in capsys.readouterr().out

    def test_a_run_trains_from_the_file(self, imagenet_file, tmp_path):
        out = tmp_path / "run"
        assert main(self.ARGS + ["--pretrained", str(imagenet_file), "--epochs", "1", "--max-steps-per-epoch", "1",
                                 "--batch-size", "4", "--out", str(out)]) == 0
        assert json.loads((out / "run.json").read_text())["pretrained"] == str(imagenet_file)
        before = torch.load(imagenet_file, weights_only=True)["features.7.conv.1.0.weight"]
        after = _weights(out)["backbone.features.7.conv.1.0.weight"]
        assert after.shape == before.shape and 0 < (after - before).abs().max() < 0.1  # one small step from it

    @pytest.mark.parametrize("extra, words", [
        (["--pretrained", "/nonexistent/w.pth"], "--pretrained /nonexistent/w.pth does not exist: download "
                                                 "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth"),
        (["--model", "apac", "--pretrained", "FILE"], "--pretrained: apac has no ImageNet weights"),
        (["--model", "resnet50", "--model-kwargs", "{}", "--pretrained", "FILE"], "fits only"),
        (["--pretrained", "JUNK"], "is not a torchvision weights file"),
    ])
    def test_bad_weights_are_one_line(self, extra, words, imagenet_file, tmp_path, capsys):
        junk = tmp_path / "junk.pth"
        junk.write_bytes(b"\x00 not torch")
        extra = [str(imagenet_file) if e == "FILE" else str(junk) if e == "JUNK" else e for e in extra]
        assert main(self.ARGS + ["--epochs", "1", "--out", str(tmp_path / "x")] + extra) == 2
        assert words in _one_line_error(capsys)

    def test_a_run_json_of_the_previous_release_with_pretrained_false_reads(self, tmp_path):
        (tmp_path / "old.json").write_text(json.dumps({"dataset": "synthetic", "model": "tiny", "pretrained": False}))
        assert run_settings_from_argv(["--config", str(tmp_path / "old.json")]).pretrained is None


def _run_dir(tmp_path, epochs=2, name="run", extra=()):
    out = tmp_path / name
    assert main(BASE + ["--epochs", str(epochs), "--batch-size", "16", "--out", str(out), *extra]) == 0
    return out


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("apac-lab-train: error: ") and err.count("\n") == 1, err
    return err


class TestResume:
    """Resume refuses what it cannot continue exactly, before it writes anything."""

    @pytest.mark.parametrize("flags, words", [
        (["--lr", "0.5"], "--lr 0.01 -> 0.5"),
        (["--batch-size", "8"], "--batch-size 16 -> 8"),
        (["--seed", "3"], "--seed 0 -> 3"),
        (["--epochs", "1"], "--epochs 2 done -> 1"),
        (["--model", "tiny"], f"--model {MODEL} -> tiny"),
        (["--dataset", "fsdd"], "--dataset synthetic -> fsdd"),
        (["--per-class", "4"], "--per-class 8 -> 4"),
    ])
    def test_a_setting_that_changes_the_result_is_refused(self, flags, words, tmp_path, capsys):
        out = _run_dir(tmp_path)
        before = {n: (out / n).read_bytes() for n in ("run.json", "last.pt", "history.json")}
        capsys.readouterr()
        assert main(["--out", str(out), "--resume", "--quiet", "--allow-code", *flags]) == 2
        err = _one_line_error(capsys)
        assert words in err and "another --out" in err
        assert {n: (out / n).read_bytes() for n in before} == before  # nothing rewritten

    def test_resume_with_another_lr_no_longer_trains_at_the_saved_one(self, tmp_path, capsys):
        """The bug: --resume --lr 0.5 trained at 0.01 (the optimiser's saved state) and run.json said 0.5."""
        out = _run_dir(tmp_path)
        assert main(["--out", str(out), "--resume", "--epochs", "3", "--lr", "0.5", "--allow-code", "--quiet"]) == 2
        assert json.loads((out / "run.json").read_text())["train"]["lr"] == 0.01
        assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 2

    def test_more_epochs_and_other_places_are_fine(self, tmp_path):
        out = _run_dir(tmp_path, epochs=1)
        assert main(["--out", str(out), "--resume", "--epochs", "2", "--cache", "no", "--num-workers", "0",
                     "--quiet", "--allow-code"]) == 0
        assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1, 2]

    def test_a_longer_schedule_is_refused(self, tmp_path, capsys):
        out = _run_dir(tmp_path, epochs=1, extra=["--scheduler", "cosine"])
        capsys.readouterr()
        assert main(["--out", str(out), "--resume", "--epochs", "2", "--quiet", "--allow-code"]) == 2
        assert "the cosine schedule is fixed" in _one_line_error(capsys)

    def test_no_checkpoint_is_said_even_when_quiet(self, tmp_path, capsys):
        out = tmp_path / "fresh"
        assert main(BASE + ["--epochs", "1", "--out", str(out), "--resume"]) == 0
        err = capsys.readouterr().err
        assert f"no checkpoint at {out / 'last.pt'}; starting a new run" in err
        assert json.loads((out / "history.json").read_text())[0]["epoch"] == 1

    @pytest.mark.parametrize("damage", ["empty", "cut", "junk"])
    def test_an_empty_or_cut_checkpoint_is_one_line_naming_it(self, damage, tmp_path, capsys):
        out = _run_dir(tmp_path)
        last = out / "last.pt"
        data = last.read_bytes()
        last.write_bytes({"empty": b"", "cut": data[: len(data) // 2], "junk": b"not a checkpoint"}[damage])
        run_json = (out / "run.json").read_bytes()
        capsys.readouterr()
        assert main(["--out", str(out), "--resume", "--epochs", "3", "--quiet", "--allow-code"]) == 2
        err = _one_line_error(capsys)
        assert str(last) in err and "Traceback" not in err
        assert (out / "run.json").read_bytes() == run_json

    def test_code_from_a_settings_file_needs_the_flag(self, tmp_path, capsys):
        out = _run_dir(tmp_path)
        capsys.readouterr()
        assert main(["--out", str(out), "--resume", "--epochs", "3", "--quiet"]) == 2
        err = _one_line_error(capsys)
        assert f"--model {MODEL} comes from {out / 'run.json'}" in err and "--allow-code" in err
        cfg = tmp_path / "cfg.json"
        cfg.write_text(json.dumps({"dataset": "synthetic", "model": MODEL}))
        assert main(["--config", str(cfg), "--out", str(tmp_path / "c"), "--quiet"]) == 2
        assert f"--config {cfg}" in _one_line_error(capsys)
        assert not (tmp_path / "c").exists()
        with pytest.raises(UsageError, match="unknown keys"):  # the permission itself is never read from a file
            cfg.write_text(json.dumps({"dataset": "synthetic", "allow_code": True}))
            run_settings_from_argv(["--config", str(cfg)])


class TestBadFiles:
    def test_out_is_a_file(self, tmp_path, capsys):
        f = tmp_path / "results.txt"
        f.write_text("mine")
        assert main(BASE + ["--out", str(f)]) == 2
        assert f"--out {f} is a file" in _one_line_error(capsys)
        assert f.read_text() == "mine"

    def test_a_dataset_that_fails_to_load_names_the_file(self, tiny_fsdd, tmp_path, capsys):
        bad = tiny_fsdd / "recordings" / "1_ann_6.wav"
        bad.write_bytes(b"RIFF....WAVEjunk")
        assert main(["--dataset", "fsdd", "--data-root", str(tiny_fsdd), "--model", "tiny", "--sample-rate", "8000",
                     "--cache", "yes", "--epochs", "1", "--quiet", "--out", str(tmp_path / "x")]) == 2
        err = _one_line_error(capsys)
        assert str(bad) in err or str(tiny_fsdd) in err, err


class TestConcurrentRuns:
    """One run per folder: a second run refuses, naming the process that holds the folder."""

    def test_a_second_run_on_a_held_folder_refuses(self, tmp_path, capsys):
        out = tmp_path / "shared"
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys, time\nfrom apac_lab.train import RunLock\n"
             f"with RunLock({str(out)!r}):\n    print('held', flush=True)\n    sys.stdin.read()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env())
        try:
            assert holder.stdout.readline().strip() == "held"
            assert main(BASE + ["--epochs", "1", "--out", str(out)]) == 2
            err = _one_line_error(capsys)
            assert f"in use by process {holder.pid}" in err and str(out / ".lock") in err
            assert sorted(p.name for p in out.iterdir()) == [".lock"]  # the second run wrote nothing
        finally:
            holder.communicate("", timeout=60)
        assert not (out / ".lock").exists()
        assert main(BASE + ["--epochs", "1", "--out", str(out)]) == 0  # free again

    def test_a_lock_left_by_a_dead_process_is_taken_over(self, tmp_path, capsys):
        import socket

        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        out = tmp_path / "stale"
        out.mkdir()
        (out / ".lock").write_text(json.dumps({"pid": int(dead), "host": socket.gethostname()}))
        assert main(BASE + ["--epochs", "1", "--out", str(out)]) == 0
        assert f"taking over the lock of process {dead}" in capsys.readouterr().err
        assert not (out / ".lock").exists()

    def test_the_lock_is_released_after_a_failure(self, tmp_path):
        out = tmp_path / "fail"
        assert main(BASE + ["--epochs", "1", "--out", str(out), "--model-kwargs", '{"nope": 1}']) == 2
        assert not (out / ".lock").exists()


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
        (["--dataset", "synthetic", "--model", "tiny", "--model-kwargs", '{"channels": -1}'],
         "--model tiny --model-kwargs '{\"channels\": -1}': channels must be a whole number >= 1, got -1"),
        (["--dataset", "synthetic", "--model", "apac", "--model-kwargs", '{"width_mult": -1}'], "width_mult must be > 0"),
        (["--dataset", "fsdd", "--model-kwargs", "[1, 2]"], "expected a JSON object"),
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
