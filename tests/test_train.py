"""The training loop: it learns, it checkpoints atomically, and resume repeats a run exactly."""

import json
import multiprocessing as mp

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from apac_lab.checkpoints import load_checkpoint
from apac_lab.train import TrainConfig, confusion_matrix, evaluate, fit, per_class_report


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return TensorDataset(x, y)


def _model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def _cfg(tmp_path=None, **kw):
    base = dict(epochs=4, batch_size=16, lr=1e-2, progress=False, device="cpu",
                out_dir=None if tmp_path is None else str(tmp_path))
    base.update(kw)
    return TrainConfig(**base)


class TestLearning:
    def test_loss_falls_and_accuracy_rises(self):
        data = _data()
        hist = fit(_model(), data, data, _cfg(epochs=8))
        assert hist[-1]["train_loss"] < hist[0]["train_loss"]
        assert hist[-1]["val_acc"] > 0.85

    def test_mse_regression(self):
        x = torch.randn(64, 3)
        data = TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [0.5]]))
        hist = fit(nn.Linear(3, 1), data, data, _cfg(loss="mse", epochs=30, lr=5e-2, weight_decay=0.0))
        assert hist[-1]["val_loss"] < 0.05 * hist[0]["val_loss"]
        assert "val_acc" not in hist[-1]

    def test_frontend_runs_on_batches_and_trains(self):
        data = _data()
        front = nn.Linear(8, 8)
        before = front.weight.detach().clone()
        fit(nn.Linear(8, 2), data, None, _cfg(epochs=1), frontend=front)
        assert not torch.equal(before, front.weight)

    def test_adagrad_takes_adagrads_steps(self):
        """Two full-batch steps of fit(optimizer="adagrad") against Adagrad's rule by hand:
        a += g^2; w -= lr * g / (sqrt(a) + 1e-10)."""
        x, y = torch.randn(12, 3, generator=torch.Generator().manual_seed(0)), torch.randn(12, 1)
        model = nn.Linear(3, 1)
        w, b = model.weight.detach().clone(), model.bias.detach().clone()
        fit(model, TensorDataset(x, y), None, _cfg(epochs=2, batch_size=12, lr=0.1, weight_decay=0.0,
                                                   optimizer="adagrad", loss="mse"))
        acc_w, acc_b = torch.zeros_like(w), torch.zeros_like(b)
        for _ in range(2):
            err = 2 * (x @ w.T + b - y) / len(x)  # d(mean squared error) / d(prediction)
            gw, gb = err.T @ x, err.sum(0)
            acc_w, acc_b = acc_w + gw ** 2, acc_b + gb ** 2
            w, b = w - 0.1 * gw / (acc_w.sqrt() + 1e-10), b - 0.1 * gb / (acc_b.sqrt() + 1e-10)
        torch.testing.assert_close(model.weight.detach(), w, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(model.bias.detach(), b, rtol=1e-5, atol=1e-6)

    def test_early_stopping_restores_best(self):
        data = _data()
        model = _model()
        hist = fit(model, data, data, _cfg(epochs=50, lr=0.5, early_stopping_patience=2))
        assert len(hist) < 50
        best = min(h["val_loss"] for h in hist)
        assert evaluate(model, data, _cfg())["loss"] == pytest.approx(best, rel=1e-5)


    def test_frontend_lr_scale_makes_a_second_group(self):
        class WithFront(nn.Module):
            def __init__(self):
                super().__init__()
                self.frontend = nn.Linear(8, 8)
                self.head = nn.Linear(8, 2)

            def forward(self, x):
                return self.head(self.frontend(x))

        data = _data()
        for scale in (1.0, 0.0 + 1e-9):
            torch.manual_seed(0)
            model = WithFront()
            front0, head0 = model.frontend.weight.detach().clone(), model.head.weight.detach().clone()
            fit(model, data, None, _cfg(epochs=1, scheduler="onecycle", frontend_lr_scale=scale))
            moved = (model.frontend.weight - front0).abs().max().item()
            assert (model.head.weight - head0).abs().max().item() > 1e-3
            assert (moved > 1e-3) if scale == 1.0 else (moved < 1e-6)


class TestEvaluation:
    def test_metrics_match_a_slow_loop(self):
        data = _data()
        model = _model()
        fit(model, data, None, _cfg(epochs=3))
        res = evaluate(model, data, _cfg())
        model.eval()
        with torch.no_grad():
            preds = torch.stack([model(x[None]).argmax(-1)[0] for x, _ in data])
        targets = torch.stack([y for _, y in data])
        assert res["accuracy"] == pytest.approx((preds == targets).float().mean().item())
        assert torch.equal(res["confusion"], confusion_matrix(preds, targets, 2))
        assert res["confusion"].sum() == len(data)

    def test_per_class_report_by_hand(self):
        rep = per_class_report(torch.tensor([[3, 1], [2, 4]]), ["no", "yes"])
        assert rep[0]["precision"] == pytest.approx(3 / 5) and rep[1]["recall"] == pytest.approx(4 / 6)


class TestCheckpoints:
    def test_written_every_epoch_and_loadable_weights_only(self, tmp_path):
        fit(_model(), _data(), _data(1), _cfg(tmp_path, epochs=2))
        ckpt = load_checkpoint(tmp_path / "last.pt")
        assert ckpt["epoch"] == 2 and len(ckpt["history"]) == 2
        assert json.loads((tmp_path / "history.json").read_text())[-1]["epoch"] == 2
        assert TrainConfig.load(tmp_path / "config.json").epochs == 2
        assert not list(tmp_path.glob(".*tmp*")), "temporary files must be renamed away"

    def test_resume_after_a_kill_matches_an_uninterrupted_run(self, tmp_path):
        data, val = _data(), _data(48, seed=5)
        full = fit(_model(), data, val, _cfg(tmp_path / "a"))

        class Kill(Exception):
            pass

        def die(rec):
            if rec["epoch"] == 2:
                raise Kill

        with pytest.raises(Kill):
            fit(_model(), data, val, _cfg(tmp_path / "b"), on_epoch_end=die)
        assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 2
        resumed = fit(_model(), data, val, _cfg(tmp_path / "b"), resume=True)
        assert [h["epoch"] for h in resumed] == [1, 2, 3, 4]
        for a, b in zip(full, resumed):
            for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
                assert a[key] == pytest.approx(b[key], abs=1e-7), key


class TestBadInput:
    def test_bad_config(self):
        with pytest.raises(ValueError, match="epochs"):
            TrainConfig(epochs=0)
        with pytest.raises(ValueError, match="unknown TrainConfig keys"):
            TrainConfig.from_dict({"epoch": 3})

    def test_empty_dataset(self):
        with pytest.raises(ValueError, match="empty"):
            fit(_model(), TensorDataset(torch.zeros(0, 8), torch.zeros(0).long()), None, _cfg())

    def test_nan_loss_is_reported(self):
        x = torch.randn(16, 8)
        x[0, 0] = float("nan")
        with pytest.raises(FloatingPointError, match="loss is nan"):
            fit(_model(), TensorDataset(x, torch.zeros(16).long()), None, _cfg(epochs=1))

    def test_missing_checkpoint(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no checkpoint"):
            load_checkpoint(tmp_path / "nope.pt")


class TestLoader:
    """The DataLoader the loop builds: workers and pinned memory follow the device and the data."""

    class _Files(torch.utils.data.Dataset):  # stands for clips read from files
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return torch.full((4,), float(i)), i % 2

    def test_no_workers_and_no_pinning_on_the_cpu_by_default(self):
        from apac_lab.train import make_loader

        for data in (_data(), self._Files()):
            loader = make_loader(data, _cfg(), train=True)
            assert loader.num_workers == 0 and loader.pin_memory is False

    def test_workers_asked_for_are_used(self):
        from apac_lab.train import make_loader

        assert make_loader(self._Files(), _cfg(num_workers=2), train=False).num_workers == 2

    @pytest.mark.parametrize("in_memory, device, cores, processes, expected", [
        (False, "cuda", 2, 1, 1),     # free Colab: one worker beside the process that feeds the GPU
        (False, "cuda", 16, 1, 8),    # capped
        (False, "cuda", 4, 1, 3),
        (False, "cuda", 16, 8, 1),    # torchrun: each process its share of the cores
        (True, "cuda", 16, 1, 0),     # clips in memory: nothing to read
        (False, "cpu", 16, 1, 0),     # on the CPU the cores train the model
        (False, "mps", 8, 1, 0),
    ])
    def test_auto_workers(self, in_memory, device, cores, processes, expected):
        from apac_lab.train.loop import auto_workers

        assert auto_workers(in_memory=in_memory, device_type=device, cores=cores, processes=processes) == expected

    def test_the_in_memory_cache_is_the_clips_in_order(self):
        from apac_lab.data import load_dataset
        from apac_lab.train.runner import cache_bytes, cache_in_memory

        ds = load_dataset("synthetic", "test", verbose=False)
        cached = cache_in_memory(ds, "yes", progress=False)
        waves, labels = ds.tensors()
        assert torch.equal(cached.tensors[0], waves) and torch.equal(cached.tensors[1], labels)
        assert cached.tensors[1].dtype == torch.long and cache_bytes(ds) == waves.numel() * 4
        assert cache_in_memory(ds, "no") is ds


class TestResumeChecks:
    """fit(resume=True) continues only a run it can continue exactly."""

    def test_a_changed_setting_is_refused_before_anything_is_written(self, tmp_path):
        from apac_lab.train import ResumeMismatch

        fit(_model(), _data(), None, _cfg(tmp_path, epochs=2))
        before = (tmp_path / "last.pt").read_bytes()
        for change, words in (({"lr": 0.5}, "lr 0.01 -> 0.5"), ({"batch_size": 8}, "batch_size 16 -> 8"),
                              ({"seed": 1}, "seed 0 -> 1"), ({"epochs": 1}, "epochs 2 done -> 1")):
            with pytest.raises(ResumeMismatch, match=words):
                fit(_model(), _data(), None, _cfg(tmp_path, **change), resume=True)
        assert (tmp_path / "last.pt").read_bytes() == before

    def test_what_does_not_change_the_result_may_change(self, tmp_path):
        fit(_model(), _data(), None, _cfg(tmp_path, epochs=1))
        hist = fit(_model(), _data(), None, _cfg(tmp_path, epochs=2, num_workers=0, amp=False), resume=True)
        assert [h["epoch"] for h in hist] == [1, 2]

    def test_differences_by_hand(self):
        cfg = TrainConfig(epochs=5, scheduler="onecycle")
        saved = {**TrainConfig(epochs=3, scheduler="onecycle").to_dict(), "lr": 0.1}
        assert cfg.resume_differences(saved, epochs_done=3) == [
            ("lr", 0.1, 0.001), ("epochs", 3, "5 (the onecycle schedule is fixed)")]
        assert TrainConfig(epochs=5).resume_differences(TrainConfig(epochs=3).to_dict(), epochs_done=3) == []

    def test_no_checkpoint_is_said(self, tmp_path, capsys):
        fit(_model(), _data(), None, _cfg(tmp_path, epochs=1), resume=True)
        assert f"no checkpoint at {tmp_path / 'last.pt'}; starting a new run" in capsys.readouterr().err

    def test_resume_needs_a_folder(self):
        with pytest.raises(ValueError, match="set out_dir"):
            fit(_model(), _data(), None, _cfg(epochs=1), resume=True)


class TestSettingFields:
    def test_every_field_has_help_and_bad_values_name_the_field(self):
        import dataclasses

        assert all(f.metadata.get("help") for f in dataclasses.fields(TrainConfig))
        for kw, words in (({"lr": 0}, "lr must be > 0"), ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
                          ({"epochs": "3"}, "epochs must be int, got '3'"), ({"grad_clip": -1.0}, "grad_clip")):
            with pytest.raises(ValueError, match=words):
                TrainConfig(**kw)
        assert TrainConfig(lr=1).lr == 1.0 and isinstance(TrainConfig(lr=1).lr, float)


class TestRunLock:
    def test_reentrant_in_a_process_and_released(self, tmp_path):
        from apac_lab.train import RunLock

        with RunLock(tmp_path):
            with RunLock(tmp_path):  # run() holds it, fit() takes it again
                pass
            assert (tmp_path / ".lock").is_file()
        assert not (tmp_path / ".lock").exists()

    def test_fit_refuses_a_folder_another_process_holds(self, tmp_path):
        import os
        import socket

        from apac_lab.train import RunFolderBusy

        (tmp_path / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
        with pytest.raises(RunFolderBusy, match=f"in use by process {os.getppid()}"):
            fit(_model(), _data(), None, _cfg(tmp_path, epochs=1))
        assert not (tmp_path / "last.pt").exists()


class TestRunCallback:
    """run(s, on_epoch_end=...): a CLI-style run feeds each epoch's record to a callback (live curves)."""

    def test_each_epoch_record_reaches_the_callback_and_the_curves(self, tmp_path):
        from apac_lab.train import run, run_settings
        from apac_lab.widgets import TrainingCurves

        s = run_settings(dataset="synthetic", model="tiny", sample_rate=8000, per_class=3, test_per_class=1,
                         val_fraction=0.2, epochs=3, batch_size=8, quiet=True, device="cpu", out=str(tmp_path / "r"))
        seen, curves = [], TrainingCurves(title="tiny")
        feed = curves.callback("tiny")
        result = run(s, on_epoch_end=lambda rec: (seen.append(rec), feed(rec)))
        assert [r["epoch"] for r in seen] == [1, 2, 3]
        assert [r["val_loss"] for r in seen] == [h["val_loss"] for h in result["history"]]
        assert [r["train_loss"] for r in curves.histories["tiny"]] == [h["train_loss"] for h in result["history"]]
        assert {"tiny (train)", "tiny (validation)"} <= {t.name for t in curves.figure.data}

    def test_a_callback_that_is_not_a_function_is_refused(self, tmp_path):
        from apac_lab.train import UsageError, run, run_settings

        with pytest.raises(UsageError, match="on_epoch_end=.* must be a function of one epoch's record, got list"):
            run(run_settings(dataset="synthetic", model="tiny", out=str(tmp_path / "r")), on_epoch_end=[])
        assert not (tmp_path / "r").exists()


class TestThroughput:
    """A run's expected time from a few real training steps, and the download it needs."""

    def test_expected_seconds_is_epochs_times_clips_over_the_rates(self):
        from apac_lab.train import expected_seconds, run_settings

        rate = {"train_clips_per_s": 50.0, "eval_clips_per_s": 200.0}
        s = run_settings(dataset="speechcommands", epochs=80)
        assert expected_seconds(s, rate, train_clips=84843, val_clips=9981, test_clips=11005) == pytest.approx(
            80 * 84843 / 50 + (80 * 9981 + 11005) / 200)
        capped = s.replace(max_steps_per_epoch=10, batch_size=8, epochs=2)
        assert expected_seconds(capped, rate, train_clips=84843) == pytest.approx(2 * 80 / 50)
        with pytest.raises(ValueError, match="train_clips must be a whole number >= 0"):
            expected_seconds(s, rate, train_clips=-1)

    def test_a_few_real_steps_of_the_runs_own_model(self, monkeypatch):
        import apac_lab.train.loop as loop
        from apac_lab.train import run_settings, training_throughput

        seen = []

        original = loop.fit

        def counting_fit(model, data, val, config, **kw):
            seen.append((type(model).__name__, config.batch_size, config.max_steps_per_epoch, config.device))
            return original(model, data, val, config, **kw)

        monkeypatch.setattr(loop, "fit", counting_fit)
        s = run_settings(dataset="synthetic", model="tiny", sample_rate=8000, batch_size=6, device="cpu")
        r = training_throughput(s, 4, steps=2, warmup=1)
        assert seen == [("TinyCNN", 6, 1, "cpu"), ("TinyCNN", 6, 2, "cpu")]  # warm-up, then the timed steps
        assert r["batch_size"] == 6 and r["steps"] == 2 and r["device"] == "cpu"
        assert r["step_seconds"] == pytest.approx(6 / r["train_clips_per_s"])
        assert r["train_clips_per_s"] > 0 and r["eval_clips_per_s"] > 0
        with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
            training_throughput(s, 4, steps=0)

    def test_the_plan_names_the_download_and_its_size(self, tmp_path, monkeypatch):
        from apac_lab.train import plan_runs, run_settings

        monkeypatch.setenv("APAC_LAB_DATA", str(tmp_path / "none"))
        monkeypatch.setenv("APAC_LAB_CACHE", str(tmp_path / "cache"))
        runs = {"tiny": run_settings(dataset="speechcommands", model="tiny", sample_rate=8000, epochs=2,
                                     batch_size=4, device="cpu")}
        plan = plan_runs(runs, n_classes=35, train_clips=100, val_clips=10, test_clips=20, steps=1, progress=False)
        lines = plan["text"].splitlines()
        assert lines[0] == ("download: speechcommands, 2.26 GiB (2,428,923,189 bytes), from "
                            "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz (SHA-256 checked), into "
                            f"{tmp_path / 'cache' / 'speechcommands'}")
        assert plan["download_bytes"] == 2_428_923_189
        assert lines[1].startswith("expected time on cpu, from 1 timed training steps per run: ")
        assert plan["seconds"] == pytest.approx(plan["runs"][0]["seconds"])
        (tmp_path / "none" / "speechcommands").mkdir(parents=True)
        (tmp_path / "none" / "speechcommands" / "testing_list.txt").write_text("")
        plan = plan_runs(runs, n_classes=35, train_clips=100, steps=1, progress=False)
        assert plan["download_bytes"] == 0 and "is already at" in plan["text"].splitlines()[0]
