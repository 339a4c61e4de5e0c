"""The recipes: each is settings (or a function returning them) that reproduce what the notebook or
benchmark ran before they moved here. The experiments end to end are tested beside their models
(tests/test_listener.py, tests/test_piczak.py, tests/test_registry.py)."""

from __future__ import annotations

import pytest
import torch

from apac_lab.models import STRFClassifier
from apac_lab.recipes import (
    MSTSettings, fsdd_digits_settings, fsdd_frontend_settings, fsdd_speakers_settings, paper_mst_training, strf_models,
    strf_training,
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
