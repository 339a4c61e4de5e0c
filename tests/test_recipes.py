"""The recipes: each is settings (or a function returning them) that reproduce what the notebook or
benchmark ran before they moved here. The experiments end to end are tested beside their models
(tests/test_listener.py, tests/test_piczak.py, tests/test_registry.py)."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils.data import TensorDataset

from apac_lab.models import STRFClassifier
from apac_lab.recipes import (
    STRF_RESULT_NAMES, STRF_TARGET_ACCURACY, STRF_VAL_PER_GROUP, MSTSettings, STRFSizes, fsdd_digits_settings,
    fsdd_frontend_settings, fsdd_speakers_settings, logmel_dataset, paper_mst_training, strf_budget_lines, strf_comparison, strf_models,
    strf_result_rows, strf_seconds_per_epoch, strf_sizes, strf_splits, strf_test_accuracy, strf_training, strf_verdict,
    train_strf_models,
)
from apac_lab.train import TrainConfig, evaluate
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
            {"width_mult": 1.0, "n_mels": 64, "n_mfcc": 32, "dropout": 0.2, "f_min": 50.0, "peak_norm": True},
            [0.85, 1.15], 12.0, [-12.0, 12.0], [10.0, 30.0], [6, 4], [0.75, 1.35])
        assert (s.vtlp, s.reverb_p, s.band_limit_p, s.mu_law_p) == ([0.9, 1.1], 0.3, 0.3, 0.2)

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

    def test_budget_sizes(self):
        assert strf_sizes("quick") == STRFSizes(train_per_class=30, val_per_class=5, test_per_class=10, epochs=3)
        assert strf_sizes("classroom") == STRFSizes(None, None, None, epochs=6)
        assert strf_sizes("full") == STRFSizes(None, None, None, epochs=20)

    def test_training_settings_follow_the_budget(self, monkeypatch):
        monkeypatch.delenv("APAC_LAB_BUDGET", raising=False)
        monkeypatch.setenv("APAC_LAB_QUICK", "1")
        assert strf_training() == TrainConfig(epochs=3, batch_size=32, lr=3e-3, weight_decay=1e-4, seed=0,
                                              scheduler="onecycle", early_stopping_patience=3)
        monkeypatch.setenv("APAC_LAB_QUICK", "0")  # the default budget: classroom
        assert (strf_training().epochs, strf_training().early_stopping_patience) == (6, 6)
        assert strf_training("full").epochs == 20
        assert strf_training("classroom", epochs=2).early_stopping_patience == 2  # keeps the best epoch, never stops

    def test_target_and_result_rows(self):
        assert STRF_TARGET_ACCURACY == 0.93
        rows = strf_result_rows({"Gabor STRF": 0.93, "free conv": 0.928})
        assert rows == [
            {"result": "Gabor STRF test accuracy", "value": 0.93, "target": ">= 0.93", "met": True},
            {"result": "free conv test accuracy", "value": 0.928, "target": ">= 0.93", "met": False},
        ]
        assert [r["result"] for r in rows] == list(STRF_RESULT_NAMES.values())

    def test_budget_lines_name_each_budgets_sizes(self):
        lines = strf_budget_lines()
        assert lines["quick"].startswith("both models, 3 epochs on 30 train clips per digit")
        assert lines["classroom"] == "both models, 6 epochs on all train clips of FSDD, tested on all test clips"
        assert lines["full"].startswith("both models, 20 epochs")


@pytest.fixture(scope="module")
def fsdd(real_fsdd_root):
    """FSDD's official train and test splits (file lists only: nothing is read)."""
    from apac_lab.data import load_fsdd

    return load_fsdd(real_fsdd_root, split="train"), load_fsdd(real_fsdd_root, split="test")


