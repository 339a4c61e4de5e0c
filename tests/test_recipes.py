"""The recipes: each is settings (or a function returning them) that reproduce what the notebook or
benchmark ran before they moved here. The experiments end to end are tested beside their models
(tests/test_listener.py, tests/test_piczak.py, tests/test_registry.py)."""

from __future__ import annotations

import pytest
import torch

from apac_lab.models import STRFClassifier
from apac_lab.recipes import (
    MSTSettings, fsdd_digits_settings, fsdd_frontend_settings, fsdd_speakers_settings, strf_models, strf_training,
)
from apac_lab.train import TrainConfig
from apac_lab.utils import seed_everything


class TestFSDDRecipes:
    def test_digits_recipe_is_the_benchmarks(self):
        flat = fsdd_digits_settings().to_flat()
        expected = dict(
            dataset="fsdd", model="apac", mode="std", sample_rate=8000, clip_seconds=1.0,
            model_kwargs={"width_mult": 0.5, "n_mels": 40, "n_mfcc": 20, "dropout": 0.1},
            epochs=30, batch_size=32, lr=3e-3, weight_decay=1e-3, optimizer="adam", scheduler="onecycle",
            label_smoothing=0.1, time_shift=0.1, speed=[0.9, 1.1], val_fraction=0.0, seed=0, quiet=True)
        assert {k: flat[k] for k in expected} == expected

    def test_speakers_recipe_holds_out_one_speaker(self):
        s = fsdd_speakers_settings("jackson", epochs=2)
        assert s.holdout_speakers == ["jackson"] and s.train.epochs == 2
        assert (s.model_kwargs, s.speed, s.eq_db, s.gain_db, s.noise_snr, s.spec_augment, s.time_stretch) == (
            {"width_mult": 1.0, "n_mels": 64, "n_mfcc": 32, "dropout": 0.2}, [0.85, 1.15], 12.0, [-12.0, 12.0],
            [10.0, 30.0], [6, 4], [0.75, 1.35])

    def test_frontend_pretraining_is_fsdd_in_mode_mel_stft(self):
        s = fsdd_frontend_settings(model="tiny", epochs=1, dataset="fsdd")
        assert (s.dataset, s.mode, s.model, s.train.epochs) == ("fsdd", "mel+stft", "tiny", 1)
        with pytest.raises(ValueError, match="dataset='fsdd', not 'speechcommands'"):
            fsdd_frontend_settings(dataset="speechcommands")
        with pytest.raises(ValueError, match="mode='mel\\+stft'"):
            fsdd_frontend_settings(mode="std")


class TestSTRF:
    def test_models_are_built_as_the_notebook_built_them(self):
        models = strf_models(10, n_filters=4, kernel_size=(5, 21), seed=3)
        for name, layer in (("Gabor STRF", "gabor"), ("free conv", "conv")):
            seed_everything(3)
            ref = STRFClassifier(10, layer=layer, n_filters=4, kernel_size=(5, 21))
            got = models[name].state_dict()
            assert all(torch.equal(got[k], v) for k, v in ref.state_dict().items()), name

    def test_training_settings(self, monkeypatch):
        monkeypatch.setenv("APAC_LAB_QUICK", "1")
        assert strf_training() == TrainConfig(epochs=3, batch_size=32, lr=3e-3, weight_decay=1e-4, seed=0)
        monkeypatch.setenv("APAC_LAB_QUICK", "0")
        assert strf_training().epochs == 10


