"""Teach it your voice, the recipe: a base model that never hears the held-out speaker, and
that speaker's recordings in the order the widget prompts for them, drawn like the benchmark's."""

from __future__ import annotations

import torch

from apac_lab.recipes import (
    VOICE_EPOCHS, VOICE_FINE_TUNE, VOICE_SPEAKER, fsdd_digits_settings, fsdd_speakers_settings, voice_base_settings,
    voice_takes,
)
from apac_lab.train.few_shot import fine_tune_few_shot, pick_few_shot


class TestBaseModel:
    def test_it_is_the_speakers_recipe_with_the_digits_model(self):
        flat = voice_base_settings(budget="classroom").to_flat()
        speakers, digits = fsdd_speakers_settings(VOICE_SPEAKER).to_flat(), fsdd_digits_settings().to_flat()
        assert flat["holdout_speakers"] == [VOICE_SPEAKER] and flat["epochs"] == VOICE_EPOCHS == 6
        assert flat["model_kwargs"] == digits["model_kwargs"]
        same = {k: v for k, v in speakers.items() if k not in ("epochs", "out", "model_kwargs")}
        assert {k: flat[k] for k in same} == same

    def test_quick_is_small_and_full_is_the_recipes_length(self):
        quick, full = voice_base_settings(budget="quick"), voice_base_settings(budget="full")
        assert (quick.train.epochs, quick.per_class, quick.test_per_class) == (1, 4, 2)
        assert (full.train.epochs, full.per_class) == (30, None)
        assert full.model_kwargs == fsdd_speakers_settings(VOICE_SPEAKER).model_kwargs

    def test_fine_tuning_uses_the_functions_defaults(self):
        import inspect

        defaults = {k: p.default for k, p in inspect.signature(fine_tune_few_shot).parameters.items()}
        assert all(defaults[k] == v for k, v in VOICE_FINE_TUNE.items())


class TestTakes:
    def test_one_recording_per_prompt_of_the_right_digit_teach_takes_drawn_as_the_benchmark(self):
        prompts = [(c, "teach") for c in range(10)] * 2 + [(c, "check") for c in range(10)] * 3
        takes = voice_takes(prompts, seed=3)
        ds, idx = takes["dataset"], takes["indices"]
        assert len(takes["waves"]) == len(prompts) == len(set(idx))  # distinct recordings
        assert [ds.clips[i].label for i in idx] == [c for c, _ in prompts]
        assert {ds.clips[i].speaker for i in idx} == {takes["speaker"]}
        labels = torch.tensor([c.label for c in ds.clips])
        assert sorted(idx[:20]) == pick_few_shot(labels, 2, seed=3).tolist()
        assert sorted(idx) == pick_few_shot(labels, 5, seed=3).tolist()
        assert all(torch.equal(w, ds[i][0]) for w, i in zip(takes["waves"], idx))
        assert takes["waves"][0].shape == (8000,)