class TestSTRFSplits:
    def test_validation_comes_from_train_and_never_from_test(self, fsdd):
        train_set, test_set = fsdd
        s = strf_splits(train_set, test_set, budget="classroom")
        paths = {k: {c.path for c in getattr(s, k).clips} for k in ("train", "val", "test")}
        assert not paths["val"] & paths["test"] and not paths["train"] & paths["test"]
        assert not paths["val"] & paths["train"]
        assert paths["val"] | paths["train"] == {c.path for c in train_set.clips}
        assert paths["test"] == {c.path for c in test_set.clips}  # the official test split, whole
        assert all(c.extra["index"] >= 5 for c in s.val.clips)  # FSDD's test takes are 0-4

    def test_validation_holds_out_five_takes_of_every_digit_and_speaker(self, fsdd):
        train_set, test_set = fsdd
        s = strf_splits(train_set, test_set, budget="classroom")
        groups = Counter((c.label, c.speaker) for c in s.val.clips)
        assert set(groups.values()) == {STRF_VAL_PER_GROUP} == {5}
        assert len(groups) == 10 * len(train_set.speakers)
        assert len(s.train) == len(train_set) - len(s.val)

    def test_the_draw_follows_the_seed(self, fsdd):
        train_set, test_set = fsdd
        def val(seed):
            return [c.path for c in strf_splits(train_set, test_set, budget="classroom", seed=seed).val.clips]

        assert val(0) == val(0) and val(0) != val(1)

    def test_quick_budget_subsamples_each_split(self, fsdd):
        train_set, test_set = fsdd
        s = strf_splits(train_set, test_set, budget="quick")
        assert (len(s.train), len(s.val), len(s.test)) == (300, 50, 100)
        assert set(Counter(s.val.labels).values()) == {5}
        assert not {c.path for c in s.val.clips} & {c.path for c in s.test.clips}

    def test_a_test_set_that_overlaps_training_is_refused(self, fsdd):
        train_set, _ = fsdd
        with pytest.raises(ValueError, match="in both the training and the test set"):
            strf_splits(train_set, train_set.subset(range(10)))

    def test_too_few_training_clips_is_a_clear_error(self, tiny_fsdd):
        from apac_lab.data import load_fsdd

        train, test = load_fsdd(tiny_fsdd, split="train"), load_fsdd(tiny_fsdd, split="test")  # 2 takes per group
        with pytest.raises(ValueError, match="has 2 clips, too few to hold out 5 for validation"):
            strf_splits(train, test)


class TestSTRFTraining:
    def test_logmels_are_the_frontends_per_clip(self, tiny_fsdd):
        from apac_lab import frontends as fe
        from apac_lab.data import load_fsdd

        ds = load_fsdd(tiny_fsdd, split="test")
        frontend = fe.LogMel(sample_rate=8000, n_fft=256, hop_length=80, n_mels=16)
        out = logmel_dataset(ds, frontend, batch_size=4, progress=False)
        assert len(out) == len(ds) and out.classes == ds.classes
        for i in (0, len(ds) - 1):
            wave, label = ds[i]
            assert torch.allclose(out[i][0], frontend(wave), atol=1e-5) and out[i][1].item() == label

    def test_timing_leaves_the_model_untouched(self):
        model = STRFClassifier(10, n_filters=2, kernel_size=(3, 5))
        before = {k: v.clone() for k, v in model.state_dict().items()}
        seconds = strf_seconds_per_epoch(model, 64, (16, 20), TrainConfig(batch_size=8))
        assert seconds > 0
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    def test_training_validates_on_val_and_keeps_the_lowest_validation_loss(self):
        torch.manual_seed(0)
        x, y = torch.randn(48, 16, 20), torch.randint(0, 3, (48,))
        train, val, test = (TensorDataset(x[a:b], y[a:b]) for a, b in ((0, 32), (32, 40), (40, 48)))
        models = strf_models(3, n_filters=2, kernel_size=(3, 5))
        seen = []
        config = strf_training("quick", progress=False)
        hists = train_strf_models(models, train, val, config,
                                  callback_for=lambda name: (lambda rec: seen.append((name, rec["epoch"]))))
        assert seen == [(n, e) for n in ("Gabor STRF", "free conv") for e in (1, 2, 3)]
        assert {h["val_samples"] for hist in hists.values() for h in hist} == {8}
        acc = strf_test_accuracy(models, test, config)
        for name, model in models.items():
            best = min(hists[name], key=lambda h: h["val_loss"])
            assert evaluate(model, val, config)["loss"] == pytest.approx(best["val_loss"], rel=1e-5)
            assert acc[name] == evaluate(model, test, config)["accuracy"]
        table = strf_comparison(models, hists, acc).splitlines()
        assert table[0].split()[:3] == ["model", "per", "filter"]
        whole = sum(p.numel() for p in models["Gabor STRF"].parameters())
        assert table[1].split()[:5] == ["Gabor", "STRF", "4", "8", f"{whole:,}"]
        assert table[2].split()[:4] == ["free", "conv", "30", "60"]  # 2 x 3 x 5 per filter

    @pytest.mark.parametrize("gabor, free, start", [
        (0.92, 0.94, "The Gabor STRF layer trails the free convolution on the test split: 92.0% against 94.0%, 5 of"),
        (0.96, 0.94, "The Gabor STRF layer is ahead of the free convolution on the test split: 96.0% against 94.0%"),
        (0.94, 0.94, "The Gabor STRF layer and the free convolution tie on the test split: 94.0% against 94.0%, 0"),
    ])
    def test_verdict_says_who_is_ahead(self, gabor, free, start):
        assert strf_verdict({"Gabor STRF": gabor, "free conv": free}, 250).startswith(start)

    def test_verdict_weighs_the_gap_against_the_test_sets_noise(self):
        # standard error of the difference: sqrt(0.9 * 0.1 / 100 + 0.93 * 0.07 / 100) = 3.9%, above a 3-clip gap
        assert "3 of 100 clips (within about one standard error of a test set this size, 3.9%)" in strf_verdict(
            {"Gabor STRF": 0.9, "free conv": 0.93}, 100)
        assert "more than one standard error" in strf_verdict({"Gabor STRF": 0.8, "free conv": 0.9}, 100)