class TestMSTSettings:
    def test_quick_is_the_previous_quick_run(self):
        s = MSTSettings.quick()
        assert (s.dataset, s.frames, s.clip_seconds, s.per_class, s.test_per_class, s.hidden, s.progress) == (
            "fsdd", 41, 1.5, 12, 6, 256, False)
        m, c, f = s.mst_training, s.classifier_training, s.finetune_training
        assert (m.loss, m.optimizer, m.lr, m.batch_size, m.epochs, m.early_stopping_patience, m.weight_decay) == (
            "mse", "adam", 2e-3, 8, 8, 4, 0.0)
        assert (c.optimizer, c.momentum, c.nesterov, c.lr, c.batch_size, c.epochs, c.weight_decay) == (
            "sgd", 0.9, True, 5e-3, 8, 12, 0.0)
        assert (f.optimizer, f.lr, f.batch_size, f.epochs) == ("sgd", 5e-4, 8, 4)

    def test_full_is_the_papers(self):
        s = MSTSettings.full()
        assert (s.dataset, s.frames, s.hidden) == ("esc50", 101, 5000)
        assert (s.mst_training.lr, s.mst_training.batch_size, s.mst_training.epochs,
                s.mst_training.early_stopping_patience) == (3e-4, 100, 800, 50)
        assert (s.classifier_training.lr, s.classifier_training.batch_size, s.classifier_training.epochs) == (
            5e-3, 500, 200)

    def test_a_dict_changes_only_its_keys_and_the_seed_is_the_experiments(self):
        s = MSTSettings.quick(seed=7, classifier_training={"epochs": 1})
        assert s.classifier_training.epochs == 1 and s.classifier_training.batch_size == 8
        assert {s.mst_training.seed, s.classifier_training.seed, s.finetune_training.seed} == {7}
        assert not s.mst_training.progress

    def test_bad_settings(self):
        with pytest.raises(ValueError, match="unknown MSTSettings fields \\['mst_epochs'\\]"):
            MSTSettings.quick(mst_epochs=3)
        with pytest.raises(ValueError, match="frames must be >= 1"):
            MSTSettings(frames=0)
        with pytest.raises(ValueError, match="lr must be > 0"):
            MSTSettings.quick(mst_training={"lr": 0.0})
        with pytest.raises(ValueError, match="must differ"):
            MSTSettings(test_fold=3, val_fold=3)

    def test_to_dict_reads_back(self):
        s = MSTSettings.quick(hidden=8)
        assert MSTSettings(**s.to_dict()) == s


# --- record_results: a notebook's headline results, for benchmarks/classroom.py ---------------------

class TestRecordResults:
    ROWS = [{"result": "Gabor STRF test accuracy", "value": 0.951, "target": ">= 0.93", "met": True},
            {"result": "free conv test accuracy", "value": torch.tensor(0.9), "target": ">= 0.93", "met": False}]

    def test_prints_a_table_and_writes_nothing_without_apac_lab_results(self, monkeypatch, tmp_path, capsys):
        from apac_lab.recipes import record_results

        monkeypatch.delenv("APAC_LAB_RESULTS", raising=False)
        monkeypatch.chdir(tmp_path)
        rows = record_results("02_gabor_filter_learning", self.ROWS, budget="classroom")
        assert [r["value"] for r in rows] == [0.951, pytest.approx(0.9)]
        out = capsys.readouterr().out.splitlines()
        assert out[0] == "02_gabor_filter_learning (classroom budget):"
        assert out[2].split() == ["Gabor", "STRF", "test", "accuracy", "95.1%", ">=", "0.93", "yes"]
        assert out[3].split()[-1] == "NO"
        assert list(tmp_path.iterdir()) == []

    def test_writes_one_json_per_notebook_under_apac_lab_results(self, monkeypatch, tmp_path):
        import json

        from apac_lab.recipes import record_results

        monkeypatch.setenv("APAC_LAB_RESULTS", str(tmp_path / "res"))
        record_results("05_apac_training", self.ROWS, budget="quick", seconds=12.5, seed=0, quiet=True)
        saved = json.loads((tmp_path / "res" / "05_apac_training.json").read_text())
        assert saved["budget"] == "quick" and saved["seconds"] == 12.5 and saved["seed"] == 0
        assert [(r["result"], r["met"]) for r in saved["rows"]] == [("Gabor STRF test accuracy", True),
                                                                  ("free conv test accuracy", False)]

    @pytest.mark.parametrize("rows, match", [
        ([], "non-empty list"),
        ([{"result": "a", "value": 0.5, "target": "x"}], "row 0 must be a dict with keys"),
        ([{"result": "a", "value": float("nan"), "target": "x", "met": True}], "value must be a finite number"),
        ([{"result": "a", "value": 0.5, "target": "x", "met": "yes"}], "met must be True or False"),
    ])
    def test_bad_rows_are_one_line_errors(self, rows, match):
        from apac_lab.recipes import record_results

        with pytest.raises(ValueError, match=match):
            record_results("demo", rows, quiet=True)


# --- notebook 05: APAC's five modes and the baselines, the paper's tables -----------------------

class TestApacModes:
    def test_classroom_is_fsdd_at_8_khz_with_the_papers_optimiser(self):
        from apac_lab.models import MODES
        from apac_lab.recipes import apac_modes_plan, mode_settings

        plan = apac_modes_plan("classroom")
        for mode in MODES[:4]:
            s = mode_settings(plan, mode)
            assert (s.dataset, s.sample_rate, s.holdout_speakers, s.val_fraction, s.mode) == ("fsdd", 8000, None, 0.1,
                                                                                             mode)
            assert (s.preset, s.train.optimizer, s.train.weight_decay, s.train.epochs) == ("paper-scratch", "adam",
                                                                                          1e-3, 15)
            assert s.train.frontend_lr_scale == (1.0 if mode == "std" else 0.1)
        with pytest.raises(ValueError, match="--checkpoint"):
            mode_settings(plan, "mel+stft+fsdd")  # the fifth mode needs the FSDD front-end

    def test_quick_is_the_classroom_run_made_small(self):
        from apac_lab.models import MODES
        from apac_lab.recipes import apac_modes_plan, baseline_settings, mode_settings

        small = {"epochs", "batch_size", "per_class", "test_per_class", "max_steps_per_epoch", "quiet", "out"}
        for make in [lambda p: mode_settings(p, m) for m in MODES[:4]] + [lambda p: baseline_settings(p, "mobilenetv2")]:
            q, c = make(apac_modes_plan("quick")).to_flat(), make(apac_modes_plan("classroom")).to_flat()
            assert {k for k in c if q[k] != c[k]} <= small

    def test_full_is_the_papers_protocol(self, tmp_path):
        from apac_lab.recipes import (
            apac_modes_plan, baseline_settings, departures, frontend_pretraining_settings, mode_settings,
        )

        plan = apac_modes_plan("full")
        (tmp_path / "frontend.pt").write_bytes(b"")
        for mode in ("std", "mel", "stft", "mel+stft", "mel+stft+fsdd"):
            s = mode_settings(plan, mode, checkpoint=tmp_path / "frontend.pt" if mode.endswith("fsdd") else None)
            assert (s.dataset, s.sample_rate, s.model_kwargs, s.train.lr, s.train.epochs) == (
                "speechcommands", 16000, {}, 1e-3, 80)
            assert departures(s) == []  # the paper's data, front-end, model and training settings
        scratch = baseline_settings(plan, "resnet50")
        (tmp_path / "w.pth").write_bytes(b"")
        imagenet = baseline_settings(plan, "resnet50", pretrained=tmp_path / "w.pth")
        assert (scratch.train.lr, scratch.train.epochs, scratch.pretrained) == (1e-3, 80, None)
        assert (imagenet.train.lr, imagenet.train.epochs, imagenet.pretrained) == (1e-4, 30, str(tmp_path / "w.pth"))
        assert scratch.out != imagenet.out
        pre = frontend_pretraining_settings(plan)
        assert (pre.dataset, pre.mode, pre.model, pre.sample_rate, pre.train.epochs) == ("fsdd", "mel+stft", "apac",
                                                                                       16000, 80)

    def test_departures_of_the_classroom_run(self):
        from apac_lab.recipes import apac_modes_plan, departures, mode_settings

        plan = apac_modes_plan("classroom")
        got = {k: (p, o) for k, p, o in departures(mode_settings(plan, "mel"))}
        assert got["epochs"] == (80, 15) and got["lr"] == (1e-3, 3e-3) and got["sample_rate"] == (16000, 8000)
        assert got["n_fft, hop_length"] == ("2048, 512", "1024, 256 (the same 128 ms and 32 ms)")
        assert got["n_mels"] == (128, 40) and got["front-end learning rate"] == ("the network's", "0.1 x the network's")
        assert "front-end learning rate" not in {k for k, _, _ in departures(mode_settings(plan, "std"))}

    def test_the_tables_put_the_papers_numbers_beside_this_run(self):
        from apac_lab.recipes import table2_rows, table3_rows, table4_rows

        p = "paper (Speech Commands v2)"
        t3 = table3_rows({})
        assert [(r["mode"], r[f"{p}: train acc"], r[f"{p}: val acc"]) for r in t3] == [
            ("std", 0.91, 0.92), ("mel", 0.89, 0.91), ("stft", 0.88, 0.88), ("mel+stft", 0.89, 0.90),
            ("mel+stft+fsdd", 0.90, 0.91)]  # Cassetta (2023), Table 3
        assert all(r["this run: test acc"] is None for r in t3)
        t2 = table2_rows({})
        assert [(r["model"], r["ImageNet pre-trained"], r[f"{p}: val acc"], r[f"{p}: time (s)"]) for r in t2] == [
            ("VGG19", "no", 0.78, 230), ("ResNet50", "no", 0.72, 175), ("MobileNetV2", "no", 0.63, 105),
            ("VGG19", "yes", 0.88, None), ("ResNet50", "yes", 0.83, None), ("MobileNetV2", "yes", 0.87, None)]
        t4 = table4_rows({"std": self._result(0.99)}, {"mobilenetv2": self._result(0.95)})
        assert [(r["model"], r["this run: test acc"], r[f"{p}: test acc"]) for r in t4] == [
            ("APAC (std)", 0.99, 0.914), ("APAC (pretrain)", None, 0.90), ("MobileNetV2", 0.95, 0.847)]

    @staticmethod
    def _result(test, val=None, train=0.5):
        hist = [{"train_acc": train, "train_seconds": 2.0, **({"val_acc": val} if val is not None else {})}]
        return {"test": {"accuracy": test}, "history": hist, "metrics": {"parameters": 10}}

    def test_headline_rows_hold_every_mode_to_the_goal(self):
        from apac_lab.recipes import TARGET_APAC_TEST_ACCURACY, headline_rows

        assert TARGET_APAC_TEST_ACCURACY == 0.97
        runs = {"std": self._result(0.99), "mel": self._result(0.965)}
        rows = headline_rows(runs, {"mobilenetv2": self._result(0.9)}, budget="classroom")
        assert [(r["result"], r["value"], r["met"]) for r in rows] == [
            ("APAC (std) test accuracy", 0.99, True), ("APAC (mel) test accuracy", 0.965, False),
            ("MobileNetV2 test accuracy", 0.9, True)]
        assert rows[0]["target"] == ">= 0.97 (classroom)"
        assert all(r["met"] for r in headline_rows(runs, {}, budget="quick"))  # no goal in the quick budget

    def test_the_best_mode_is_chosen_on_validation_not_test(self):
        from apac_lab.recipes.apac_modes import best_mode

        runs = {"std": self._result(test=1.0, val=0.95), "stft": self._result(test=0.9, val=0.97)}
        assert best_mode(runs) == "stft"

    def test_five_modes_end_to_end_the_fifth_starts_from_the_mel_stft_front_end(self, tmp_path):
        from apac_lab.models import MODES, build_model
        from apac_lab.recipes import ModesPlan, headline_rows, train_baselines, train_five_modes

        common = dict(dataset="synthetic", sample_rate=8000, per_class=2, test_per_class=1, val_fraction=0.2,
                      batch_size=4, max_steps_per_epoch=1, seed=0, quiet=True, device="cpu")
        plan = ModesPlan("quick", common, apac=dict(model="tiny", epochs=1), baseline=dict(epochs=1),
                         baselines=("mobilenetv2",), trainable_frontend={"frontend_lr_scale": 0.1},
                         out=str(tmp_path))
        called = []

        def on_epoch_end(name):
            called.append(name)
            return lambda rec: None

        runs = train_five_modes(plan, on_epoch_end=on_epoch_end)
        assert list(runs) == list(MODES) and called == list(MODES)
        fifth = runs["mel+stft+fsdd"]
        assert fifth["frontend_from"] == "mel+stft"
        assert fifth["settings"].checkpoint == str(runs["mel+stft"]["out"] / "frontend.pt")
        start = build_model("tiny", n_classes=10, sample_rate=8000, mode="mel+stft+fsdd",
                            checkpoint=fifth["settings"].checkpoint).frontend
        trained = runs["mel+stft"]["model"].frontend
        assert torch.equal(start.mel_filterbank(), trained.mel_filterbank().cpu())  # the fifth mode's start...
        assert not torch.equal(start.mel_filterbank(), fifth["model"].frontend.mel_filterbank().cpu())  # ...trained
        assert all(r["seconds"] > 0 for r in runs.values())
        from apac_lab.recipes import protocol_line

        n = runs["std"]["clips"]
        assert protocol_line(plan, runs) == (
            "Protocol: the paper: Speech Commands v2 (35 words, 16 kHz; 84,843 / 9,981 / 11,005 clips), 80 epochs; "
            f"this run: synthetic ({len(runs['std']['classes'])} classes, 8 kHz; {n['train']} / {n['validation']} / "
            f"{n['test']} clips), 1 epoch.")
        baselines = train_baselines(plan, on_epoch_end=on_epoch_end)
        assert list(baselines) == ["mobilenetv2"] and called[-1] == "mobilenetv2"
        assert [r["result"] for r in headline_rows(runs, baselines)][-1] == "MobileNetV2 test accuracy"

    def test_the_full_budget_says_its_download_and_time_before_it_starts(self, tmp_path, monkeypatch):
        import apac_lab.train.throughput as tp
        from apac_lab.recipes import apac_modes_plan, planned_runs
        from apac_lab.recipes.apac_modes import full_budget_estimate

        monkeypatch.setenv("APAC_LAB_DATA", str(tmp_path / "data"))
        monkeypatch.setenv("APAC_LAB_CACHE", str(tmp_path / "cache"))
        measured = []

        def fake(s, n_classes, *, steps, warmup):  # the rates of a few real steps, fixed here
            measured.append((s.dataset, s.model, s.mode, n_classes, steps))
            return {"train_clips_per_s": 1000.0, "eval_clips_per_s": 4000.0, "device": "cuda", "step_seconds": 0.064}

        monkeypatch.setattr(tp, "training_throughput", fake)
        plan = apac_modes_plan("full")
        assert list(planned_runs(plan)) == [
            "FSDD front-end", "APAC std", "APAC mel", "APAC stft", "APAC mel+stft", "APAC mel+stft+fsdd", "mobilenetv2",
            "resnet50", "vgg19", "mobilenetv2 (ImageNet)", "resnet50 (ImageNet)", "vgg19 (ImageNet)"]
        est = full_budget_estimate(plan, steps=2)
        assert measured[0] == ("fsdd", "apac", "mel+stft", 35, 2) and len(measured) == 12
        sc = 80 * 84843 / 1000 + (80 * 9981 + 11005) / 4000  # Speech Commands v2: the official lists' sizes
        fsdd = 80 * 2430 / 1000 + (80 * 270 + 300) / 4000  # 2,700 training recordings, a tenth for validation
        imagenet = 30 * 84843 / 1000 + (30 * 9981 + 11005) / 4000
        assert est["seconds"] == pytest.approx(fsdd + 8 * sc + 3 * imagenet)
        lines = est["text"].splitlines()
        assert lines[0].startswith("download: fsdd, 14.9 MiB (15,602,882 bytes)")
        assert lines[1].startswith("download: speechcommands, 2.26 GiB (2,428,923,189 bytes)")
        assert lines[2].startswith("expected time on cuda, from 2 timed training steps per run: ")

    def test_with_a_separate_pretraining_the_fifth_mode_starts_from_fsdd(self, tmp_path):
        from apac_lab.recipes import ModesPlan, train_five_modes

        common = dict(dataset="synthetic", sample_rate=8000, per_class=2, test_per_class=1, val_fraction=0.0,
                      batch_size=4, max_steps_per_epoch=1, seed=0, quiet=True, device="cpu")
        plan = ModesPlan("full", common, apac=dict(model="tiny", epochs=1), baseline=dict(epochs=1), baselines=(),
                         pretrain=dict(common, dataset="fsdd", epochs=1), out=str(tmp_path))
        runs = train_five_modes(plan, modes=("mel+stft+fsdd",))
        assert list(runs) == ["fsdd front-end", "mel+stft+fsdd"]
        assert runs["fsdd front-end"]["settings"].dataset == "fsdd" and runs["fsdd front-end"]["data"].endswith("fsdd/train")
        assert runs["mel+stft+fsdd"]["frontend_from"] == "fsdd front-end"
        assert runs["mel+stft+fsdd"]["settings"].checkpoint == str(runs["fsdd front-end"]["out"] / "frontend.pt")
        with pytest.raises(ValueError, match="train mode 'mel\\+stft' first"):
            train_five_modes(ModesPlan("quick", common, apac=dict(model="tiny", epochs=1), baseline={}, baselines=(),
                                       out=str(tmp_path / "b")), modes=("mel+stft+fsdd",))