class TestMSTSettings:
    def test_classroom_is_all_of_fsdd_in_minutes(self):
        s = MSTSettings.classroom()
        assert (s.dataset, s.frames, s.clip_seconds, s.per_class, s.test_per_class, s.hidden, s.progress) == (
            "fsdd", 41, 1.0, None, None, 512, True)
        assert (s.target_mel, s.deltas, s.variations) == ("librosa", None, 0)
        m, c, f = s.mst_training, s.classifier_training, s.finetune_training
        assert (m.loss, m.optimizer, m.batch_size, m.weight_decay) == ("mse", "adam", 16, 0.0)
        assert (c.optimizer, c.momentum, c.nesterov, c.batch_size, c.weight_decay) == ("sgd", 0.9, True, 32, 0.0)
        assert all(t.early_stopping_patience for t in (m, c, f))  # the best validation epoch is kept
        assert f.optimizer == "sgd" and f.lr < c.lr

    def test_quick_is_the_classroom_run_on_fewer_clips_and_epochs(self):
        q, c = MSTSettings.quick(), MSTSettings.classroom()
        assert (q.per_class, q.test_per_class, q.hidden) == (12, 6, 256)
        assert (q.dataset, q.frames, q.target_mel, q.deltas, q.variations) == (
            c.dataset, c.frames, c.target_mel, c.deltas, c.variations)
        assert q.mst_training.epochs < c.mst_training.epochs and q.classifier_training.epochs < c.classifier_training.epochs

    def test_full_is_the_papers(self):
        s = MSTSettings.full()
        assert (s.dataset, s.frames, s.hidden, s.variations, s.deltas, s.target_mel) == (
            "esc50", 101, 5000, 4, None, "librosa")
        assert (s.mst_training.lr, s.mst_training.batch_size, s.mst_training.optimizer) == (3e-4, 100, "adam")
        # 800 epochs and a patience of 50: the reference code's (the paper gives no patience)
        assert (s.mst_training.epochs, s.mst_training.early_stopping_patience) == (800, 50)
        assert "reference code" in paper_mst_training.__doc__ and "gives no patience" in paper_mst_training.__doc__
        c = s.classifier_training
        assert (c.optimizer, c.momentum, c.nesterov, c.lr, c.batch_size, c.epochs, c.early_stopping_patience) == (
            "sgd", 0.9, True, 5e-3, 500, 200, None)

    def test_for_budget_follows_the_budget_in_force(self, monkeypatch):
        monkeypatch.delenv("APAC_LAB_BUDGET", raising=False)
        monkeypatch.setenv("APAC_LAB_QUICK", "1")
        assert MSTSettings.for_budget() == MSTSettings.quick()
        monkeypatch.setenv("APAC_LAB_BUDGET", "classroom")
        assert MSTSettings.for_budget() == MSTSettings.classroom()
        assert MSTSettings.for_budget("full", seed=3) == MSTSettings.full(seed=3)
        assert not hasattr(MSTSettings, "auto")

    def test_a_dict_changes_only_its_keys_and_the_seed_is_the_experiments(self):
        s = MSTSettings.quick(seed=7, classifier_training={"epochs": 1})
        assert s.classifier_training.epochs == 1 and s.classifier_training.batch_size == 8
        assert {s.mst_training.seed, s.classifier_training.seed, s.finetune_training.seed} == {7}
        assert MSTSettings.quick(progress=False).mst_training.progress is False

    def test_bad_settings(self):
        with pytest.raises(ValueError, match="unknown MSTSettings fields \\['mst_epochs'\\]"):
            MSTSettings.quick(mst_epochs=3)
        with pytest.raises(ValueError, match="frames must be >= 1"):
            MSTSettings(frames=0)
        with pytest.raises(ValueError, match="lr must be > 0"):
            MSTSettings.quick(mst_training={"lr": 0.0})
        with pytest.raises(ValueError, match="must differ"):
            MSTSettings(test_fold=3, val_fold=3)
        with pytest.raises(ValueError, match="target_mel must be one of"):
            MSTSettings(target_mel="slaney")
        with pytest.raises(ValueError, match="deltas must be None or one of"):
            MSTSettings(deltas="librosa")
        with pytest.raises(ValueError, match="variations must be in"):
            MSTSettings(variations=-1)

    def test_to_dict_reads_back(self):
        s = MSTSettings.quick(hidden=8, deltas="piczak")
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

    def test_a_second_call_in_the_same_process_adds_its_rows_and_names_the_seeds(self, monkeypatch, tmp_path):
        import json

        from apac_lab.recipes import record_results
        from apac_lab.utils import seed_everything

        monkeypatch.setenv("APAC_LAB_RESULTS", str(tmp_path))
        seed_everything(11)
        record_results("04_demo", self.ROWS[:1], budget="quick", quiet=True)
        record_results("04_demo", [{"result": "Piczak (a)", "value": 0.8, "target": ">= 0.9", "met": False},
                                   {**self.ROWS[0], "value": 0.96}], budget="quick", quiet=True)
        saved = json.loads((tmp_path / "04_demo.json").read_text())
        assert [(r["result"], r["value"]) for r in saved["rows"]] == [("Gabor STRF test accuracy", 0.96),
                                                                    ("Piczak (a)", 0.8)]
        assert 11 in saved["seeds_used"]
        saved["pid"] = -1  # a file left by another run: replaced, not added to
        (tmp_path / "04_demo.json").write_text(json.dumps(saved))
        record_results("04_demo", self.ROWS[:1], budget="quick", quiet=True)
        assert len(json.loads((tmp_path / "04_demo.json").read_text())["rows"]) == 1

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
        from apac_lab.recipes.apac_modes import apac_full_budget_estimate

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
        est = apac_full_budget_estimate(plan, steps=2)
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


class TestRecipesPackage:
    """``apac_lab.recipes`` exports each module's ``__all__``, and no two recipes share a public name."""

    def test_every_module_name_is_exported_once(self):
        import importlib
        import pkgutil

        import apac_lab.recipes as recipes

        owners: dict[str, str] = {}
        for info in pkgutil.iter_modules(recipes.__path__):
            module = importlib.import_module(f"apac_lab.recipes.{info.name}")
            for name in module.__all__:
                assert name not in owners, f"{name} is public in recipes.{owners[name]} and recipes.{info.name}"
                owners[name] = info.name
                assert getattr(recipes, name) is getattr(module, name), f"recipes does not export {info.name}.{name}"
        assert sorted(recipes.__all__) == sorted(owners)
